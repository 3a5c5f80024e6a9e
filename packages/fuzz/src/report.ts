// Counts per outcome per mutation kind, and the failing cases with what it takes to rerun them.
import { FAILING_OUTCOMES, OUTCOMES, type CaseResult, type Outcome } from './outcome.js';

/** The results of one campaign run. */
export class FuzzReport {
  /** Every case result, in index order. */
  readonly results: CaseResult[] = [];

  /** A report for `campaign` run with `seed` over `count` cases. */
  constructor(
    readonly campaign: string,
    readonly seed: number,
    readonly count: number,
  ) {}

  /** Records one result. */
  add(result: CaseResult): void {
    this.results.push(result);
  }

  /** Outcome counts per mutation kind (kinds in first-seen order). */
  counts(): Map<string, Record<Outcome, number>> {
    const out = new Map<string, Record<Outcome, number>>();
    for (const r of this.results) {
      let row = out.get(r.kind);
      if (!row)
        out.set(r.kind, (row = Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as Record<Outcome, number>));
      row[r.outcome]++;
    }
    return out;
  }

  /** Totals per outcome. */
  totals(): Record<Outcome, number> {
    const t = Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as Record<Outcome, number>;
    for (const r of this.results) t[r.outcome]++;
    return t;
  }

  /** Cases whose outcome fails the campaign (silent change, crash, hang, leak). */
  failures(): CaseResult[] {
    return this.results.filter((r) => FAILING_OUTCOMES.has(r.outcome));
  }

  /** The outcome table: one row per mutation kind plus a total row. */
  table(): string {
    const head = ['kind', ...OUTCOMES];
    const rows: string[][] = [];
    for (const [kind, c] of this.counts()) rows.push([kind, ...OUTCOMES.map((o) => String(c[o]))]);
    const t = this.totals();
    rows.push(['total', ...OUTCOMES.map((o) => String(t[o]))]);
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const line = (cells: string[]) =>
      cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
    return [line(head), ...rows.map(line)].join('\n');
  }

  /** One line per failing case: index, kind, outcome, input and what happened. */
  failureLines(limit = Infinity): string[] {
    const f = this.failures();
    const lines = f
      .slice(0, limit)
      .map((r) => `#${r.index} [${r.kind}] ${r.outcome}: ${r.description} -> ${r.detail}`);
    if (f.length > limit) lines.push(`… and ${f.length - limit} more`);
    return lines;
  }

  /** Table, rerun hint and failing cases as text. */
  format(failureLimit = 40): string {
    const header = `campaign ${this.campaign}: ${this.results.length} cases, seed ${this.seed}`;
    const fails = this.failureLines(failureLimit);
    return [
      header,
      this.table(),
      ...(fails.length
        ? [
            `failing cases (rerun one with --campaign ${this.campaign} --seed ${this.seed} --case N):`,
            ...fails,
          ]
        : []),
    ].join('\n');
  }
}
