// How far a policy gets in closed loop, beyond success or failure: for each episode, the closest
// the gripping arm came to the goal object (cm), how high the object was lifted above where it
// started (cm), and whether the episode succeeded — with the scripted expert's numbers on the same
// seeds beside them. The training's evaluation loop (`runEpisodes`, 30 of 50 executed).
// Usage: node experiments/closed-loop/rollouts.mjs <policy.safetensors> <task> <episodes> [firstSeed=0]
import { loadPolicyBundle } from '@vla/internvla-a1';
import { ObservationHistory, policyActionSource } from '@vla/policy-runtime';
import { ScriptedExpert, SimEnv } from '@vla/sim';
import { init } from '@vla/tensor-webgpu';
import { runEpisodes } from '@vla/trainer';

await init();
const [policyPath, task, episodes, firstSeed = '0'] = process.argv.slice(2);
const { policy, processor } = await loadPolicyBundle(policyPath);
const size = processor.json.imageSize;
const env = await SimEnv.create({ task, robot: 'lift2', camera: 'gpu', imageWidth: size, imageHeight: size });

/** Follows an episode of `env` from its reset: reach (cm), lift (cm), and whether a distractor was nearest. */
function tracker(env) {
  const goal = env.instance.goals[0];
  const site = env.robotSpec.arms[goal.arm].gripSite;
  const z0 = env.world.pose(goal.object).pos[2];
  let reach = Infinity;
  let lift = 0;
  // The object the gripper came closest to: the goal, or a distractor (a grounding error).
  const others = env.world.layout.objects.map((o) => o.name);
  const near = new Map(others.map((n) => [n, Infinity]));
  return {
    update() {
      const p = env.world.pose(goal.object).pos;
      const g = env.world.sitePos(site);
      reach = Math.min(reach, Math.hypot(p[0] - g[0], p[1] - g[1], p[2] - g[2]));
      lift = Math.max(lift, p[2] - z0);
      for (const n of others) {
        const q = env.world.pose(n).pos;
        near.set(n, Math.min(near.get(n), Math.hypot(q[0] - g[0], q[1] - g[1], q[2] - g[2])));
      }
    },
    result(success, ticks) {
      const closest = [...near].sort((a, b) => a[1] - b[1])[0][0];
      return { reach: 100 * reach, lift: 100 * lift, success, ticks, wrong: closest !== goal.object };
    },
  };
}

/** The scripted expert's episode on `seed`. */
async function expertEpisode(seed) {
  await env.resetAsync(seed);
  const t = tracker(env);
  const expert = new ScriptedExpert(env);
  try {
    for (;;) {
      const r = env.step(expert.act()); // the expert reads the world, not the cameras
      t.update();
      if (r.done) return t.result(r.success, env.stepCount);
    }
  } finally {
    expert.delete();
  }
}

// One source and one simulator for every episode, the history cleared at each reset, as the
// training's evaluation does; a tracker per episode.
const history = new ObservationHistory();
const source = policyActionSource({ policy, processor, history, seed: 0 });
const trackers = [];
const outcomes = await runEpisodes(
  processor,
  { task, robot: 'lift2', episodes: Number(episodes), firstSeed: Number(firstSeed) },
  history,
  {
    source: () => source,
    start: (policyEnv, k) => void (trackers[k] = tracker(policyEnv)),
    tick: (_env, _obs, k) => trackers[k].update(),
  },
);
const rows = [];
for (const [k, outcome] of outcomes.entries()) {
  const seed = outcome.seed;
  const p = trackers[k].result(outcome.success, outcome.ticks);
  const x = await expertEpisode(seed);
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
