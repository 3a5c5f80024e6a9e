// A training checkpoint is a folder: the policy (weights, config and processor, loadable by
// `loadPolicy` alone), the optimizer's state, and `state.json` (step, data position, seeds, the run's
// config, and the size + SHA-256 of each file). It is written under a temporary name and renamed into
// place, then `latest` (one line, the folder's name) is replaced atomically: a SIGKILL at any moment
// leaves `latest` naming a complete checkpoint. Loading checks every file against `state.json` before
// anything is allocated, so a truncated or altered checkpoint is refused by name.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import * as fs from 'node:fs/promises';
import { join } from 'node:path';
import {
  CheckpointError,
  loadPolicyBundle,
  savePolicy,
  type InternVLAA1Policy,
  type PolicyProcessor,
} from '@vla/internvla-a1';
import { loadSafetensors, readSafetensors, saveSafetensors, type Optimizer } from '@vla/tensor-webgpu';
import type { DataPosition } from './data/trainingData.js';
import type { TrainConfig } from './trainConfig.js';
import { writeFileAtomic } from './writeFileAtomic.js';

/** `state.json`'s format tag. */
export const TRAIN_STATE_FORMAT = 'vla-train/state';
/** `state.json`'s version. */
export const TRAIN_STATE_VERSION = 1;
/** File names inside a checkpoint folder. */
export const CHECKPOINT_FILES = {
  policy: 'policy.safetensors',
  optimizer: 'optimizer.safetensors',
  state: 'state.json',
} as const;

/** Size and hash of a checkpoint file, as `state.json` records them. */
export interface FileDigest {
  /** Bytes. */
  bytes: number;
  /** Lower-case hex SHA-256. */
  sha256: string;
}

/** Everything besides weights and optimizer moments that an exact resume needs. */
export interface TrainState {
  /** {@link TRAIN_STATE_FORMAT}. */
  format: string;
  /** {@link TRAIN_STATE_VERSION}. */
  version: number;
  /** Optimizer steps completed. */
  step: number;
  /** Samples consumed on this rank. */
  samples: number;
  /** The next batch the data pipeline serves. */
  data: DataPosition;
  /**
   * What fixes the order of the draws (seed, rank, world, batch size, epoch length, the rank's datasets
   * and weights): the position means the same samples only under the same key.
   */
  dataOrder: string;
  /**
   * The run's seed. Every random draw of a step (flow-matching noise and times) is derived from
   * (seed, step, micro-batch) and the data order from (seed, rank, epoch), so these are the whole
   * RNG state; weight initialisation happens once, before step 0.
   */
  seed: number;
  /** Rank and world size the checkpoint was written by. */
  rank: number;
  /** World size. */
  worldSize: number;
  /** Milliseconds of training before this checkpoint (for the report's wall-clock axis). */
  wallMs: number;
  /**
   * Data-parallel runs: every rank's data position, samples and data-order key, by rank (the fields
   * above are rank 0's), so that a resume restores each rank's stream.
   */
  ranks?: Pick<TrainState, 'data' | 'samples' | 'dataOrder'>[];
  /** The run's configuration. */
  config: TrainConfig;
  /** Digest of every other file of the folder. */
  files: { policy: FileDigest; optimizer: FileDigest };
}

/** A checkpoint that cannot be used; the message names the folder and the file. */
export class TrainCheckpointError extends Error {
  /** The checkpoint folder (or run folder). */
  readonly path: string;
  constructor(path: string, problem: string, options?: { cause?: unknown }) {
    super(`checkpoint ${path}: ${problem}`, options);
    this.name = 'TrainCheckpointError';
    this.path = path;
  }
}

/** Name of the folder of step `step`. */
export function checkpointName(step: number): string {
  return `step-${String(step).padStart(8, '0')}`;
}

async function digest(path: string): Promise<FileDigest> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    bytes += chunk.length;
  }
  return { bytes, sha256: hash.digest('hex') };
}

async function fsyncPath(path: string): Promise<void> {
  const h = await fs.open(path, 'r');
  try {
    await h.sync();
  } finally {
    await h.close();
  }
}

/** What {@link saveTrainCheckpoint} writes. */
export interface SaveTrainCheckpointOptions {
  /** Folder holding the checkpoint folders and `latest`. */
  dir: string;
  policy: InternVLAA1Policy;
  processor: PolicyProcessor;
  optimizer: Optimizer;
  /** The state (its `files` are filled in here). */
  state: Omit<TrainState, 'files' | 'format' | 'version'>;
  /** Checkpoints to keep (the newest; default 2). */
  keep?: number;
}

/**
 * Writes a checkpoint folder atomically, points `latest` at it and prunes old ones. Returns the
 * folder's path.
 */
export async function saveTrainCheckpoint(o: SaveTrainCheckpointOptions): Promise<string> {
  await fs.mkdir(o.dir, { recursive: true });
  const name = checkpointName(o.state.step);
  const tmp = join(o.dir, `.${name}.${process.pid}.partial`);
  await fs.rm(tmp, { recursive: true, force: true });
  await fs.mkdir(tmp);
  const policyPath = join(tmp, CHECKPOINT_FILES.policy);
  const optimizerPath = join(tmp, CHECKPOINT_FILES.optimizer);
  // f32 weights: a resumed run continues from exactly the values in memory.
  await savePolicy(policyPath, o.policy, { processor: o.processor, dtype: 'F32' });
  const sd = o.optimizer.stateDict();
  await saveSafetensors(optimizerPath, sd.tensors, sd.metadata, { floatDtype: 'F32' });
  const state: TrainState = {
    format: TRAIN_STATE_FORMAT,
    version: TRAIN_STATE_VERSION,
    ...o.state,
    files: { policy: await digest(policyPath), optimizer: await digest(optimizerPath) },
  };
  await writeFileAtomic(join(tmp, CHECKPOINT_FILES.state), `${JSON.stringify(state, null, 2)}\n`);
  await fsyncPath(tmp);
  const final = join(o.dir, name);
  // Re-saving a step (after a resume) replaces the old folder; `latest` never names it meanwhile
  // unless it already did, and then the old copy stays whole until the rename.
  const old = join(o.dir, `.${name}.${process.pid}.old`);
  const exists = await fs.stat(final).then(
    () => true,
    () => false,
  );
  if (exists) await fs.rename(final, old);
  await fs.rename(tmp, final);
  await fsyncPath(o.dir);
  await writeFileAtomic(join(o.dir, 'latest'), `${name}\n`);
  await fsyncPath(o.dir);
  if (exists) await fs.rm(old, { recursive: true, force: true });
  await pruneCheckpoints(o.dir, o.keep ?? 2, name);
  return final;
}

/** Removes partial folders and all but the newest `keep` complete checkpoints (never `current`). */
async function pruneCheckpoints(dir: string, keep: number, current: string): Promise<void> {
  const names = await fs.readdir(dir);
  const complete = names.filter((n) => /^step-\d{8}$/.test(n)).sort();
  const drop = complete.slice(0, Math.max(0, complete.length - keep)).filter((n) => n !== current);
  const partial = names.filter(
    (n) => n.startsWith('.') && (n.endsWith('.partial') || n.endsWith('.old') || n.endsWith('.tmp')),
  );
  for (const n of [...drop, ...partial]) await fs.rm(join(dir, n), { recursive: true, force: true });
}

/** The folder `latest` names in `dir`, or null when there is no checkpoint yet. */
export async function latestCheckpoint(dir: string): Promise<string | null> {
  let text: string;
  try {
    text = await fs.readFile(join(dir, 'latest'), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new TrainCheckpointError(dir, `cannot read latest: ${(e as Error).message}`);
  }
  const name = text.trim();
  if (!/^step-\d{8}$/.test(name))
    throw new TrainCheckpointError(
      dir,
      `latest holds ${JSON.stringify(text.slice(0, 40))}, not a checkpoint name`,
    );
  return join(dir, name);
}

function isDigest(v: unknown): v is FileDigest {
  const d = v as FileDigest;
  return (
    typeof d === 'object' &&
    d !== null &&
    Number.isSafeInteger(d.bytes) &&
    d.bytes >= 0 &&
    typeof d.sha256 === 'string' &&
    /^[0-9a-f]{64}$/.test(d.sha256)
  );
}

/**
 * Reads and checks `state.json` and the digests of the other files of a checkpoint folder. Throws
 * {@link TrainCheckpointError} naming the file for anything missing, truncated, altered or malformed.
 */
export async function readTrainState(path: string): Promise<TrainState> {
  const statePath = join(path, CHECKPOINT_FILES.state);
  let text: string;
  try {
    text = await fs.readFile(statePath, 'utf8');
  } catch (e) {
    throw new TrainCheckpointError(
      path,
      `${CHECKPOINT_FILES.state} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
    );
  }
  let state: TrainState;
  try {
    state = JSON.parse(text) as TrainState;
  } catch (e) {
    throw new TrainCheckpointError(
      path,
      `${CHECKPOINT_FILES.state} is not valid JSON (${(e as Error).message})`,
    );
  }
  const bad = (problem: string) => new TrainCheckpointError(path, `${CHECKPOINT_FILES.state} ${problem}`);
  if (typeof state !== 'object' || state === null) throw bad('is not an object');
  if (state.format !== TRAIN_STATE_FORMAT)
    throw bad(`has format ${JSON.stringify(state.format)}, expected "${TRAIN_STATE_FORMAT}"`);
  if (state.version !== TRAIN_STATE_VERSION)
    throw bad(`has version ${JSON.stringify(state.version)}, this trainer reads ${TRAIN_STATE_VERSION}`);
  for (const k of ['step', 'samples', 'seed', 'rank', 'worldSize', 'wallMs'] as const)
    if (!Number.isSafeInteger(Math.round(state[k])) || state[k] < 0)
      throw bad(`field ${k} is ${JSON.stringify(state[k])}, not a non-negative number`);
  const isPosition = (d: unknown): boolean => {
    const p = d as DataPosition | null;
    return (
      typeof p === 'object' &&
      p !== null &&
      Number.isSafeInteger(p.epoch) &&
      Number.isSafeInteger(p.batch) &&
      p.epoch >= 0 &&
      p.batch >= 0
    );
  };
  if (!isPosition(state.data)) throw bad(`field data is ${JSON.stringify(state.data)}, not { epoch, batch }`);
  if (typeof state.dataOrder !== 'string') throw bad('has no dataOrder');
  if (state.ranks !== undefined) {
    const r = state.ranks;
    if (!Array.isArray(r) || r.length !== state.worldSize)
      throw bad(`field ranks must list the ${state.worldSize} ranks' positions`);
    r.forEach((p, i) => {
      if (!isPosition(p?.data) || typeof p.dataOrder !== 'string' || !Number.isSafeInteger(p.samples))
        throw bad(`field ranks[${i}] is not { data: { epoch, batch }, samples, dataOrder }`);
    });
  }
  if (typeof state.config !== 'object' || state.config === null) throw bad('has no config');
  for (const key of ['policy', 'optimizer'] as const) {
    const want = state.files?.[key];
    if (!isDigest(want)) throw bad(`field files.${key} is not { bytes, sha256 }`);
    const file = join(path, CHECKPOINT_FILES[key]);
    let got: FileDigest;
    try {
      got = await digest(file);
    } catch (e) {
      throw new TrainCheckpointError(
        path,
        `${CHECKPOINT_FILES[key]} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
      );
    }
    if (got.bytes !== want.bytes)
      throw new TrainCheckpointError(
        path,
        `${CHECKPOINT_FILES[key]} has ${got.bytes} bytes, ${CHECKPOINT_FILES.state} says ${want.bytes} (truncated or replaced)`,
      );
    if (got.sha256 !== want.sha256)
      throw new TrainCheckpointError(
        path,
        `${CHECKPOINT_FILES[key]} is corrupted (SHA-256 ${got.sha256.slice(0, 12)}…, ${CHECKPOINT_FILES.state} says ${want.sha256.slice(0, 12)}…)`,
      );
  }
  return state;
}

/** A checked checkpoint, loaded: the policy with its processor, and the state. */
export interface LoadedTrainCheckpoint {
  path: string;
  state: TrainState;
  policy: InternVLAA1Policy;
  processor: PolicyProcessor;
}

/**
 * Loads a checkpoint folder (after {@link readTrainState}'s checks): the policy and its processor.
 * The optimizer is restored separately ({@link loadOptimizerState}) once it exists.
 */
export async function loadTrainCheckpoint(path: string): Promise<LoadedTrainCheckpoint> {
  const state = await readTrainState(path);
  let bundle;
  try {
    bundle = await loadPolicyBundle(join(path, CHECKPOINT_FILES.policy));
  } catch (e) {
    if (e instanceof CheckpointError) throw new TrainCheckpointError(path, e.message, { cause: e });
    throw e;
  }
  if (!bundle.processor) {
    bundle.policy.dispose();
    throw new TrainCheckpointError(path, `${CHECKPOINT_FILES.policy} has no processor`);
  }
  return { path, state, policy: bundle.policy, processor: bundle.processor };
}

/** Restores the optimizer's moments and step count from a checked checkpoint folder. */
export async function loadOptimizerState(path: string, optimizer: Optimizer): Promise<void> {
  const file = join(path, CHECKPOINT_FILES.optimizer);
  const header = await readSafetensors(file);
  const metadata = { ...header.metadata };
  await header.close();
  const tensors = await loadSafetensors(file);
  try {
    optimizer.loadStateDict({ tensors, metadata });
  } catch (e) {
    throw new TrainCheckpointError(path, `${CHECKPOINT_FILES.optimizer}: ${(e as Error).message}`, {
      cause: e,
    });
  } finally {
    for (const t of tensors.values()) t.dispose();
  }
}
