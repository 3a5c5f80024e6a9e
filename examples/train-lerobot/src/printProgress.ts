// Training progress as plain lines (readable in a log file or a CI job, unlike a redrawn bar).
import type { TrainProgress } from '@vla/trainer';

/** Prints preparation phases when they finish and the loss about 20 times over the run. */
export function printProgress(print: (line: string) => void = console.log): TrainProgress {
  let total = 0;
  let every = 1;
  let t0 = 0;
  return {
    start(steps, step) {
      total = steps;
      every = Math.max(1, Math.round(steps / 20));
      t0 = performance.now();
      print(`training steps ${step + 1}…${steps}`);
    },
    phase(name, done, of) {
      if (done === of) print(`${name}: done`);
    },
    update(r) {
      if (r.step % every !== 0 && r.step !== total) return;
      const s = ((performance.now() - t0) / 1000).toFixed(0);
      const gen = r.genLoss === null ? '' : `, foresight ${r.genLoss.toFixed(4)}`;
      print(
        `step ${r.step}/${total}  loss ${r.loss.toFixed(4)} (action ${r.actionLoss.toFixed(4)}${gen})  ${s} s`,
      );
    },
    stop() {},
  };
}
