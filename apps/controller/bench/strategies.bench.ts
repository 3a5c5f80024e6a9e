// Chunk vs temporal ensembling vs real-time chunking (RTC) on the simulator's conveyor-sort task, in
// lockstep: simulated time, every chunk delivered a fixed `--delay` control ticks (default 5) after its
// request, so all strategies see the same inference delay and a run is deterministic. Every strategy
// runs the same `--episodes` seeds with the same checkpoint and sampler seed.
//
// Figures per strategy: success rate; jerk at chunk boundaries vs elsewhere. Jerk at tick t is the L2
// norm over the joint dims (robot units, rad or m) of the third difference of the COMMANDED positions,
// q[t+1] − 3q[t] + 3q[t−1] − q[t−2] (per tick³, not divided by the period). A stencil is "at a
// boundary" when the first tick that executes a newly delivered chunk lies in t−2…t+1; all other
// stencils are "elsewhere" (see src/boundaryJerk.ts). Ensembling gets a chunk every `--delay` ticks,
// so nearly all its stencils are at boundaries.
//
// Checkpoint: `--checkpoint file` (with its processor), else a randomly initialised tiny Lift-2 policy
// made here (NOT trained: success rates are then ~0 and the jerk shows how each strategy stitches
// unrelated chunks, which is what RTC's guidance is for). Usage:
//   npx tsx bench/strategies.bench.ts [--checkpoint f] [--episodes 2] [--max-steps 60] [--delay 5]
//     [--execute-steps 25] [--steps 2] [--image-size 32] [--robot lift2]
import { parseArgs } from 'node:util';
import { init, shutdown } from '@vla/tensor-webgpu';
import { loadPolicyService } from '@vla/policy-runtime';
import { controlStrategy, type StrategyName } from '../src/controlStrategy.js';
import { serviceEpisodes } from '../src/episodeSource.js';
import { runSim } from '../src/simRun.js';
import { tinyLift2Checkpoint } from '../test/checkpoint.js';

const { values: a } = parseArgs({
  options: {
    checkpoint: { type: 'string' },
    episodes: { type: 'string', default: '2' },
    'max-steps': { type: 'string', default: '60' },
    delay: { type: 'string', default: '5' },
    'execute-steps': { type: 'string', default: '25' },
    steps: { type: 'string', default: '2' },
    'image-size': { type: 'string', default: '32' },
    robot: { type: 'string', default: 'lift2' },
    seed: { type: 'string', default: '100' },
  },
});

await init();
const random = !a.checkpoint;
const path = a.checkpoint ?? (await tinyLift2Checkpoint(7, 50));
const loaded = await loadPolicyService(path, { steps: Number(a.steps), seed: 0 });
const rows: string[] = [];
const out: Record<string, unknown> = {};
process.stderr.write(
  `checkpoint: ${random ? 'a randomly initialised tiny Lift-2 policy (untrained), chunk 50' : path}; conveyor-sort, ${a.episodes} episodes × ≤${a['max-steps']} ticks, delay ${a.delay} ticks\n`,
);
for (const name of ['chunk', 'ensemble', 'rtc'] as StrategyName[]) {
  const t0 = performance.now();
  const s = await runSim({
    openEpisode: serviceEpisodes(loaded.service),
    task: 'conveyor-sort',
    robot: a.robot,
    camera: 'raycast',
    imageSize: Number(a['image-size']),
    episodes: Number(a.episodes),
    seed: Number(a.seed),
    maxSteps: Number(a['max-steps']),
    strategy: controlStrategy(name, Number(a['execute-steps'])),
    lockstep: { delayTicks: Number(a.delay) },
  });
  const secs = (performance.now() - t0) / 1000;
  out[name] = { ...s, perEpisode: undefined };
  rows.push(
    `| ${name} | ${s.successes}/${s.episodes} | ${s.jerk.boundary.toFixed(4)} (${s.jerk.boundaryCount}) | ${s.jerk.elsewhere.toFixed(4)} (${s.jerk.elsewhereCount}) | ${s.chunks} | ${s.holds} | ${s.chunkLatencyMs.mean.toFixed(0)} | ${secs.toFixed(0)} |`,
  );
  process.stderr.write(`${name}: done in ${secs.toFixed(0)} s\n`);
}
loaded.dispose();
console.log(
  '| strategy | success | jerk at boundaries (n) | jerk elsewhere (n) | chunks | holds | compute ms/chunk | wall s |',
);
console.log('|---|---|---|---|---|---|---|---|');
for (const r of rows) console.log(r);
console.log(JSON.stringify(out));
shutdown();
