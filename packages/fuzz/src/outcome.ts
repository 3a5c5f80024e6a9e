// What a fuzz case can end in, what a campaign is, and how a thrown error is judged. A campaign is
// a seeded generator of cases plus an executor per case; the runner (runner.ts) adds time limits,
// crash capture and leak probes around the executor.
import type { Rng } from './rng.js';

/**
 * How one case ended.
 * - `clear-error`: the package's own error class, with a message naming the file, tensor, field or topic
 * - `accepted`: the input was taken and an independent oracle agrees with what was produced
 * - `silent-change`: the input was taken but the oracle disagrees (values, config, state or commands changed)
 * - `crash`: any other exception (TypeError, RangeError, SyntaxError, …), an unclear error of the
 *   right class, an unhandled rejection or uncaught exception during the case, or the process dying
 * - `hang`: the case ran past its time limit, blocked the event loop, or left a driver wedged
 * - `leak`: GPU pool bytes not back to their baseline, or process memory grown past a bound
 */
export type Outcome = 'clear-error' | 'accepted' | 'silent-change' | 'crash' | 'hang' | 'leak';

/** Every outcome, in report order. */
export const OUTCOMES: readonly Outcome[] = [
  'clear-error',
  'accepted',
  'silent-change',
  'crash',
  'hang',
  'leak',
];

/** Outcomes that fail a campaign. */
export const FAILING_OUTCOMES: ReadonlySet<Outcome> = new Set<Outcome>([
  'silent-change',
  'crash',
  'hang',
  'leak',
]);

/** What the executor of a case concluded. */
export interface Verdict {
  outcome: Outcome;
  /** Why, in one line (the error message, the first disagreement, the measured bound). */
  detail?: string;
}

/** One generated case. */
export interface FuzzCase {
  /** Mutation kind (a row of the report). */
  kind: string;
  /** A minimal, human-readable description of the input, enough to rebuild it by hand. */
  description: string;
  /**
   * Runs the case. Returns the verdict for inputs that were taken (or handled without a throw);
   * a throw is judged by the campaign's {@link Campaign.judgeError}.
   */
  run(): Promise<Verdict>;
  /** Words a clear error message must contain one of (file name, tensor name, field, topic). */
  subjects?: readonly string[];
}

/** What the runner passes a campaign's case generator. */
export interface CaseContext {
  /** The case's own generator (see {@link Rng.forCase}). */
  rng: Rng;
  /** Case index within the run. */
  index: number;
  /** Seed of the run. */
  seed: number;
}

/** A fuzz campaign: set up once per process, then cases generated and executed one by one. */
export interface Campaign {
  /** Campaign name (`checkpoints`, `datasets`, `rosbridge`). */
  readonly name: string;
  /** Mutation kinds; case `i` uses `kinds[i % kinds.length]` so small runs still cover them all. */
  readonly kinds: readonly string[];
  /** Builds the pristine inputs (and the GPU engine, servers, …) once per process. */
  setup(): Promise<void>;
  /** The case of `kind` for this context (building its input may take a while; it is timed with the case). */
  makeCase(kind: string, ctx: CaseContext): FuzzCase | Promise<FuzzCase>;
  /** Judges an error thrown by a case. */
  judgeError(error: unknown, fuzzCase: FuzzCase): Verdict;
  /**
   * A number that must come back to its value before the case (GPU pool bytes in use); compared
   * after every case that did not crash or hang. Optional.
   */
  leakProbe?(): Promise<number>;
  /** What {@link Campaign.leakProbe} measures, for reports (e.g. `GPU bytes in use`). */
  readonly leakUnit?: string;
  /** A case whose event loop stalls longer than this (ms) counts as a hang. Optional. */
  readonly maxEventLoopDelayMs?: number;
  /** Releases what {@link Campaign.setup} made. */
  teardown(): Promise<void>;
}

/** One finished case, as reported. */
export interface CaseResult {
  campaign: string;
  seed: number;
  index: number;
  kind: string;
  description: string;
  outcome: Outcome;
  detail: string;
  /** Wall time of the case. */
  ms: number;
}

/** First line of an error, shortened for a report. */
export function errorLine(e: unknown, max = 300): string {
  const text =
    e instanceof Error
      ? `${e.name}: ${e.message}`
      : typeof e === 'string'
        ? e
        : (JSON.stringify(e) ?? String(e));
  const line = text.split('\n')[0];
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/**
 * The usual judgement: an instance of one of `classes` with a non-empty message that names one of
 * the case's subjects is a clear error; every other throw is a crash.
 */
export function judgeByClass(
  error: unknown,
  fuzzCase: FuzzCase,
  classes: readonly (abstract new (...args: never[]) => Error)[],
  extraCheck?: (e: Error) => string | null,
): Verdict {
  const ok = classes.some((C) => error instanceof C);
  if (!ok) return { outcome: 'crash', detail: errorLine(error) };
  const e = error as Error;
  if (!e.message.trim()) return { outcome: 'crash', detail: `${e.name} with an empty message` };
  const subjects = fuzzCase.subjects ?? [];
  if (subjects.length && !subjects.some((s) => e.message.includes(s)))
    return {
      outcome: 'crash',
      detail: `unclear ${e.name} (names none of ${subjects.map((s) => JSON.stringify(s)).join(', ')}): ${errorLine(e)}`,
    };
  const extra = extraCheck?.(e);
  if (extra) return { outcome: 'crash', detail: `${extra}: ${errorLine(e)}` };
  return { outcome: 'clear-error', detail: errorLine(e) };
}
