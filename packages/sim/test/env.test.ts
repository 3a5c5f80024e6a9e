import { SafetyLayer, type SafeCommand } from '@vla/robot-core';
import { LIFT2 } from '@vla/robots-arx';
import { init, type Engine } from '@vla/tensor-webgpu';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { GpuCamera, SimEnv, compileMjcf, loadMujoco, simRobot, simTask, type Mujoco } from '../src/index.js';

let mj: Mujoco;
let engine: Engine;
beforeAll(async () => {
  mj = await loadMujoco();
  engine = await init({ backend: 'webgpu' });
});

/** A fixed, seeded action sequence: home plus a slow sinusoid on every arm joint. */
function actions(n: number): number[][] {
  return Array.from({ length: n }, (_, t) =>
    LIFT2.home.map((h, i) =>
      LIFT2.dims[i].kind === 'joint' ? h + 0.3 * Math.sin(0.07 * t + i) : LIFT2.dims[i].lower,
    ),
  );
}

const CAMERAS = ['head', 'hand_left', 'hand_right'];

async function rollout(env: SimEnv, seed: number, acts: number[][]) {
  const first = await env.resetAsync(seed);
  const states = [Array.from(first.state)];
  const images = [CAMERAS.map((c) => first.images[c].data)];
  const qpos = [Array.from(env.world.qpos())];
  for (const a of acts) {
    const r = await env.stepAsync(a);
    states.push(Array.from(r.observation.state));
    images.push(CAMERAS.map((c) => r.observation.images[c].data));
    qpos.push(Array.from(env.world.qpos()));
  }
  env.delete();
  return { states, images, qpos, instruction: first.instruction, first };
}

describe('SimEnv', () => {
  it.each(['gpu', 'raycast'] as const)(
    'is deterministic with the %s camera: same seed and actions give the same trajectory and byte-identical images',
    async (camera) => {
      const mk = async () => {
        const env = await SimEnv.create({
          task: 'pick-place',
          robot: 'lift2',
          camera,
          imageWidth: 24,
          imageHeight: 16,
          mujoco: mj,
        });
        expect(env.cameraKind).toBe(camera);
        return env;
      };
      const acts = actions(12);
      const a = await rollout(await mk(), 3, acts);
      const b = await rollout(await mk(), 3, acts);
      expect(b.qpos).toEqual(a.qpos);
      expect(b.instruction).toBe(a.instruction);
      b.images.forEach((views, k) =>
        views.forEach((img, c) =>
          expect(Buffer.from(img).equals(Buffer.from(a.images[k][c])), `tick ${k} ${CAMERAS[c]}`).toBe(true),
        ),
      );
      // The actions moved the robot, and the wrist camera image changed with it.
      expect(Math.abs(a.states[12][1] - a.states[0][1])).toBeGreaterThan(0.05);
      expect(Buffer.from(a.images[12][1]).equals(Buffer.from(a.images[0][1]))).toBe(false);
      // Another seed is another scene, and another picture from the head camera.
      const c = await rollout(await mk(), 4, []);
      expect(c.qpos[0]).not.toEqual(a.qpos[0]);
      expect(Buffer.from(c.images[0][0]).equals(Buffer.from(a.images[0][0]))).toBe(false);
    },
  );

  it('renders the GPU camera as policy tensors without a readback, equal to the read-back frames', async () => {
    const env = await SimEnv.create({
      task: 'conveyor-sort',
      robot: 'lift2',
      imageWidth: 16,
      imageHeight: 12,
    });
    expect(env.cameraKind).toBe('gpu');
    // The synchronous reset cannot read the GPU back: no frames yet for this episode.
    expect(env.reset(1).images).toEqual({});
    const obs = (await env.stepAsync(LIFT2.home)).observation;
    const readbacks = engine.counters.readbacks;
    const tensors = env.renderTensors();
    expect(engine.counters.readbacks).toBe(readbacks);
    expect(Object.keys(tensors).sort()).toEqual([...CAMERAS].sort());
    for (const c of CAMERAS) {
      const t = tensors[c];
      expect(t.shape).toEqual([1, 3, 12, 16]);
      expect(t.engine).toBe(engine);
      const v = (await t.toArray()) as Float32Array;
      const f = obs.images[c].data;
      let maxDiff = 0;
      for (let ch = 0; ch < 3; ch++)
        for (let k = 0; k < 16 * 12; k++)
          maxDiff = Math.max(maxDiff, Math.abs(v[ch * 16 * 12 + k] - ((2 * f[3 * k + ch]) / 255 - 1)));
      expect(maxDiff, c).toBeLessThan(1e-6);
      t.dispose();
    }
    // A synchronous step keeps the last captured frames (a camera feed), stamped with the time they show.
    const later = env.step(LIFT2.home).observation;
    expect(later.images.head.data).toBe(obs.images.head.data);
    expect(later.images.head.timestampMs).toBeLessThan(env.world.timeMs);
    // A capture still in flight when a new episode starts does not deliver the old scene's frames.
    const pending = env.robot.capture();
    env.reset(2);
    await pending;
    expect(env.robot.observe().images).toEqual({});
    const big = env.renderTensors({ width: 32, height: 24, range: '0..1' });
    expect(big.head.shape).toEqual([1, 3, 24, 32]);
    for (const t of Object.values(big)) t.dispose();
    env.delete();
    expect(() => env.renderTensors()).toThrow(/call reset\(seed\) first/);
  });

  it('develops deferred frames later as the state they were taken in, each shot once', async () => {
    const size = { imageWidth: 20, imageHeight: 14 };
    const live = await SimEnv.create({ task: 'conveyor-sort', robot: 'lift2', ...size });
    const deferred = await SimEnv.create({ task: 'conveyor-sort', robot: 'lift2', ...size });
    const acts = actions(12);
    // The reference: every step rendered at once.
    await live.resetAsync(3);
    const rendered = [];
    for (const a of acts) rendered.push((await live.stepAsync(a)).observation);
    await deferred.resetAsync(3);
    const shots = acts.map((a) => deferred.stepDeferred(a).observation);
    // Nothing rendered yet: the pixels are not there, the time they show is.
    expect(shots[2].images.head.data.every((v) => v === 0)).toBe(true);
    expect(shots[2].images.head.timestampMs).toBe(rendered[2].images.head.timestampMs);
    // Steps 2 and 9, developed after the last step (the belt and the arm have moved since).
    const renders = vi.spyOn(GpuCamera.prototype, 'frames');
    await deferred.develop(shots[9].images);
    await deferred.develop(shots[2].images);
    expect(renders).toHaveBeenCalledTimes(2);
    for (const k of [2, 9])
      for (const c of CAMERAS)
        expect(shots[k].images[c].data, `step ${k} ${c}`).toEqual(rendered[k].images[c].data);
    expect(shots[2].images.head.data).not.toEqual(shots[9].images.head.data);
    // Developed frames are not rendered again; undeveloped ones stay blank; a frame not deferred is left alone.
    await deferred.develop({ ...shots[2].images, other: rendered[5].images.head });
    expect(renders).toHaveBeenCalledTimes(2);
    renders.mockRestore();
    expect(shots[5].images.hand_left.data.every((v) => v === 0)).toBe(true);
    // After a reset the old scene is gone.
    await deferred.resetAsync(4);
    await expect(deferred.develop(shots[5].images)).rejects.toThrow(/earlier episode/);
    live.delete();
    deferred.delete();
  });

  it('observes three named cameras of the requested size, the state in the embodiment layout and the instruction', async () => {
    const env = await SimEnv.create({
      task: 'conveyor-sort',
      robot: 'lift2',
      camera: 'raycast',
      imageWidth: 20,
      imageHeight: 12,
      mujoco: mj,
    });
    const obs = env.reset(0);
    expect(Object.keys(obs.images).sort()).toEqual(['hand_left', 'hand_right', 'head']);
    for (const f of Object.values(obs.images))
      expect([f.width, f.height, f.data.length]).toEqual([20, 12, 20 * 12 * 3]);
    // Home pose, read back through the MJCF's joint maps.
    obs.state.forEach((v, i) => expect(v).toBeCloseTo(LIFT2.home[i], 3));
    expect(obs.instruction.length).toBeGreaterThan(10);
  });

  it('stops NaN and wrong-length actions in the safety layer: the actuator targets do not change', async () => {
    const env = await SimEnv.create({ task: 'pick-place', robot: 'lift2', camera: null, mujoco: mj });
    env.reset(1);
    env.step(actions(1)[0]);
    const before = Array.from(env.world.readTargets());
    const bad = [...actions(2)[1]];
    bad[3] = NaN;
    const r = env.step(bad);
    expect(r.command.held).toBe(true);
    expect(r.command.reason).toBe('invalid-action');
    expect(Array.from(env.world.readTargets())).toEqual(before);
    const short = env.step([0, 1, 2]);
    expect(short.command.reason).toBe('invalid-action');
    expect(Array.from(env.world.readTargets())).toEqual(before);
    for (const v of env.world.qpos()) expect(Number.isFinite(v)).toBe(true);
  });

  it('keeps every applied target inside the joint limits and the velocity limit', async () => {
    const env = await SimEnv.create({ task: 'pick-place', robot: 'lift2', camera: null, mujoco: mj });
    env.reset(2);
    let prev = Array.from(env.world.readTargets());
    const wild = LIFT2.dims.map((d) => d.upper + 5);
    for (let t = 0; t < 5; t++) {
      env.step(t % 2 ? wild : wild.map((v) => -v));
      const now = Array.from(env.world.readTargets());
      now.forEach((v, i) => {
        const d = LIFT2.dims[i];
        expect(v).toBeGreaterThanOrEqual(d.lower - 1e-9);
        expect(v).toBeLessThanOrEqual(d.upper + 1e-9);
        expect(Math.abs(v - prev[i])).toBeLessThanOrEqual(d.maxVelocity / LIFT2.controlHz + 1e-9);
      });
      prev = now;
    }
  });

  it('accepts only SafeCommands from the layer driving it', async () => {
    const env = await SimEnv.create({ task: 'pick-place', robot: 'lift2', camera: null, mujoco: mj });
    env.reset(0);
    const fake = {
      robotType: 'ARX Lift-2',
      positions: [...LIFT2.home],
      held: false,
      reason: 'ok',
      timestampMs: 0,
      sequence: 99,
    };
    expect(() => env.robot.command(fake as unknown as SafeCommand)).toThrow(/not created by a SafetyLayer/);
    const other = new SafetyLayer(LIFT2);
    other.start(LIFT2.home, 0);
    other.observe(LIFT2.home, 0);
    const foreign = other.step(LIFT2.home, 0);
    env.step(LIFT2.home);
    expect(() => env.robot.command(foreign)).toThrow(/another SafetyLayer/);
  });

  it('names unknown tasks and robots, bad seeds and malformed MJCF', async () => {
    await expect(SimEnv.create({ task: 'juggle', robot: 'lift2' })).rejects.toThrow(
      /unknown task "juggle"; expected one of pick-place, conveyor-sort/,
    );
    await expect(SimEnv.create({ task: 'pick-place', robot: 'r2d2' })).rejects.toThrow(
      /unknown robot "r2d2"; expected one of lift2, acone, genie1/,
    );
    await expect(
      SimEnv.create({ task: 'pick-place', robot: 'lift2', camera: 'GPU' as 'gpu', mujoco: mj }),
    ).rejects.toThrow(/camera must be 'gpu', 'raycast', a GpuCamera, a CameraSource or null, got "GPU"/);
    const raycast = await SimEnv.create({
      task: 'pick-place',
      robot: 'lift2',
      camera: 'raycast',
      mujoco: mj,
    });
    raycast.reset(0);
    expect(() => raycast.renderTensors()).toThrow(/renderTensors: needs the GPU camera/);
    expect(() => simTask('__proto__')).toThrow(/unknown task/);
    expect(() => simRobot('toString')).toThrow(/unknown robot/);
    const env = await SimEnv.create({ task: 'pick-place', robot: 'lift2', camera: null, mujoco: mj });
    expect(() => env.reset(0.5)).toThrow(/seed must be an integer/);
    expect(() => env.step(LIFT2.home)).toThrow(/call reset\(seed\) first/);
    expect(() => compileMjcf(mj, '<mujoco><worldbody><geom type="box"/></worldbody', 'test scene')).toThrow(
      /MuJoCo rejected the MJCF of the test scene: .*XML parse error/,
    );
    expect(() =>
      compileMjcf(mj, '<mujoco><worldbody><geom type="teapot" size="1"/></worldbody></mujoco>', 'x'),
    ).toThrow(/MuJoCo rejected the MJCF of the x/);
  });
});
