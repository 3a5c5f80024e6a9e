// The example as a user runs it: a LeRobot dataset recorded by the simulator's scripted expert (ARX
// Lift-2, pick-place, one episode, 64 px cameras), `src/main.ts` in a child process for two training
// steps of the tiny preset, then the policy file it wrote loaded here and asked for a chunk. The
// dataset frame the example feeds the policy is checked against the dataset's raw parquet columns.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FfmpegDecoder, openLocalDataset } from '@vla/lerobot';
import { loadPolicySource } from '@vla/policy-runtime';
import { datasetParts, simRobot } from '@vla/sim';
import { recordDataset } from '@vla/sim/node';
import { init, shutdown } from '@vla/tensor-webgpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { datasetFrame } from '../src/datasetFrame.js';
import { runMain } from './runMain.js';

const SIZE = 64;
const STEPS = 2;
const root = mkdtempSync(join(tmpdir(), 'vla-example-train-'));
const dataset = join(root, 'lift2-pick-place');
const out = join(root, 'run');
const embodiment = simRobot('lift2').embodiment;

beforeAll(async () => {
  await init();
  // The CPU ray-caster: faster here than the GPU camera on SwiftShader at 64 px, and needs no GPU.
  const summary = await recordDataset({
    task: 'pick-place',
    robot: 'lift2',
    episodes: 1,
    out: dataset,
    imageWidth: SIZE,
    imageHeight: SIZE,
    camera: 'raycast',
  });
  expect(summary.saved).toBe(1);
});

afterAll(() => {
  shutdown();
  rmSync(root, { recursive: true, force: true });
});

describe('datasetFrame', () => {
  it('reads a frame as a request: the raw state columns, every camera, the episode task', async () => {
    const ds = await openLocalDataset(dataset, { decoder: new FfmpegDecoder() });
    const episode = await ds.readEpisode(0);
    const row = 40;
    const frame = await datasetFrame(dataset, row);
    // Reference: the recorder's parts at their embodiment dims, straight from the parquet columns.
    const want = new Float32Array(32);
    for (const p of datasetParts(embodiment)) {
      const c = episode.columns[`states.${p.part}.position`];
      p.dims.forEach((d, j) => (want[d] = c.values[row * c.width + j]));
    }
    expect(frame.index).toBe(row);
    expect(Array.from(frame.state)).toEqual(Array.from(want));
    expect(frame.prompt).toBe(ds.episodes[0].tasks[0]);
    expect(Object.keys(frame.images).sort()).toEqual(embodiment.cameras.map((c) => c.name).sort());
    for (const [camera, image] of Object.entries(frame.images)) {
      expect([image.width, image.height, image.data.length]).toEqual([SIZE, SIZE, SIZE * SIZE * 3]);
      expect(new Set(image.data).size).toBeGreaterThan(10);
      // The frame of that row, decoded straight from the camera's video.
      const [decoded] = await ds.decodeFrames(0, `images.rgb.${camera}`, [row / ds.fps]);
      expect(
        Buffer.from(image.data).equals(Buffer.from(decoded as Uint8Array)),
        `${camera} at row ${row}`,
      ).toBe(true);
    }
    await expect(datasetFrame(dataset, ds.numFrames)).rejects.toThrow(
      `has frames 0…${ds.numFrames - 1}, not ${ds.numFrames}`,
    );
  });
});

describe('src/main.ts', () => {
  it('trains, writes policy.safetensors and prints a chunk the written policy gives', async () => {
    const run = await runMain([dataset, '--out', out, '--steps', String(STEPS)]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`step ${STEPS}/${STEPS}  loss `);
    expect(run.stdout).toMatch(/→ action chunk 50 × 32\n/);

    // The run trained the steps asked for.
    const state = JSON.parse(
      readFileSync(join(out, 'checkpoints', `step-0000000${STEPS}`, 'state.json'), 'utf8'),
    );
    expect(state.step).toBe(STEPS);

    // The file alone is a policy for the recorded robot: a chunk of the right shape, finite, absolute,
    // zero past the robot's 14 dims, and equal to the targets the example printed.
    const loaded = await loadPolicySource(join(out, 'policy.safetensors'));
    try {
      const { processor, source } = loaded;
      expect(processor.json.robotType).toBe(embodiment.robotType);
      expect(processor.json.cameras).toEqual(['head', 'hand_left', 'hand_right']);
      const frame = await datasetFrame(dataset);
      const chunk = await source({ robotType: processor.json.robotType, ...frame, timestampMs: 0 });
      expect([chunk.horizon, chunk.dim, chunk.absolute, chunk.actions.length]).toEqual([
        50,
        32,
        true,
        50 * 32,
      ]);
      expect(chunk.actions.every(Number.isFinite)).toBe(true);
      const dims = processor.json.actionNames.length;
      expect(dims).toBe(14);
      for (let h = 0; h < chunk.horizon; h++)
        expect(Array.from(chunk.actions.subarray(h * 32 + dims, (h + 1) * 32))).toEqual(
          new Array(32 - dims).fill(0),
        );
      const printed = /first target: \[([^\]]*)\]/.exec(run.stdout)![1].split(', ').map(Number);
      expect(printed).toHaveLength(dims);
      printed.forEach((v, i) => expect(Math.abs(v - chunk.actions[i])).toBeLessThan(2e-3));
    } finally {
      loaded.dispose();
    }
  });

  it('explains what is missing or wrong', async () => {
    const [none, badSteps] = await Promise.all([
      runMain([]),
      runMain([dataset, '--out', join(root, 'bad'), '--steps', 'ten']),
    ]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('usage: main <lerobot-dataset-folder…>');
    expect(badSteps.code).toBe(2);
    expect(badSteps.stderr).toContain('train config: steps must be a positive integer');
  });
});
