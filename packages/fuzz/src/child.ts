// The process a campaign's cases run in. The parent (runner.ts) can kill it when a case hangs, even a
// case that blocks the event loop, and sees it die when a case crashes the process. Here every case
// is run with its stray rejections and exceptions captured, its event-loop delay measured, and its
// leak probe compared before and after.
import { loadCampaign } from './campaigns/index.js';
import { errorLine, type FuzzCase, type Verdict } from './outcome.js';
import { Rng } from './rng.js';
import type { ChildMessage, ParentMessage } from './runner.js';

const stray: unknown[] = [];
process.on('unhandledRejection', (e) => stray.push(e));
process.on('uncaughtException', (e) => stray.push(e));

function send(m: ChildMessage): Promise<void> {
  return new Promise((resolve) => process.send!(m, undefined, undefined, () => resolve()));
}

/**
 * The longest stall of the event loop since `reset`: a 10 ms interval that notes how late it runs.
 * (perf_hooks' monitorEventLoopDelay misses a single long synchronous block.) Its timer also keeps
 * the process alive while a case waits on a promise that never settles, so that is a hang too.
 */
class LoopMonitor {
  private last = performance.now();
  private worst = 0;
  constructor() {
    setInterval(() => {
      const now = performance.now();
      this.worst = Math.max(this.worst, now - this.last - 10);
      this.last = now;
    }, 10);
  }
  reset(): void {
    this.last = performance.now();
    this.worst = 0;
  }
  /** Worst lateness in ms. */
  get maxMs(): number {
    return Math.max(this.worst, performance.now() - this.last - 10);
  }
}

/** Lets late rejections and timers of the case surface before it is judged. */
async function settle(): Promise<void> {
  await new Promise((r) => setImmediate(r));
  await new Promise((r) => setTimeout(r, 10));
  await new Promise((r) => setImmediate(r));
}

async function main(m: Extract<ParentMessage, { type: 'run' }>): Promise<void> {
  const campaign = await loadCampaign(m.campaign);
  try {
    await campaign.setup();
  } catch (e) {
    await send({ type: 'setup-error', message: e instanceof Error ? (e.stack ?? e.message) : String(e) });
    process.exit(1);
  }
  stray.length = 0;
  await send({ type: 'ready', kinds: campaign.kinds });
  const delay = new LoopMonitor();
  for (const index of m.indices) {
    const kind = campaign.kinds[index % campaign.kinds.length];
    const before = campaign.leakProbe ? await campaign.leakProbe() : 0;
    const t0 = performance.now();
    let fc: FuzzCase;
    try {
      fc = await campaign.makeCase(kind, { rng: Rng.forCase(m.seed, index), index, seed: m.seed });
    } catch (e) {
      // A generator bug is the harness's, but it must not pass unnoticed.
      const detail = `harness error while building the case: ${errorLine(e)}`;
      await send({ type: 'start', index, kind, description: '(case could not be built)' });
      await send({ type: 'result', index, outcome: 'crash', detail, ms: performance.now() - t0 });
      continue;
    }
    await send({ type: 'start', index, kind, description: fc.description });
    stray.length = 0;
    delay.reset();
    let verdict: Verdict;
    try {
      verdict = await fc.run();
    } catch (e) {
      verdict = campaign.judgeError(e, fc);
    }
    const ms = performance.now() - t0;
    await settle();
    const maxDelayMs = delay.maxMs;
    if (stray.length) {
      verdict = { outcome: 'crash', detail: `uncaught during the case: ${errorLine(stray[0])}` };
    } else if (
      campaign.maxEventLoopDelayMs !== undefined &&
      maxDelayMs > campaign.maxEventLoopDelayMs &&
      verdict.outcome !== 'crash'
    ) {
      verdict = {
        outcome: 'hang',
        detail: `event loop blocked for ${maxDelayMs.toFixed(0)} ms (bound ${campaign.maxEventLoopDelayMs} ms)${verdict.detail ? `; ${verdict.detail}` : ''}`,
      };
    }
    if (campaign.maxEventLoopDelayMs !== undefined && verdict.outcome !== 'hang')
      verdict = {
        ...verdict,
        detail: `${verdict.detail ? `${verdict.detail} ` : ''}[event loop max ${maxDelayMs.toFixed(0)} ms]`,
      };
    let recycle = false;
    if (campaign.leakProbe) {
      const after = await campaign.leakProbe();
      if (after > before) {
        const what = `${campaign.leakUnit ?? 'probe'} ${before} before the case, ${after} after`;
        verdict =
          verdict.outcome === 'crash' || verdict.outcome === 'hang'
            ? { outcome: verdict.outcome, detail: `${verdict.detail} (and leaked: ${what})` }
            : {
                outcome: 'leak',
                detail: `${what}${verdict.detail ? ` (${verdict.outcome}: ${verdict.detail})` : ''}`,
              };
        // What leaked stays allocated: later cases get a fresh process.
        recycle = true;
      }
    }
    // Executors may refine the description while running (what a session actually sent).
    await send({
      type: 'result',
      index,
      outcome: verdict.outcome,
      detail: verdict.detail ?? '',
      ms,
      description: fc.description,
    });
    if (recycle) {
      await send({ type: 'recycle' });
      process.exit(0);
    }
  }
  await campaign.teardown();
  await send({ type: 'done' });
  process.exit(0);
}

process.once('message', (m: ParentMessage) => {
  if (m.type === 'run') void main(m);
});
