import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'vla-sim-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const cli = join(import.meta.dirname, '..', 'src', 'cli.ts');
const tsx = join(import.meta.dirname, '..', '..', '..', 'node_modules', '.bin', 'tsx');

describe('vla-sim', () => {
  it('rejects an unknown task or robot with a clear message', () => {
    const bad = spawnSync(
      tsx,
      [cli, 'record', '--task', 'juggle', '--robot', 'lift2', '--episodes', '1', '--out', join(dir, 'x')],
      { encoding: 'utf8' },
    );
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/unknown task "juggle"/);
    const r2 = spawnSync(
      tsx,
      [cli, 'record', '--task', 'pick-place', '--robot', 'r2d2', '--episodes', '1', '--out', join(dir, 'x')],
      { encoding: 'utf8' },
    );
    expect(r2.stderr).toMatch(/unknown robot "r2d2"/);
  }, 60_000);

  it('renders an expert episode with the GPU camera to a GIF that ffmpeg reads back with the frame count and size, and exits', () => {
    const out = join(dir, 'ep.gif');
    const run = spawnSync(
      tsx,
      [
        cli,
        'render',
        '--task',
        'pick-place',
        '--robot',
        'lift2',
        '--out',
        out,
        '--width',
        '48',
        '--height',
        '32',
      ],
      { encoding: 'utf8', timeout: 110_000 },
    );
    expect(run.status, run.stderr).toBe(0);
    const said = /^(\d+) frames to .*; expert succeeded$/m.exec(run.stdout);
    expect(said, run.stdout).not.toBeNull();
    const probe = execFileSync(
      'ffprobe',
      [
        '-v',
        'error',
        '-count_frames',
        '-select_streams',
        'v:0',
        '-show_entries',
        'stream=width,height,nb_read_frames',
        '-of',
        'csv=p=0',
        out,
      ],
      { encoding: 'utf8' },
    );
    expect(probe.trim()).toBe(`48,32,${said![1]}`);
  }, 120_000);
});
