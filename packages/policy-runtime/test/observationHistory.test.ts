// The history against a hand-written sequence: which tick's frame each offset returns before and
// after the ring fills, per camera when cameras start late, after a reset; frames are shared, not
// copied, and the memory stays at offset + 1 ticks however long it runs.
import { describe, expect, it } from 'vitest';
import type { CameraFrame, Observation } from '@vla/robot-core';
import { ObservationHistory, PAST_FRAME_OFFSET, PolicyRuntimeError } from '../src/index.js';

/** A 1×1 frame whose red byte is `tick` (mod 256) and whose timestamp is the tick. */
const frame = (tick: number): CameraFrame => ({
  width: 1,
  height: 1,
  data: new Uint8Array([tick % 256, 0, 0]),
  timestampMs: tick,
});

/** Tick t: camera `a` from tick 0, camera `b` only from tick `bFrom` on. */
function observation(t: number, bFrom = 0): Observation {
  const images: Record<string, CameraFrame> = { a: frame(t) };
  if (t >= bFrom) images.b = frame(1000 + t);
  return { state: new Float64Array([t]), images, timestampMs: t };
}

const ticksOf = (frames: Record<string, CameraFrame>) =>
  Object.fromEntries(Object.entries(frames).map(([k, f]) => [k, f.timestampMs]));

describe('ObservationHistory', () => {
  it('returns the frame `offset` ticks back, clamped to the oldest tick kept, before and after it fills', () => {
    const h = new ObservationHistory(4);
    expect(h.capacity).toBe(5);
    expect(h.pastFrames()).toEqual({});
    const seen: Observation[] = [];
    for (let t = 0; t < 13; t++) {
      const o = observation(t);
      seen.push(o);
      h.push(o);
      expect(h.size).toBe(Math.min(t + 1, 5));
      for (let k = 0; k <= 4; k++) {
        // The same rule as a dataset's delta window: index clamp(t − k, episode start).
        const want = Math.max(0, t - k);
        const got = h.pastFrames(k);
        expect(ticksOf(got)).toEqual({ a: want, b: 1000 + want });
        // The very frame objects the robot delivered, not copies.
        expect(got.a).toBe(seen[want].images.a);
        expect(got.a.data).toBe(seen[want].images.a.data);
      }
      expect(ticksOf(h.pastFrames())).toEqual(ticksOf(h.pastFrames(4)));
    }
  });

  it('clamps per camera: a camera that started late gives its first frame', () => {
    const h = new ObservationHistory(6);
    for (let t = 0; t < 9; t++) h.push(observation(t, 5));
    // Ticks 2..8 are kept; 6 back from tick 8 is tick 2, where b had not delivered yet (it starts at 5).
    expect(ticksOf(h.pastFrames())).toEqual({ a: 2, b: 1005 });
    expect(ticksOf(h.pastFrames(2))).toEqual({ a: 6, b: 1006 });
    expect(ticksOf(h.pastFrames(0))).toEqual({ a: 8, b: 1008 });
    // Names that are also Object.prototype keys are plain cameras.
    const odd = new ObservationHistory(1);
    odd.push({ state: new Float64Array(1), images: { constructor: frame(7) }, timestampMs: 0 });
    odd.push({ state: new Float64Array(1), images: {}, timestampMs: 1 });
    expect(ticksOf(odd.pastFrames(1))).toEqual({ constructor: 7 });
    expect(odd.pastFrames(0)).toEqual({});
  });

  it('forgets everything on reset (a new episode)', () => {
    const h = new ObservationHistory(3);
    for (let t = 0; t < 7; t++) h.push(observation(t));
    h.reset();
    expect(h.size).toBe(0);
    expect(h.pastFrames()).toEqual({});
    h.push(observation(100));
    h.push(observation(101));
    // Only the new episode's ticks count: 3 back from 101 clamps to 100, not to a tick before the reset.
    expect(ticksOf(h.pastFrames())).toEqual({ a: 100, b: 1100 });
    expect(ticksOf(h.pastFrames(1))).toEqual({ a: 100, b: 1100 });
    expect(ticksOf(h.pastFrames(0))).toEqual({ a: 101, b: 1101 });
  });

  it('holds offset + 1 ticks however long it runs, and copies no frame bytes', () => {
    const h = new ObservationHistory();
    expect(h.offset).toBe(PAST_FRAME_OFFSET);
    expect(h.capacity).toBe(16);
    const data = new Uint8Array(3);
    const held = new Set<unknown>();
    for (let t = 0; t < 500; t++) {
      // One buffer shared by every frame: a copy anywhere would show as a different buffer.
      h.push({
        state: new Float64Array(1),
        images: { a: { width: 1, height: 1, data, timestampMs: t } },
        timestampMs: t,
      });
      expect(h.size).toBeLessThanOrEqual(16);
    }
    // Every tick still reachable, through the public offsets, is among the last 16.
    for (let k = 0; k <= 15; k++) {
      const f = h.pastFrames(k).a;
      expect(f.data).toBe(data);
      held.add(f);
      expect(f.timestampMs).toBe(499 - k);
    }
    expect(held.size).toBe(16);
    // The ring itself holds nothing older (its slots are the only storage).
    const ring = (h as unknown as { ring: ({ a: CameraFrame } | undefined)[] }).ring;
    expect(ring.length).toBe(16);
    expect(Math.min(...ring.map((r) => r!.a.timestampMs))).toBe(484);
  });

  it('refuses offsets it cannot serve', () => {
    expect(() => new ObservationHistory(-1)).toThrow(PolicyRuntimeError);
    expect(() => new ObservationHistory(2.5)).toThrow(/offset must be an integer.*got 2.5/);
    const h = new ObservationHistory(3);
    expect(() => h.pastFrames(4)).toThrow(/offset must be an integer in \[0, 3\].*keeps 4 ticks.*got 4/);
    expect(() => h.pastFrames(-1)).toThrow(PolicyRuntimeError);
  });
});
