// Runs a campaign's cases in a child process with a time limit per case. A case that passes its
// limit is a hang: the child is killed (SIGKILL stops even a loop that never yields) and a fresh one
// continues with the next case. A child that dies mid-case is a crash of that case, and the next
// child goes on after it. Setup failures are harness errors, not outcomes.
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CAMPAIGN_NAMES, type RunnableCampaign } from './campaigns/names.js';
import type { CaseResult, Outcome } from './outcome.js';
import { FuzzReport } from './report.js';
import { SCRATCH_ENV } from './scratch.js';

/** Parent → child. @internal */
export type ParentMessage = { type: 'run'; campaign: string; seed: number; indices: number[] };

/** Child → parent. @internal */
export type ChildMessage =
  | { type: 'ready'; kinds: readonly string[] }
  | { type: 'recycle' }
  | { type: 'setup-error'; message: string }
  | { type: 'start'; index: number; kind: string; description: string }
  | { type: 'result'; index: number; outcome: Outcome; detail: string; ms: number; description?: string }
  | { type: 'done' };

/** Options of {@link runCampaign}. */
export interface RunOptions {
  /** Seed of the run (every case's generator derives from it and the case index). */
  seed: number;
  /** Cases 0 … count−1 (ignored when `indices` is given). */
  count: number;
  /** Run only these case indices (to reproduce a reported case). */
  indices?: readonly number[];
  /** Called after every case. */
  onResult?: (result: CaseResult) => void;
  /** Time limit for a child's setup (ms; default 180 000). */
  setupTimeoutMs?: number;
  /** Override the campaign's time limit per case (ms). */
  caseTimeoutMs?: number;
  /** Extra environment of the child process. */
  env?: Record<string, string>;
}

/** Default time limit per case, by campaign (ms). Kept here so the parent need not load a campaign. */
const CASE_TIMEOUT_MS: Record<RunnableCampaign, number> = {
  checkpoints: 30_000,
  datasets: 60_000,
  rosbridge: 30_000,
  selftest: 3_000,
};

const here = dirname(fileURLToPath(import.meta.url));

/** The child entry beside this file (`.ts` when running from source, `.js` from dist). */
function childEntry(): { file: string; execArgv: string[] } {
  const ts = join(here, 'child.ts');
  if (existsSync(ts)) return { file: ts, execArgv: ['--import', 'tsx', '--expose-gc'] };
  return { file: join(here, 'child.js'), execArgv: ['--expose-gc'] };
}

interface Session {
  /** Indices finished (with a result, hang or crash) by this child. */
  finished: number;
}

/**
 * Runs cases `0 … count−1` (or `indices`) of campaign `name` and returns the report. Rejects only
 * when the campaign cannot be set up.
 */
export async function runCampaign(name: RunnableCampaign, options: RunOptions): Promise<FuzzReport> {
  if (name !== 'selftest' && !CAMPAIGN_NAMES.includes(name))
    throw new Error(`unknown campaign ${JSON.stringify(name)} (known: ${CAMPAIGN_NAMES.join(', ')})`);
  const indices = options.indices ? [...options.indices] : Array.from({ length: options.count }, (_, i) => i);
  const report = new FuzzReport(name, options.seed, indices.length);
  const caseTimeoutMs = options.caseTimeoutMs ?? CASE_TIMEOUT_MS[name];
  // Children write their inputs under one folder that is removed here, even after a killed child.
  const scratch = mkdtempSync(join(tmpdir(), `vla-fuzz-${name}-`));
  const env = { ...options.env, [SCRATCH_ENV]: scratch };
  try {
    let remaining = indices;
    while (remaining.length) {
      const s = await runChild(name, remaining, caseTimeoutMs, { ...options, env }, report);
      remaining = remaining.slice(s.finished);
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return report;
}

function runChild(
  name: RunnableCampaign,
  indices: number[],
  caseTimeoutMs: number,
  options: RunOptions,
  report: FuzzReport,
): Promise<Session> {
  const { file, execArgv } = childEntry();
  const child: ChildProcess = fork(file, [], {
    cwd: join(here, '..'),
    execArgv,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const session: Session = { finished: 0 };
  let current: { index: number; kind: string; description: string; t0: number } | null = null;
  let timer: NodeJS.Timeout | undefined;
  let settled = false;

  return new Promise<Session>((resolve, reject) => {
    const finish = (r: Omit<CaseResult, 'campaign' | 'seed'>) => {
      const result: CaseResult = { campaign: name, seed: options.seed, ...r };
      report.add(result);
      session.finished++;
      options.onResult?.(result);
    };
    const stop = (then: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.removeAllListeners();
      child.kill('SIGKILL');
      then();
    };
    const arm = (ms: number, onFire: () => void) => {
      clearTimeout(timer);
      timer = setTimeout(onFire, ms);
    };

    // The case in flight starts when the previous one ends (building its input is part of it).
    let kinds: readonly string[] = [];
    const begin = () => {
      if (session.finished >= indices.length) return;
      const index = indices[session.finished];
      current = {
        index,
        kind: kinds[index % kinds.length],
        description: '(hung while building the case)',
        t0: performance.now(),
      };
      arm(caseTimeoutMs, () => {
        const c = current!;
        finish({
          index: c.index,
          kind: c.kind,
          description: c.description,
          outcome: 'hang',
          detail: `no result within ${caseTimeoutMs} ms (process killed)`,
          ms: performance.now() - c.t0,
        });
        stop(() => resolve(session));
      });
    };
    arm(options.setupTimeoutMs ?? 180_000, () =>
      stop(() => reject(new Error(`campaign ${name}: setup did not finish in time\n${stderr}`))),
    );
    child.on('message', (m: ChildMessage) => {
      switch (m.type) {
        case 'ready':
          kinds = m.kinds;
          begin();
          break;
        case 'recycle':
          // The child leaves after a case that left residue behind; the next child goes on.
          stop(() => resolve(session));
          break;
        case 'setup-error':
          stop(() => reject(new Error(`campaign ${name}: setup failed: ${m.message}`)));
          break;
        case 'start':
          if (current) Object.assign(current, { index: m.index, kind: m.kind, description: m.description });
          break;
        case 'result': {
          clearTimeout(timer);
          const c = current!;
          current = null;
          finish({
            index: m.index,
            kind: c.kind,
            description: m.description ?? c.description,
            outcome: m.outcome,
            detail: m.detail,
            ms: m.ms,
          });
          begin();
          break;
        }
        case 'done':
          stop(() => resolve(session));
          break;
      }
    });
    // 'close' (not 'exit'): it comes after every IPC message of the child has been delivered.
    child.on('close', (code, signal) => {
      const why = `process exited (${signal ?? `code ${code}`}): ${lastLines(stderr)}`;
      if (current) {
        const c = current;
        finish({
          index: c.index,
          kind: c.kind,
          description: c.description,
          outcome: 'crash',
          detail: why,
          ms: performance.now() - c.t0,
        });
        stop(() => resolve(session));
      } else if (session.finished === 0) {
        stop(() => reject(new Error(`campaign ${name}: child ${why}`)));
      } else {
        stop(() => resolve(session));
      }
    });
    child.send({ type: 'run', campaign: name, seed: options.seed, indices } satisfies ParentMessage);
  });
}

function lastLines(text: string): string {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.includes('XDG_RUNTIME_DIR'));
  return lines.slice(-3).join(' | ').slice(0, 400) || '(no output)';
}
