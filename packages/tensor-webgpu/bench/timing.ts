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

/** Warms a runner up (pipeline compilation, pool growth) and returns how many runs fill `budgetMs`. */
async function warmUp(r: Runner, budgetMs: number): Promise<number> {
  r.run();
  await r.sync();
  const t = performance.now();
  r.run();
  await r.sync();
  const once = performance.now() - t;
  return Math.max(1, Math.min(100, Math.floor(budgetMs / Math.max(once, 1e-3))));
}

async function batch(r: Runner, iters: number): Promise<number> {
  const t = performance.now();
  for (let i = 0; i < iters; i++) r.run();
  await r.sync();
  return (performance.now() - t) / iters;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/**
 * Milliseconds per run of several runners measured together: after warming each up, batches of the
 * runners alternate (a, b, a, b, …) so that a change in machine load hits all of them alike; each
 * gets the median over `rounds` batches sized to fill about `budgetMs`.
 */
export async function timeInterleaved(runners: Runner[], budgetMs: number, rounds = 5): Promise<number[]> {
  const iters: number[] = [];
  for (const r of runners) iters.push(await warmUp(r, budgetMs));
  const samples: number[][] = runners.map(() => []);
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < runners.length; i++) samples[i].push(await batch(runners[i], iters[i]));
  }
  return samples.map(median);
}
