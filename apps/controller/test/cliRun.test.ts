// `vla-control run` through the CLI as a child process (node with tsx as a loader), on the simulated
// Lift-2 in lockstep: a tiny checkpoint made here, 40 ticks, chunks of 10 executed 6 at a time with a
// simulated inference delay of 2 ticks. Bad arguments exit 2 naming the flag; a missing checkpoint exits 1.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LIFT2 } from '@vla/robots-arx';
import type { RunSummary } from '../src/runSummary.js';
import { tinyLift2Checkpoint } from './checkpoint.js';
import { vlaControl } from './vlaControl.js';
import './setup.js';

describe('vla-control run', () => {
  it('runs a checkpoint on the simulator in lockstep: exit 0, chunks with latency, no errors, the arm moved within limits', async () => {
    const ckpt = await tinyLift2Checkpoint();
    const out = join(mkdtempSync(join(tmpdir(), 'vla-control-run-')), 'summary.json');
    const r = await vlaControl([
      'run',
      ckpt,
      '--lockstep',
      '--max-steps',
      '40',
      '--delay',
      '2',
      '--execute-steps',
      '6',
      '--steps',
      '1',
      '--image-size',
      '32',
      '--camera',
      'raycast',
      '--seed',
      '3',
      '--json',
      out,
    ]);
    expect(r.stderr).not.toContain('vla-control:');
    expect(r.code).toBe(0);
    const s = JSON.parse(readFileSync(out, 'utf8')) as RunSummary;
    expect(s.mode).toBe('lockstep');
    expect(s.episodes).toBe(1);
    expect(s.ticks).toBe(40);
    expect(s.errors).toBe(0);
    expect(s.errorMessages).toEqual([]);
    // The schedule by hand: chunk 1 is asked on tick 0 and arrives for tick 2 (2 holds), runs rows 0–5
    // on ticks 2–7; every later chunk is asked 2 ticks before the plan runs out (tick 6, 10, …), so it
    // arrives exactly when the plan ends and runs its rows 2–5: ticks 8–11, 12–15, …, 36–39 (chunks
    // 2–9); chunk 10 is asked on tick 38 and never arrives.
    expect(s.holds).toBe(2);
    expect(s.requests).toBe(10);
    expect(s.chunks).toBe(9);
    expect(s.chunksDropped).toBe(0);
    expect(s.chunkLatencyMs.mean).toBeGreaterThan(0);
    expect(s.chunkLatencyMs.p95).toBeGreaterThanOrEqual(s.chunkLatencyMs.mean * 0.5);
    expect(s.perEpisode[0].latenciesMs.length).toBe(s.chunks);
    expect(s.maxTravel).toBeGreaterThan(1e-3);
    expect(s.withinLimits).toBe(true);
    expect(s.robot).toBe('lift2');
    expect(LIFT2.dims.length).toBe(14);
  });

  it('bad arguments exit 2 naming the flag', async () => {
    const a = await vlaControl(['run', 'x.safetensors', '--max-steps', '-3']);
    expect(a.code).toBe(2);
    expect(a.stderr).toContain('--max-steps');
    const b = await vlaControl(['run', 'x.safetensors', '--strategy', 'fancy']);
    expect(b.code).toBe(2);
    expect(b.stderr).toContain('--strategy');
    const c = await vlaControl(['run', 'x.safetensors', '--robot', 'arx-lift2']);
    expect(c.code).toBe(2);
    expect(c.stderr).toContain('--rosbridge');
  });

  it('a missing checkpoint exits 1 naming the file', async () => {
    const path = join(tmpdir(), 'no-such-dir-vla', 'missing.safetensors');
    const r = await vlaControl(['run', path, '--lockstep', '--max-steps', '2']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(path);
  });
});
