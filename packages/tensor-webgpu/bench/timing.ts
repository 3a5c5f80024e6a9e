// Wall-clock timing of GPU work: warm up (pipeline compilation, pool), then time batches of runs
// between two full syncs and keep the median batch. No timestamp queries: the engine does not expose
// them, and the same method is applied to both libraries.

/** One library's way to enqueue a run and to wait for the GPU. */
export interface Runner {
  /** Enqueues one run (outputs freed inside). */
  run: () => void;
  /** Resolves when every enqueued command has finished on the GPU. */
  sync: () => Promise<void>;
}

/** Milliseconds per run: the median over `rounds` batches sized to fill about `budgetMs` each. */
export async function timeRuns(r: Runner, budgetMs: number, rounds = 3): Promise<number> {
  // Warm-up: pipeline compilation and buffer-pool growth.
  r.run();
  await r.sync();
  let t = performance.now();
  r.run();
  await r.sync();
  const once = performance.now() - t;
  const iters = Math.max(1, Math.min(100, Math.floor(budgetMs / Math.max(once, 1e-3))));
  // A run slower than the budget is already a batch of one: keep it as the first sample.
  const samples: number[] = iters === 1 ? [once] : [];
  while (samples.length < rounds) {
    t = performance.now();
    for (let i = 0; i < iters; i++) r.run();
    await r.sync();
    samples.push((performance.now() - t) / iters);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)];
}
