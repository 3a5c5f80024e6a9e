#!/usr/bin/env node
// vla-convert: one command from released upstream weights (or Hugging Face Qwen3-VL weights) to a vla
// policy checkpoint. Everything checkable from headers is checked before data is read; a progress bar
// follows the streaming write; a summary table says what was mapped, skipped and initialised.
// Exit codes: 0 done, 1 unexpected error, 2 bad input (the message names the file and tensor or key).
import { readFile } from 'node:fs/promises';
import { Presets, SingleBar } from 'cli-progress';
import { Command, InvalidArgumentError, Option } from 'commander';
import {
  importUpstreamCheckpoint,
  InternVLAA1Policy,
  loadQwen3VLWeights,
  policyConfig,
  policyConfigNames,
  PolicyConfigError,
  savePolicy,
  UpstreamImportError,
  validatePolicyConfig,
  type InternVLAA1Config,
  type StreamProgress,
} from '@vla/internvla-a1/node';
import { init, shutdown } from '@vla/tensor-webgpu';
import { layoutFromStats } from './statsLayout.js';
import { importSummary } from './summary.js';

/** Bad input: printed as it is, exit code 2. */
class InputError extends Error {}

const DTYPES = { f32: 'F32', f16: 'F16', bf16: 'BF16' } as const;

/** A registered configuration name, or a JSON file holding a whole configuration. */
async function baseConfig(spec: string): Promise<InternVLAA1Config> {
  if (policyConfigNames().includes(spec)) return policyConfig(spec);
  let json: unknown;
  try {
    json = JSON.parse(await readFile(spec, 'utf8')) as unknown;
  } catch (e) {
    throw new InputError(
      `--base ${spec}: neither a configuration name (${policyConfigNames().join(', ')}) nor a readable JSON file (${(e as Error).message})`,
    );
  }
  try {
    validatePolicyConfig(json);
  } catch (e) {
    if (e instanceof PolicyConfigError) throw new InputError(`--base ${spec}: ${e.message}`);
    throw e;
  }
  return json;
}

function progressBar(quiet: boolean): ((p: StreamProgress) => void) | undefined {
  if (quiet) return undefined;
  const bar = new SingleBar(
    {
      format: 'tensors {value}/{total} |{bar}| {mb}/{totalMb} MB | ETA {eta_formatted}',
      hideCursor: true,
      noTTYOutput: true,
      notTTYSchedule: 10_000,
    },
    Presets.shades_classic,
  );
  const mb = (b: number) => (b / 1e6).toFixed(0);
  return (p) => {
    if (p.index === 1) bar.start(p.count, 0, { mb: '0', totalMb: mb(p.totalBytes) });
    bar.update(p.index, { mb: mb(p.bytes), totalMb: mb(p.totalBytes) });
    if (p.index === p.count) bar.stop();
  };
}

interface Options {
  output: string;
  dtype: keyof typeof DTYPES;
  allowMissing?: string[];
  base: string;
  name?: string;
  robot?: string;
  stats?: string;
  configJson?: string;
  processor: boolean;
  qwen3Vl?: string;
  quiet: boolean;
}

async function convertUpstream(source: string, o: Options): Promise<void> {
  const { dirname, join } = await import('node:path');
  const { stat } = await import('node:fs/promises');
  const base = await baseConfig(o.base);
  let processor;
  if (o.processor) {
    const dir = (await stat(source).catch(() => null))?.isDirectory() ? source : dirname(source);
    const statsPath = o.stats ?? join(dir, 'stats.json');
    const text = await readFile(statsPath, 'utf8').catch(() => null);
    if (text === null && o.stats) throw new InputError(`--stats ${o.stats}: cannot be read`);
    if (text !== null) {
      let stats: Record<string, unknown>;
      try {
        stats = JSON.parse(text) as Record<string, unknown>;
      } catch (e) {
        throw new InputError(`${statsPath}: is not valid JSON (${(e as Error).message})`);
      }
      try {
        processor = layoutFromStats(stats, base.views, o.robot ?? null);
      } catch (e) {
        throw new InputError(
          `${statsPath}: no robot layout fits these statistics (${(e as Error).message}); pass --robot or --no-processor`,
        );
      }
    } else if (!o.quiet)
      process.stderr.write(`no ${statsPath}: writing the checkpoint without a processor\n`);
  }
  const report = await importUpstreamCheckpoint(source, {
    output: o.output,
    dtype: DTYPES[o.dtype],
    allowMissing: o.allowMissing,
    base,
    name: o.name,
    configPath: o.configJson,
    statsPath: o.stats,
    processor,
    onProgress: progressBar(o.quiet),
  });
  process.stdout.write(importSummary(report));
  process.stdout.write(`wrote ${o.output}\n`);
}

async function convertQwen3VL(source: string, o: Options): Promise<void> {
  const config = await baseConfig(o.base);
  if (o.name) config.name = o.name;
  const policy = InternVLAA1Policy.create(config);
  try {
    const report = await loadQwen3VLWeights(policy, source);
    if (!o.quiet)
      process.stderr.write(
        `loaded ${report.loaded.length} tensors into und_expert, skipped ${report.skipped.length} (${report.skipped.slice(0, 3).join(', ')}${report.skipped.length > 3 ? ', …' : ''})\n`,
      );
    await savePolicy(o.output, policy, { dtype: DTYPES[o.dtype] });
    process.stdout.write(
      `wrote ${o.output} (understanding expert from ${source}; other experts initialised)\n`,
    );
  } finally {
    policy.dispose();
  }
}

const list = (v: string, prev: string[] = []) => [...prev, ...v.split(',').filter(Boolean)];

const program = new Command('vla-convert')
  .description(
    'convert a released InternVLA-A1 checkpoint (directory, model.safetensors.index.json or .safetensors, with config.json and stats.json) into a vla policy checkpoint',
  )
  .argument('[source]', 'upstream checkpoint: directory, index json or safetensors file')
  .requiredOption('-o, --output <file>', 'policy checkpoint to write (.safetensors)')
  .addOption(
    new Option('--dtype <dtype>', 'storage dtype of the output').choices(Object.keys(DTYPES)).default('f32'),
  )
  .option(
    '--allow-missing <prefixes>',
    'parameter prefixes that may be absent and keep their initialisation (e.g. cosmos)',
    list,
  )
  .option(
    '--base <name|file>',
    'configuration for what the weights do not fix (a registered name or a JSON file)',
    'a1-3b',
  )
  .option('--name <name>', 'name of the written configuration')
  .option('--robot <robot_type>', 'robot type of the statistics (Genie-1, ARX Lift-2, ARX AC One, …)')
  .option('--stats <file>', 'upstream stats.json (default: beside the weights)')
  .option('--config-json <file>', 'upstream config.json (default: beside the weights)')
  .option('--no-processor', 'write no processor even when stats.json exists')
  .option(
    '--qwen3-vl <dir>',
    'instead: start a checkpoint from Hugging Face Qwen3-VL weights (und_expert only)',
  )
  .option('-q, --quiet', 'no progress bar', false)
  .action(async (source: string | undefined, o: Options) => {
    let code = 0;
    try {
      if (o.qwen3Vl && source) throw new InputError('give either <source> or --qwen3-vl, not both');
      if (!o.qwen3Vl && !source) throw new InputError('missing <source> (or --qwen3-vl <dir>)');
      await init();
      if (o.qwen3Vl) await convertQwen3VL(o.qwen3Vl, o);
      else await convertUpstream(source!, o);
    } catch (e) {
      process.stderr.write(`vla-convert: ${(e as Error).message}\n`);
      code =
        e instanceof UpstreamImportError || e instanceof InputError || e instanceof InvalidArgumentError
          ? 2
          : 1;
      if (code === 1 && process.env.VLA_DEBUG) process.stderr.write(`${(e as Error).stack}\n`);
    } finally {
      shutdown();
    }
    process.exit(code);
  });

program.exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2));
await program.parseAsync();
