/**
 * Browser entry of @vla/lerobot: everything that does not need Node (no filesystem, no ffmpeg).
 * Read datasets from a URL base ({@link UrlStorage}) or picked files ({@link FileMapStorage}) and
 * decode videos with WebCodecs ({@link WebCodecsDecoder}).
 */
export * from './common';
export { UrlStorage, type UrlStorageOptions } from './urlStorage';
export {
  FileMapStorage,
  type BlobLike,
  type DirectoryHandleLike,
  type FileHandleLike,
} from './fileMapStorage';
export { WebCodecsDecoder, type WebCodecsDecoderOptions } from './webCodecsDecoder';
