// The processor layout read from upstream statistics: InternData-A1 feature keys resolve to the
// robot's state/action order and delta mask (SPEC §2), generic keys to one state and one action
// feature, and a robot whose features the statistics lack is an error naming the feature.
import { describe, expect, it } from 'vitest';
import { layoutFromStats } from '../src/statsLayout.js';

const stat = (n: number) => ({ mean: Array<number>(n).fill(0), std: Array<number>(n).fill(1) });

describe('layoutFromStats', () => {
  it('orders InternData-A1 features as Genie-1 (arms, then grippers) with 14 delta dims', () => {
    const stats: Record<string, unknown> = {};
    for (const k of ['left_gripper', 'right_joint', 'left_joint', 'right_gripper']) {
      const n = k.endsWith('joint') ? 7 : 1;
      stats[`states.${k}.position`] = stat(n);
      stats[`actions.${k}.position`] = stat(n);
    }
    stats['images.rgb.head'] = { mean: [[[0.4]], [[0.5]], [[0.6]]] };
    const l = layoutFromStats(stats, 3, 'Genie-1');
    expect(l.robotType).toBe('Genie-1');
    expect(l.stateKeys).toEqual([
      'states.left_joint.position',
      'states.right_joint.position',
      'states.left_gripper.position',
      'states.right_gripper.position',
    ]);
    expect(l.actionKeys[1]).toBe('actions.right_joint.position');
    expect(l.deltaMask).toEqual([...Array<boolean>(14).fill(true), false, false]);
    expect(l.cameras).toEqual(['head', 'hand_left', 'hand_right']);
  });

  it('orders ARX Lift-2 features arm, gripper, arm, gripper', () => {
    const stats: Record<string, unknown> = {};
    for (const k of ['left_joint', 'left_gripper', 'right_joint', 'right_gripper']) {
      const n = k.endsWith('joint') ? 6 : 1;
      stats[`states.${k}.position`] = stat(n);
      stats[`actions.${k}.position`] = stat(n);
    }
    const l = layoutFromStats(stats, 3, 'ARX Lift-2');
    expect(l.stateKeys[1]).toBe('states.left_gripper.position');
    expect(l.deltaMask).toEqual([
      ...Array<boolean>(6).fill(true),
      false,
      ...Array<boolean>(6).fill(true),
      false,
    ]);
  });

  it('maps generic LeRobot keys to observation.state and action, all absolute', () => {
    const l = layoutFromStats({ 'observation.state': stat(4), action: stat(4) }, 2, 'my-arm');
    expect(l).toMatchObject({
      robotType: 'my-arm',
      stateKeys: ['observation.state'],
      actionKeys: ['action'],
    });
    expect(l.deltaMask).toEqual([false, false, false, false]);
    expect(l.cameras).toEqual(['head', 'hand_left']);
  });

  it('names what is missing when the statistics do not fit the robot', () => {
    expect(() => layoutFromStats({ 'observation.state': stat(4) }, 3, null)).toThrow(
      "robot mapping (generic): feature 'action' is not in the statistics",
    );
  });
});
