// The training loop: data → batch on the GPU → loss → backward → (all-reduce) → clip → AdamW, with
// metrics, foresight samples, evaluation and atomic checkpoints, and an exact resume. Everything
// random in a step derives from (seed, step, micro-batch) and the data order from (seed, rank,
// epoch), so a run resumed from a checkpoint replays the same steps as one that never stopped.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import {
  InternVLAA1Policy,
  loadPolicyBundle,
  type InternVLAA1Config,
  type PolicyBatch,
  type PolicyProcessor,
} from '@vla/internvla-a1';
import { resolveLauncher } from '@vla/lpt';
import {
  AdamW,
  clipGradNorm,
  constantSchedule,
  engine,
  isFloat,
  manualSeed,
  mul,
  sum,
  tensor,
  tidy,
  warmupCosineSchedule,
  type Tensor,
} from '@vla/tensor-webgpu';
import { singleProcess, type TrainCollective } from './collective.js';
import { LatentCache, gatherLatents } from './data/latentCache.js';
import { toPolicyBatch } from './data/policyBatch.js';
import { shiftCurrentFrames } from './data/randomShift.js';
import { openTrainingData, type TrainingBatch, type TrainingData } from './data/trainingData.js';
import { evaluateInSim, type EvalResult } from './evaluate.js';
import { foresightPng } from './report/foresightPng.js';
import type { MetricRecord, StepTiming, TrainRecord } from './report/metricRecord.js';
import { MetricsLog } from './report/metricsLog.js';
import { writeReport } from './report/writeReport.js';
import { policyConfigOf, type TrainConfig } from './trainConfig.js';
import { writeFileAtomic } from './writeFileAtomic.js';
import {
  latestCheckpoint,
  loadOptimizerState,
  loadTrainCheckpoint,
  saveTrainCheckpoint,
  type TrainState,
} from './trainerCheckpoint.js';
import { loadTokenizerWeights } from './tokenizer/loadTokenizerWeights.js';

/** Receives progress after every step (the CLI draws a bar with it). */
export interface TrainProgress {
  /** Called once before the first step. */
  start(total: number, step: number): void;
  /** After every optimizer step. */
  update(record: TrainRecord): void;
  /** Long preparation work (stats, latent cache): `done` of `total`. */
  phase?(name: string, done: number, total: number): void;
  /** When the run ends (also after an error). */
  stop(): void;
}

/** Options of {@link train}. */
export interface TrainOptions {
  /** Run folder: checkpoints, metrics.jsonl, report.html, foresight images, the deployable policy. */
  out: string;
  /** Continue from `<out>/checkpoints/latest` (the config there is used; `steps` may be raised). */
  resume?: boolean;
  /** Progress sink (the CLI's bar); default none. */
  progress?: TrainProgress;
  /** Stops the run cleanly at the next step boundary, writing a checkpoint first. */
  signal?: AbortSignal;
  /** Messages (what is loaded, checkpoints, evaluation); default none. */
  log?: (message: string) => void;
  /**
   * The run's processes (data-parallel training): rank, world size and the collectives between them
   * (`mpiCollective`; `vla-train` sets it up under mpirun). Default: a single process, and a launcher
   * environment that says otherwise is refused.
   */
  collective?: TrainCollective;
  /**
   * Test hook: runs after the backward pass of a step, before the gradient check (a test writes a NaN
   * into a gradient here to exercise the divergence stop).
   * @internal
   */
  afterBackward?: (step: number, policy: InternVLAA1Policy) => void;
}

/** What {@link train} returns. */
export interface TrainResult {
  /** Optimizer steps completed. */
  step: number;
  /** Samples consumed on this rank. */
  samples: number;
  /** The last checkpoint folder (written by rank 0). */
  checkpoint: string;
  /** `<out>/policy.safetensors`: weights, config and processor, for `loadPolicy` / `loadPolicyBundle`. */
  policyPath: string;
  /** `<out>/report.html`. */
  reportPath: string;
  /** `done`, or `stopped` when the signal ended the run early. */
  status: 'done' | 'stopped';
}

/** A non-finite loss or gradient: the run stopped and the last good checkpoint is kept. */
export class TrainingDivergedError extends Error {
  /** Optimizer step (1-based) whose loss or gradient was not finite. */
  readonly step: number;
  /** What was not finite: `loss`, `actionLoss`, `genLoss`, `batch.<field>` or `grad:<parameter>`. */
  readonly tensor: string;
  constructor(step: number, tensor: string, detail: string) {
    super(`training diverged at step ${step}: ${tensor} ${detail}; the last good checkpoint is kept`);
    this.name = 'TrainingDivergedError';
    this.step = step;
    this.tensor = tensor;
  }
}

/** A 32-bit seed for (run seed, step, micro-batch): distinct streams, a pure function of the three. */
export function stepSeed(seed: number, step: number, micro: number): number {
  let h = Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(step + 1, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 16), 0x27d4eb2f) ^ Math.imul(micro + 1, 0x165667b1);
  return (h ^ (h >>> 15)) >>> 0;
}

const now = () => performance.now();

async function exists(path: string): Promise<boolean> {
  return fs.stat(path).then(
    () => true,
    () => false,
  );
}

/** Where a policy to fine-tune from lives: a policy file, or a run folder (its latest checkpoint). */
async function initPolicyPath(init: string): Promise<string> {
  const st = await fs.stat(init).catch(() => null);
  if (!st) throw new Error(`init: ${init} does not exist`);
  if (st.isFile()) return init;
  const latest = await latestCheckpoint(join(init, 'checkpoints'));
  if (latest) return join(latest, 'policy.safetensors');
  if (await exists(join(init, 'policy.safetensors'))) return join(init, 'policy.safetensors');
  throw new Error(`init: ${init} is a folder without checkpoints/latest or policy.safetensors`);
}

/** Names of inputs of a host batch that are not finite (checked before any upload). */
function nonFiniteSample(batch: TrainingBatch): string | null {
  for (const { sample, datasetIndex } of batch.samples) {
    for (const [field, values] of [
      ['state', sample.state],
      ['actions', sample.actions],
    ] as const) {
      const i = values.findIndex((v) => !Number.isFinite(v));
      if (i >= 0)
        return `batch.${field}: dataset ${datasetIndex}, episode ${sample.meta.episodeIndex}, frame ${sample.meta.frameIndex} holds ${values[i]} at value ${i}`;
    }
  }
  return null;
}

/** Names of trainable parameters whose gradient holds a NaN or an infinity (first few). */
async function nonFiniteGradients(policy: InternVLAA1Policy): Promise<string[]> {
  const bad: string[] = [];
  for (const [name, p] of policy.namedParameters()) {
    if (!p.grad || !isFloat(p.grad.dtype)) continue;
    const s = tidy(() => sum(p.grad!));
    const v = await s.item();
    s.dispose();
    if (!Number.isFinite(v)) bad.push(name);
    if (bad.length >= 5) break;
  }
  return bad;
}

/**
 * Trains a policy as `config` says, in the run folder `options.out`. Resolves when `config.steps`
 * steps are done (or the signal stopped it, after a checkpoint); rejects with
 * {@link TrainingDivergedError} on a non-finite loss or gradient, keeping the last good checkpoint.
 */
export async function train(configIn: TrainConfig, options: TrainOptions): Promise<TrainResult> {
  const out = resolve(options.out);
  const ckptDir = join(out, 'checkpoints');
  const log = options.log ?? (() => undefined);
  const collective = options.collective ?? singleProcess;
  const { rank, worldSize } = collective;
  if (!options.collective) {
    const launcher = resolveLauncher();
    if (launcher.worldSize > 1)
      throw new Error(
        `launched as rank ${launcher.rank} of ${launcher.worldSize} (${launcher.rankFrom}) but without collectives between the ranks: start vla-train under mpirun, or pass TrainOptions.collective`,
      );
  }
  // Rank 0 writes the run folder; the others only read a checkpoint to resume from it.
  const writer = rank === 0;
  if (writer) await fs.mkdir(out, { recursive: true });

  // 1. Policy, processor and state: resumed, fine-tuned from a checkpoint, or fresh.
  let config = configIn;
  let policy: InternVLAA1Policy;
  let processor: PolicyProcessor | undefined;
  let state: Omit<TrainState, 'files' | 'format' | 'version'>;
  let resumedFrom: string | null = null;
  const latest = await latestCheckpoint(ckptDir);
  if (options.resume) {
    if (!latest) throw new Error(`--resume: ${ckptDir} has no checkpoint to resume from`);
    const loaded = await loadTrainCheckpoint(latest);
    // The checkpoint's config is the run's; only the step budget may grow.
    config = { ...loaded.state.config, steps: Math.max(configIn.steps, loaded.state.config.steps) };
    policy = loaded.policy;
    processor = loaded.processor;
    state = { ...loaded.state, config, ...rankPosition(loaded.state, rank, worldSize, latest) };
    resumedFrom = latest;
    log(`resuming from ${latest} (step ${state.step})`);
  } else {
    if (latest)
      throw new Error(
        `${out} already holds checkpoints (${latest}); resume it (--resume) or choose another folder`,
      );
    const net: InternVLAA1Config = policyConfigOf(config);
    if (config.mode === 'finetune') {
      const path = await initPolicyPath(config.init!);
      const bundle = await loadPolicyBundle(path);
      policy = await withReconWeight(bundle.policy, config.imageReconWeight, config.seed);
      log(`fine-tuning ${path} (${policy.config.name})`);
    } else {
      manualSeed(config.seed);
      policy = InternVLAA1Policy.create(net);
      if (config.model.tokenizer) {
        await loadTokenizerWeights(policy, config.model.tokenizer);
        log(`image tokenizer from ${config.model.tokenizer}`);
      }
    }
    state = {
      step: 0,
      samples: 0,
      data: { epoch: 0, batch: 0 },
      dataOrder: '',
      seed: config.seed,
      rank,
      worldSize,
      wallMs: 0,
      config,
    };
    // Every rank starts from rank 0's weights (and tokenizer), whatever its own initialisation drew.
    await collective.broadcastTensors(Object.values(policy.stateDict()), 0);
  }
  const net = policy.config;
  const lambda = config.genLossWeight ?? net.genLossWeight;
  if (lambda !== net.genLossWeight) (net as { genLossWeight: number }).genLossWeight = lambda;
  const micro = config.batchSize / config.gradAccumulation;

  // 2. Data (the processor is built from it unless resuming) and the latent cache.
  let data: TrainingData | undefined;
  let optimizer: AdamW | undefined;
  let metrics: MetricsLog | undefined;
  const caches: LatentCache[] = [];
  try {
    options.progress?.phase?.('statistics', 0, 1);
    data = await openTrainingData({
      datasets: config.data.datasets,
      mixture: config.data.mixture,
      gamma: config.data.gamma,
      rank,
      worldSize,
      seed: config.seed,
      batchSize: micro,
      config: net,
      processor,
      normalization: config.data.normalization,
      statsRows: config.data.stats,
      samplesPerEpoch: config.data.samplesPerEpoch,
      concurrency: config.data.concurrency,
      frameCacheBytes: config.data.frameCacheMiB * 2 ** 20,
    });
    processor = data.processor;
    if (resumedFrom && state.dataOrder !== data.orderKey)
      throw new Error(
        `--resume: the data no longer matches ${resumedFrom} (datasets, their sizes or weights, rank or batch size changed), so its position would serve other samples`,
      );
    state.dataOrder = data.orderKey;
    options.progress?.phase?.('statistics', 1, 1);
    const useCache = net.generation !== null && config.data.latentCache !== false;
    if (useCache) {
      const dir =
        typeof config.data.latentCache === 'string'
          ? resolve(config.data.latentCache)
          : join(out, 'latent-cache');
      for (const d of data.datasets) {
        const cache = await LatentCache.open({
          dataset: d.dataset,
          cameras: d.builder.mapping.cameras,
          processor,
          tokenizer: policy.cosmos,
          dir,
          onProgress: (done, total) => options.progress?.phase?.(`latents ${d.id}`, done, total),
          onWarning: log,
        });
        log(
          `latent cache for ${d.id}: ${cache.built ? `built (${cache.encoderCalls} encoder calls)` : 'loaded'}`,
        );
        caches.push(cache);
      }
    }

    // 3. Optimizer and schedule (SPEC §1): constant lr for pretraining, warmup + cosine for fine-tuning.
    const o = config.optim;
    const schedule =
      config.mode === 'pretrain'
        ? constantSchedule(o.lr)
        : warmupCosineSchedule({
            peakLr: o.lr,
            decayLr: o.floorLr,
            warmupSteps: o.warmupSteps,
            decaySteps: config.steps,
          });
    optimizer = new AdamW(policy.parameters(), {
      lr: schedule,
      betas: o.betas,
      eps: o.eps,
      weightDecay: o.weightDecay,
    });
    if (resumedFrom) await loadOptimizerState(resumedFrom, optimizer);

    if (writer) {
      metrics = await MetricsLog.open(join(out, 'metrics.jsonl'), { resumeFromStep: state.step });
      await writeFileAtomic(join(out, 'train-config.json'), `${JSON.stringify(config, null, 2)}\n`);
    }
    if (resumedFrom && metrics)
      await metrics.append({
        kind: 'event',
        step: state.step,
        message: `resumed from ${relative(out, resumedFrom)}`,
      });

    // 4. The loop.
    const params = policy.parameters();
    const wall0 = now() - state.wallMs;
    const batches = data.batches(state.data);
    let lastCheckpoint = resumedFrom ?? '';
    // Known on every rank (only rank 0 writes): the step of the last checkpoint, -1 before the first.
    let checkpointStep = resumedFrom ? state.step : -1;
    let status: TrainResult['status'] = 'done';
    const recent: { t: number; samples: number }[] = [];
    options.progress?.start(config.steps, state.step);
    let stopAgreed = false;

    const checkpoint = async (): Promise<void> => {
      state.wallMs = now() - wall0;
      // Every rank's data position, so that a resume restores each rank's stream, and a digest of
      // its weights: replicas that drifted apart stop the run rather than train on silently.
      const mine = {
        data: state.data,
        samples: state.samples,
        dataOrder: state.dataOrder,
        weights: worldSize > 1 ? await weightsDigest(params) : '',
      };
      const ranks = await collective.allGather(mine);
      const drifted = ranks.findIndex((r) => r.weights !== ranks[0].weights);
      if (drifted > 0)
        throw new Error(
          `data-parallel replicas diverged at step ${state.step}: rank ${drifted}'s weights differ from rank 0's`,
        );
      checkpointStep = state.step;
      if (!writer) return;
      if (worldSize > 1)
        state.ranks = ranks.map(({ data, samples, dataOrder }) => ({ data, samples, dataOrder }));
      lastCheckpoint = await saveTrainCheckpoint({
        dir: ckptDir,
        policy,
        processor: processor!,
        optimizer: optimizer!,
        state,
        keep: config.keepCheckpoints,
      });
      await publishPolicy(out, lastCheckpoint);
      await metrics!.append({
        kind: 'event',
        step: state.step,
        message:
          `checkpoint ${relative(out, lastCheckpoint)}` +
          (worldSize > 1
            ? `; the ${worldSize} ranks' weights are identical (sha256 ${ranks[0].weights.slice(0, 16)})`
            : ''),
      });
      await writeReport(out, {
        title: `vla-train ${net.name}`,
        config,
        records: await MetricsLog.read(join(out, 'metrics.jsonl')),
      });
      log(`checkpoint ${lastCheckpoint}`);
    };

    while (state.step < config.steps) {
      // Several ranks stop together: at the step after any of them was asked to (agreed below).
      if (worldSize > 1 ? stopAgreed : options.signal?.aborted) {
        status = 'stopped';
        break;
      }
      const step = state.step + 1;
      const timing: StepTiming = { dataMs: 0, uploadMs: 0, forwardMs: 0, backwardMs: 0, optimizerMs: 0 };
      let lossSum = 0;
      let actionSum = 0;
      let genSum: number | null = null;
      let reconSum: number | null = null;
      let epoch = state.data.epoch;
      let foresightBatch: TrainingBatch | null = null;
      for (let m = 0; m < config.gradAccumulation; m++) {
        let t = now();
        const next = await batches.next();
        if (next.done) throw new Error('the data pipeline ended (it should be endless)');
        const batch = next.value;
        epoch = batch.position.epoch;
        const bad = nonFiniteSample(batch);
        if (bad)
          throw new TrainingDivergedError(step, bad.split(':')[0], bad.slice(bad.indexOf(':') + 1).trim());
        timing.dataMs += now() - t;
        t = now();
        // Every random draw of this micro-batch (dropped states, noise, times) derives from this seed.
        const seed = stepSeed(config.seed, step, m);
        const pb = tidy(() =>
          dropStates(
            uploadBatch(batch, processor!, net, caches, {
              pixels: config.data.randomShift,
              draw: (row, view) => [
                stepSeed(seed, rank * micro + row, 1 + 2 * view),
                stepSeed(seed, rank * micro + row, 2 + 2 * view),
              ],
            }),
            config.data.stateDropout,
            { seed, start: rank * micro },
          ),
        );
        await engine().sync();
        timing.uploadMs += now() - t;
        t = now();
        const losses = tidy(() =>
          policy.computeLoss(pb, {
            seed,
            // This rank's rows of the global batch: noise and times as one process drawing all of it.
            batchRows: { start: rank * micro, total: micro * worldSize },
            // As upstream: the loss covers the robot's action dims, not the zero padding up to stateDim.
            actionDim: processor!.actionDim,
            maskPaddedActions: config.maskPaddedActions,
          }),
        );
        const [loss, actionLoss, genLoss, reconLoss] = await Promise.all([
          losses.loss.item(),
          losses.actionLoss.item(),
          losses.genLoss ? losses.genLoss.item() : Promise.resolve(null),
          losses.reconLoss ? losses.reconLoss.item() : Promise.resolve(null),
        ]);
        timing.forwardMs += now() - t;
        for (const [name, v] of [
          ['loss', loss],
          ['actionLoss', actionLoss],
          ['genLoss', genLoss ?? 0],
          ['reconLoss', reconLoss ?? 0],
        ] as const)
          if (!Number.isFinite(v)) {
            disposeAll(pb, losses);
            throw new TrainingDivergedError(step, name, `is ${v}`);
          }
        t = now();
        tidy(() =>
          (config.gradAccumulation > 1
            ? mul(losses.loss, 1 / config.gradAccumulation)
            : losses.loss
          ).backward(),
        );
        await engine().sync();
        timing.backwardMs += now() - t;
        disposeAll(pb, losses);
        lossSum += loss;
        actionSum += actionLoss;
        if (genLoss !== null) genSum = (genSum ?? 0) + genLoss;
        if (reconLoss !== null) reconSum = (reconSum ?? 0) + reconLoss;
        state.data = batch.next;
        state.samples += batch.samples.length;
        if (m === 0) foresightBatch = batch;
      }
      options.afterBackward?.(step, policy);

      // Gradients: the mean over ranks, then check, clip (after the reduction) and step.
      const t = now();
      await collective.averageGradients(params);
      const normT = clipGradNorm(params, o.clipNorm ?? Number.MAX_VALUE);
      const gradNorm = await normT.item();
      normT.dispose();
      if (!Number.isFinite(gradNorm)) {
        const names = await nonFiniteGradients(policy);
        throw new TrainingDivergedError(
          step,
          `grad:${names[0] ?? '?'}`,
          `is not finite (global norm ${gradNorm}; non-finite: ${names.join(', ')})`,
        );
      }
      const lr = optimizer.lr;
      optimizer.step();
      optimizer.zeroGrad();
      await engine().sync();
      timing.optimizerMs = now() - t;
      state.step = step;

      const wallMs = now() - wall0;
      recent.push({ t: wallMs, samples: state.samples });
      if (recent.length > 20) recent.shift();
      const span = recent.length > 1 ? recent[recent.length - 1].t - recent[0].t : 0;
      const stepMs = Object.values(timing).reduce((a, b) => a + b, 0);
      // Throughput of the whole run: the ranks step together on batches of the same size.
      const samplesPerSec =
        worldSize *
        (span > 0
          ? ((recent[recent.length - 1].samples - recent[0].samples) * 1000) / span
          : (config.batchSize * 1000) / Math.max(stepMs, 1e-3));
      let losses = {
        loss: lossSum / config.gradAccumulation,
        actionLoss: actionSum / config.gradAccumulation,
        genLoss: genSum === null ? null : genSum / config.gradAccumulation,
        reconLoss: reconSum === null ? null : reconSum / config.gradAccumulation,
      };
      if (worldSize > 1) {
        // The run's loss is the mean over ranks (equal batches), as one process with the whole batch
        // would log it; the same exchange carries every rank's stop request.
        const all = await collective.allGather({ ...losses, stop: options.signal?.aborted ?? false });
        const mean = (pick: (x: (typeof all)[number]) => number) =>
          all.reduce((a, x) => a + pick(x), 0) / worldSize;
        losses = {
          loss: mean((x) => x.loss),
          actionLoss: mean((x) => x.actionLoss),
          genLoss: losses.genLoss === null ? null : mean((x) => x.genLoss!),
          reconLoss: losses.reconLoss === null ? null : mean((x) => x.reconLoss!),
        };
        stopAgreed = all.some((x) => x.stop);
      }
      const { reconLoss, ...paperLosses } = losses;
      const record: TrainRecord = {
        kind: 'train',
        step,
        epoch,
        samples: state.samples * worldSize,
        ...paperLosses,
        ...(reconLoss === null ? {} : { reconLoss }),
        lr,
        gradNorm,
        samplesPerSec,
        timing,
        wallMs,
      };
      await metrics?.append(record);
      options.progress?.update(record);
      if (!writer) {
        if (step % config.checkpointEvery === 0 || step === config.steps) await checkpoint();
        continue;
      }

      if (
        config.foresightEvery > 0 &&
        net.generation &&
        foresightBatch &&
        (step % config.foresightEvery === 0 || step === config.steps)
      )
        await metrics!.append(await foresight(out, step, policy, processor, net, foresightBatch));
      if (config.eval && config.eval.every > 0 && (step % config.eval.every === 0 || step === config.steps)) {
        const results: EvalResult[] = await evaluateInSim(policy, processor, config.eval, (m) => log(m));
        for (const r of results) await metrics!.append({ kind: 'eval', step, ...r });
      }
      if (step % config.checkpointEvery === 0 || step === config.steps) await checkpoint();
    }
    if (checkpointStep !== state.step) await checkpoint();
    await metrics?.close();
    return {
      step: state.step,
      samples: state.samples,
      checkpoint: lastCheckpoint,
      policyPath: join(out, 'policy.safetensors'),
      reportPath: join(out, 'report.html'),
      status,
    };
  } finally {
    options.progress?.stop();
    await metrics?.close();
    optimizer?.dispose();
    await data?.close();
    policy.dispose();
  }
}

/** SHA-256 of the parameters' values, in order. */
async function weightsDigest(params: readonly Tensor[]): Promise<string> {
  const hash = createHash('sha256');
  for (const p of params) {
    const v = await p.toArray();
    hash.update(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
  }
  return hash.digest('hex');
}

/** One rank's place in its data stream, as a checkpoint keeps it for every rank. */
type RankPosition = Pick<TrainState, 'data' | 'samples' | 'dataOrder'>;

/** The data position of `rank` in a checkpoint written by a run of `worldSize` ranks. */
function rankPosition(state: TrainState, rank: number, worldSize: number, path: string): RankPosition {
  if (state.worldSize !== worldSize)
    throw new Error(
      `--resume: ${path} was written by a run of ${state.worldSize} rank(s); resume it with the same number, not ${worldSize}`,
    );
  if (worldSize === 1) return { data: state.data, samples: state.samples, dataOrder: state.dataOrder };
  const mine = state.ranks?.[rank];
  if (!mine) throw new Error(`--resume: ${path} holds no data position for rank ${rank}`);
  return mine;
}

function checkpointSuffix(step: number): string {
  return `step-${String(step).padStart(8, '0')}`;
}

/** A batch on the GPU, with its cached latents when the run caches them. */
function uploadBatch(
  batch: TrainingBatch,
  processor: PolicyProcessor,
  net: InternVLAA1Config,
  caches: readonly LatentCache[],
  shift?: { pixels: number; draw: (row: number, view: number) => [number, number] },
): PolicyBatch {
  const samples = shift ? shiftCurrentFrames(batch.samples, shift.pixels, shift.draw) : batch.samples;
  const latents =
    caches.length > 0
      ? gatherLatents(
          batch.samples.map((s) => ({ cache: caches[s.datasetIndex], sample: s.sample })),
          net,
        )
      : undefined;
  return toPolicyBatch(samples, processor, net, latents);
}

/**
 * The batch with the state of each row replaced by zeros (the normalised mean) with probability
 * `p`. Row r of the global batch draws from (seed, r), so ranks that split a batch drop the rows one
 * process would.
 */
export function dropStates(pb: PolicyBatch, p: number, draw: { seed: number; start: number }): PolicyBatch {
  if (p <= 0) return pb;
  const B = pb.state.shape[0];
  const keep = new Float32Array(B);
  for (let b = 0; b < B; b++) keep[b] = stepSeed(draw.seed, draw.start + b, 0) / 2 ** 32 < p ? 0 : 1;
  return { ...pb, state: mul(pb.state, tensor(keep, [B, 1])) };
}

/**
 * The fine-tuned policy with `imageReconWeight` μ set: `policy` itself when μ is unset or already
 * its own; otherwise the same weights in a policy built with μ, whose reconstruction head is new
 * (drawn from `seed`) or, for μ = 0, dropped.
 */
async function withReconWeight(
  policy: InternVLAA1Policy,
  weight: number | undefined,
  seed: number,
): Promise<InternVLAA1Policy> {
  if (weight === undefined || weight === (policy.config.imageReconWeight ?? 0)) return policy;
  manualSeed(seed);
  const rebuilt = InternVLAA1Policy.create({ ...policy.config, imageReconWeight: weight });
  const own = policy.stateDict();
  const target = rebuilt.stateDict();
  const state = Object.fromEntries(Object.entries(own).filter(([k]) => k in target));
  await rebuilt.loadStateDict(state, { strict: false });
  const fresh = Object.keys(target).filter((k) => !(k in own));
  if (fresh.some((k) => !k.startsWith('und_recon_proj.')))
    throw new Error(`fine-tune: the checkpoint lacks ${fresh.join(', ')}`);
  policy.dispose();
  return rebuilt;
}

/** Frees a batch's tensors and a step's losses. */
function disposeAll(
  pb: PolicyBatch,
  losses: { loss: Tensor; actionLoss: Tensor; genLoss: Tensor | null; reconLoss: Tensor | null },
): void {
  const seen = new Set<Tensor>();
  const add = (t: Tensor | null | undefined) => t && !t.isDisposed && seen.add(t);
  for (const v of pb.images) [v.past, v.current, v.future].forEach(add);
  [
    pb.state,
    pb.actions,
    pb.latents?.inputs,
    pb.latents?.targets,
    pb.visionPatches,
    losses.loss,
    losses.actionLoss,
    losses.genLoss,
    losses.reconLoss,
  ].forEach(add);
  for (const t of seen) t.dispose();
}

/**
 * Visual foresight of the batch's first sample: the predicted t+15 frame decoded through the
 * tokenizer next to the real one, one row per view, as `foresight/step-N.png`.
 */
async function foresight(
  out: string,
  step: number,
  policy: InternVLAA1Policy,
  processor: PolicyProcessor,
  net: InternVLAA1Config,
  batch: TrainingBatch,
): Promise<MetricRecord> {
  const one: TrainingBatch = { ...batch, samples: batch.samples.slice(0, 1) };
  const { predicted, real } = await (async () => {
    const tensors = tidy(() => {
      // Without cached latents the batch carries the real t+15 images (the picture's right half).
      const pb = uploadBatch(one, processor, net, []);
      const r = policy.sampleActions(pb, { foresight: true, seed: step });
      const realImages = pb.images.map((v) => v.future!);
      return { images: r.images!, real: realImages, rest: [r.actions, r.latent!] };
    });
    const predicted = (await tensors.images.toArray()) as Float32Array;
    const parts = await Promise.all(tensors.real.map((t) => t.toArray() as Promise<Float32Array>));
    const real = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      real.set(p, at);
      at += p.length;
    }
    for (const t of [tensors.images, ...tensors.real, ...tensors.rest]) t.dispose();
    return { predicted, real };
  })();
  const file = join('foresight', `${checkpointSuffix(step)}.png`);
  await fs.mkdir(join(out, 'foresight'), { recursive: true });
  await writeFileAtomic(join(out, file), foresightPng(predicted, real, net.views, net.imageSize));
  return { kind: 'foresight', step, file, views: net.views };
}

/** Points `<out>/policy.safetensors` at a checkpoint's policy (a hard link, replaced atomically). */
async function publishPolicy(out: string, checkpoint: string): Promise<void> {
  const target = join(out, 'policy.safetensors');
  const tmp = `${target}.${process.pid}.tmp`;
  await fs.rm(tmp, { force: true });
  try {
    await fs.link(join(checkpoint, 'policy.safetensors'), tmp);
  } catch {
    await fs.copyFile(join(checkpoint, 'policy.safetensors'), tmp);
  }
  await fs.rename(tmp, target);
}
