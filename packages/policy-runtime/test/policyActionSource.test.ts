// The source against a hand computation: the same inputs (state normalised by hand, the history's
// t − offset frames, the prompt) through policy.sampleActions with the same seed, un-normalised, the
// state added on delta dims and grippers snapped in float64 here — not by the processor. Also: the
// chunk's shape and flag, requests served one at a time, no GPU memory left behind (also when a
// request fails), and the errors for a processor or a request that does not fit.
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { NORMALIZATION_EPS, PolicyProcessor, type RgbFrame } from '@vla/internvla-a1';
import type { CameraFrame, ChunkRequest } from '@vla/robot-core';
import { tensor, type Tensor } from '@vla/tensor-webgpu';
import { ObservationHistory, PolicyRuntimeError, policyActionSource } from '../src/index.js';
import { eng } from './setup.js';
import { randomFrame, rng, tinyPolicy, tinyPolicyConfig, tinyProcessor } from '../src/testing.js';

const config = tinyPolicyConfig(2);
const policy = tinyPolicy(config, 11);
afterAll(() => policy.dispose());
afterEach(() => vi.restoreAllMocks());

// 5 state dims, 6 action dims: a0, a1, a3 are deltas from the state, a2 is absolute, g0 and g1 are
// binary grippers (absolute, snapped at 0.3).
const deltaMask = [true, true, false, true, false, false];
const gripper = { dims: [4, 5], threshold: 0.3 };
const processor = tinyProcessor(config, {
  robotType: 'toy',
  stateNames: ['s0', 's1', 's2', 's3', 's4'],
  actionNames: ['a0', 'a1', 'a2', 'a3', 'g0', 'g1'],
  deltaMask,
  cameras: ['head', 'hand_left'],
  gripper,
  seed: 3,
});
const { state: stateStats, action: actionStats } = processor.json.stats;
const STEPS = 2;
const SEED = 7;
const OFFSET = 3;

/** Tick t's frames: awkward sizes, distinct content per tick. */
const tickFrames = (t: number): Record<string, CameraFrame> => ({
  head: randomFrame(40, 24, 100 + t, t),
  hand_left: randomFrame(18, 30, 200 + t, t),
});
const TICKS = 6;
const frames = Array.from({ length: TICKS }, (_, t) => tickFrames(t));
function filledHistory(): ObservationHistory {
  const h = new ObservationHistory(OFFSET);
  frames.forEach((images, t) => h.push({ state: new Float64Array(5), images, timestampMs: t }));
  return h;
}

const r = rng(9);
const state = new Float32Array(32);
for (let i = 0; i < 5; i++) state[i] = r() * 2 - 1;
// Beyond the processor's 5 dims: not part of its state, must be ignored.
state[5] = 7.5;
state[9] = -3;
const request: ChunkRequest = {
  robotType: 'toy',
  state,
  // A camera the policy does not read rides along.
  images: { ...frames[TICKS - 1], wrist_extra: randomFrame(8, 6, 5) },
  prompt: 'pick up the cube',
  timestampMs: TICKS - 1,
};

/** In-use pool bytes (what a leak grows). */
const inUse = (): number => eng.poolStats().inUseBytes;

/** The chunk by hand: network inputs built here, then float64 un-normalisation, deltas and grippers. */
async function reference(
  past: Record<string, RgbFrame>,
  current: Record<string, RgbFrame>,
  prompt: string,
): Promise<Float64Array[]> {
  const normalised = new Float32Array(config.stateDim);
  for (let i = 0; i < 5; i++)
    normalised[i] = (state[i] - stateStats.mean[i]) / (stateStats.std[i] + NORMALIZATION_EPS);
  await processor.loadTokenizer();
  const { tokens, textMask } = processor.encodePrompts(config, [prompt]);
  const cur = processor.imagesToPolicy(current);
  const old = processor.imagesToPolicy(past);
  const st = tensor(normalised, [1, config.stateDim]);
  const out = policy.sampleActions(
    {
      images: [0, 1].map((v) => ({ past: old.images[v], current: cur.images[v] })),
      imageMasks: cur.masks,
      tokens,
      textMask,
      state: st,
    },
    { steps: STEPS, seed: SEED },
  );
  const net = (await out.actions.toArray()) as Float32Array;
  for (const t of [...cur.images, ...old.images, st, out.actions] as Tensor[]) t.dispose();
  return Array.from({ length: config.chunkSize }, (_, h) =>
    Float64Array.from({ length: 6 }, (_, i) => {
      let x = net[h * 32 + i] * (actionStats.std[i] + NORMALIZATION_EPS) + actionStats.mean[i];
      if (deltaMask[i]) x += state[i];
      if (gripper.dims.includes(i)) x = x >= gripper.threshold ? 1 : 0;
      return x;
    }),
  );
}

function maxDiff(chunk: Float32Array, ref: Float64Array[]): number {
  let m = 0;
  ref.forEach((row, h) => row.forEach((x, i) => (m = Math.max(m, Math.abs(chunk[h * 32 + i] - x)))));
  return m;
}

const pick = (f: Record<string, CameraFrame>) => ({ head: f.head, hand_left: f.hand_left });

describe('policyActionSource', () => {
  let chunk: Float32Array;

  it('gives the hand-computed chunk: absolute, [chunkSize, 32], zero-padded, past frames from the history', async () => {
    const base = inUse();
    const source = policyActionSource({
      policy,
      processor,
      history: filledHistory(),
      steps: STEPS,
      seed: SEED,
    });
    const got = await source(request);
    expect(inUse() - base).toBe(0);
    expect(got.absolute).toBe(true);
    expect(got.horizon).toBe(config.chunkSize);
    expect(got.dim).toBe(32);
    expect(got.actions.length).toBe(config.chunkSize * 32);
    for (let h = 0; h < got.horizon; h++)
      for (let i = 6; i < 32; i++) expect(got.actions[h * 32 + i]).toBe(0);
    chunk = got.actions;

    const want = await reference(pick(frames[TICKS - 1 - OFFSET]), pick(frames[TICKS - 1]), request.prompt!);
    expect(maxDiff(chunk, want)).toBeLessThan(1e-5);
    for (let h = 0; h < got.horizon; h++)
      for (const d of gripper.dims) expect([0, 1]).toContain(chunk[h * 32 + d]);

    // The comparison can tell the inputs apart: the current frames as past ones, or no prompt,
    // give another chunk.
    const noPast = await reference(pick(frames[TICKS - 1]), pick(frames[TICKS - 1]), request.prompt!);
    expect(maxDiff(chunk, noPast)).toBeGreaterThan(1e-3);
    const noPrompt = await reference(pick(frames[TICKS - 1 - OFFSET]), pick(frames[TICKS - 1]), '');
    expect(maxDiff(chunk, noPrompt)).toBeGreaterThan(1e-3);
  });

  it('without a history takes the current frames as past ones; the same request gives the same chunk', async () => {
    const source = policyActionSource({ policy, processor, steps: STEPS, seed: SEED });
    const got = await source(request);
    const want = await reference(pick(frames[TICKS - 1]), pick(frames[TICKS - 1]), request.prompt!);
    expect(maxDiff(got.actions, want)).toBeLessThan(1e-5);
    // An empty history is the same as none.
    const empty = policyActionSource({
      policy,
      processor,
      history: new ObservationHistory(),
      steps: STEPS,
      seed: SEED,
    });
    expect(Array.from((await empty(request)).actions)).toEqual(Array.from(got.actions));
  });

  it('a camera missing from the request is a missing view (mask 0), as the processor has it', async () => {
    const source = policyActionSource({
      policy,
      processor,
      history: filledHistory(),
      steps: STEPS,
      seed: SEED,
    });
    const got = await source({ ...request, images: { head: frames[TICKS - 1].head } });
    const past = frames[TICKS - 1 - OFFSET];
    const want = await reference({ head: past.head }, { head: frames[TICKS - 1].head }, request.prompt!);
    expect(maxDiff(got.actions, want)).toBeLessThan(1e-5);
    expect(
      maxDiff(got.actions, await reference(pick(past), pick(frames[TICKS - 1]), request.prompt!)),
    ).toBeGreaterThan(1e-3);
  });

  it('serves requests one at a time, in order; a failed request does not block the next', async () => {
    const events: string[] = [];
    const sample = policy.sampleActions.bind(policy);
    vi.spyOn(policy, 'sampleActions').mockImplementation((obs, o) => {
      events.push('sample');
      return sample(obs, o);
    });
    const toRobot = processor.actionsToRobot.bind(processor);
    vi.spyOn(processor, 'actionsToRobot').mockImplementation((a, s) => {
      events.push('readback');
      return toRobot(a, s);
    });
    const source = policyActionSource({
      policy,
      processor,
      history: filledHistory(),
      steps: STEPS,
      seed: SEED,
    });
    const first = source(request);
    const bad = source({ ...request, robotType: 'other' });
    const second = source(request);
    await expect(bad).rejects.toThrow(PolicyRuntimeError);
    const [a, b] = await Promise.all([first, second]);
    expect(events).toEqual(['sample', 'readback', 'sample', 'readback']);
    expect(Array.from(a.actions)).toEqual(Array.from(chunk));
    expect(Array.from(b.actions)).toEqual(Array.from(chunk));
  });

  it('takes the past frames when the request is made, not when its turn comes', async () => {
    const history = filledHistory();
    const source = policyActionSource({ policy, processor, history, steps: STEPS, seed: SEED });
    const first = source({ ...request, images: { ...frames[1] } });
    const second = source(request);
    // While the first request waits for the GPU, the robot ticks on.
    history.push({ state: new Float64Array(5), images: tickFrames(50), timestampMs: 50 });
    await first;
    expect(
      maxDiff(
        (await second).actions,
        await reference(pick(frames[TICKS - 1 - OFFSET]), pick(frames[TICKS - 1]), request.prompt!),
      ),
    ).toBeLessThan(1e-5);
  });

  it('hands the decoded foresight to onForesight without changing the chunk', async () => {
    const seen: { images: Float32Array; views: number; size: number }[] = [];
    const source = policyActionSource({
      policy,
      processor,
      history: filledHistory(),
      steps: STEPS,
      seed: SEED,
      onForesight: (images, views, size) => seen.push({ images, views, size }),
    });
    const base = inUse();
    const got = await source(request);
    expect(inUse() - base).toBe(0);
    expect(Array.from(got.actions)).toEqual(Array.from(chunk));
    expect(seen.length).toBe(1);
    expect(seen[0].views).toBe(2);
    expect(seen[0].size).toBe(32);
    expect(seen[0].images.length).toBe(2 * 3 * 32 * 32);
    expect(seen[0].images.every((x) => x >= -1 && x <= 1)).toBe(true);
  });

  it('frees what a failing request allocated', async () => {
    // The past frame (from the history) is broken, the current one fine: the current images are on
    // the GPU when the past ones fail.
    const history = new ObservationHistory(OFFSET);
    const pastTick = TICKS - 1 - OFFSET;
    frames.forEach((f, t) => {
      const images = t === pastTick ? { ...f, head: { ...f.head, data: f.head.data.subarray(1) } } : f;
      history.push({ state: new Float64Array(5), images, timestampMs: t });
    });
    const source = policyActionSource({ policy, processor, steps: STEPS, seed: SEED });
    const sourceBroken = policyActionSource({ policy, processor, history, steps: STEPS, seed: SEED });
    await source(request); // warm: the pool's first allocations are not a leak
    const base = inUse();
    const spy = vi.spyOn(processor, 'imageBatchToPolicy');
    await expect(sourceBroken(request)).rejects.toThrow(
      /camera head of item 0 has 2879 bytes, expected 24·40·3/,
    );
    expect(spy).toHaveBeenCalledTimes(2);
    expect(inUse() - base).toBe(0);
  });

  it('refuses a processor that does not fit the policy, and requests it cannot serve', async () => {
    const json = processor.toJSON();
    const misfits: [Partial<typeof json>, RegExp][] = [
      [{ cameras: ['head'] }, /processor\.cameras is 1 cameras but the policy's views is 2/],
      [{ imageSize: 64 }, /processor\.imageSize is 64 but the policy's imageSize is 32/],
      [{ textLength: 9 }, /processor\.textLength is 9 but the policy's textTokens is 8/],
      [{ chunkSize: 50 }, /processor\.chunkSize is 50 but the policy's chunkSize is 10/],
      [
        { vocab: Array.from({ length: 300 }, (_, i) => i) },
        /vocab keeps 300 tokens \(\+1 unknown\) but the policy's vocabSize is 256/,
      ],
    ];
    for (const [edit, message] of misfits) {
      const p = PolicyProcessor.fromJSON({ ...json, ...edit });
      expect(() => policyActionSource({ policy, processor: p })).toThrow(PolicyRuntimeError);
      expect(() => policyActionSource({ policy, processor: p })).toThrow(message);
    }
    expect(() => policyActionSource({ policy, processor, steps: 0 })).toThrow(
      /steps must be a positive integer, got 0/,
    );

    const source = policyActionSource({ policy, processor, steps: STEPS, seed: SEED });
    await expect(source({ ...request, robotType: 'cr5' })).rejects.toThrow(
      /request is from robot type "cr5", the processor is for "toy"/,
    );
    await expect(source({ ...request, state: new Float32Array(4) })).rejects.toThrow(
      /state has 4 values, the processor needs 5 \(s0, s1, s2, s3, s4\)/,
    );
  });
});
