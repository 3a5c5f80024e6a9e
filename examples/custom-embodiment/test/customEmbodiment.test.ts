// The new robot end to end, checked against numbers written here from its data sheet (not read back
// from src): commands stay inside the limits, out-of-range chunks are clamped, and the layout maps to
// the policy's padded 32-value vectors as documented.
import { describe, expect, it } from 'vitest';
import { parseInfo, resolveRobotMapping } from '@vla/lerobot';
import { POLICY_DIM, SafetyLayer, fromPolicyActions, toPolicyState, type SafeCommand } from '@vla/robot-core';
import { ARM4 } from '../src/arm4Embodiment.js';
import { ARM4_DATASET_FEATURES, ARM4_DATASET_MAPPING } from '../src/arm4Layout.js';
import { runDemo } from '../src/runDemo.js';
import { scriptedSource } from '../src/scriptedSource.js';

/** The data sheet: position limits, velocity limits (per second), in robot units. */
const SHEET = [
  { name: 'joint1', lower: -2.6, upper: 2.6, maxVelocity: 3 },
  { name: 'joint2', lower: -1.5, upper: 1.5, maxVelocity: 2.5 },
  { name: 'joint3', lower: 0, upper: 2.6, maxVelocity: 2.5 },
  { name: 'joint4', lower: -1.8, upper: 1.8, maxVelocity: 4 },
  { name: 'gripper', lower: 0, upper: 0.08, maxVelocity: 0.2 },
];
const HOME = [0, 0.3, 1.2, 0, 0.08];
const TICK_S = 1 / 20;
const EPS = 1e-9;

/** Gripper opening (m) → dataset value: 0 = open (0.08 m), 1 = closed (0 m). */
const gripperToDataset = (m: number) => 1 - m / 0.08;

/** Every violation of the data sheet in a command stream that starts at HOME, as readable lines. */
function violations(commands: readonly SafeCommand[]): string[] {
  const out: string[] = [];
  let prev: { positions: readonly number[]; timestampMs: number } = {
    positions: HOME,
    timestampMs: commands[0]?.timestampMs ?? 0,
  };
  commands.forEach((c, k) => {
    const dt = (c.timestampMs - prev.timestampMs) / 1000;
    SHEET.forEach((d, i) => {
      const v = c.positions[i];
      if (!(v >= d.lower - EPS && v <= d.upper + EPS)) out.push(`#${k} ${d.name} = ${v} outside limits`);
      const step = Math.abs(v - prev.positions[i]);
      if (!(step <= d.maxVelocity * dt + EPS)) out.push(`#${k} ${d.name} moved ${step} in ${dt} s`);
    });
    prev = c;
  });
  return out;
}

describe('custom embodiment: Example Arm-4', () => {
  it('declares the data sheet: limits, velocities, delta mask, cameras', () => {
    expect(ARM4.dims.map((d) => [d.name, d.lower, d.upper, d.maxVelocity])).toEqual(
      SHEET.map((d) => [d.name, d.lower, d.upper, d.maxVelocity]),
    );
    expect(ARM4.dims.map((d) => d.delta)).toEqual([true, true, true, true, false]);
    expect(ARM4.cameras.map((c) => c.name)).toEqual(['head', 'hand_left']);
    expect([...ARM4.home]).toEqual(HOME);
  });

  it('sends the toy arm only commands inside the position and velocity limits', async () => {
    const run = await runDemo(scriptedSource(), 200);
    expect(run.errors).toEqual([]);
    expect(run.commands.length).toBe(200);
    expect(run.executor.chunksReceived).toBeGreaterThan(5);
    expect(violations(run.commands)).toEqual([]);
    // In range, the arm does what the chunks say: nothing is clamped and it really moves.
    expect(run.safety.positionClamped).toBe(0);
    const travel = Math.max(...run.commands.map((c) => Math.abs(c.positions[0] - HOME[0])));
    expect(travel).toBeCloseTo(0.3, 2);
    // Every request carries the state in dataset units, padded to 32.
    const first = run.requests[0];
    expect(first.state.length).toBe(POLICY_DIM);
    expect(first.prompt).toBe('wave');
    expect(Object.keys(first.images).sort()).toEqual(['hand_left', 'head']);
  });

  it('keeps chunks with targets far outside the limits inside them', async () => {
    const run = await runDemo(scriptedSource({ reach: 5, grip: 3 }), 200);
    expect(run.errors).toEqual([]);
    expect(violations(run.commands)).toEqual([]);
    // The targets did reach the limits, so the clamp was exercised, not avoided.
    const hi = (i: number) => Math.max(...run.commands.map((c) => c.positions[i]));
    const lo = (i: number) => Math.min(...run.commands.map((c) => c.positions[i]));
    expect(hi(1)).toBeCloseTo(SHEET[1].upper, 12);
    expect(hi(2)).toBeCloseTo(SHEET[2].upper, 12);
    expect(lo(2)).toBeCloseTo(SHEET[2].lower, 12);
    expect(lo(4)).toBeCloseTo(SHEET[4].lower, 12); // grip 3 is -0.16 m: clamped to closed
    expect(run.safety.positionClamped).toBeGreaterThan(100);
  });

  it('clamps a single far target to one tick of motion and holds on a malformed one', () => {
    const safety = new SafetyLayer(ARM4);
    safety.start(HOME, 0);
    safety.observe(HOME, 50);
    const far = safety.step([10, -10, 10, -10, 1], 50);
    SHEET.forEach((d, i) => {
      const want = Math.min(d.upper, Math.max(d.lower, [10, -10, 10, -10, 1][i]));
      const expected =
        HOME[i] + Math.sign(want - HOME[i]) * Math.min(Math.abs(want - HOME[i]), d.maxVelocity * TICK_S);
      expect(far.positions[i]).toBeCloseTo(expected, 12);
    });
    const nan = safety.step([0, Number.NaN, 0, 0, 0.04], 100);
    expect(nan).toMatchObject({ held: true, reason: 'invalid-action', positions: far.positions });
  });

  it('maps to the 32-value policy vectors: dataset units, zero padding, joint deltas, gripper absolute', () => {
    const state = [0.5, -0.25, 1.75, -1, 0.02];
    const padded = toPolicyState(ARM4, state);
    expect(padded.length).toBe(32);
    const expectedState = [0.5, -0.25, 1.75, -1, gripperToDataset(0.02), ...Array<number>(27).fill(0)];
    Array.from(padded).forEach((v, i) => expect(v).toBeCloseTo(expectedState[i], 6));

    // Two policy rows; the padding columns hold garbage the layout must ignore.
    const actions = new Float32Array(2 * 32).fill(99);
    actions.set([0.1, -0.2, 0.3, -0.4, 0.25], 0);
    actions.set([0, 0, 0, 0, 1], 32);
    const rows = fromPolicyActions(ARM4, { actions, horizon: 2, dim: 32 }, state);
    const expected = [
      [0.6, -0.45, 2.05, -1.4, 0.08 * (1 - 0.25)],
      [0.5, -0.25, 1.75, -1, 0],
    ];
    rows.forEach((r, h) => expected[h].forEach((v, i) => expect(r[i]).toBeCloseTo(v, 6)));
  });

  it('maps its LeRobot dataset with the delta mask an unknown robot type would lack', () => {
    const info = parseInfo({
      codebase_version: 'v3.0',
      robot_type: 'Example Arm-4',
      fps: 20,
      total_episodes: 1,
      total_frames: 10,
      data_path: 'data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet',
      video_path: 'videos/{video_key}/chunk-{chunk_index:03d}/file-{file_index:03d}.mp4',
      features: ARM4_DATASET_FEATURES,
    });
    expect(resolveRobotMapping(info).deltaMask).toEqual([false, false, false, false, false]);
    const mapping = resolveRobotMapping(info, ARM4_DATASET_MAPPING);
    expect(mapping.deltaMask).toEqual([true, true, true, true, false]);
    expect(mapping.cameras).toEqual({
      head: 'observation.images.head',
      hand_left: 'observation.images.wrist',
    });
    expect(info.robotType).toBe(ARM4.robotType);
  });
});
