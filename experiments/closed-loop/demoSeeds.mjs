// Which seeds a policy wins with the main job's closed loop (`vla-demo`'s runTaskEpisodes, one
// episode and a fresh action source per seed, as apps/demo's shipped-policy test runs it): the seeds
// that test may pin. The evaluation's loop (`vla-control run`) holds the arm for a tick at each
// request, so a seed it won is a candidate here, not a certainty.
// Usage: node experiments/closed-loop/demoSeeds.mjs <policy.safetensors> <task> <seed>... [--first N]
//   --first N stops after N wins.
import { runTaskEpisodes, DEMO_ROBOT } from '@vla/demo';
import { loadPolicyBundle } from '@vla/internvla-a1';
import { init } from '@vla/tensor-webgpu';

const args = process.argv.slice(2);
const firstAt = args.indexOf('--first');
const wanted = firstAt >= 0 ? Number(args.splice(firstAt, 2)[1]) : Infinity;
const [policyPath, task, ...seeds] = args;
if (!policyPath || !task || seeds.length === 0) {
  console.error('usage: demoSeeds.mjs <policy.safetensors> <task> <seed>... [--first N]');
  process.exit(2);
}
await init();
const { policy, processor } = await loadPolicyBundle(policyPath);
const won = [];
for (const seed of seeds.map(Number)) {
  const r = await runTaskEpisodes(policy, processor, {
    task,
    robot: DEMO_ROBOT,
    episodes: 1,
    firstSeed: seed,
  });
  const e = r.episodes[0];
  console.log(`${task} seed ${seed}: ${e.success ? 'success' : 'failure'} after ${e.ticks} ticks`);
  if (e.success) won.push(seed);
  if (won.length >= wanted) break;
}
console.log(`${task}: won ${won.length ? won.join(', ') : 'none'}`);
policy.dispose();
process.exit(0);
