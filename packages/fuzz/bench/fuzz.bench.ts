// The fuzz campaigns at scale: `npm run bench -w @vla/fuzz -- --count 2000 --seed 7`. Prints the
// outcome table per campaign and every failing case; exits 1 when any case failed.
import { parseFuzzArgs, runFuzz } from '../src/cli.js';

const args = parseFuzzArgs(process.argv.slice(2), { count: 200, seed: 1 });
console.log(`fuzz: ${args.count} cases per campaign, seed ${args.seed}`);
const reports = await runFuzz({ ...args, quiet: true });
const failed = reports.reduce((n, r) => n + r.failures().length, 0);
console.log(failed ? `${failed} failing cases` : 'no failing cases');
process.exitCode = failed ? 1 : 0;
