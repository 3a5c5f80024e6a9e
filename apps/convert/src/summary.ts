// The table vla-convert prints after an import: how many tensors each part contributed, what was
// skipped and why, and what kept its initialisation.
import type { UpstreamImportReport } from '@vla/internvla-a1/node';

/** Top-level part of one of our parameter names (`und_expert.visual`, `gen_expert`, `cosmos`, …). */
function part(name: string): string {
  const [a, b] = name.split('.');
  return a === 'und_expert' ? `${a}.${b}` : a;
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows
    .map((r) =>
      r
        .map((x, c) => x.padEnd(widths[c]))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** A plain-text summary of an import: mapped tensors per part, skipped keys by reason, initialised ones. */
export function importSummary(report: UpstreamImportReport): string {
  const parts = new Map<string, { n: number; params: number }>();
  for (const m of report.mapped) {
    const p = parts.get(part(m.name)) ?? { n: 0, params: 0 };
    p.n += 1;
    p.params += m.shape.reduce((a, b) => a * b, 1);
    parts.set(part(m.name), p);
  }
  const rows = [['part', 'tensors', 'parameters']];
  for (const [p, { n, params }] of parts) rows.push([p, String(n), params.toLocaleString('en-US')]);
  let out = `mapped ${report.mapped.length} tensors\n${table(rows)}\n`;
  const reasons = new Map<string, string[]>();
  for (const s of report.skipped) reasons.set(s.reason, [...(reasons.get(s.reason) ?? []), s.upstream]);
  if (reasons.size) {
    out += `skipped ${report.skipped.length} tensors\n`;
    out +=
      table([
        ['count', 'reason', 'example'],
        ...[...reasons].map(([r, ks]) => [String(ks.length), r, ks[0]]),
      ]) + '\n';
  }
  if (report.initialised.length)
    out += `kept at initialisation (absent from the source): ${report.initialised.length} tensors under ${[...new Set(report.initialised.map(part))].join(', ')}\n`;
  out += report.processor
    ? `processor: ${report.processor.json.robotType}, state ${report.processor.stateDim}, action ${report.processor.actionDim} (stats from ${report.statsFile})\n`
    : `processor: none${report.statsFile ? '' : ' (no stats.json found)'}\n`;
  return out;
}
