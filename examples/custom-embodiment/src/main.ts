// A robot vla does not know, end to end: its embodiment (limits, cameras, delta mask), its layout in
// the policy's 32-value vectors, a toy driver, and a scripted chunk source driving it through the
// safety layer — once inside the limits, once with targets far outside them.
import { SafetyLayer, toPolicyState } from '@vla/robot-core';
import { ARM4 } from './arm4Embodiment.js';
import { ARM4_DATASET_MAPPING } from './arm4Layout.js';
import { runDemo } from './runDemo.js';
import { scriptedSource } from './scriptedSource.js';

const fmt = (v: ArrayLike<number>) => Array.from(v, (x) => x.toFixed(3)).join(', ');

console.log(`robot "${ARM4.robotType}": ${ARM4.dims.length} dims at ${ARM4.controlHz} Hz`);
for (const d of ARM4.dims)
  console.log(
    `  ${d.name.padEnd(8)} [${d.lower}, ${d.upper}] ${d.unit}, ≤ ${d.maxVelocity} ${d.unit}/s, ${d.delta ? 'delta' : 'absolute'}`,
  );
console.log(`cameras: ${ARM4.cameras.map((c) => `${c.name} ${c.width}x${c.height}`).join(', ')}`);
console.log(
  `home as the policy's state (32 values): [${fmt(toPolicyState(ARM4, ARM4.home).subarray(0, 8))}, …]`,
);
console.log(`dataset mapping for vla-train: ${JSON.stringify(ARM4_DATASET_MAPPING)}`);

// What the safety layer does with single targets.
const safety = new SafetyLayer(ARM4);
safety.start(ARM4.home, 0);
safety.observe(ARM4.home, 50);
const far = safety.step([10, -10, 10, -10, 1], 50);
console.log(
  `\ntarget [10, -10, 10, -10, 1] → [${fmt(far.positions)}] (one 50 ms tick at the velocity limits)`,
);
const nan = safety.step([0, Number.NaN, 0, 0, 0.04], 100);
console.log(`target with NaN → held=${nan.held} (${nan.reason}), [${fmt(nan.positions)}]`);
const short = safety.step([0, 0, 0, 0], 150);
console.log(`target with 4 values → held=${short.held} (${short.reason})`);

for (const [label, reach, grip] of [
  ['scripted chunks, ±0.3 rad sweeps', 0.3, 1],
  ['scripted chunks, ±5 rad sweeps and gripper 3 (far outside)', 5, 3],
] as const) {
  const run = await runDemo(scriptedSource({ reach, grip }), 200);
  const lo = ARM4.dims.map((_, i) => Math.min(...run.commands.map((c) => c.positions[i])));
  const hi = ARM4.dims.map((_, i) => Math.max(...run.commands.map((c) => c.positions[i])));
  console.log(`\n${label}: ${run.executor.chunksReceived} chunks, ${run.commands.length} commands`);
  console.log(`  commanded min [${fmt(lo)}]`);
  console.log(`  commanded max [${fmt(hi)}]`);
  console.log(
    `  safety: ${run.safety.positionClamped} ticks clamped to a position limit, ${run.safety.velocityLimited} slowed to the velocity limit, ${run.executor.holds} holds`,
  );
}
