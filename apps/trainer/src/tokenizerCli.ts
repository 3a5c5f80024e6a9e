#!/usr/bin/env node
// vla-train-tokenizer: pretrains a preset's image tokenizer on LeRobot datasets (for sizes without
// released tokenizer weights, such as tiny) and saves it for a training config's `model.tokenizer`.
import { Presets, SingleBar } from 'cli-progress';
import { Command, InvalidArgumentError } from 'commander';
import { init, shutdown } from '@vla/tensor-webgpu';
import { pretrainTokenizer } from './tokenizer/pretrainTokenizer.js';
import { policyConfigOf, parseTrainConfig, withPreset } from './trainConfig.js';

const positive = (what: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${what} must be a positive integer`);
  return n;
};

const program = new Command('vla-train-tokenizer')
  .description("pretrain a preset's image tokenizer on LeRobot datasets (for `model.tokenizer` of vla-train)")
  .requiredOption('-d, --data <folders...>', 'LeRobot dataset folders')
  .requiredOption('-o, --out <file>', 'weights file to write (.safetensors)')
  .option('-p, --preset <name>', 'policy preset whose tokenizer and image size are trained', 'tiny')
  .option('--steps <n>', 'optimisation steps', positive('steps'), 3000)
  .option('--batch-size <n>', 'frames per step', positive('batch size'), 16)
  .option('--lr <x>', 'learning rate (a tenth of it for the last fifth)', Number, 2e-3)
  .option('--stride <n>', 'use every n-th frame of each episode', positive('stride'), 5)
  .option('--seed <n>', 'seed of the weights and the draws', Number, 0)
  .action(
    async (o: {
      data: string[];
      out: string;
      preset: 'tiny' | 'a1-3b';
      steps: number;
      batchSize: number;
      lr: number;
      stride: number;
      seed: number;
    }) => {
      const config = policyConfigOf(
        parseTrainConfig(withPreset(o.preset, { data: { datasets: o.data.map((path) => ({ path })) } })),
      );
      await init();
      const bar = new SingleBar(
        {
          format: 'tokenizer |{bar}| {value}/{total} | loss {loss}',
          noTTYOutput: true,
          notTTYSchedule: 10_000,
        },
        Presets.shades_classic,
      );
      let window: number[] = [];
      try {
        const r = await pretrainTokenizer({
          datasets: o.data,
          config,
          out: o.out,
          steps: o.steps,
          batchSize: o.batchSize,
          lr: o.lr,
          stride: o.stride,
          seed: o.seed,
          onFrames: (n) => {
            console.log(`${n} frames from ${o.data.length} dataset(s), ${config.imageSize} px`);
            bar.start(o.steps, 0, { loss: '-' });
          },
          onStep: (step, loss) => {
            window = [...window.slice(-49), loss];
            bar.update(step + 1, { loss: (window.reduce((a, b) => a + b, 0) / window.length).toFixed(5) });
          },
        });
        bar.stop();
        const last = r.losses.slice(-50);
        console.log(
          `saved ${o.out}: mean loss of the last ${last.length} steps ${(last.reduce((a, b) => a + b, 0) / last.length).toFixed(5)}`,
        );
      } finally {
        bar.stop();
        await shutdown();
      }
    },
  );

program.parseAsync().catch((e: unknown) => {
  console.error(`vla-train-tokenizer: ${(e as Error).message}`);
  process.exit(1);
});
