// Frames to pretrain an image tokenizer on: every `stride`-th frame of every episode and camera of
// some LeRobot datasets, decoded once with ffmpeg and resized with padding to the tokenizer's input.
import { FfmpegDecoder, LeRobotDataset, NodeFileStorage, resizeWithPad } from '@vla/lerobot';

/** Options of {@link tokenizerFrames}. */
export interface TokenizerFramesOptions {
  /** LeRobot dataset folders. */
  datasets: readonly string[];
  /** Square input side of the tokenizer in pixels. */
  imageSize: number;
  /** Keep every `stride`-th frame of an episode (default 5: neighbours are nearly identical). */
  stride?: number;
  /** Called after each dataset with the frames gathered so far. */
  onDataset?: (path: string, frames: number) => void;
}

/** RGB8 frames (`imageSize² × 3` bytes each, HWC) of every camera of the datasets. */
export async function tokenizerFrames(options: TokenizerFramesOptions): Promise<Uint8Array[]> {
  const stride = options.stride ?? 5;
  if (!Number.isInteger(stride) || stride < 1)
    throw new Error(`tokenizerFrames: stride must be a positive integer, got ${stride}`);
  const S = options.imageSize;
  const decoder = new FfmpegDecoder();
  const frames: Uint8Array[] = [];
  try {
    for (const path of options.datasets) {
      const dataset = await LeRobotDataset.open(new NodeFileStorage(path), { decoder });
      if (dataset.videoKeys.length === 0)
        throw new Error(`${path}: the dataset has no camera videos to train a tokenizer on`);
      for (const episode of dataset.episodes) {
        const ep = await dataset.readEpisode(episode.episodeIndex);
        // The whole episode in one decoder call (a run of frames decodes straight through; a sparse
        // pick would become one huge select filter), then every stride-th frame is kept.
        const ts = Array.from(ep.columns.timestamp.values);
        for (const key of dataset.videoKeys) {
          const [h, w] = dataset.imageShape(key);
          const decoded = await dataset.decodeFrames(episode.episodeIndex, key, ts);
          for (let i = 0; i < decoded.length; i += stride) {
            const rgb = decoded[i];
            frames.push(h === S && w === S ? rgb.slice() : resizeWithPad(rgb, h, w, S, S, 3, 0));
          }
        }
      }
      options.onDataset?.(path, frames.length);
    }
  } finally {
    await decoder.close();
  }
  return frames;
}
