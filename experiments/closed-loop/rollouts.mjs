// How far a policy gets in closed loop, beyond success or failure: for each episode, the closest
// the gripping arm came to the goal object (cm), how high the object was lifted above where it
// started (cm), and whether the episode succeeded — with the scripted expert's numbers on the same
// seeds beside them. Same loop as the training's evaluation (policyActionSource, 30 of 50 executed).
// Usage: node experiments/closed-loop/rollouts.mjs <policy.safetensors> <task> <episodes> [firstSeed=0]
import { loadPolicyBundle } from '@vla/internvla-a1';
import { ObservationHistory, policyActionSource } from '@vla/policy-runtime';
import { fromPolicyActions, toPolicyState } from '@vla/robot-core';
import { ScriptedExpert, SimEnv } from '@vla/sim';
import { init } from '@vla/tensor-webgpu';

await init();
const [policyPath, task, episodes, firstSeed = '0'] = process.argv.slice(2);
const { policy, processor } = await loadPolicyBundle(policyPath);
const size = processor.json.imageSize;
const env = await SimEnv.create({ task, robot: 'lift2', camera: 'gpu', imageWidth: size, imageHeight: size });
const e = env.robotSpec.embodiment;

/** Runs one episode with `act(obs)` giving the next command; returns reach (cm), lift (cm), success, ticks. */
async function episode(seed, act) {
  let obs = await env.resetAsync(seed);
  const goal = env.instance.goals[0];
  const site = env.robotSpec.arms[goal.arm].gripSite;
  const z0 = env.world.pose(goal.object).pos[2];
  let reach = Infinity;
  let lift = 0;
  // The object the gripper came closest to: the goal, or a distractor (a grounding error).
  const others = env.world.layout.objects.map((o) => o.name);
  const near = new Map(others.map((n) => [n, Infinity]));
  for (;;) {
    const r = await env.stepAsync(await act(obs));
    obs = r.observation;
    const p = env.world.pose(goal.object).pos;
    const g = env.world.sitePos(site);
    reach = Math.min(reach, Math.hypot(p[0] - g[0], p[1] - g[1], p[2] - g[2]));
    lift = Math.max(lift, p[2] - z0);
    for (const n of others) {
      const q = env.world.pose(n).pos;
      near.set(n, Math.min(near.get(n), Math.hypot(q[0] - g[0], q[1] - g[1], q[2] - g[2])));
    }
    if (r.done) {
      const closest = [...near].sort((a, b) => a[1] - b[1])[0][0];
      return {
        reach: 100 * reach,
        lift: 100 * lift,
        success: r.success,
        ticks: env.stepCount,
        wrong: closest !== goal.object,
      };
    }
  }
}

const rows = [];
// One source for every episode, its history cleared at each reset, as the training's evaluation does.
const history = new ObservationHistory();
const source = policyActionSource({ policy, processor, history, seed: 0 });
for (let k = 0; k < Number(episodes); k++) {
  const seed = Number(firstSeed) + k;
  history.reset();
  let plan = [];
  const p = await episode(seed, async (obs) => {
    history.push(obs);
    if (plan.length === 0) {
      const chunk = await source({
        robotType: e.robotType,
        state: toPolicyState(e, obs.state),
        images: obs.images,
        prompt: obs.instruction,
        timestampMs: obs.timestampMs,
      });
      plan = fromPolicyActions(e, chunk, obs.state, { delta: false }).slice(0, 30);
    }
    return plan.shift();
  });
  let expert;
  const x = await episode(seed, async () => {
    expert ??= new ScriptedExpert(env);
    return expert.act();
  });
  expert?.delete();
  rows.push({ seed, p, x });
  const f = (v) => v.toFixed(1).padStart(5);
  console.log(
    `seed ${String(seed).padStart(3)}  policy: reach ${f(p.reach)} cm, lift ${f(p.lift)} cm, ${p.success ? 'success' : 'failure'} (${p.ticks} ticks${p.wrong ? ', nearest a distractor' : ''})   expert: reach ${f(x.reach)}, lift ${f(x.lift)}, ${x.success ? 'success' : 'failure'}`,
  );
}
const mean = (f) => rows.reduce((a, r) => a + f(r), 0) / rows.length;
console.log(
  `${task}: policy reach ${mean((r) => r.p.reach).toFixed(1)} cm, lift ${mean((r) => r.p.lift).toFixed(1)} cm, nearest a distractor ${rows.filter((r) => r.p.wrong).length}, ${rows.filter((r) => r.p.success).length}/${rows.length}; expert reach ${mean((r) => r.x.reach).toFixed(1)} cm, lift ${mean((r) => r.x.lift).toFixed(1)} cm, ${rows.filter((r) => r.x.success).length}/${rows.length}`,
);
policy.dispose();
env.delete();
process.exit(0);
