// client.py against a real `vla-control serve` child process on the shipped policy: the metadata
// handshake, 50-row chunks with one value per Lift-2 dim, finite values, and a malformed observation
// answered with an error that names what is wrong (while the server keeps serving).
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pretrainedPolicyPath } from '@vla/pretrained/node';
import { LIFT2 } from '@vla/robots-arx';

/** Chunk size of InternVLA-A1 (and of the shipped policy). */
const HORIZON = 50;
const client = fileURLToPath(new URL('../client.py', import.meta.url));
const cli = binOf('@vla/controller', 'vla-control');
const python = process.env.VLA_PYTHON ?? '/usr/bin/python3';
const probe = spawnSync(python, ['-c', 'import msgpack, numpy, websockets'], { encoding: 'utf8' });
const missing =
  probe.status === 0
    ? undefined
    : `${python} lacks msgpack, numpy or websockets (Debian: python3-msgpack python3-numpy python3-websockets): ${
        probe.error?.message ?? probe.stderr.trim().split('\n').pop()
      }`;
const skipNote = missing ? ` (skipped: ${missing})` : '';

/** The script of an installed package's bin, found the way Node finds packages: up the node_modules folders. */
function binOf(pkg: string, bin: string): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const manifest = join(dir, 'node_modules', pkg, 'package.json');
    if (existsSync(manifest)) {
      const bins = (JSON.parse(readFileSync(manifest, 'utf8')) as { bin: Record<string, string> }).bin;
      return join(dirname(manifest), bins[bin]);
    }
    if (dirname(dir) === dir) throw new Error(`${pkg} is not installed (npm install at the repository root)`);
  }
}

interface Report {
  metadata: Record<string, unknown>;
  replies: { shape: number[]; dtype: string; actions: (number | null)[][] }[];
  error?: string;
}

function runClient(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(python, [client, ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (err as { code?: unknown }).code : 0;
      resolve({ code: typeof code === 'number' ? code : -1, stdout, stderr });
    });
  });
}

let server: ChildProcess | undefined;
let serverLog = '';
let url = '';

beforeAll(async () => {
  if (missing) return;
  server = spawn(process.execPath, [cli, 'serve', pretrainedPolicyPath(), '--port', '0'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  server.stderr!.on('data', (d: Buffer) => (serverLog += d.toString()));
  const exited = new Promise<never>((_, reject) =>
    server!.once('exit', (code) => reject(new Error(`vla-control serve exited (${code}):\n${serverLog}`))),
  );
  // The server prints `serving <file> on ws://host:port` once it listens.
  const listening = new Promise<string>((resolve) => {
    const look = () => {
      const m = /on (ws:\/\/[\d.]+:\d+)/.exec(serverLog);
      if (m) resolve(m[1]);
      else setTimeout(look, 100);
    };
    look();
  });
  url = await Promise.race([listening, exited]);
});

afterAll(async () => {
  if (!server || server.exitCode !== null) return;
  const done = new Promise((resolve) => server!.once('exit', resolve));
  server.kill('SIGTERM'); // the server closes its socket and frees the policy on SIGTERM
  const force = setTimeout(() => server!.kill('SIGKILL'), 10_000);
  await done;
  clearTimeout(force);
});

// In order: the malformed request comes first, so the later ones also show the server still serves.
describe('client.py against vla-control serve', () => {
  it.skipIf(missing)(`refuses a malformed observation with an error naming it${skipNote}`, async () => {
    const short = Array<number>(LIFT2.dims.length - 1)
      .fill(0)
      .join(',');
    const { code, stderr } = await runClient(['--url', url, '--requests', '1', '--state', short]);
    expect(code, stderr).toBe(2);
    expect(stderr).toContain(`observation "state": shape [13], ARX Lift-2 needs [14]`);
  });

  it.skipIf(missing)(`prints the metadata and gets 50 x 14 finite chunks${skipNote}`, async () => {
    const health = await fetch(`${url.replace('ws://', 'http://')}/healthz`);
    expect(health.status).toBe(200);
    const { code, stdout, stderr } = await runClient(['--url', url, '--requests', '3', '--json']);
    expect(code, `${stderr}\n${serverLog}`).toBe(0);
    const report = JSON.parse(stdout) as Report;
    expect(report.metadata).toMatchObject({
      robot_type: 'ARX Lift-2',
      action_horizon: HORIZON,
      cameras: ['head', 'hand_left', 'hand_right'],
      state_names: LIFT2.dims.map((d) => d.name),
    });
    expect(report.replies.length).toBe(3);
    for (const reply of report.replies) {
      expect(reply.dtype).toBe('<f4');
      expect(reply.shape).toEqual([HORIZON, LIFT2.dims.length]);
      expect(reply.actions.length).toBe(HORIZON);
      for (const row of reply.actions) {
        expect(row.length).toBe(LIFT2.dims.length);
        // client.py writes non-finite values as null.
        expect(row.filter((v) => !(typeof v === 'number' && Number.isFinite(v)))).toEqual([]);
      }
    }
  });

  it.skipIf(missing)(`prints what it does for people${skipNote}`, async () => {
    const { code, stdout } = await runClient(['--url', url, '--requests', '1']);
    expect(code).toBe(0);
    expect(stdout).toContain('robot_type: ARX Lift-2');
    expect(stdout).toMatch(/request 1: action chunk 50 x 14 float32/);
  });
});
