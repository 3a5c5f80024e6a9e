// The closed loop's pictures: the filmed view has one frame per stride (tick 0 included), and each
// foresight pair's real half is the frame of 15 ticks after the request — checked against the filmed
// head camera rendered at the policy's size every tick (a second renderer of the same scene).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPolicyBundle, type InternVLAA1Policy, type PolicyProcessor } from '@vla/internvla-a1';
import { pretrainedPolicyPath } from '@vla/pretrained/node';
import { runTaskEpisodes } from '../src/closedLoop.js';
import './setup.js';

let policy: InternVLAA1Policy;
let processor: PolicyProcessor;
beforeAll(async () => {
  const b = await loadPolicyBundle(pretrainedPolicyPath());
  policy = b.policy;
  processor = b.processor!;
});
afterAll(() => policy?.dispose());

describe('runTaskEpisodes', () => {
  it('pairs each foresight with the frame 15 ticks after its request', async () => {
    const size = processor.json.imageSize;
    const r = await runTaskEpisodes(policy, processor, {
      task: 'pick-place',
      robot: 'lift2',
      episodes: 1,
      firstSeed: 0,
      maxSteps: 20,
      executeSteps: 10,
      film: { camera: 'head', size, maxFrames: 1000 },
      foresightPairs: 2,
    });
    expect(r.episodes).toEqual([expect.objectContaining({ seed: 0, ticks: 20, chunks: 2, success: false })]);
    // Stride 1: ticks 0 … 20.
    expect(r.frameStride).toBe(1);
    expect(r.frames).toHaveLength(21);
    // Requests at ticks 0 and 10; only tick 0's t+15 lies inside the 20-tick episode.
    expect(r.foresight.map((p) => p.tick)).toEqual([0]);
    const pair = r.foresight[0];
    expect(pair).toMatchObject({ views: 3, size });
    expect(pair.predicted).toHaveLength(3 * 3 * size * size);
    const head = r.frames[15].data;
    const plane = size * size;
    let worst = 0;
    for (let p = 0; p < plane; p++)
      for (let c = 0; c < 3; c++)
        worst = Math.max(worst, Math.abs(pair.real[c * plane + p] - (head[3 * p + c] / 127.5 - 1)));
    expect(worst).toBeLessThan(1e-6);
    // Not trivially equal to any other tick's frame (the arm moves).
    const differs = (k: number) => r.frames[k].data.some((v, i) => v !== head[i]);
    expect(differs(14) || differs(16)).toBe(true);
  });

  it("refuses a simulator robot that is not the policy's", async () => {
    await expect(
      runTaskEpisodes(policy, processor, { task: 'pick-place', robot: 'genie1', episodes: 1, firstSeed: 0 }),
    ).rejects.toThrow(/the simulator's genie1 is "Genie-1" but the policy was trained for "ARX Lift-2"/);
  });
});
