import type { CameraFrame, Observation } from '@vla/robot-core';
import { PolicyRuntimeError } from './policyRuntimeError.js';

/**
 * How many control ticks before the current frame InternVLA-A1's generation expert looks: it encodes
 * frames t−15 and t of every view (SPEC §1, generation expert; §2, delta timestamps [-15, 0, +15]).
 */
export const PAST_FRAME_OFFSET = 15;

type Frames = Readonly<Record<string, CameraFrame>>;

/**
 * The camera frames of the last `offset + 1` control ticks, so that a policy asked at tick t can read
 * the frame of tick t − offset. Push the observation of every tick (wire {@link ObservationHistory.push}
 * as robot-core's `ChunkExecutor` `onObservation`); {@link ObservationHistory.reset} at a new episode.
 *
 * Memory is bounded by `offset + 1` ticks. Frames are kept by reference, never copied: a driver hands
 * out frames it does not change afterwards (robot-core's `CameraFrame` is read-only), and a frame that
 * repeats over ticks (a camera slower than the control rate) is stored once.
 */
export class ObservationHistory {
  /** The default offset of {@link ObservationHistory.pastFrames}; the history keeps `offset + 1` ticks. */
  readonly offset: number;
  // A ring of the ticks' frame records: slot (start + i) % capacity is the i-th oldest tick kept.
  private readonly ring: (Frames | undefined)[];
  private start = 0;
  private count = 0;

  /** Keeps `offset + 1` ticks (default {@link PAST_FRAME_OFFSET}: 16 ticks). */
  constructor(offset: number = PAST_FRAME_OFFSET) {
    if (!Number.isInteger(offset) || offset < 0 || offset > 100_000)
      throw new PolicyRuntimeError(
        `ObservationHistory: offset must be an integer in [0, 100000], got ${offset}`,
      );
    this.offset = offset;
    this.ring = new Array<Frames | undefined>(offset + 1);
  }

  /** Ticks the history can hold: `offset + 1`. */
  get capacity(): number {
    return this.ring.length;
  }

  /** Ticks held now (at most {@link ObservationHistory.capacity}). */
  get size(): number {
    return this.count;
  }

  /** Records one tick's frames (the newest); the oldest tick is forgotten once the history is full. */
  push(observation: Observation): void {
    // A shallow copy: the record is the driver's, the frames are shared.
    const frames: Frames = { ...observation.images };
    const cap = this.ring.length;
    if (this.count < cap) {
      this.ring[(this.start + this.count) % cap] = frames;
      this.count++;
    } else {
      this.ring[this.start] = frames;
      this.start = (this.start + 1) % cap;
    }
  }

  /**
   * Per camera, its frame of the tick `offset` ticks before the newest (`offset` 0 = the newest tick).
   * When fewer ticks have been seen, the oldest tick kept stands in: the rule of a dataset's delta
   * window, which clamps to the episode's start. A camera without a frame at that tick (it had not
   * delivered yet) gets its first frame after it. Cameras never seen are absent; an empty history
   * gives `{}`.
   */
  pastFrames(offset: number = this.offset): Record<string, CameraFrame> {
    if (!Number.isInteger(offset) || offset < 0 || offset > this.offset)
      throw new PolicyRuntimeError(
        `ObservationHistory.pastFrames: offset must be an integer in [0, ${this.offset}] (the history keeps ${this.capacity} ticks), got ${offset}`,
      );
    const out = new Map<string, CameraFrame>();
    const cap = this.ring.length;
    // From the wanted tick (or the oldest kept) toward the newest, the first frame each camera has.
    for (let i = Math.max(0, this.count - 1 - offset); i < this.count; i++) {
      const frames = this.ring[(this.start + i) % cap]!;
      for (const [camera, frame] of Object.entries(frames)) if (!out.has(camera)) out.set(camera, frame);
    }
    return Object.fromEntries(out);
  }

  /** Forgets every tick (a new episode starts). */
  reset(): void {
    this.ring.fill(undefined);
    this.start = 0;
    this.count = 0;
  }
}
