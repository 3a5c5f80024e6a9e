// One frame of a LeRobot dataset as the policy's request: the state in dataset units (zero-padded to
// 32), every camera's RGB8 image at its recorded size and the episode's task as the prompt.
import { FfmpegDecoder, openLocalDataset, SampleBuilder } from '@vla/lerobot';
import type { CameraFrame } from '@vla/robot-core';

/** What {@link datasetFrame} reads: the fields of a `ChunkRequest` a dataset frame provides. */
export interface DatasetFrame {
  /** Global frame index that was read. */
  readonly index: number;
  /** Dataset-convention state, zero-padded to 32 values. */
  readonly state: Float32Array;
  /** RGB8 (HWC) image per camera slot the dataset has (`head`, `hand_left`, `hand_right`). */
  readonly images: Record<string, CameraFrame>;
  /** The episode's task. */
  readonly prompt: string;
}

/**
 * Reads frame `index` of the dataset in `dir` (default: the middle of the dataset) without
 * normalisation, deltas or resizing: the policy's processor does those, as on a robot.
 */
export async function datasetFrame(dir: string, index?: number): Promise<DatasetFrame> {
  const decoder = new FfmpegDecoder();
  try {
    const dataset = await openLocalDataset(dir, { decoder });
    const at = index ?? Math.floor(dataset.numFrames / 2);
    if (!Number.isInteger(at) || at < 0 || at >= dataset.numFrames)
      throw new Error(`datasetFrame: ${dir} has frames 0…${dataset.numFrames - 1}, not ${index}`);
    const builder = new SampleBuilder(dataset, {
      imageSize: 'native',
      imageOffsets: [0],
      deltaActions: false,
      normStats: null,
    });
    const sample = await builder.get(at);
    const images: Record<string, CameraFrame> = {};
    for (const [slot, shape] of Object.entries(sample.meta.imageShapes)) {
      const [height, width] = shape;
      images[slot] = {
        width,
        height,
        data: sample.images[slot as keyof typeof sample.images][0] as Uint8Array,
        timestampMs: 0,
      };
    }
    return { index: at, state: sample.state, images, prompt: sample.task };
  } finally {
    await decoder.close();
  }
}
