#!/usr/bin/env node
// `npm run demo`: trains a tiny MLP on the GPU (SwiftShader when there is none) with a progress bar,
// then prints the loss curve as an ASCII chart and exits.
import asciichart from 'asciichart';
import cliProgress from 'cli-progress';
import { runAndExit } from '@vla/tensor-webgpu';
import { trainTinyMlp } from './train.js';

const STEPS = Number(process.env.TINY_MLP_STEPS ?? 200);

void runAndExit(async (engine) => {
  console.log(`Tensors on ${engine.description}`);
  console.log(`Fitting y = sin(2x) + 0.3x with a 1-32-32-1 tanh MLP, AdamW, ${STEPS} steps\n`);
  const bar = new cliProgress.SingleBar(
    {
      format: 'training |{bar}| {percentage}% | step {value}/{total} | loss {loss} | {duration_formatted}',
      hideCursor: true,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(STEPS, 0, { loss: '-' });
  const t0 = performance.now();
  const { losses, parameters } = await trainTinyMlp(engine, {
    steps: STEPS,
    onLoss: (step, loss) => bar.update(step + 1, { loss: loss.toExponential(3) }),
  });
  bar.update(STEPS);
  bar.stop();
  const seconds = (performance.now() - t0) / 1000;
  const first = losses[0][1];
  const last = losses[losses.length - 1][1];
  console.log(
    `\n${parameters} parameters, ${seconds.toFixed(1)} s (${((1000 * seconds) / STEPS).toFixed(1)} ms/step)`,
  );
  console.log(
    `loss ${first.toExponential(3)} -> ${last.toExponential(3)} (${((100 * last) / first).toPrecision(2)}% of the start)\n`,
  );
  // log10 of the loss, resampled to at most 70 columns.
  const cols = Math.min(70, losses.length);
  const series = Array.from({ length: cols }, (_, i) =>
    Math.log10(losses[Math.round((i * (losses.length - 1)) / Math.max(1, cols - 1))][1]),
  );
  console.log('log10(loss) over training steps');
  console.log(asciichart.plot(series, { height: 12, format: (v) => v.toFixed(2).padStart(7) }));
});
