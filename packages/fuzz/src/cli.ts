// Command line of the fuzz runs: `--count N --seed S [--campaign a,b] [--case i,j] [--json file]`.
import { writeFileSync } from 'node:fs';
import { CAMPAIGN_NAMES, type CampaignName } from './campaigns/names.js';
import type { FuzzReport } from './report.js';
import { runCampaign } from './runner.js';

/** Parsed command line. */
export interface FuzzArgs {
  count: number;
  seed: number;
  campaigns: CampaignName[];
  cases?: number[];
  json?: string;
  quiet: boolean;
}

/** Parses the flags; throws with a usage line on anything unknown. */
export function parseFuzzArgs(argv: readonly string[], defaults: { count: number; seed: number }): FuzzArgs {
  const usage =
    'usage: fuzz [--count N] [--seed S] [--campaign checkpoints,datasets,rosbridge] [--case I,J] [--json FILE] [--quiet]';
  const args: FuzzArgs = {
    count: defaults.count,
    seed: defaults.seed,
    campaigns: [...CAMPAIGN_NAMES],
    quiet: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value\n${usage}`);
      return v;
    };
    const int = (v: string) => {
      const n = Number(v);
      if (!Number.isSafeInteger(n) || n < 0)
        throw new Error(`${flag}: expected a non-negative integer, got ${v}\n${usage}`);
      return n;
    };
    switch (flag) {
      case '--count':
        args.count = int(value());
        break;
      case '--seed':
        args.seed = int(value());
        break;
      case '--campaign': {
        const names = value().split(',');
        for (const n of names)
          if (!(CAMPAIGN_NAMES as readonly string[]).includes(n))
            throw new Error(`unknown campaign ${n}\n${usage}`);
        args.campaigns = names as CampaignName[];
        break;
      }
      case '--case':
        args.cases = value().split(',').map(int);
        break;
      case '--json':
        args.json = value();
        break;
      case '--quiet':
        args.quiet = true;
        break;
      default:
        throw new Error(`unknown flag ${flag}\n${usage}`);
    }
  }
  return args;
}

/** Runs the campaigns, printing progress and each outcome table; resolves to the reports. */
export async function runFuzz(
  args: FuzzArgs,
  log: (line: string) => void = console.log,
): Promise<FuzzReport[]> {
  const reports: FuzzReport[] = [];
  for (const name of args.campaigns) {
    const t0 = performance.now();
    const report = await runCampaign(name, {
      seed: args.seed,
      count: args.count,
      indices: args.cases,
      onResult: (r) => {
        if (
          !args.quiet ||
          r.outcome === 'crash' ||
          r.outcome === 'hang' ||
          r.outcome === 'leak' ||
          r.outcome === 'silent-change'
        )
          log(
            `  ${name} #${r.index} ${r.kind} → ${r.outcome} (${r.ms.toFixed(0)} ms)${r.detail ? `: ${r.detail}` : ''}`,
          );
      },
    });
    log(`${report.format()}\n(${((performance.now() - t0) / 1000).toFixed(1)} s)\n`);
    reports.push(report);
  }
  if (args.json)
    writeFileSync(
      args.json,
      JSON.stringify(
        reports.map((r) => ({ campaign: r.campaign, seed: r.seed, results: r.results })),
        null,
        1,
      ),
    );
  return reports;
}
