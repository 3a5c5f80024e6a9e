/** Read and write LeRobot v2.1 and v3.0 datasets (parquet, video, stats) with the InternVLA-A1 feature mappings and a batched loader */
export * from './common';
export { NodeFileStorage } from './nodeStorage';
export { UrlStorage, type UrlStorageOptions } from './urlStorage';
export {
  FileMapStorage,
  type BlobLike,
  type DirectoryHandleLike,
  type FileHandleLike,
} from './fileMapStorage';
export { FfmpegDecoder, ACCURATE_SWS_FLAGS, type FfmpegDecoderOptions } from './ffmpegDecoder';
export { WebCodecsDecoder, type WebCodecsDecoderOptions } from './webCodecsDecoder';
export { LeRobotWriter, type LeRobotWriterOptions, type WriterFeatureSpec, type WriterFrame } from './writer';
export { pickVideoCodec, ffmpegEncoders, type VideoCodecName } from './videoEncoder';
export { openLocalDataset } from './openLocalDataset';
