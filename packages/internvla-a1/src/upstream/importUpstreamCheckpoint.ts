// Converts a released InternVLA-A1 checkpoint (upstream safetensors, sharded or not, BF16 or F32,
// with config.json and stats.json) into one policy checkpoint that loadPolicyBundle reads. Everything
// that needs no tensor data is checked first — shards, names, shapes, dtypes, the configuration — so
// bad input fails in seconds; then tensors are streamed one at a time into the output file.
import { meta, type Module, type SafetensorsDType, type Tensor } from '@vla/tensor-webgpu';
import { CosmosImageTokenizer } from '@vla/vae';
import type { InternVLAA1Config } from '../config.js';
import { InternVLAA1Policy } from '../internvlaA1Policy.js';
import type { PolicyProcessor } from '../policyProcessor.js';
import {
  writeCheckpointStream,
  type CheckpointFloatDtype,
  type StreamedTensor,
  type StreamProgress,
} from './checkpointStream.js';
import { inferUpstreamConfig } from './upstreamConfig.js';
import { openShards, type OpenedShards } from './upstreamFiles.js';
import { listShort, UpstreamImportError } from './upstreamImportError.js';
import { classifyUpstreamKey, EMBED_TOKENS, UPSTREAM_LM_HEAD, vlaToUpstreamName } from './upstreamNames.js';
import { processorFromUpstreamStats, type UpstreamProcessorLayout } from './upstreamStats.js';

/** Float dtypes an upstream tensor may have. */
const FLOAT_DTYPES: readonly SafetensorsDType[] = ['F32', 'BF16', 'F16', 'F64'];

/** Options of {@link importUpstreamCheckpoint}. */
export interface ImportUpstreamOptions {
  /** Path of the policy checkpoint to write (a `.safetensors` file). */
  output: string;
  /** Storage dtype of the output (default F32; BF16 keeps BF16 sources bit for bit). */
  dtype?: CheckpointFloatDtype;
  /**
   * Parameter-name prefixes of ours (e.g. `cosmos` for a tokenizer that comes separately) whose
   * tensors may be absent from the source; they keep their initialisation and are reported.
   */
  allowMissing?: readonly string[];
  /** Base configuration for what neither tensors nor config.json fix (default `a1-3b`). */
  base?: InternVLAA1Config;
  /** Name of the output's configuration (default: the base's). */
  name?: string;
  /** Upstream config.json (default: beside the weights). */
  configPath?: string;
  /** Upstream stats.json (default: beside the weights, used when present). */
  statsPath?: string;
  /** Robot layout for the processor; without it no processor is written. */
  processor?: UpstreamProcessorLayout;
  /** Called after each tensor is written. */
  onProgress?: (p: StreamProgress) => void;
}

/** One imported tensor. */
export interface MappedTensor {
  upstream: string;
  name: string;
  shape: number[];
  /** Its dtype in the source file. */
  dtype: SafetensorsDType;
}

/** What an import did. */
export interface UpstreamImportReport {
  /** The configuration written with the weights. */
  config: InternVLAA1Config;
  /** Shards read. */
  files: string[];
  /** Tensors imported, in output order. */
  mapped: MappedTensor[];
  /** Upstream tensors deliberately not imported, with the reason. */
  skipped: { upstream: string; reason: string }[];
  /** Our parameters absent from the source that kept their initialisation (see `allowMissing`). */
  initialised: string[];
  /** The processor written, or null (no layout given, or no stats file). */
  processor: PolicyProcessor | null;
  /** The stats file used, or null. */
  statsFile: string | null;
  /** Tensor bytes written. */
  bytes: number;
}

/** What the checks before writing decided: the config, the plan and what fills the gaps. */
interface ImportPlan {
  config: InternVLAA1Config;
  mapped: MappedTensor[];
  skipped: UpstreamImportReport['skipped'];
  missing: string[];
  order: string[];
}

async function readJson(path: string, what: string): Promise<unknown> {
  const fs = await import('node:fs/promises');
  let text: string;
  try {
    text = await fs.readFile(path, 'utf8');
  } catch {
    throw new UpstreamImportError(path, `${what} is missing`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new UpstreamImportError(path, `is not valid JSON (${(e as Error).message})`);
  }
}

/** Classifies every source tensor and checks it against the policy the inferred config builds. */
function plan(
  shards: OpenedShards,
  configJson: unknown,
  configPath: string,
  options: ImportUpstreamOptions,
): ImportPlan {
  const src = shards.files.length === 1 ? shards.files[0] : shards.dir;
  const bad = [...shards.tensors.values()].filter(({ entry }) => !FLOAT_DTYPES.includes(entry.dtype));
  if (bad.length)
    throw new UpstreamImportError(
      bad[0].file.source,
      `tensor ${bad[0].entry.name} is ${bad[0].entry.dtype}; weights must be F32, BF16 or F16`,
    );
  const mappedBy = new Map<string, MappedTensor>();
  const skipped: ImportPlan['skipped'] = [];
  const unknown: string[] = [];
  for (const [key, { entry }] of shards.tensors) {
    const c = classifyUpstreamKey(key);
    if (c.kind === 'unknown') unknown.push(key);
    else if (c.kind === 'skipped') skipped.push({ upstream: key, reason: c.reason });
    else {
      const prior = mappedBy.get(c.name);
      if (prior)
        throw new UpstreamImportError(src, `tensors ${prior.upstream} and ${key} both map to ${c.name}`);
      mappedBy.set(c.name, { upstream: key, name: c.name, shape: [...entry.shape], dtype: entry.dtype });
    }
  }
  // A file saved with tied weights may keep only the head; it holds the embedding's values.
  const head = shards.tensors.get(UPSTREAM_LM_HEAD);
  if (!mappedBy.has(EMBED_TOKENS) && head) {
    mappedBy.set(EMBED_TOKENS, {
      upstream: UPSTREAM_LM_HEAD,
      name: EMBED_TOKENS,
      shape: [...head.entry.shape],
      dtype: head.entry.dtype,
    });
    const i = skipped.findIndex((s) => s.upstream === UPSTREAM_LM_HEAD);
    skipped.splice(i, 1);
  }

  const shapes = new Map([...shards.tensors].map(([k, { entry }]) => [k, entry.shape]));
  const config = inferUpstreamConfig(configJson, shapes, {
    base: options.base,
    name: options.name,
    configSource: configPath,
    weightsSource: src,
  });
  let specs: [string, { shape: readonly number[] }][];
  try {
    specs = meta(() => InternVLAA1Policy.create(config)).namedSpecs();
  } catch (e) {
    throw new UpstreamImportError(
      src,
      `the inferred configuration cannot be built (${(e as Error).message})`,
    );
  }
  const specByName = new Map(specs);
  const allowed = (name: string) =>
    (options.allowMissing ?? []).some((p) => name === p || name.startsWith(p.endsWith('.') ? p : `${p}.`));
  const missing = specs.map(([n]) => n).filter((n) => !mappedBy.has(n));
  const refused = missing.filter((n) => !allowed(n));
  // Renamed keys that still match a rule land here: a name no parameter of the policy has.
  for (const m of mappedBy.values()) if (!specByName.has(m.name)) unknown.push(`${m.upstream} (→ ${m.name})`);
  const wrong = [...mappedBy.values()].filter(
    (m) => specByName.has(m.name) && specByName.get(m.name)!.shape.join() !== m.shape.join(),
  );
  // One message with every kind of problem: a renamed key shows up as one unknown and one missing.
  const problems = [
    unknown.length ? `unknown upstream tensors: ${listShort(unknown)}` : '',
    refused.length
      ? `missing tensors (ours, upstream name in brackets): ${listShort(refused.map((n) => `${n} [${vlaToUpstreamNameOr(n)}]`))}` +
        (refused.every((n) => n.startsWith('cosmos.'))
          ? ' (pass allowMissing ["cosmos"] to keep the tokenizer initialised and load it separately)'
          : '')
      : '',
    wrong.length
      ? `shape mismatch: ${listShort(
          wrong.map(
            (m) =>
              `${m.upstream} is [${m.shape.join(', ')}] but ${m.name} is [${specByName.get(m.name)!.shape.join(', ')}]`,
          ),
          4,
        )}`
      : '',
  ].filter(Boolean);
  if (problems.length) throw new UpstreamImportError(src, problems.join('; '));
  const order = specs.map(([n]) => n);
  return {
    config,
    mapped: order.filter((n) => mappedBy.has(n)).map((n) => mappedBy.get(n)!),
    skipped,
    missing,
    order,
  };
}

function vlaToUpstreamNameOr(name: string): string {
  return vlaToUpstreamName(name) ?? 'none';
}

/** Initial values of the missing parameters: the tokenizer alone when that suffices, else the policy. */
function initialModule(
  config: InternVLAA1Config,
  missing: readonly string[],
): { values: Map<string, Tensor>; module: Module } {
  if (missing.every((n) => n.startsWith('cosmos.'))) {
    const module = new CosmosImageTokenizer(config.vae);
    const values = new Map(Object.entries(module.stateDict()).map(([k, t]) => [`cosmos.${k}`, t]));
    return { values, module };
  }
  const module = InternVLAA1Policy.create(config);
  return { values: new Map(Object.entries(module.stateDict())), module };
}

/**
 * Imports an upstream InternVLA-A1 checkpoint (`source`: a directory, an index json or a safetensors
 * file) into a policy checkpoint at `options.output`. Checked before any data is read: every shard
 * (present, complete, agreeing with the index), every key (mapped, skipped with a reason, or an
 * error), the configuration (config.json against the shapes), every shape against the policy, the
 * processor's statistics. Then each tensor is read, converted and written in turn (memory: one
 * tensor). Throws {@link UpstreamImportError} naming the file and the tensor or key.
 */
export async function importUpstreamCheckpoint(
  source: string,
  options: ImportUpstreamOptions,
): Promise<UpstreamImportReport> {
  const { join } = await import('node:path');
  const fs = await import('node:fs/promises');
  const shards = await openShards(source);
  try {
    const configPath = options.configPath ?? join(shards.dir, 'config.json');
    const p = plan(shards, await readJson(configPath, 'config.json'), configPath, options);

    let processor: PolicyProcessor | null = null;
    const statsGuess = options.statsPath ?? join(shards.dir, 'stats.json');
    const statsFile =
      options.statsPath ||
      (await fs.stat(statsGuess).then(
        () => true,
        () => false,
      ))
        ? statsGuess
        : null;
    if (options.processor) {
      if (!statsFile)
        throw new UpstreamImportError(statsGuess, 'stats.json is missing (a processor needs it)');
      processor = processorFromUpstreamStats(
        await readJson(statsFile, 'stats.json'),
        options.processor,
        p.config,
        statsFile,
      );
    }

    const init = p.missing.length ? initialModule(p.config, p.missing) : null;
    try {
      const byName = new Map(p.mapped.map((m) => [m.name, m]));
      const tensors: StreamedTensor[] = p.order.map((name) => {
        const m = byName.get(name);
        if (!m) {
          const t = init!.values.get(name);
          if (!t) throw new UpstreamImportError(source, `no initial value for ${name}`);
          return {
            name,
            shape: t.shape,
            read: async () => ({ dtype: 'F32', data: (await t.toArray()) as Float32Array }),
          };
        }
        const { file, entry } = shards.tensors.get(m.upstream)!;
        return {
          name,
          shape: m.shape,
          read: async () => {
            try {
              return { dtype: entry.dtype, data: await entry.data() };
            } catch (e) {
              throw new UpstreamImportError(
                file.source,
                `tensor ${m.upstream} cannot be read (${(e as Error).message})`,
              );
            }
          },
        };
      });
      let bytes = 0;
      await writeCheckpointStream(options.output, p.config, tensors, {
        dtype: options.dtype,
        processor,
        onProgress: (pr) => {
          bytes = pr.bytes;
          options.onProgress?.(pr);
        },
      });
      return {
        config: p.config,
        files: shards.files,
        mapped: p.mapped,
        skipped: p.skipped,
        initialised: p.missing,
        processor,
        statsFile,
        bytes,
      };
    } finally {
      init?.module.dispose();
    }
  } finally {
    await shards.close();
  }
}
