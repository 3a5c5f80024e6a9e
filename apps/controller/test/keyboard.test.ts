// The keyboard e-stop through a real terminal: `vla-control run` runs under `script`, which gives it a
// pseudo-terminal as stdin (raw mode, as on a user's console); the test types `e` as soon as the keys
// are installed — while the checkpoint still loads, before the loop attaches a safety layer. The
// e-stop must latch: every one of the run's ticks holds, and the arm does not move.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { RunSummary } from '../src/runSummary.js';
import { tinyLift2Checkpoint } from './checkpoint.js';
import './setup.js';

const here = dirname(fileURLToPath(import.meta.url));
const cli = resolve(here, '../src/cli.ts');
// util-linux's `script` (Debian's essential bsdutils) allocates the pseudo-terminal.
const SCRIPT = '/usr/bin/script';

describe.skipIf(!existsSync(SCRIPT))('vla-control run: keyboard', () => {
  it('`e` on the terminal e-stops the robot even before the loop starts: every tick holds', async () => {
    const ckpt = await tinyLift2Checkpoint();
    const out = join(mkdtempSync(join(tmpdir(), 'vla-control-keys-')), 'summary.json');
    const command = [
      process.execPath,
      '--import tsx',
      cli,
      `run ${ckpt} --lockstep --max-steps 60 --steps 1 --image-size 32 --camera raycast --json ${out}`,
    ].join(' ');
    const child = spawn(SCRIPT, ['-qfec', command, '/dev/null'], {
      cwd: here,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let text = '';
    const seen = (s: string) =>
      new Promise<void>((ok, fail) => {
        const check = () => {
          if (text.includes(s)) ok();
          else if (child.exitCode !== null) fail(new Error(`exited before "${s}":\n${text}`));
          else setTimeout(check, 50);
        };
        check();
      });
    child.stdout.on('data', (d: Buffer) => (text += d.toString()));
    child.stderr.on('data', (d: Buffer) => (text += d.toString()));
    const exit = new Promise<number | null>((ok) => child.on('exit', (code) => ok(code)));

    await seen('keys: space/e = e-stop');
    child.stdin.write('e');
    await seen('E-STOP');
    expect(await exit, text).toBe(0);

    const s = JSON.parse(readFileSync(out, 'utf8')) as RunSummary;
    expect(s.estops).toBe(1);
    expect(s.ticks).toBe(60);
    // Every tick after the first (which holds for want of a chunk, before the layer can take the e-stop).
    expect(s.estopHolds).toBe(s.ticks - 1);
    expect(s.maxTravel).toBeLessThan(1e-3);
    expect(s.withinLimits).toBe(true);
  });
});
