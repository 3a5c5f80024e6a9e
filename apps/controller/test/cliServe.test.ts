// `vla-control serve` as a child process (port 0, the URL read from stderr); this process drives the
// simulated Lift-2 through @vla/openpi's client for one short lockstep episode, then `vla-control run
// --server` does the same from a second process; killing the server makes the executor hold.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { OpenpiClient, openpiActionSource } from '@vla/openpi';
import { LIFT2 } from '@vla/robots-arx';
import { sharedEpisodes } from '../src/episodeSource.js';
import type { RunSummary } from '../src/runSummary.js';
import { runSim } from '../src/simRun.js';
import { tinyLift2Checkpoint } from './checkpoint.js';
import './setup.js';

const here = dirname(fileURLToPath(import.meta.url));
const cli = resolve(here, '../src/cli.ts');

function start(args: string[]): { child: ChildProcess; stderr: () => string; exit: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import', 'tsx', cli, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    cwd: here,
  });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  child.stdout!.resume();
  return { child, stderr: () => err, exit: new Promise((ok) => child.on('exit', (code) => ok(code))) };
}

let server: ReturnType<typeof start> | undefined;
afterAll(() => {
  server?.child.kill('SIGKILL');
});

describe('vla-control serve', () => {
  it('serves a checkpoint to an openpi client that drives the simulator; run --server works; a killed server makes the robot hold', async () => {
    const ckpt = await tinyLift2Checkpoint(21);
    server = start(['serve', ckpt, '--port', '0', '--steps', '1']);
    let url = '';
    for (let i = 0; i < 600 && !url; i++) {
      url = /on (ws:\/\/[\d.]+:\d+)/.exec(server.stderr())?.[1] ?? '';
      if (!url) await new Promise((r) => setTimeout(r, 100));
    }
    expect(url, server.stderr()).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);
    const health = await fetch(`${url.replace('ws://', 'http://')}/healthz`);
    expect(health.status).toBe(200);

    const client = await OpenpiClient.connect(url);
    expect(client.metadata.robot_type).toBe(LIFT2.robotType);
    expect(client.metadata.action_horizon).toBe(10);
    expect(client.metadata.cameras).toEqual(['head']);
    const source = openpiActionSource(client, LIFT2);
    const common = {
      imageSize: 32,
      camera: 'raycast' as const,
      lockstep: { delayTicks: 2 },
      strategy: { kind: 'chunk' as const, executeSteps: 5 },
      seed: 4,
    };
    const live = await runSim({ ...common, openEpisode: sharedEpisodes(source), maxSteps: 14 });
    expect(live.errorMessages).toEqual([]);
    // Chunk 1 asked on tick 0, used on ticks 2–6; then every 3 ticks (rows 2–4): 7–9, 10–12, 13.
    expect(live.holds).toBe(2);
    expect(live.chunks).toBe(4);
    expect(live.maxTravel).toBeGreaterThan(1e-3);
    expect(live.withinLimits).toBe(true);

    // The same server from another process: vla-control run --server.
    const out = join(mkdtempSync(join(tmpdir(), 'vla-control-serve-')), 'run.json');
    const runner = start([
      'run',
      '--server',
      url,
      '--lockstep',
      '--max-steps',
      '8',
      '--delay',
      '2',
      '--execute-steps',
      '5',
      '--image-size',
      '32',
      '--json',
      out,
    ]);
    expect(await runner.exit, runner.stderr()).toBe(0);
    const remote = JSON.parse(readFileSync(out, 'utf8')) as RunSummary;
    expect(remote.errors).toBe(0);
    expect(remote.chunks).toBeGreaterThanOrEqual(2);
    expect(remote.maxTravel).toBeGreaterThan(1e-3);

    // Kill the server: requests fail, nothing arrives, every tick holds where the arm is.
    server.child.kill('SIGKILL');
    await server.exit;
    const dead = await runSim({ ...common, openEpisode: sharedEpisodes(source), maxSteps: 6 });
    expect(dead.chunks).toBe(0);
    expect(dead.errors).toBeGreaterThan(0);
    expect(dead.holds).toBe(6);
    expect(dead.maxTravel).toBe(0);
    await client.close().catch(() => undefined);
  });
});
