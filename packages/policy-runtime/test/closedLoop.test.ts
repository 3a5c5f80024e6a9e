// The whole deploy path on the simulator: a tiny random policy behind policyActionSource, fed by
// robot-core's ChunkExecutor on the simulated ARX Lift-2 (ray-cast cameras, 32 px), the history
// hooked to onObservation. The loop runs in lockstep on a fake clock that follows simulated time;
// inference takes no simulated time (each chunk is awaited before the next tick).
import { afterAll, describe, expect, it, vi } from 'vitest';
import {
  ChunkExecutor,
  FakeClock,
  deltaMask,
  type ActionChunk,
  type ActionSource,
  type CameraFrame,
  type Observation,
  type SafeCommand,
} from '@vla/robot-core';
import { SimEnv } from '@vla/sim';
import type { RgbFrame } from '@vla/internvla-a1';
import { ObservationHistory, policyActionSource } from '../src/index.js';
import { eng } from './setup.js';
import { tinyPolicy, tinyPolicyConfig, tinyProcessor } from '../src/testing.js';

const TICKS = 60;

describe('closed loop on the simulator', () => {
  const config = tinyPolicyConfig(1, 10);
  const policy = tinyPolicy(config, 13);
  afterAll(() => policy.dispose());

  it('requests chunks, commands the robot, no errors, and the policy sees frames t − 15 from the history', async () => {
    const env = await SimEnv.create({
      task: 'pick-place',
      robot: 'lift2',
      camera: 'raycast',
      imageWidth: 32,
      imageHeight: 32,
    });
    env.reset(0);
    const e = env.robot.embodiment;
    const names = e.dims.map((d) => d.name);
    const gripper = e.dims.map((d) => d.kind === 'gripper');
    // Small deltas on the joints, grippers around half open (dataset units).
    const processor = tinyProcessor(config, {
      robotType: e.robotType,
      stateNames: names,
      actionNames: names,
      deltaMask: deltaMask(e),
      cameras: ['head'],
      state: { mean: names.map(() => 0), std: names.map(() => 1) },
      action: { mean: gripper.map((g) => (g ? 0.022 : 0)), std: gripper.map((g) => (g ? 0.005 : 0.02)) },
      seed: 1,
    });
    const history = new ObservationHistory();
    // The source serves one request per batch: each call holds one item.
    const images = vi.spyOn(processor, 'imageBatchToPolicy');
    const source = policyActionSource({ policy, processor, history, steps: 2, seed: 1 });

    const log: Observation[] = [];
    const requestTicks: number[] = [];
    let inflight: Promise<unknown> | undefined;
    const chunks: ActionChunk[] = [];
    const tracked: ActionSource = (request) => {
      requestTicks.push(log.length - 1);
      const p = source(request);
      inflight = p.then((c) => chunks.push(c));
      return p;
    };
    const commands: SafeCommand[] = [];
    const errors: Error[] = [];
    const clock = new FakeClock(env.nowMs());
    const exec = new ChunkExecutor({
      robot: env.robot,
      safety: env.safety,
      source: tracked,
      clock,
      strategy: { kind: 'chunk', executeSteps: 10 },
      prompt: env.instance.instruction,
      onObservation: (o) => {
        log.push(o);
        history.push(o);
      },
      onCommand: (c) => commands.push(c),
      onError: (err) => errors.push(err),
    });
    const base = eng.poolStats().inUseBytes;
    for (let t = 0; t < TICKS; t++) {
      exec.tick();
      env.world.tick();
      await clock.advance(env.nowMs() - clock.now());
      if (inflight) {
        await inflight.catch(() => undefined);
        inflight = undefined;
      }
    }
    env.delete();

    expect(errors).toEqual([]);
    const stats = exec.stats;
    expect(stats.errors).toBe(0);
    expect(stats.ticks).toBe(TICKS);
    expect(log.length).toBe(TICKS);
    // Each chunk: one tick holding while it is computed (at once in simulated time), then its 10 rows.
    expect(stats.requests).toBe(6);
    expect(stats.chunksReceived).toBe(6);
    expect(stats.chunksDropped).toBe(0);
    expect(stats.executedSteps).toBe(54);
    expect(stats.holds).toBe(6);
    expect(commands.length).toBe(TICKS);
    const followed = commands.filter((c) => !c.held);
    expect(followed.length).toBe(54);
    // The arm followed the policy's chunks as absolute targets: ticks 1..10 execute rows 0..9 of the
    // first chunk (joints; the grippers are slower than the made-up policy and get velocity-clamped).
    expect(chunks.length).toBe(6);
    expect(chunks.every((c) => c.absolute === true)).toBe(true);
    for (let r = 0; r < 10; r++) {
      const cmd = commands[1 + r];
      expect(cmd.held).toBe(false);
      e.dims.forEach((d, i) => {
        if (d.kind === 'joint')
          expect(Math.abs(cmd.positions[i] - chunks[0].actions[r * 32 + i])).toBeLessThan(1e-6);
      });
    }
    const first = commands[0].positions;
    expect(followed.some((c) => c.positions.some((x, i) => Math.abs(x - first[i]) > 1e-3))).toBe(true);
    expect(eng.poolStats().inUseBytes - base).toBe(0);

    // Each request read the current head frame and the one 15 ticks earlier (clamped to the first).
    expect(requestTicks).toEqual([0, 11, 22, 33, 44, 55]);
    expect(images).toHaveBeenCalledTimes(2 * requestTicks.length);
    requestTicks.forEach((k, n) => {
      const calls = images.mock.calls
        .slice(2 * n, 2 * n + 2)
        .map(([f]) => (f[0] as Record<string, RgbFrame>).head);
      const current = log[k].images.head;
      const past = log[Math.max(0, k - 15)].images.head;
      expect(calls).toContain(current);
      expect(calls).toContain(past);
      // Only the cameras the policy reads were passed on.
      for (const [f] of images.mock.calls.slice(2 * n, 2 * n + 2)) {
        expect(f.length).toBe(1);
        expect(Object.keys(f[0])).toEqual(['head']);
      }
    });
    // Frames are new objects every tick (the ray-caster renders in every observe), so the identity
    // above pins the tick.
    const heads = new Set<CameraFrame>(log.map((o) => o.images.head));
    expect(heads.size).toBe(TICKS);
  });
});
