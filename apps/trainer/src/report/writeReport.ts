import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { hasPngSignature } from 'fast-png';
import type { MetricRecord } from './metricRecord';
import { reportData } from './reportData';
import { reportHtml, type EmbeddedImage } from './reportHtml';
import { ReportError } from './reportError';
import { writeFileAtomic } from '../writeFileAtomic.js';

/** The file name {@link writeReport} writes in the run directory. */
export const REPORT_FILE = 'report.html';

/** What {@link writeReport} shows. */
export interface ReportOptions {
  /** The run's title (page title and heading). */
  title: string;
  /** The run's configuration, shown as a collapsible JSON block (must be JSON-serialisable; bigints become strings). */
  config: object;
  /** The run's metric records (e.g. from {@link MetricsLog.read}), in any order. */
  records: MetricRecord[];
  /** Lines shown under the header (e.g. "stopped: loss is NaN at step 812"). */
  notes?: string[];
}

// uPlot (MIT, ~50 kB) draws the charts: it is one IIFE script and one stylesheet with no runtime
// dependencies or fetches, so both inline cleanly into a page that must work from file://.
let assets: Promise<{ js: string; css: string }> | undefined;
/** uPlot's script and stylesheet, read once, for pages that inline their charts. */
export function chartAssets(): Promise<{ js: string; css: string }> {
  assets ??= (async () => {
    const require = createRequire(import.meta.url);
    const [js, css] = await Promise.all([
      readFile(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8'),
      readFile(require.resolve('uplot/dist/uPlot.min.css'), 'utf8'),
    ]);
    return { js, css };
  })();
  assets.catch(() => (assets = undefined));
  return assets;
}

async function embedImage(runDir: string, step: number, views: number, file: string): Promise<EmbeddedImage> {
  const base = { step, views, file };
  const path = resolve(runDir, file);
  const rel = relative(resolve(runDir), path);
  // Only files inside the run directory are embedded: the report is meant to be shared.
  if (isAbsolute(file) || rel.startsWith('..') || isAbsolute(rel)) {
    return { ...base, dataUri: null, problem: 'not inside the run directory' };
  }
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    return {
      ...base,
      dataUri: null,
      problem: `cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
    };
  }
  if (!hasPngSignature(bytes)) return { ...base, dataUri: null, problem: 'not a PNG file' };
  return { ...base, dataUri: `data:image/png;base64,${bytes.toString('base64')}` };
}

/**
 * Writes the run's self-contained HTML report to `runDir/report.html` (atomically: a temporary file
 * renamed over the old report) and returns its path. The page holds everything inline — the chart
 * library, the data and the latest foresight PNGs (read from `runDir`) as data: URIs — and its
 * Content Security Policy forbids any fetch, so it works from disk and offline. It shows the header
 * numbers (last step, samples seen, last loss, final samples/s), loss / learning-rate / throughput /
 * gradient-norm / eval-success plots (downsampled to ≤ 2000 points), the mean step-time breakdown,
 * the foresight images, the events and the config. A missing foresight file shows as a placeholder
 * naming it.
 */
export async function writeReport(runDir: string, options: ReportOptions): Promise<string> {
  let configJson: string;
  try {
    configJson =
      JSON.stringify(options.config, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v), 2) ??
      'null';
  } catch (e) {
    throw new ReportError(`writeReport: config is not JSON-serialisable: ${(e as Error).message}`, {
      cause: e,
    });
  }
  const data = reportData(options.records);
  const [images, lib] = await Promise.all([
    Promise.all(data.foresight.map((r) => embedImage(runDir, r.step, r.views, r.file))),
    chartAssets(),
  ]);
  const html = reportHtml({
    title: options.title,
    configJson,
    notes: options.notes ?? [],
    data,
    images,
    assets: lib,
    generatedAt: new Date(),
  });
  const path = join(runDir, REPORT_FILE);
  await writeFileAtomic(path, html);
  return path;
}
