import { ROBOT_LAYOUTS, makeBoolMask, type RobotLayout } from '@vla/robot-layouts';
import { describe, expect, test } from 'vitest';
import { parseInfo, ROBOT_DELTA_MASKS, robotKindOf, type DatasetInfo } from '../src/index';
import { resolveRobotMapping } from '../src/robotMapping';

// Feature widths that add up to the layout's action width: grippers 1, effectors 2, joints the rest.
function widths(keys: readonly string[], total: number): number[] {
  const fixed: number[] = keys.map((k) => (k.includes('gripper') ? 1 : k.includes('effector') ? 2 : 0));
  const free = fixed.filter((w) => w === 0).length;
  const rest = (total - fixed.reduce((a, b) => a + b, 0)) / free;
  return fixed.map((w) => w || rest);
}

function infoFor(robotType: string, l: RobotLayout, extraCameras: string[] = []): DatasetInfo {
  const n = l.deltaMask.length;
  const features: Record<string, unknown> = {};
  for (const keys of [l.stateKeys, l.actionKeys]) {
    const w = widths(keys, n);
    keys.forEach((k, i) => (features[k] = { dtype: 'float32', shape: [w[i]] }));
  }
  for (const k of [...Object.values(l.cameras), ...extraCameras])
    features[k!] = { dtype: 'video', shape: [48, 64, 3] };
  return parseInfo({
    codebase_version: 'v3.0',
    robot_type: robotType,
    fps: 30,
    total_episodes: 0,
    total_frames: 0,
    data_path: 'd',
    video_path: 'v',
    features,
  });
}

describe('resolveRobotMapping reads the layout table', () => {
  test.each(ROBOT_LAYOUTS.map((l) => [l.robotType, l] as const))(
    '%s: upstream keys, mask and cameras',
    (robotType, l) => {
      const m = resolveRobotMapping(infoFor(robotType, l));
      expect(m.robot).toBe(l.robot);
      expect(m.stateKeys).toEqual(l.stateKeys);
      expect(m.actionKeys).toEqual(l.actionKeys);
      expect(m.deltaMask).toEqual(l.deltaMask);
      expect(m.cameras).toEqual(l.cameras);
    },
  );

  test('upstream masks by hand: RoboTwin aloha, LIBERO panda, Franka, split aloha', () => {
    const mask = (t: string) =>
      resolveRobotMapping(
        infoFor(
          t,
          ROBOT_LAYOUTS.find((l) => l.robotType === t)!,
        ),
      ).deltaMask;
    expect(mask('aloha')).toEqual([
      true,
      true,
      true,
      true,
      true,
      true,
      false,
      true,
      true,
      true,
      true,
      true,
      true,
      false,
    ]);
    expect(mask('panda')).toEqual(Array(7).fill(true));
    expect(mask('Franka')).toEqual([...Array(7).fill(true), false]);
    expect(mask('split_aloha')).toEqual(makeBoolMask(6, -1, 6, -1));
  });

  test('a layout whose cameras the dataset lacks guesses cameras by name', () => {
    const l = ROBOT_LAYOUTS.find((x) => x.robotType === 'frankarobotiq')!;
    const i = infoFor('frankarobotiq', { ...l, cameras: {} }, [
      'observation.images.wrist_left',
      'observation.images.top',
    ]);
    expect(resolveRobotMapping(i).cameras).toEqual({
      head: 'observation.images.top',
      hand_left: 'observation.images.wrist_left',
    });
  });

  test('robot kinds come from the table, plus a few extra spellings', () => {
    expect(robotKindOf('piper')).toBe('AgileX Split Aloha');
    expect(robotKindOf('a2d')).toBe('Genie-1');
    expect(robotKindOf('aloha')).toBe('AgileX Aloha');
    expect(robotKindOf('Lift2')).toBe('ARX Lift-2');
    expect(robotKindOf('so101_follower')).toBe('generic');
  });

  test('the deprecated mask view agrees with the table', () => {
    for (const l of ROBOT_LAYOUTS) expect(ROBOT_DELTA_MASKS[l.robot]).toEqual(l.deltaMask);
  });
});
