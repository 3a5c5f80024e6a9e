// The ablation side by side: each run's closed-loop success per task with a 95% Wilson interval,
// and the difference between the two runs with a 95% interval for paired proportions (both runs are
// evaluated on the same seeds; Newcombe 1998, method 10), as a Markdown table.
//   node experiments/closed-loop/compare.mjs [runs/closed-loop] [runA runB, default gen nogen]
// Reads <root>/eval-<run>-<task>.json, the JSON summaries `vla-control run --json` writes (the
// sampler seeded with the first seed, 0), and pools any repeat with another sampler seed k,
// eval-<run>-<task>-sampler<k>.json: an episode is a (sampler seed, scene seed) pair, paired
// between the runs only where both have it.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const Z = 1.959964; // two-sided 95%

/** Wilson score interval of k successes in n. */
export function wilson(k, n) {
  if (n === 0) return [0, 1];
  const p = k / n;
  const d = 1 + (Z * Z) / n;
  const centre = (p + (Z * Z) / (2 * n)) / d;
  const half = (Z * Math.sqrt((p * (1 - p)) / n + (Z * Z) / (4 * n * n))) / d;
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

/**
 * Interval of pA − pB for paired outcomes (Newcombe's method 10): each run's Wilson interval,
 * combined with the correlation of the two runs' outcomes over the shared seeds.
 */
export function pairedDifference(a, b) {
  const n = a.length;
  let both = 0,
    onlyA = 0,
    onlyB = 0,
    neither = 0;
  for (let i = 0; i < n; i++) {
    if (a[i] && b[i]) both++;
    else if (a[i]) onlyA++;
    else if (b[i]) onlyB++;
    else neither++;
  }
  const kA = both + onlyA,
    kB = both + onlyB;
  const pA = kA / n,
    pB = kB / n,
    diff = pA - pB;
  const [lA, uA] = wilson(kA, n);
  const [lB, uB] = wilson(kB, n);
  // φ of the 2×2 table; taken as 0 where a margin is empty (the interval is then Newcombe's unpaired one).
  const margins = (both + onlyA) * (neither + onlyB) * (both + onlyB) * (neither + onlyA);
  const phi = margins === 0 ? 0 : (both * neither - onlyA * onlyB) / Math.sqrt(margins);
  const lower = diff - Math.sqrt((pA - lA) ** 2 - 2 * phi * (pA - lA) * (uB - pB) + (uB - pB) ** 2);
  const upper = diff + Math.sqrt((uA - pA) ** 2 - 2 * phi * (uA - pA) * (pB - lB) + (pB - lB) ** 2);
  return { diff, lower: Math.max(-1, lower), upper: Math.min(1, upper), onlyA, onlyB };
}

/** Each episode's success keyed "sampler seed:scene seed", or null when the run was not evaluated. */
function outcomes(root, run, task) {
  const base = `eval-${run}-${task}`;
  if (!existsSync(join(root, `${base}.json`))) return null;
  const repeats = readdirSync(root)
    .map((f) => f.match(new RegExp(`^${base}-sampler(\\d+)\\.json$`)))
    .filter(Boolean)
    .map((m) => [m[0], Number(m[1])]);
  const out = new Map();
  for (const [name, sampler] of [[`${base}.json`, 0], ...repeats]) {
    const file = join(root, name);
    const summary = JSON.parse(readFileSync(file, 'utf8'));
    if (summary.stopped)
      throw new Error(`${file} is an evaluation stopped part-way: run it again (STAGE=eval)`);
    for (const e of summary.perEpisode) out.set(`${sampler}:${e.seed}`, e.success);
  }
  return out;
}

const pct = (x) => `${(100 * x).toFixed(0)}%`;

if (import.meta.url === `file://${process.argv[1]}`) {
  const root = process.argv[2] ?? 'runs/closed-loop';
  const [runA, runB] = process.argv.length > 4 ? process.argv.slice(3, 5) : ['gen', 'nogen'];
  console.log(
    `| task | ${runA} | ${runB} | ${runA} − ${runB} (95% CI, paired) | seeds only ${runA} / only ${runB} won |`,
  );
  console.log('|---|---|---|---|---|');
  for (const task of ['pick-place', 'conveyor-sort']) {
    const a = outcomes(root, runA, task);
    const b = outcomes(root, runB, task);
    if (!a || !b) {
      console.log(`| ${task} | ${a ? '' : 'not evaluated'} | ${b ? '' : 'not evaluated'} | — | — |`);
      continue;
    }
    const seeds = [...a.keys()].filter((s) => b.has(s)).sort();
    const sa = seeds.map((s) => a.get(s));
    const sb = seeds.map((s) => b.get(s));
    const cell = (xs) => {
      const k = xs.filter(Boolean).length;
      const [l, u] = wilson(k, xs.length);
      return `${k}/${xs.length} = ${pct(k / xs.length)} (${pct(l)}–${pct(u)})`;
    };
    const d = pairedDifference(sa, sb);
    console.log(
      `| ${task} | ${cell(sa)} | ${cell(sb)} | ${(100 * d.diff).toFixed(0)} pts (${(100 * d.lower).toFixed(0)} to ${(100 * d.upper).toFixed(0)}) | ${d.onlyA} / ${d.onlyB} |`,
    );
  }
}
