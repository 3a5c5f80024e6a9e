import { LeRobotDataset, type OpenDatasetOptions } from './dataset';
import { FfmpegDecoder } from './ffmpegDecoder';
import { NodeFileStorage } from './nodeStorage';

/**
 * Opens a dataset folder in Node, decoding videos with the system ffmpeg unless another decoder
 * is given.
 */
export function openLocalDataset(dir: string, options: OpenDatasetOptions = {}): Promise<LeRobotDataset> {
  return LeRobotDataset.open(new NodeFileStorage(dir), { decoder: new FfmpegDecoder(), ...options });
}
