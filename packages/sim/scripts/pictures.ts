/**
 * The README's pictures: each task's head camera mid-episode (the scripted expert at work), rendered
 * by the GPU camera at 320×240 and written as PNGs to docs/. Deterministic: a second run writes the
 * same bytes on the same device.
 *
 *   npx tsx scripts/pictures.ts                  # in packages/sim
 *   npx tsx scripts/pictures.ts --tasks pick-place --at 0.4
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encode } from 'fast-png';
import { runAndExit } from '@vla/tensor-webgpu';
import { GpuCamera, ScriptedExpert, SIM_TASKS, SimEnv } from '../src/index.js';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
};
const [WIDTH, HEIGHT] = [320, 240];
const docs = join(import.meta.dirname, '..', 'docs');

await runAndExit(async (engine) => {
  const tasks = arg('tasks', Object.keys(SIM_TASKS).join(',')).split(',');
  const at = Number(arg('at', '0.5'));
  const seed = Number(arg('seed', '0'));
  const camera = await GpuCamera.create({ engine });
  for (const task of tasks) {
    const env = await SimEnv.create({ task, robot: 'lift2', camera, imageWidth: WIDTH, imageHeight: HEIGHT });
    // First the whole episode without images, for its length; then again to the chosen tick.
    const run = async (ticks: number) => {
      env.reset(seed);
      const expert = new ScriptedExpert(env);
      let r;
      let n = 0;
      do r = ++n === ticks ? await env.stepAsync(expert.act()) : env.step(expert.act());
      while (!r.done && n < ticks);
      expert.delete();
      return { r, n };
    };
    const full = await run(Infinity);
    const { r } = await run(Math.max(1, Math.round(at * full.n)));
    const frame = r.observation.images.head;
    const png = encode({ width: frame.width, height: frame.height, data: frame.data, channels: 3 });
    const file = join(docs, `${task}.png`);
    writeFileSync(file, png);
    console.log(
      `${task}: tick ${Math.round(at * full.n)} of ${full.n} (expert ${full.r.success ? 'succeeded' : 'failed'}), "${env.instance.instruction}" → ${file} (${(png.length / 1024).toFixed(0)} KB)`,
    );
    env.delete();
  }
  camera.dispose();
}, { backend: 'webgpu' });
