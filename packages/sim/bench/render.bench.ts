/**
 * Renderer speed: frames/s per camera size for the ARX Lift-2 at a table, as an RGB8 frame (with
 * its readback) and as a GPU tensor (no readback; timed until the GPU is done), for one camera on a
 * new state each frame (shadow map redrawn) and for the three cameras of one state. Then one control
 * tick of the simulator's closed loop (safety layer and physics substeps of a pick-place episode, the
 * three cameras as policy tensors at the policy's size), and next to it one action chunk of the tiny
 * InternVLA-A1 policy fed with the three rendered tensors, so the costs can be compared on the same
 * device; and a closed-loop tick with RGB8 frames rendered every tick against deferred frames of which
 * only those a policy reads are rendered. Prints a table; asserts nothing.
 *
 *   npm run bench                            # in packages/sim (runs sim.bench.ts too)
 *   npx tsx bench/render.bench.ts --frames 20 --sizes 64x64,640x480
 */
import loadMujoco from '@mujoco/mujoco';
import { InternVLAA1Policy, policyConfig } from '@vla/internvla-a1';
import { LIFT2_MJCF } from '@vla/robots-arx';
import { manualSeed, runAndExit, tensor, tidy, type Engine } from '@vla/tensor-webgpu';
import { ScriptedExpert, SimEnv } from '../src/index.js';
import { SceneRenderer } from '../src/render/sceneRenderer.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

const PROPS = `<geom name="table" type="box" pos="0.55 0 0.35" size="0.25 0.5 0.35" rgba="0.6 0.45 0.3 1"/>
    <body name="cube" pos="0.45 0.15 0.73"><freejoint/><geom type="box" size="0.025 0.025 0.025" rgba="0.9 0.2 0.2 1"/></body>
  </worldbody>`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(engine: Engine): Promise<void> {
  const frames = Number(arg('frames', '10'));
  const sizes = arg('sizes', '64x64,224x224,640x480')
    .split(',')
    .map((s) => s.split('x').map(Number));
  const mj = await loadMujoco();
  const m = mj.MjModel.from_xml_string(LIFT2_MJCF.xml.replace('</worldbody>', PROPS));
  const d = new mj.MjData(m);
  mj.mj_resetDataKeyframe(m, d, 0);
  mj.mj_forward(m, d);
  const cams = LIFT2_MJCF.cameras;
  const lift = (m.jnt_qposadr as Int32Array)[mj.mj_name2id(m, mj.mjtObj.mjOBJ_JOINT.value, 'left_joint1')];
  // A new state per frame: the arm moves, so poses and the shadow map change.
  const step = () => {
    d.qpos[lift] += 0.01;
    mj.mj_forward(m, d);
  };
  const info = engine.gpu.adapterInfo;
  console.log(
    `device: ${info.description || info.vendor} (${info.architecture}); ${frames} frames per row, median`,
  );
  console.log(
    '| size | render() RGB8, 1 camera | renderTensor, 1 camera | 3 cameras of one state, tensors |',
  );
  console.log('|---|---|---|---|');
  const renderer = await SceneRenderer.create(m, { width: 64, height: 64 });
  const timeIt = async (fn: () => Promise<void>) => {
    await fn(); // warm-up: pipelines, targets
    const ms: number[] = [];
    for (let i = 0; i < frames; i++) {
      step();
      const t0 = performance.now();
      await fn();
      ms.push(performance.now() - t0);
    }
    return median(ms);
  };
  const cell = (ms: number, per = 1) => `${((1000 * per) / ms).toFixed(1)} frames/s (${ms.toFixed(1)} ms)`;
  for (const [width, height] of sizes) {
    const rgb = await timeIt(async () => {
      await renderer.render(d, 'hand_left', { width, height });
    });
    const one = await timeIt(async () => {
      renderer.renderTensor(d, 'hand_left', { width, height }).dispose();
      await engine.sync();
    });
    const three = await timeIt(async () => {
      for (const c of cams) renderer.renderTensor(d, c, { width, height }).dispose();
      await engine.sync();
    });
    console.log(`| ${width}x${height} | ${cell(rgb)} | ${cell(one)} | ${cell(three, 3)} |`);
  }

  manualSeed(0);
  const config = policyConfig('tiny');
  const S = config.imageSize;

  // The simulator's side of the loop: per control tick, the safety layer and the physics substeps
  // (the expert's own planning is not timed), then the three cameras as policy tensors, timed until
  // the GPU is done. The first ticks compile and allocate, so they are skipped.
  const ticks = Number(arg('ticks', '60'));
  const env = await SimEnv.create({
    task: 'pick-place',
    robot: 'lift2',
    camera: 'gpu',
    gpu: { engine },
    imageWidth: S,
    imageHeight: S,
    mujoco: mj,
  });
  const resets: number[] = [];
  for (let seed = 0; seed < 3; seed++) {
    const t0 = performance.now();
    env.reset(seed);
    env.renderTensors().head.dispose();
    await engine.sync();
    resets.push(performance.now() - t0);
  }
  const expert = new ScriptedExpert(env);
  const physicsMs: number[] = [];
  const camerasMs: number[] = [];
  for (let t = 0; t < ticks + 5; t++) {
    const action = expert.act();
    let t0 = performance.now();
    env.step(action);
    const p = performance.now() - t0;
    t0 = performance.now();
    const views = env.renderTensors();
    await engine.sync();
    const c = performance.now() - t0;
    for (const v of Object.values(views)) v.dispose();
    if (t >= 5) {
      physicsMs.push(p);
      camerasMs.push(c);
    }
  }
  expert.delete();
  const tick = median(physicsMs) + median(camerasMs);
  console.log(
    `\ncontrol tick (pick-place, ${env.robotSpec.name}, ${ticks} ticks, median): safety + ${env.options.substeps ?? 16} physics substeps ${median(physicsMs).toFixed(1)} ms, 3 cameras ${S}x${S} as tensors ${median(camerasMs).toFixed(1)} ms, total ${tick.toFixed(1)} ms; reset (compile the scene, new renderer, first frame) ${median(resets).toFixed(0)} ms`,
  );

  // RGB8 frames as a closed loop reads them: every tick read back (stepAsync), against deferred
  // frames (stepDeferred) of which only those a policy asking every 30 ticks reads are developed
  // (its request's tick and t − 15). Mean per tick over the same scripted episode.
  const loopMs = async (deferred: boolean) => {
    await env.resetAsync(0);
    const ex = new ScriptedExpert(env);
    const t0 = performance.now();
    for (let t = 1; t <= ticks; t++) {
      if (!deferred) await env.stepAsync(ex.act());
      else {
        const obs = env.stepDeferred(ex.act()).observation;
        if (t % 15 === 0) await env.develop(obs.images);
      }
    }
    ex.delete();
    return (performance.now() - t0) / ticks;
  };
  await loopMs(false); // warm-up
  const everyTick = await loopMs(false);
  const onDemand = await loopMs(true);
  console.log(
    `closed-loop tick with RGB8 frames (pick-place, ${ticks} ticks, mean): every tick read back ${everyTick.toFixed(1)} ms, deferred and developed 2 in 30 ${onDemand.toFixed(1)} ms (${(everyTick / onDemand).toFixed(1)}x)`,
  );
  env.delete();

  // The policy's side: one chunk (prefill + 10 Euler steps) of the tiny configuration on the three
  // rendered views, at its input size and range, without the images leaving the GPU.
  const policy = InternVLAA1Policy.create(config);
  policy.eval();
  const chunk = await timeIt(async () => {
    const actions = tidy(() => {
      const images = cams.map((c) => {
        const current = renderer.renderTensor(d, c, { width: S, height: S, range: '-1..1' });
        return { past: current, current };
      });
      const obs = {
        images,
        imageMasks: cams.map(() => true),
        tokens: new Int32Array(config.textTokens).fill(1),
        textMask: new Uint8Array(config.textTokens).fill(1),
        state: tensor(new Float32Array(config.stateDim), [1, config.stateDim]),
      };
      return policy.sampleActions(obs, { seed: 1 }).actions;
    });
    await actions.toArray();
    actions.dispose();
  });
  console.log(
    `tiny policy, one action chunk (3 views rendered at ${S}x${S} + prefill + 10 steps): ${chunk.toFixed(0)} ms = ${(chunk / tick).toFixed(0)} control ticks`,
  );
  policy.dispose();
  renderer.dispose();
  d.delete();
  m.delete();
}

await runAndExit(main, { backend: 'webgpu' });
