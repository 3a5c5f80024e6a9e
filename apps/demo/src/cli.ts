#!/usr/bin/env node
// vla-demo: evaluate the shipped policy in the simulator, fine-tune it briefly on fresh
// demonstrations, and write one HTML report (see the README).
import { InvalidArgumentError, Command } from 'commander';
import { Presets, SingleBar } from 'cli-progress';
import { Engine, init, shutdown } from '@vla/tensor-webgpu';
import { resolveDemoOptions } from './demoOptions.js';
import { runDemo, type DemoProgress, type DemoSummary } from './runDemo.js';

const positive = (what: string) => (v: string) => {
  const n = Number(v);
  if (!(Number.isInteger(n) && n >= 1)) throw new InvalidArgumentError(`${what} must be a positive integer`);
  return n;
};

interface Flags {
  out?: string;
  seeds?: number;
  finetuneSteps?: number;
  demos?: number;
  maxSteps?: number;
  fromScratch?: boolean;
  quick?: boolean;
  policy?: string;
  tasks?: string[];
}

/** Progress bars on stderr, one per phase. */
function bars(): DemoProgress {
  let bar: SingleBar | null = null;
  return {
    begin(phase, total, unit) {
      bar = new SingleBar(
        {
          format: `${phase.padEnd(8)} |{bar}| {value}/{total} ${unit} | {info} | {duration_formatted}`,
          hideCursor: true,
          noTTYOutput: true,
          notTTYSchedule: 10_000,
        },
        Presets.shades_classic,
      );
      bar.start(total, 0, { info: '' });
    },
    update(done, info) {
      bar?.update(done, info === undefined ? {} : { info });
    },
    end() {
      bar?.stop();
      bar = null;
    },
    log(message) {
      // A line between the bar's redraws.
      process.stderr.write(`${bar ? '\n' : ''}${message}\n`);
    },
  };
}

function printSummary(s: DemoSummary): void {
  const lines = [
    '',
    `success in the simulator (${s.evaluated === 'initial' ? s.policy : 'the trained policy'}, robot ${s.robot}):`,
    ...Object.entries(s.success).map(
      ([task, r]) =>
        `  ${task.padEnd(14)} ${r.successes}/${r.episodes} (${(100 * r.successRate).toFixed(0)}%)`,
    ),
    `${s.mode === 'finetune' ? 'fine-tune' : 'training from scratch'}: ${s.training.steps} steps, loss on a fixed batch ${s.training.lossBefore.toFixed(4)} -> ${s.training.lossAfter.toFixed(4)}`,
    `time: ${Object.entries(s.timings)
      .map(([k, v]) => `${k} ${v.toFixed(0)} s`)
      .join(', ')}`,
    `report:  ${s.files.report}`,
    `summary: ${s.files.summary}`,
    '',
  ];
  process.stdout.write(lines.join('\n'));
}

const program = new Command('vla-demo')
  .description(
    'the shipped policy in closed loop on the simulator, a short fine-tune on fresh demonstrations, and an HTML report',
  )
  .option('-o, --out <dir>', 'run folder (report.html, summary.json, demos/, train/)', 'runs/demo')
  .option('--seeds <n>', 'evaluation episodes per task (seeds 0, 1, …)', positive('--seeds'))
  .option(
    '--finetune-steps <n>',
    'optimizer steps of the fine-tune (or of the training from scratch)',
    positive('--finetune-steps'),
  )
  .option('--demos <n>', 'demonstrations recorded per task', positive('--demos'))
  .option('--max-steps <n>', 'cut evaluation episodes after this many control ticks', positive('--max-steps'))
  .option(
    '--tasks <names...>',
    'simulator tasks (default: pick-place conveyor-sort, what the shipped policy learned)',
  )
  .option('--from-scratch', 'train a new tiny policy on fresh demonstrations instead of fine-tuning')
  .option('--quick', 'the reduced counts CI uses (short episodes, a few steps)')
  .option('--policy <file>', 'another checkpoint to evaluate and fine-tune (default: the shipped policy)')
  .action(async (flags: Flags) => {
    let code = 0;
    try {
      const eng = await init();
      const options = resolveDemoOptions(
        {
          out: flags.out,
          seeds: flags.seeds,
          trainSteps: flags.finetuneSteps,
          demos: flags.demos,
          maxSteps: flags.maxSteps,
          fromScratch: flags.fromScratch,
          quick: flags.quick,
          policy: flags.policy,
          tasks: flags.tasks,
        },
        // SwiftShader (VLA_BACKEND=webgpu without a GPU) is no GPU for the defaults.
        { gpu: eng instanceof Engine && !eng.isCpuAdapter },
      );
      printSummary(await runDemo(options, bars()));
    } catch (e) {
      process.stderr.write(`\nvla-demo: ${(e as Error).message}\n`);
      if (process.env.VLA_DEBUG) process.stderr.write(`${(e as Error).stack}\n`);
      code = 1;
    } finally {
      shutdown();
    }
    process.exit(code);
  });

await program.parseAsync();
