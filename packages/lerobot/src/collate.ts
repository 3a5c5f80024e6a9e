import { LeRobotError } from './errors';
import { CAMERA_SLOTS, type CameraSlot } from './robotMapping';
import type { Sample } from './sampleBuilder';

/** Samples stacked along a leading batch axis, ready to upload as tensors. */
export interface CollatedBatch {
  batchSize: number;
  /** Per slot: `[B, T, H, W, 3]` row-major (T = image offsets). */
  images: Record<CameraSlot, Uint8Array | Float32Array>;
  /** Per slot: `[B]`, 1 where the camera exists. */
  imageMasks: Record<CameraSlot, Uint8Array>;
  /** `[B, T]`. */
  imageIsPad: Uint8Array;
  /** `[B, padDim]`. */
  state: Float32Array;
  /** `[B, horizon, padDim]`. */
  actions: Float32Array;
  /** `[B, horizon]`. */
  actionIsPad: Uint8Array;
  tasks: string[];
}

function stack<A extends Uint8Array | Float32Array>(parts: A[], make: (n: number) => A): A {
  const size = parts[0].length;
  const out = make(size * parts.length);
  parts.forEach((p, i) => {
    if (p.length !== size)
      throw new LeRobotError('shape_mismatch', `collate: part ${i} has ${p.length} values, expected ${size}`);
    out.set(p, i * size);
  });
  return out;
}

/** Stacks samples of identical shapes into one batch of contiguous typed arrays. */
export function collateSamples(samples: Sample[]): CollatedBatch {
  if (samples.length === 0) throw new LeRobotError('invalid_argument', 'collate: no samples');
  const float = samples[0].images.head[0] instanceof Float32Array;
  const images = {} as Record<CameraSlot, Uint8Array | Float32Array>;
  const imageMasks = {} as Record<CameraSlot, Uint8Array>;
  for (const slot of CAMERA_SLOTS) {
    const frames = samples.flatMap((s) => s.images[slot]);
    images[slot] = float
      ? stack(frames as Float32Array[], (n) => new Float32Array(n))
      : stack(frames as Uint8Array[], (n) => new Uint8Array(n));
    imageMasks[slot] = Uint8Array.from(samples, (s) => (s.imageMasks[slot] ? 1 : 0));
  }
  return {
    batchSize: samples.length,
    images,
    imageMasks,
    imageIsPad: stack(
      samples.map((s) => s.imageIsPad),
      (n) => new Uint8Array(n),
    ),
    state: stack(
      samples.map((s) => s.state),
      (n) => new Float32Array(n),
    ),
    actions: stack(
      samples.map((s) => s.actions),
      (n) => new Float32Array(n),
    ),
    actionIsPad: stack(
      samples.map((s) => s.actionIsPad),
      (n) => new Uint8Array(n),
    ),
    tasks: samples.map((s) => s.task),
  };
}
