// Replays recorded demonstrations through the deploy path with the network replaced by an oracle:
// every chunk request gets the demonstration's next 50 actions, made policy targets by the training
// path (processor.actionsToPolicy with the dataset's state) and turned back into robot commands by
// the deploy path (processor.actionsToRobot with the simulator's state, fromPolicyActions), executing
// 30 of each chunk like the evaluation. If the two paths agree, every replay succeeds.
// Usage: node experiments/closed-loop/oracle.mjs <policy.safetensors> <dataset> <task> <episodes> [firstSeed=1000] [execute=30]
import { loadPolicyBundle } from '@vla/internvla-a1';
import { openLocalDataset, resolveRobotMapping } from '@vla/lerobot';
import { fromPolicyActions, robotToDataset } from '@vla/robot-core';
import { SimEnv, simRobot } from '@vla/sim';
import { init } from '@vla/tensor-webgpu';

await init();

const [policyPath, dataset, task, episodes, firstSeed = '1000', executeArg = '30'] = process.argv.slice(2);
const { policy, processor } = await loadPolicyBundle(policyPath);
policy.dispose();
const ds = await openLocalDataset(dataset);
// The keys the trainer resolves for this dataset.
const layout = resolveRobotMapping(ds.info);
const e = simRobot('lift2').embodiment;
const env = await SimEnv.create({ task, robot: 'lift2', camera: 'gpu', imageWidth: 64, imageHeight: 64 });
const execute = Number(executeArg);
let ok = 0;
for (let k = 0; k < Number(episodes); k++) {
  const rows = await ds.readEpisode(k);
  const vec = (keys, t) =>
    keys.flatMap((key) => {
      const c = rows.columns[key];
      return Array.from(c.values.subarray(t * c.width, (t + 1) * c.width));
    });
  let obs = await env.resetAsync(Number(firstSeed) + k);
  let plan = [];
  let maxStateGap = 0;
  for (let t = 0; ; t++) {
    if (plan.length === 0) {
      const dsState = vec(layout.stateKeys, Math.min(t, rows.length - 1));
      const acts = [];
      for (let h = 0; h < processor.json.chunkSize; h++)
        acts.push(vec(layout.actionKeys, Math.min(t + h, rows.length - 1)));
      const target = processor.actionsToPolicy(acts, dsState);
      // The deploy path adds the simulator's state back (dataset units), as the policy service does.
      const simState = Array.from(robotToDataset(e, obs.state));
      const robotRows = processor.actionsToRobot(target, simState);
      dsState.forEach((v, i) => (maxStateGap = Math.max(maxStateGap, Math.abs(v - simState[i]))));
      const padded = new Float32Array(robotRows.length * 32);
      robotRows.forEach((r, h) => padded.set(r, h * 32));
      plan = fromPolicyActions(e, { horizon: robotRows.length, dim: 32, actions: padded }, obs.state, {
        delta: false,
      }).slice(0, execute);
    }
    const r = await env.stepAsync(plan.shift());
    obs = r.observation;
    if (r.done) {
      if (r.success) ok++;
      console.log(
        `episode ${k}: ${r.success ? 'success' : 'FAIL'} at tick ${env.stepCount} (demo ${rows.length}), max |dataset state − sim state| at requests ${maxStateGap.toExponential(2)}`,
      );
      break;
    }
  }
  env.delete();
}
console.log(`${task}: ${ok}/${episodes}`);
env.delete();
// The CPU engine's worker threads would keep the process alive.
process.exit(0);
