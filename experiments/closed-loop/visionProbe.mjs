// Does a policy look at its cameras? For each seed, the chunk the policy predicts at reset from the
// episode's own images is compared with the chunk from another seed's images (same state, same
// prompt), and both with the scripted expert's first actions. A policy that ignores its images gives
// nearly equal chunks ("own-other diff" ≈ 0) and is no closer to the expert with the right images.
// With `prompt` as the fifth argument it probes the instruction instead: the other input is the
// episode's own instruction with the goal's colour replaced by a distractor's (same images, same
// state), so a policy that ignores what it is told gives nearly equal chunks.
//   node experiments/closed-loop/visionProbe.mjs <policy.safetensors> [task] [seeds, e.g. 1000,1001,0,1] [step] [prompt]
import { loadPolicySource } from '@vla/policy-runtime';
import { fromPolicyActions, toPolicyState } from '@vla/robot-core';
import { COLOURS, ScriptedExpert, SimEnv, simRobot } from '@vla/sim';
import { init, shutdown } from '@vla/tensor-webgpu';

const [ckpt, task = 'pick-place', seedList = '1000,1001,1002,1003,0,1,2,3', atArg = '0', mode = 'images'] =
  process.argv.slice(2);
if (!ckpt) throw new Error('usage: visionProbe.mjs <policy.safetensors> [task] [seeds] [step]');
// The probe asks at this step of the expert's episode (0: at reset; later: e.g. just before the grasp).
const at = Number(atArg);
const seeds = seedList.split(',').map(Number);
await init();
const { source, processor } = await loadPolicySource(ckpt, { seed: 0 });
const size = processor.json.imageSize;
const e = simRobot('lift2').embodiment;
const env = await SimEnv.create({ task, robot: 'lift2', camera: 'gpu', imageWidth: size, imageHeight: size });
const H = 50;

// Each seed's first observation and the expert's first H targets from it.
const obs = [];
const expert = [];
// Per seed: the instruction naming a distractor by its colour (prompt mode).
const swapped = [];
const colourOf = (rgba) => Object.keys(COLOURS).find((c) => COLOURS[c].every((v, k) => v === rgba[k]));
for (const s of seeds) {
  let o = await env.resetAsync(s);
  const objects = env.world.layout.objects;
  const goal = objects.find((x) => x.name === env.instance.goals[0].object);
  const distractor = objects.find((x) => colourOf(x.rgba) !== colourOf(goal.rgba));
  swapped.push(o.instruction.replace(colourOf(goal.rgba), colourOf(distractor.rgba)));
  const ex = new ScriptedExpert(env);
  for (let t = 0; t < at; t++) o = (await env.stepAsync(ex.act())).observation;
  obs.push(o);
  const acts = [];
  for (let t = 0; t < H; t++) {
    const a = ex.act();
    acts.push(Array.from(a));
    await env.stepAsync(a);
  }
  ex.delete();
  expert.push(acts);
}
const dims = e.dims.length;
const meanAbs = (a, b) => {
  let s = 0;
  for (let t = 0; t < H; t++) for (let d = 0; d < dims; d++) s += Math.abs(a[t][d] - b[t][d]);
  return s / (H * dims);
};
const ask = async (stateObs, imageObs, prompt = stateObs.instruction) => {
  const chunk = await source({
    robotType: e.robotType,
    state: toPolicyState(e, stateObs.state),
    images: imageObs.images,
    prompt,
    timestampMs: 0,
  });
  return fromPolicyActions(e, chunk, stateObs.state, { delta: false }).map((a) => Array.from(a));
};
// The last column is how far apart the right answers for the two scenes are: a policy that reads its
// cameras moves its chunk by about that much when given the other scene's images.
console.log(
  mode === 'prompt'
    ? "| seed | own vs expert | other instruction vs expert | own vs other (rad) | expert vs the other seed's expert |"
    : "| seed | own images vs expert | other images vs expert | own vs other (rad) | expert vs the other seed's expert |",
);
console.log('|---|---|---|---|---|');
if (mode === 'prompt')
  seeds.forEach((s, i) => console.log(`seed ${s}: "${obs[i].instruction}" → "${swapped[i]}"`));
for (let i = 0; i < seeds.length; i++) {
  const j = (i + 1) % seeds.length;
  const own = await ask(obs[i], obs[i]);
  const other = mode === 'prompt' ? await ask(obs[i], obs[i], swapped[i]) : await ask(obs[i], obs[j]);
  console.log(
    `| ${seeds[i]} | ${meanAbs(own, expert[i]).toFixed(3)} | ${meanAbs(other, expert[i]).toFixed(3)} | ${meanAbs(own, other).toFixed(3)} | ${meanAbs(expert[i], expert[j]).toFixed(3)} |`,
  );
}
env.delete();
shutdown();
process.exit(0);
