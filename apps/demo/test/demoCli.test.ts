// The main job end to end with the reduced counts (`vla-demo --quick`): the CLI's printed success
// table, summary.json and the report agree; the report is one self-contained file holding a rollout
// GIF per task (decoded with another library: frame count and size) and the fine-tune's numbers.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DemoSummary } from '../src/index.js';
import { decodeGif } from './gifDecode.js';

const here = dirname(fileURLToPath(import.meta.url));
const cli = resolve(here, '../src/cli.ts');
const root = mkdtempSync(join(tmpdir(), 'vla-demo-cli-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Runs the CLI (node with tsx as a loader, so the test needs no build). */
function runCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', cli, ...args], {
    cwd: resolve(here, '..'),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  return new Promise((res, rej) => {
    child.on('error', rej);
    child.on('close', (code) => res({ code: code ?? 1, stdout, stderr }));
  });
}

const out = join(root, 'run');
let result: { code: number; stdout: string; stderr: string };
let summary: DemoSummary;
let html: string;

beforeAll(async () => {
  result = await runCli(['--quick', '--out', out]);
  if (result.code !== 0) throw new Error(`vla-demo exited with ${result.code}:\n${result.stderr}`);
  summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as DemoSummary;
  html = readFileSync(join(out, 'report.html'), 'utf8');
  // The whole job runs here (a couple of minutes on a loaded 2-core CPU); the limit only guards against a hang.
}, 900_000);

describe('vla-demo --quick', () => {
  it('evaluates both tasks of the shipped policy and says where the report is', () => {
    expect(summary.mode).toBe('finetune');
    expect(summary.policy).toBe('tiny-lift2');
    expect(Object.keys(summary.success)).toEqual(['pick-place', 'conveyor-sort']);
    for (const s of Object.values(summary.success)) {
      expect(s.episodes).toBe(1);
      expect(s.runs.map((r) => r.seed)).toEqual([0]);
      expect(s.successes).toBe(s.runs.filter((r) => r.success).length);
    }
    expect(result.stdout).toContain(`report:  ${join(out, 'report.html')}`);
    expect(summary.files.report).toBe(join(out, 'report.html'));
    for (const k of ['load', 'evaluate', 'record', 'train', 'loss', 'report', 'total'])
      expect(summary.timings[k as keyof DemoSummary['timings']]).toBeGreaterThan(0);
  });

  it('prints the same success table as summary.json and the report', () => {
    for (const [task, s] of Object.entries(summary.success)) {
      const printed = new RegExp(`^\\s+${task}\\s+(\\d+)/(\\d+) \\(`, 'm').exec(result.stdout);
      expect(printed, `printed line for ${task}`).not.toBeNull();
      expect([Number(printed![1]), Number(printed![2])]).toEqual([s.successes, s.episodes]);
      const row = new RegExp(
        `<tr data-task="${task}">.*?<td class="num successes">(\\d+)</td><td class="num episodes">(\\d+)</td>`,
      ).exec(html);
      expect(row, `report row for ${task}`).not.toBeNull();
      expect([Number(row![1]), Number(row![2])]).toEqual([s.successes, s.episodes]);
    }
  });

  it('fine-tunes on fresh demonstrations and reports the fixed-batch loss before and after', () => {
    const t = summary.training;
    expect(t.demonstrations).toEqual({ 'pick-place': 1, 'conveyor-sort': 1 });
    expect(t.steps).toBe(3);
    expect(t.curve.map((p) => p.step)).toEqual([1, 2, 3]);
    expect(Number.isFinite(t.lossBefore) && Number.isFinite(t.lossAfter)).toBe(true);
    // Three tiny steps change the weights, so the two losses differ.
    expect(t.lossAfter).not.toBe(t.lossBefore);
    expect(html).toContain(`<td class="num" id="loss-before">${Number(t.lossBefore.toPrecision(4))}</td>`);
    expect(html).toContain(`<td class="num" id="loss-after">${Number(t.lossAfter.toPrecision(4))}</td>`);
  });

  it('writes one self-contained report: every src/href is a data: URL, no external script or style', () => {
    const refs = [...html.matchAll(/\b(?:src|href)\s*=\s*["']([^"']*)["']/gi)].map((m) => m[1]);
    expect(refs.length).toBeGreaterThan(0);
    for (const r of refs) expect(r.startsWith('data:'), r.slice(0, 60)).toBe(true);
    expect(html).not.toMatch(/<link\b/i);
    expect(html).toContain("default-src 'none'");
  });

  it('holds a rollout GIF per task: one frame per stride of the filmed episode, at the filmed size', () => {
    const gifs = [
      ...html.matchAll(
        /<figure data-task="([^"]+)"><img class="rollout" src="data:image\/gif;base64,([^"]+)"/g,
      ),
    ];
    expect(gifs.map((m) => m[1])).toEqual(['pick-place', 'conveyor-sort']);
    for (const [, task, b64] of gifs) {
      const gif = decodeGif(new Uint8Array(Buffer.from(b64, 'base64')));
      // --quick films 96 px, at most 30 frames of a 60-tick episode: every 2nd tick, plus tick 0.
      expect([gif.width, gif.height]).toEqual([96, 96]);
      const ticks = summary.success[task].runs[0].ticks;
      expect(gif.frames).toHaveLength(1 + Math.ceil(ticks / 2));
      // A rendered scene, not a blank frame.
      const f = gif.frames[0];
      expect(f.some((v, i) => i % 4 !== 3 && v !== f[0])).toBe(true);
    }
  });

  it('shows the foresight next to the real frame for each task', () => {
    const figs = [
      ...html.matchAll(/<figure data-task="([^"]+)"><img class="foresight" src="data:image\/png;base64,/g),
    ];
    expect(figs.map((m) => m[1])).toEqual(['pick-place', 'conveyor-sort']);
  });
});
