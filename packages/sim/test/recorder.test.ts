import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { robotToDataset } from '@vla/robot-core';
import { LIFT2 } from '@vla/robots-arx';
import { SampleBuilder, openLocalDataset } from '@vla/lerobot';
import { afterAll, describe, expect, it } from 'vitest';
import { ScriptedExpert, SimEnv, loadMujoco, recordDataset } from '../src/node.js';

const dir = mkdtempSync(join(tmpdir(), 'vla-sim-rec-'));
const SIZE = 48;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('recordDataset', () => {
  it('writes a LeRobot v3.0 dataset that reads back through SampleBuilder with the right shapes and stats', async () => {
    const mj = await loadMujoco();
    const states: number[][] = [];
    // The GPU camera (the default), small for CI.
    const summary = await recordDataset({
      task: 'pick-place',
      robot: 'lift2',
      episodes: 2,
      out: join(dir, 'ds'),
      imageWidth: SIZE,
      imageHeight: SIZE,
      mujoco: mj,
      onEpisode: (e) => states.push([e.length]),
    });
    expect(summary).toMatchObject({ episodes: 2, successes: 2, saved: 2 });

    const ds = await openLocalDataset(join(dir, 'ds'));
    expect(ds.info.robotType).toBe('ARX Lift-2');
    expect(ds.fps).toBe(LIFT2.controlHz);
    expect(ds.numFrames).toBe(summary.frames);
    expect(ds.episodes.map((e) => e.length)).toEqual(states.map((s) => s[0]));
    const builder = new SampleBuilder(ds);
    expect(builder.mapping.robot).toBe('ARX Lift-2');
    expect(builder.mapping.keyFamily).toBe('InternData-A1');
    expect([builder.stateDim, builder.actionDim]).toEqual([14, 14]);
    const s = await builder.build(5);
    expect(s.state.length).toBe(32);
    expect(s.actions.length).toBe(50 * 32);
    expect(s.images.head).toHaveLength(3);
    expect(s.images.head[1].length).toBe(224 * 224 * 3);
    expect(s.imageMasks).toEqual({ head: true, hand_left: true, hand_right: true });
    expect(s.task.length).toBeGreaterThan(5);
    // The first frame's state is the home pose (dataset units equal robot units on Lift-2), and
    // the padding after 14 dims is zero.
    const first = await builder.build(0);
    const home = robotToDataset(LIFT2, LIFT2.home);
    for (let i = 0; i < 14; i++) expect(first.state[i]).toBeCloseTo(home[i], 3);
    expect(Array.from(first.state.subarray(14))).toEqual(new Array(18).fill(0));

    // Stats: the stored mean of the left arm state equals the mean recomputed from the data rows.
    const stats = ds.stats!;
    const rows: number[][] = [];
    for (let e = 0; e < 2; e++) {
      const col = (await ds.readEpisode(e)).columns['states.left_joint.position'];
      for (let i = 0; i < col.values.length; i += 6) rows.push(Array.from(col.values.subarray(i, i + 6)));
    }
    expect(rows).toHaveLength(ds.numFrames);
    const mean = rows[0].map((_, j) => rows.reduce((a, r) => a + r[j], 0) / rows.length);
    stats['states.left_joint.position'].mean.forEach((m, j) => expect(m).toBeCloseTo(mean[j], 4));

    // The videos hold what the cameras rendered at each tick, within the codec's loss: replay the
    // (deterministic) expert on seed 0 and render the same ticks again.
    const LATER = 45;
    const env = await SimEnv.create({
      task: 'pick-place',
      robot: 'lift2',
      imageWidth: SIZE,
      imageHeight: SIZE,
      mujoco: mj,
    });
    const replay = [await env.resetAsync(0)];
    const expert = new ScriptedExpert(env);
    for (let t = 0; t < LATER; t++) replay.push((await env.stepAsync(expert.act())).observation);
    expert.delete();
    env.delete();
    const meanDiff = (a: Uint8Array, b: Uint8Array) => {
      let diff = 0;
      for (let k = 0; k < a.length; k++) diff += Math.abs(a[k] - b[k]);
      return diff / a.length;
    };
    const decoded: Record<string, Uint8Array[]> = {};
    for (const cam of ['head', 'hand_left', 'hand_right']) {
      const [first, later] = await ds.decodeFrames(0, `images.rgb.${cam}`, [0, LATER / ds.fps]);
      decoded[cam] = [first, later];
      expect(first.length).toBe(SIZE * SIZE * 3);
      expect(meanDiff(first, replay[0].images[cam].data), cam).toBeLessThan(6);
      expect(meanDiff(later, replay[LATER].images[cam].data), cam).toBeLessThan(6);
    }
    // Frames are aligned with ticks: the wrist camera of the arm that moved (its view changed most)
    // shows tick LATER, clearly nearer to that tick's render than to the one before.
    const [moving] = ['hand_left', 'hand_right'].sort(
      (a, b) =>
        meanDiff(replay[LATER].images[b].data, replay[0].images[b].data) -
        meanDiff(replay[LATER].images[a].data, replay[0].images[a].data),
    );
    const later = decoded[moving][1];
    expect(meanDiff(later, replay[LATER - 1].images[moving].data)).toBeGreaterThan(
      2 * meanDiff(later, replay[LATER].images[moving].data),
    );
  }, 120_000);
});
