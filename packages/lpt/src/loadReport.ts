import type { Assignment } from './assignDatasets';
import type { Mixture } from './mixtureWeights';

/** Load of one rank. */
export interface RankLoad {
  /** Rank index. */
  rank: number;
  /** Number of datasets the rank holds. */
  datasets: number;
  /** Frames the rank holds. */
  load: number;
  /** `load / mean`: 1 is perfectly balanced. */
  relative: number;
  /** Sum of the global mixture weights of the rank's datasets (only when a mixture was given). */
  mixtureMass?: number;
}

/** Per-rank loads and the imbalance of an assignment. */
export interface LoadReport {
  /** One entry per rank. */
  ranks: RankLoad[];
  /** Sum of all rank loads (duplicated datasets count once per rank that holds them). */
  total: number;
  /** Mean rank load. */
  mean: number;
  /** Smallest rank load. */
  min: number;
  /** Largest rank load (the makespan). */
  max: number;
  /** `max / mean`: 1 is perfect balance; the slowest rank holds this much more than average. */
  imbalance: number;
  /** Zero-frame datasets left out of the assignment. */
  skipped: string[];
}

/**
 * Summarises an assignment: per-rank dataset counts and frames, mean, min, max and the imbalance
 * `max / mean`. With a mixture, also the global sampling mass that landed on each rank (what the
 * per-rank renormalisation scales up or down).
 */
export function loadReport(assignment: Assignment, mixture?: Mixture): LoadReport {
  const total = assignment.ranks.reduce((s, r) => s + r.load, 0);
  const mean = total / assignment.worldSize;
  const weightOf = mixture ? new Map(mixture.datasets.map((d) => [d.id, d.weight])) : undefined;
  const ranks = assignment.ranks.map((r): RankLoad => {
    const row: RankLoad = {
      rank: r.rank,
      datasets: r.datasets.length,
      load: r.load,
      relative: r.load / mean,
    };
    if (weightOf) row.mixtureMass = r.datasets.reduce((s, d) => s + (weightOf.get(d.id) ?? 0), 0);
    return row;
  });
  const loads = ranks.map((r) => r.load);
  const max = Math.max(...loads);
  return {
    ranks,
    total,
    mean,
    min: Math.min(...loads),
    max,
    imbalance: max / mean,
    skipped: [...assignment.skipped],
  };
}

/**
 * Renders a {@link LoadReport} as a fixed-width text table, one row per rank, followed by the
 * totals and the imbalance.
 */
export function formatLoadReport(report: LoadReport): string {
  const withMass = report.ranks.some((r) => r.mixtureMass !== undefined);
  const header = ['rank', 'datasets', 'frames', 'vs mean', ...(withMass ? ['mix mass'] : [])];
  const rows = report.ranks.map((r) => [
    String(r.rank),
    String(r.datasets),
    r.load.toLocaleString('en-US'),
    r.relative.toFixed(3),
    ...(withMass ? [(r.mixtureMass ?? 0).toFixed(4)] : []),
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c].length)));
  const line = (cells: string[]): string => cells.map((cell, c) => cell.padStart(widths[c])).join('  ');
  const out = [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)];
  out.push(
    `total ${report.total.toLocaleString('en-US')} frames, mean ${Math.round(report.mean).toLocaleString('en-US')}, ` +
      `min ${report.min.toLocaleString('en-US')}, max ${report.max.toLocaleString('en-US')}`,
  );
  out.push(`imbalance (max/mean): ${report.imbalance.toFixed(4)}`);
  if (report.skipped.length > 0) out.push(`skipped (0 frames): ${report.skipped.join(', ')}`);
  return out.join('\n');
}
