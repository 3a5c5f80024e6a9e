// PolicyService: requests of several episodes batched into one sampleActions give the chunks each
// request gets alone; episodes keep their own histories; real-time chunking keeps the committed rows
// exactly, lands fully weighted rows on the committed ones (β ≥ 2 with 2 Euler steps makes the
// guided Euler step land on the target) and pulls the overlap more with a larger β; closing an episode
// rejects its queued requests; GPU memory returns to its baseline.
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import type { CameraFrame, ChunkRequest, CommittedActions, Observation } from '@vla/robot-core';
import { PolicyProcessor } from '@vla/internvla-a1';
import { PolicyRuntimeError, PolicyService, type Foresight, type PolicyEpisode } from '../src/index.js';
import { eng } from './setup.js';
import { randomFrame, rng, tinyPolicy, tinyPolicyConfig, tinyProcessor } from '../src/testing.js';

const H = 10;
const config = tinyPolicyConfig(2, H);
const policy = tinyPolicy(config, 23);
afterAll(() => policy.dispose());
afterEach(() => vi.restoreAllMocks());

const deltaMask = [true, false, true, true, false];
const processor = tinyProcessor(config, {
  robotType: 'toy',
  stateNames: ['s0', 's1', 's2', 's3'],
  actionNames: ['a0', 'a1', 'a2', 'a3', 'a4'],
  // a4 has no state: not a delta dim.
  deltaMask,
  cameras: ['head', 'wrist'],
  seed: 41,
});
const STEPS = 2;
const SEED = 13;
const inUse = (): number => eng.poolStats().inUseBytes;

const frames = (seed: number, t: number): Record<string, CameraFrame> => ({
  head: randomFrame(36, 20, seed * 1000 + t, t),
  wrist: randomFrame(14, 22, seed * 1000 + 500 + t, t),
});
const obs = (seed: number, t: number): Observation => ({
  state: new Float64Array(4),
  images: frames(seed, t),
  timestampMs: t,
});

/** A request of "client" `seed`: its own state, frames (tick 20) and prompt. */
function request(seed: number, committed?: CommittedActions): ChunkRequest {
  const r = rng(seed);
  const state = new Float32Array(32);
  for (let i = 0; i < 4; i++) state[i] = r() * 2 - 1;
  return {
    robotType: 'toy',
    state,
    images: frames(seed, 20),
    prompt: ['pick the cube', 'open the drawer', ''][seed % 3],
    timestampMs: 20 + seed,
    ...(committed ? { committed } : {}),
  };
}

/** Feeds ticks 0..20 of client `seed` (frames t − 15 = tick 5 for the request at tick 20). */
function feed(ep: PolicyEpisode, seed: number): void {
  for (let t = 0; t <= 20; t++) ep.observe(obs(seed, t));
}

function maxDiff(a: Float32Array, b: Float32Array, cols = 5): number {
  let m = 0;
  for (let h = 0; h < H; h++)
    for (let i = 0; i < cols; i++) m = Math.max(m, Math.abs(a[h * 32 + i] - b[h * 32 + i]));
  return m;
}

const service = (o: Partial<ConstructorParameters<typeof PolicyService>[0]> = {}) =>
  new PolicyService({ policy, processor, steps: STEPS, seed: SEED, ...o });

describe('PolicyService batching and episodes', () => {
  it('runs requests that arrive together as one batch; each chunk equals the request served alone', async () => {
    const clients = [3, 4, 5];
    // Alone: one service per request, each episode fed only its own ticks.
    const alone: Float32Array[] = [];
    for (const c of clients) {
      const s = service({ maxBatch: 1 });
      const ep = s.openEpisode();
      feed(ep, c);
      alone.push((await ep.source(request(c))).actions);
    }
    const base = inUse();
    const s = service();
    const seen: Foresight[] = [];
    const eps = clients.map((c, i) => s.openEpisode(i === 1 ? { onForesight: (f) => seen.push(f) } : {}));
    eps.forEach((ep, i) => feed(ep, clients[i]));
    const got = await Promise.all(eps.map((ep, i) => ep.source(request(clients[i]))));
    expect(inUse() - base).toBe(0);
    expect(s.stats).toEqual({ requests: 3, batches: 1, largestBatch: 3 });
    eps.forEach((ep) => expect(ep.lastTiming?.batchSize).toBe(3));
    got.forEach((chunk, i) => {
      expect(chunk.absolute).toBe(true);
      expect(chunk.horizon).toBe(H);
      expect(maxDiff(chunk.actions, alone[i])).toBeLessThan(1e-5);
    });
    // The clients' chunks differ, so a mix-up would show.
    expect(maxDiff(got[0].actions, got[1].actions)).toBeGreaterThan(1e-2);
    expect(maxDiff(got[1].actions, got[2].actions)).toBeGreaterThan(1e-2);
    // Foresight only for the episode that asked, stamped with its request's observation time.
    expect(seen.length).toBe(1);
    expect(seen[0].observationTimestampMs).toBe(24);
    expect(seen[0].images.length).toBe(2 * 3 * 32 * 32);
    expect(seen[0].cameras).toEqual(['head', 'wrist']);
  });

  it("with the upstream image pipeline the vision tower gets the processor's patches of the current frames", async () => {
    // A released model's processor: resize-with-pad (here 32²), then the Qwen3-VL processor (→ 256²).
    const upConfig = { ...config, visionSize: [256, 256] as [number, number] };
    const upPolicy = tinyPolicy(upConfig, 23);
    const upProcessor = PolicyProcessor.fromJSON({
      ...processor.toJSON(),
      imagePipeline: 'upstream',
      padSize: 32,
    });
    upProcessor.checkFits(upConfig);
    const sample = vi.spyOn(upPolicy, 'sampleActions');
    const base = inUse();
    const s = new PolicyService({ policy: upPolicy, processor: upProcessor, steps: STEPS, seed: SEED });
    const ep = s.openEpisode();
    feed(ep, 3);
    const chunk = await ep.source(request(3));
    const obs = sample.mock.calls[0][0];
    // 2 views of 16x16 patches (256² / 16²), one item.
    expect(obs.visionPatches?.shape).toEqual([2 * 256, 3 * 2 * 16 * 16]);
    expect(obs.images[0].current.shape).toEqual([1, 3, 32, 32]);
    expect(chunk.actions.every(Number.isFinite)).toBe(true);
    expect(inUse() - base).toBe(0);
    upPolicy.dispose();
  });

  it("episodes do not share history: A's past frames never reach B", async () => {
    const s = service();
    const a = s.openEpisode();
    const b = s.openEpisode();
    // B's ticks first: a history shared between episodes would hold only A's frames at the request.
    feed(b, 8);
    feed(a, 7);
    const [, gotB] = await Promise.all([a.source(request(7)), b.source(request(8))]);
    // B's request with A's history instead of its own gives another chunk ...
    const mixed = s.openEpisode();
    feed(mixed, 7);
    const withA = (await mixed.source(request(8))).actions;
    expect(maxDiff(gotB.actions, withA)).toBeGreaterThan(1e-3);
    // ... and B alone with its own history the same one.
    const own = s.openEpisode();
    feed(own, 8);
    expect(maxDiff(gotB.actions, (await own.source(request(8))).actions)).toBeLessThan(1e-5);
    // reset() forgets the history: the current frames stand in for the past ones again.
    own.reset();
    const fresh = s.openEpisode();
    const r = request(8);
    expect(Array.from((await own.source(r)).actions)).toEqual(Array.from((await fresh.source(r)).actions));
  });

  it('close() rejects the episode’s queued requests and later ones; the others are served', async () => {
    const s = service();
    const [a, b, c] = [s.openEpisode(), s.openEpisode(), s.openEpisode()];
    const first = c.source(request(3));
    // Let the first batch start: the next requests queue behind it.
    await new Promise((r) => setTimeout(r, 0));
    const qa = a.source(request(4));
    const qb = b.source(request(5));
    a.close();
    await expect(qa).rejects.toThrow(/episode was closed/);
    await expect(a.source(request(4))).rejects.toThrow(PolicyRuntimeError);
    expect((await first).horizon).toBe(H);
    expect((await qb).horizon).toBe(H);
    expect(s.stats.batches).toBe(2);
    expect(s.stats.largestBatch).toBe(1);
    // A request it cannot serve is rejected alone, before it joins a batch.
    const broken = request(5);
    const head = broken.images.head;
    await expect(
      b.source({ ...broken, images: { ...broken.images, head: { ...head, data: head.data.subarray(3) } } }),
    ).rejects.toThrow(/camera head of the request has 2157 bytes, expected 20·36·3/);
    s.dispose();
    await expect(b.source(request(5))).rejects.toThrow(/service was disposed/);
  });

  it('a failing batch rejects each of its requests and leaves no GPU memory behind', async () => {
    const s = service();
    const [a, b] = [s.openEpisode(), s.openEpisode()];
    await a.source(request(3)); // warm the pool
    const base = inUse();
    const sample = policy.sampleActions.bind(policy);
    vi.spyOn(policy, 'sampleActions').mockImplementation((o, opts) => {
      sample(o, opts); // allocates the chunk, then fails
      throw new Error('sampler broke');
    });
    const res = await Promise.allSettled([a.source(request(3)), b.source(request(4))]);
    expect(res.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(inUse() - base).toBe(0);
    expect(s.stats.largestBatch).toBe(2);
  });
});

describe('PolicyService options', () => {
  it('refuses bad options, naming the field', () => {
    expect(() => service({ steps: 0 })).toThrow(/steps must be a positive integer, got 0/);
    expect(() => service({ maxBatch: 1.5 })).toThrow(/maxBatch must be a positive integer/);
    expect(() => service({ rtc: { maxGuidanceWeight: -1 } })).toThrow(/rtc.maxGuidanceWeight/);
    expect(() => service({ rtc: { schedule: 'cubic' as never } })).toThrow(/rtc.schedule "cubic" is unknown/);
    expect(() => service({ rtc: { executionHorizon: -2 } })).toThrow(/rtc.executionHorizon/);
    for (const schedule of ['zeros', 'ones', 'linear', 'exp'] as const)
      expect(() => service({ rtc: { schedule } })).not.toThrow();
    expect(() => service({ noiseScale: -0.5 })).toThrow(/noiseScale must be a finite number ≥ 0, got -0.5/);
    expect(() => service({ noiseScale: NaN })).toThrow(/noiseScale/);
  });

  it('scales the starting noise by noiseScale: at 0 the seed no longer matters', async () => {
    const chunk = async (o: { seed: number; noiseScale?: number }) => {
      const ep = service(o).openEpisode();
      feed(ep, 3);
      return (await ep.source(request(3))).actions;
    };
    const [a1, b1, a0, b0, aHalf, aDefault] = [
      await chunk({ seed: 1, noiseScale: 1 }),
      await chunk({ seed: 2, noiseScale: 1 }),
      await chunk({ seed: 1, noiseScale: 0 }),
      await chunk({ seed: 2, noiseScale: 0 }),
      await chunk({ seed: 1, noiseScale: 0.5 }),
      await chunk({ seed: 1 }),
    ];
    expect(maxDiff(a1, b1)).toBeGreaterThan(1e-3);
    expect(maxDiff(a0, b0)).toBe(0);
    expect(maxDiff(aDefault, a1)).toBe(0);
    expect(maxDiff(aHalf, a1)).toBeGreaterThan(1e-4);
    expect(maxDiff(aHalf, a0)).toBeGreaterThan(1e-4);
  });
});

describe('PolicyService real-time chunking', () => {
  // The committed rows: absolute dataset-unit rows near the free chunk (another client's chunk).
  async function committedFor(delaySteps: number, rows: number): Promise<CommittedActions> {
    const ep = service().openEpisode();
    const other = (await ep.source(request(9))).actions;
    return { actions: other.slice(0, rows * 32), horizon: rows, dim: 32, delaySteps };
  }

  it('keeps rows [0, d) exactly; with β ≥ 2 fully weighted rows land on the committed ones', async () => {
    const d = 3;
    const committed = await committedFor(d, 8);
    const free = (await service().openEpisode().source(request(4))).actions;
    const base = inUse();
    // 'ones' up to row 6: weight 1 on rows 0..5, then free.
    const s = service({ rtc: { schedule: 'ones', executionHorizon: 6, maxGuidanceWeight: 2 } });
    const chunk = (await s.openEpisode().source(request(4, committed))).actions;
    expect(inUse() - base).toBe(0);
    for (let h = 0; h < d; h++)
      expect(Array.from(chunk.subarray(h * 32, (h + 1) * 32))).toEqual(
        Array.from(committed.actions.subarray(h * 32, (h + 1) * 32)),
      );
    // Rows 3..5 come from the network, guided with weight 1: two guided Euler steps with w = 2 land
    // exactly on the target, so the delta/normalisation round trip must be right for this to hold.
    for (let h = d; h < 6; h++)
      for (let i = 0; i < 5; i++)
        expect(Math.abs(chunk[h * 32 + i] - committed.actions[h * 32 + i])).toBeLessThan(2e-4);
    // Rows 6.. are free (weight 0) and far from the committed ones; the free chunk was far everywhere.
    let farGuided = 0;
    let farFree = 0;
    for (let h = 3; h < 8; h++)
      for (let i = 0; i < 5; i++) {
        if (h >= 6)
          farGuided = Math.max(farGuided, Math.abs(chunk[h * 32 + i] - committed.actions[h * 32 + i]));
        farFree = Math.max(farFree, Math.abs(free[h * 32 + i] - committed.actions[h * 32 + i]));
      }
    expect(farGuided).toBeGreaterThan(1e-2);
    expect(farFree).toBeGreaterThan(1e-2);
  });

  it('pulls the overlap toward the committed rows, more with a larger β; β = 0 changes only rows [0, d)', async () => {
    const d = 2;
    const committed = await committedFor(d, 9);
    const free = (await service().openEpisode().source(request(5))).actions;
    const dist = (c: Float32Array) => {
      let sum = 0;
      for (let h = d; h < 9; h++)
        for (let i = 0; i < 5; i++) sum += (c[h * 32 + i] - committed.actions[h * 32 + i]) ** 2;
      return Math.sqrt(sum);
    };
    const errs = [dist(free)];
    for (const beta of [0, 0.4, 1, 1.8]) {
      const s = service({ rtc: { maxGuidanceWeight: beta } });
      const chunk = (await s.openEpisode().source(request(5, committed))).actions;
      if (beta === 0) {
        expect(Array.from(chunk.subarray(d * 32))).toEqual(Array.from(free.subarray(d * 32)));
        continue;
      }
      errs.push(dist(chunk));
    }
    for (let i = 1; i < errs.length; i++) expect(errs[i]).toBeLessThan(errs[i - 1]);
  });

  it('guides only the requests that carry committed rows when they share a batch', async () => {
    const committed = await committedFor(4, 10);
    const alone = await service().openEpisode().source(request(6));
    const aloneRtc = await service().openEpisode().source(request(7, committed));
    const s = service();
    const [x, y] = await Promise.all([
      s.openEpisode().source(request(6)),
      s.openEpisode().source(request(7, committed)),
    ]);
    expect(s.stats.largestBatch).toBe(2);
    expect(maxDiff(x.actions, alone.actions)).toBeLessThan(1e-5);
    expect(maxDiff(y.actions, aloneRtc.actions)).toBeLessThan(1e-5);
    await expect(s.openEpisode().source(request(7, { ...committed, delaySteps: 11 }))).rejects.toThrow(
      /committed delaySteps must be an integer in \[0, 10\], got 11/,
    );
  });
});
