import { mkdir, open, readFile, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { parseMetricRecord, recordToJson, type MetricRecord } from './metricRecord';
import { ReportError } from './reportError';
import { writeFileAtomic } from '../writeFileAtomic.js';

/** Options of {@link MetricsLog.open}. */
export interface MetricsLogOpenOptions {
  /**
   * The step of the checkpoint the run resumes from: records with a larger step were written after
   * that checkpoint and are dropped (the file is rewritten atomically), so the resumed log holds each
   * step once. Leave out for a fresh run (every existing record is kept).
   */
  resumeFromStep?: number;
}

interface ParsedLine {
  /** 1-based line number in the file. */
  line: number;
  /** The line's text, without its newline. */
  text: string;
  record: MetricRecord;
}

/**
 * The records of a log's text. A malformed last line is a torn write (the process was killed while
 * appending) and is dropped; a malformed line before it is an error naming the line.
 */
function parseLog(text: string, path: string): { lines: ParsedLine[]; torn: boolean } {
  const raw = text.split('\n');
  // A file ending in '\n' splits into a last empty piece, which is no line.
  if (raw[raw.length - 1] === '') raw.pop();
  let last = raw.length - 1;
  while (last >= 0 && raw[last].trim() === '') last--;
  const lines: ParsedLine[] = [];
  let torn = false;
  for (let i = 0; i <= last; i++) {
    const text = raw[i];
    if (text.trim() === '') continue;
    let error: string | undefined;
    let record: MetricRecord | undefined;
    try {
      const r = parseMetricRecord(JSON.parse(text));
      if ('error' in r) error = `not a metric record: ${r.error}`;
      else record = r.record;
    } catch (e) {
      error = `malformed JSON: ${(e as Error).message}`;
    }
    if (record) {
      lines.push({ line: i + 1, text, record });
    } else if (i === last) {
      torn = true;
    } else {
      throw new ReportError(`${path} line ${i + 1}: ${error} (text: ${JSON.stringify(text.slice(0, 80))})`);
    }
  }
  // Anything after the last record (a torn tail, blank lines, a missing final newline) is rewritten.
  return { lines, torn: torn || (text.length > 0 && !text.endsWith('\n')) || last < raw.length - 1 };
}

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/**
 * The run's append-only metrics log, one JSON record per line (`metrics.jsonl`).
 *
 * Appends are serialised and each line is written to the file as it is appended (no buffering in the
 * process), so a killed run loses at most the line being written, which the next open drops.
 * Non-finite numbers (a NaN loss) are written as the strings `"NaN"`, `"Infinity"`, `"-Infinity"` and
 * read back as numbers.
 */
export class MetricsLog {
  private tail: Promise<void> = Promise.resolve();
  private closed = false;

  private constructor(
    /** The log file. */
    readonly path: string,
    private readonly fh: FileHandle,
    private lastTrainStep: number,
  ) {}

  /**
   * Opens (creating it and its folder if needed) the log at `path` for appending. A torn last line is
   * dropped; with `resumeFromStep`, so is every record with `step > resumeFromStep`. The file is
   * rewritten atomically when anything is dropped. A malformed line before the last is a
   * {@link ReportError} naming it.
   */
  static async open(path: string, options: MetricsLogOpenOptions = {}): Promise<MetricsLog> {
    const { resumeFromStep } = options;
    if (resumeFromStep !== undefined && !Number.isFinite(resumeFromStep)) {
      throw new ReportError(`${path}: resumeFromStep must be a finite number, got ${resumeFromStep}`);
    }
    await mkdir(dirname(path), { recursive: true });
    const text = await readIfExists(path);
    let lastTrainStep = -Infinity;
    if (text !== undefined) {
      const { lines, torn } = parseLog(text, path);
      const kept =
        resumeFromStep === undefined ? lines : lines.filter((l) => l.record.step <= resumeFromStep);
      if (torn || kept.length !== lines.length) {
        await writeFileAtomic(path, kept.map((l) => l.text + '\n').join(''));
      }
      for (const l of kept)
        if (l.record.kind === 'train') lastTrainStep = Math.max(lastTrainStep, l.record.step);
    }
    return new MetricsLog(path, await open(path, 'a'), lastTrainStep);
  }

  /**
   * Reads every record of the log at `path`, in file order. A torn last line is skipped; a malformed
   * line before it is a {@link ReportError} naming the file and line number.
   */
  static async read(path: string): Promise<MetricRecord[]> {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (e) {
      throw new ReportError(`cannot read metrics log ${path}: ${(e as Error).message}`, { cause: e });
    }
    return parseLog(text, path).lines.map((l) => l.record);
  }

  /**
   * Appends one record (validated first; an invalid one is a {@link ReportError} naming the field).
   * Resolves once the line is written. A train record must have a larger step than every train record
   * already in the log: a fresh run in an old run directory, or a resume without `resumeFromStep`,
   * would otherwise log steps twice.
   */
  append(record: MetricRecord): Promise<void> {
    if (this.closed) return Promise.reject(new ReportError(`${this.path}: append after close`));
    const r = parseMetricRecord(record);
    if ('error' in r) {
      return Promise.reject(
        new ReportError(`${this.path}: invalid ${String(record?.kind)} record: ${r.error}`),
      );
    }
    if (r.record.kind === 'train') {
      if (r.record.step <= this.lastTrainStep) {
        return Promise.reject(
          new ReportError(
            `${this.path}: train step ${r.record.step} is not after the last logged train step ${this.lastTrainStep} ` +
              '(open with resumeFromStep when resuming, or use a fresh run directory)',
          ),
        );
      }
      this.lastTrainStep = r.record.step;
    }
    const line = recordToJson(r.record) + '\n';
    const p = this.tail.then(async () => {
      await this.fh.write(line);
    });
    // A failed write rejects its own append only; later appends still run in order.
    this.tail = p.catch(() => undefined);
    return p;
  }

  /** Waits for pending appends, syncs the file to disk and closes it. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.tail;
    try {
      await this.fh.sync();
    } finally {
      await this.fh.close();
    }
  }
}
