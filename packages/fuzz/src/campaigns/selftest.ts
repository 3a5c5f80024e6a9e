// A campaign whose cases end in every outcome on purpose, so the harness's own detection (time
// limits, process crashes, stray rejections, leak probes, event-loop stalls) is tested.
import { SELFTEST_KINDS } from './names.js';
import { judgeByClass, type Campaign, type CaseContext, type FuzzCase, type Verdict } from '../outcome.js';

/** Raised by the self-test's "clear" cases. */
export class SelfTestError extends Error {
  override name = 'SelfTestError';
}

/** The self-test campaign (not part of the fuzz runs). */
export function selftestCampaign(): Campaign {
  let held = 0;
  return {
    name: 'selftest',
    kinds: SELFTEST_KINDS,
    maxEventLoopDelayMs: 300,
    async setup() {},
    makeCase(kind: string, ctx: CaseContext): FuzzCase {
      return {
        kind,
        description: `self-test ${kind} #${ctx.index}`,
        subjects: ['subject.bin'],
        async run(): Promise<Verdict> {
          switch (kind as (typeof SELFTEST_KINDS)[number]) {
            case 'clear-error':
              throw new SelfTestError('subject.bin: field x is wrong');
            case 'accepted':
              return { outcome: 'accepted' };
            case 'silent-change':
              return { outcome: 'silent-change', detail: 'value 1 became 2' };
            case 'crash:type-error':
              return (null as unknown as { x(): Verdict }).x();
            case 'crash:unclear-message':
              throw new SelfTestError('something is wrong');
            case 'crash:unhandled-rejection':
              void Promise.reject(new RangeError('stray'));
              return { outcome: 'accepted' };
            case 'crash:process-exit':
              process.exit(3);
            // falls through (never reached)
            case 'hang:busy-loop':
              for (;;);
            // falls through (never reached)
            case 'hang:never-resolves':
              return new Promise<Verdict>(() => {});
            case 'hang:event-loop': {
              const end = Date.now() + 600;
              while (Date.now() < end);
              return { outcome: 'accepted' };
            }
            case 'leak':
              held += 1;
              return { outcome: 'accepted' };
          }
        },
      };
    },
    judgeError(error: unknown, fuzzCase: FuzzCase): Verdict {
      return judgeByClass(error, fuzzCase, [SelfTestError]);
    },
    leakProbe: async () => held,
    leakUnit: 'units held',
    async teardown() {},
  };
}
