// Expert success over many seeds per task and embodiment, and physics steps per second per task.
// Usage: npm run bench [-- --seeds 50 --robots lift2,acone,genie1 --tasks pick-place,conveyor-sort,handover]
import { ScriptedExpert, SimEnv } from '../src/index.js';

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
};
const seeds = Number(arg('seeds', '50'));
const robots = arg('robots', 'lift2,acone,genie1').split(',');
const tasks = arg('tasks', 'pick-place,conveyor-sort,handover').split(',');

console.log(`| task | robot | expert success | seeds | physics steps/s (no cameras) | failed seeds |`);
console.log(`|---|---|---|---|---|---|`);
for (const task of tasks) {
  for (const robot of robots) {
    const env = await SimEnv.create({ task, robot, camera: null });
    let ok = 0;
    const failed: number[] = [];
    let physicsMs = 0;
    let steps = 0;
    for (let seed = 0; seed < seeds; seed++) {
      env.reset(seed);
      const expert = new ScriptedExpert(env);
      let r;
      do {
        const a = expert.act();
        const t0 = performance.now();
        r = env.step(a);
        physicsMs += performance.now() - t0;
        steps += env.world.substeps;
      } while (!r.done);
      expert.delete();
      if (r.success) ok++;
      else failed.push(seed);
    }
    env.delete();
    const rate = ((100 * ok) / seeds).toFixed(1);
    console.log(
      `| ${task} | ${robot} | ${ok}/${seeds} (${rate}%) | 0–${seeds - 1} | ${((steps / physicsMs) * 1000).toFixed(0)} | ${failed.join(', ') || '–'} |`,
    );
  }
}
