// --eval: a dataset recorded by the simulator's scripted expert (ARX Lift-2, pick-place), a few
// training steps, and closed-loop evaluation in @vla/sim every 2 steps: eval records land in the
// metrics (one per task and evaluation) and the report; a processor for another robot is refused;
// and the evaluation's action path replays the demonstration faithfully when the network is replaced
// by an oracle that answers with the demonstration's own chunks. `runEpisodes`, the loop under it,
// asks for chunks and calls its hooks on the ticks it says, and renders the frames its requests read.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPolicyBundle, type InternVLAA1Policy } from '@vla/internvla-a1';
import { openLocalDataset, resolveRobotMapping } from '@vla/lerobot';
import { ObservationHistory, policyActionSource } from '@vla/policy-runtime';
import type { CameraFrame } from '@vla/robot-core';
import { GpuCamera, loadMujoco, type SimEnv } from '@vla/sim';
import { tensor } from '@vla/tensor-webgpu';
import { recordDataset } from '@vla/sim/node';
import { evaluateInSim, parseTrainConfig, runEpisodes, train, withPreset } from '../src/index.js';
import { MetricsLog } from '../src/report/metricsLog.js';
import { MICRO_MODEL, so101 } from './fixtures.js';
import './setup.js';

const root = mkdtempSync(join(tmpdir(), 'vla-train-eval-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const dataset = join(root, 'lift2-pick-place');

beforeAll(async () => {
  const summary = await recordDataset({
    task: 'pick-place',
    robot: 'lift2',
    episodes: 1,
    out: dataset,
    imageWidth: 32,
    imageHeight: 32,
    mujoco: await loadMujoco(),
  });
  expect(summary.saved).toBe(1);
});

/** A policy bundle trained for one step on `path`: its processor carries that dataset's robot and statistics. */
async function oneStepBundle(name: string, path: string) {
  const config = parseTrainConfig(
    withPreset('tiny', {
      model: { tiny: MICRO_MODEL },
      data: { datasets: [{ path }] },
      steps: 1,
      batchSize: 1,
      foresightEvery: 0,
    }),
  );
  return loadPolicyBundle((await train(config, { out: join(root, name) })).policyPath);
}

describe('evaluation in the simulator during training', () => {
  it('logs the success rate of every task at every evaluation and shows it in the report', async () => {
    const out = join(root, 'run');
    const config = parseTrainConfig(
      withPreset('tiny', {
        model: { tiny: MICRO_MODEL },
        data: { datasets: [{ path: dataset }], concurrency: 2 },
        steps: 4,
        batchSize: 2,
        checkpointEvery: 4,
        foresightEvery: 0,
        eval: { every: 2, episodes: 1, tasks: ['pick-place'], robot: 'lift2', imageSize: 32, maxSteps: 45 },
      }),
    );
    await train(config, { out });
    const evals = (await MetricsLog.read(join(out, 'metrics.jsonl'))).filter((r) => r.kind === 'eval');
    expect(evals.map((r) => r.step)).toEqual([2, 4]);
    for (const r of evals) {
      expect(r).toMatchObject({ task: 'pick-place', robot: 'lift2', episodes: 1 });
      if (r.kind === 'eval') expect(r.successRate).toBe(r.successes / r.episodes);
    }
  });

  it('refuses to evaluate a policy trained for another robot', async () => {
    const { policy, processor } = await oneStepBundle('so101', so101());
    await expect(
      evaluateInSim(policy, processor!, {
        episodes: 1,
        tasks: ['pick-place'],
        robot: 'lift2',
        seed: 0,
        imageSize: 32,
      }),
    ).rejects.toThrow(
      /the simulator's lift2 is "ARX Lift-2" but the policy was trained for "so101_follower"/,
    );
    policy.dispose();
  });

  it('replays the demonstration when an oracle answers each request with its next chunk', async () => {
    // A trained bundle only for its processor (the statistics of this dataset); the network is
    // replaced below.
    const { policy, processor } = await oneStepBundle('oracle', dataset);
    const ds = await openLocalDataset(dataset);
    const { stateKeys, actionKeys } = resolveRobotMapping(ds.info);
    const demo = await ds.readEpisode(0);
    const row = (keys: string[], t: number) =>
      keys.flatMap((k) => {
        const c = demo.columns[k];
        const i = Math.min(t, demo.length - 1);
        return [...c.values.subarray(i * c.width, (i + 1) * c.width)];
      });
    // Request k comes at tick 7k (7 of each 10-step chunk executed): the oracle's chunk is the
    // demonstration's actions from there, made training targets against the demonstration's state.
    const { chunkSize: H, stateDim: D } = policy.config;
    let request = 0;
    const oracle: Pick<InternVLAA1Policy, 'sampleActions'> = {
      sampleActions: () => {
        const t = 7 * request++;
        const rows = Array.from({ length: H }, (_, h) => row(actionKeys, t + h));
        return { actions: tensor(processor!.actionsToPolicy(rows, row(stateKeys, t)), [1, H, D]) };
      },
    };
    Object.assign(policy, oracle);
    const [result] = await evaluateInSim(policy, processor!, {
      episodes: 1,
      tasks: ['pick-place'],
      robot: 'lift2',
      seed: 0,
      imageSize: 32,
      executeSteps: 7,
    });
    expect(result.successes).toBe(1);
    // One request per 7 ticks of the demonstration's length, give or take the last.
    expect(request).toBeGreaterThanOrEqual(Math.floor(demo.length / 7));
    policy.dispose();
  });

  it('runEpisodes asks for a chunk every executeSteps ticks and calls its hooks once per tick', async () => {
    const { policy, processor } = await oneStepBundle('hooks', dataset);
    const history = new ObservationHistory();
    const plain = policyActionSource({ policy, processor: processor!, history });
    const requests: [number, number][] = [];
    const starts: [number, number][] = [];
    const ticks: [number, number, boolean][] = [];
    // Every tick rendered at once by a camera of its own: what the requests must see.
    const camera = await GpuCamera.create();
    const cameras = processor!.json.cameras;
    let live: Record<string, Uint8Array>[] = [];
    const film = async (env: SimEnv) => {
      const frames = await camera.frames(env.world.data, cameras);
      live[env.stepCount] = Object.fromEntries(cameras.map((c) => [c, frames[c].data]));
    };
    const bytes = (frames: Readonly<Record<string, CameraFrame>>) =>
      Object.fromEntries(cameras.map((c) => [c, frames[c].data]));
    const outcomes = await runEpisodes(
      processor!,
      {
        task: 'pick-place',
        robot: 'lift2',
        episodes: 2,
        firstSeed: 5,
        imageSize: 32,
        executeSteps: 7,
        maxSteps: 25,
      },
      history,
      {
        source: (episode, tick) => {
          requests.push([episode, tick]);
          return (request) => {
            // The frames a request reads (now and t − 15) are rendered, as they were on their ticks.
            expect(bytes(request.images), `tick ${tick}`).toEqual(live[tick]);
            expect(bytes(history.pastFrames()), `tick ${tick} − 15`).toEqual(live[Math.max(0, tick - 15)]);
            return plain(request);
          };
        },
        start: async (env, episode, maxTicks) => {
          starts.push([episode, maxTicks + env.stepCount]);
          camera.attach(env.world.model, 32, 32);
          live = [];
          await film(env);
        },
        tick: async (env, obs, episode, over) => {
          ticks.push([episode, env.stepCount, over]);
          await film(env);
          // The hook sees the observation the history got last.
          expect(obs.timestampMs).toBe(env.nowMs());
        },
      },
    );
    expect(starts).toEqual([
      [0, 25],
      [1, 25],
    ]);
    expect(requests).toEqual([0, 1].flatMap((e) => [0, 7, 14, 21].map((t) => [e, t])));
    expect(ticks).toEqual([0, 1].flatMap((e) => Array.from({ length: 25 }, (_, k) => [e, k + 1, k === 24])));
    expect(outcomes.map(({ seed, ticks: n, chunks, success }) => ({ seed, n, chunks, success }))).toEqual([
      { seed: 5, n: 25, chunks: 4, success: false },
      { seed: 6, n: 25, chunks: 4, success: false },
    ]);
    camera.dispose();
    policy.dispose();
  });
});
