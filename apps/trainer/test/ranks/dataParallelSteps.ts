// Three training steps of the micro policy on a fixed global batch of 4 samples, as the trainer takes
// them: loss on this rank's rows (noise and times drawn as rows of the global batch), backward,
// gradients averaged over the ranks, clipped after the reduction, AdamW. Under `mpirun -np 2` each
// rank takes 2 rows and starts from its own random initialisation, which the broadcast replaces with
// rank 0's; as one plain process it takes all 4. Writes every rank's final weights to
// `$VLA_DP_OUT/weights-<rank>-of-<world>.bin` (f32, parameters in order), the starting weights to
// `init-…` and the averaged gradients of the first step to `grads-…`.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InternVLAA1Policy, tinyConfig, type PolicyBatch } from '@vla/internvla-a1';
import { Mpi, mpiLaunch } from '@vla/mpi';
import { AdamW, clipGradNorm, init, manualSeed, shutdown, tensor } from '@vla/tensor-webgpu';
import { singleProcess } from '../../src/collective.js';
import { mpiCollective } from '../../src/mpiCollective.js';
import { stepSeed } from '../../src/train.js';
import { rng } from '../dataFixtures.js';
import { MICRO_MODEL } from '../fixtures.js';

const GLOBAL = 4;
const out = process.env.VLA_DP_OUT;
if (!out) throw new Error('set VLA_DP_OUT');
await init();
const launch = mpiLaunch();
const mpi = launch && launch.size > 1 ? Mpi.init() : undefined;
const collective = mpi
  ? mpiCollective(mpi, { bucketBytes: Number(process.env.VLA_DP_BUCKET_BYTES ?? 2 ** 24) })
  : singleProcess;
const { rank, worldSize } = collective;
const B = GLOBAL / worldSize;
const config = tinyConfig({ ...MICRO_MODEL });
const { views: V, imageSize: S, textTokens: T, chunkSize: H, stateDim: D } = config;

manualSeed(11 + rank);
const policy = InternVLAA1Policy.create(config);
await collective.broadcastTensors(Object.values(policy.stateDict()), 0);
const params = policy.parameters();
const optimizer = new AdamW(params, { lr: 1e-3, betas: [0.9, 0.95], weightDecay: 1e-4 });

async function writeWeights(name: string, grads = false): Promise<void> {
  // A parameter the loss does not reach has no gradient in one process; MPI ranks reduce zeros for it.
  const read = (p: (typeof params)[number]) =>
    grads && !p.grad
      ? Promise.resolve(new Float32Array(p.size))
      : ((grads ? p.grad! : p).toArray() as Promise<Float32Array>);
  const parts = await Promise.all(params.map(read));
  const weights = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    weights.set(p, at);
    at += p.length;
  }
  writeFileSync(join(out!, `${name}-${rank}-of-${worldSize}.bin`), weights);
}
await writeWeights('init');

/** This rank's rows of step `step`'s global batch (the same numbers on every rank). */
function batchOf(step: number): PolicyBatch {
  const r = rng(1000 + step);
  const values = (rows: number, per: number, scale = 1) =>
    Float32Array.from({ length: rows * per }, () => (2 * r() - 1) * scale);
  const take = (all: Float32Array, per: number) => all.slice(rank * B * per, (rank + 1) * B * per);
  const image = () => tensor(take(values(GLOBAL, 3 * S * S), 3 * S * S), [B, 3, S, S]);
  const images = Array.from({ length: V }, () => ({ past: image(), current: image(), future: image() }));
  const tokens = Int32Array.from({ length: GLOBAL * T }, () => 9 + Math.floor(r() * 200));
  return {
    images,
    imageMasks: new Uint8Array(B * V).fill(1),
    tokens: tokens.slice(rank * B * T, (rank + 1) * B * T),
    textMask: new Uint8Array(B * T).fill(1),
    state: tensor(take(values(GLOBAL, D), D), [B, D]),
    actions: tensor(take(values(GLOBAL, H * D), H * D), [B, H, D]),
  };
}

for (let step = 1; step <= 3; step++) {
  const batch = batchOf(step);
  const losses = policy.computeLoss(batch, {
    seed: stepSeed(7, step, 0),
    batchRows: { start: rank * B, total: GLOBAL },
  });
  losses.loss.backward();
  await collective.averageGradients(params);
  // AdamW and clipping hide a scale error in the average: compare the averaged gradients too.
  if (step === 1) await writeWeights('grads', true);
  // A small bound, so that clipping acts: clipping before the reduction would give other weights.
  clipGradNorm(params, 0.05).dispose();
  optimizer.step();
  optimizer.zeroGrad();
  for (const t of [losses.loss, losses.actionLoss, losses.genLoss, batch.state, batch.actions]) t?.dispose();
  for (const v of batch.images) for (const t of [v.past, v.current, v.future]) t?.dispose();
}

await writeWeights('weights');
mpi?.finalize();
shutdown();
