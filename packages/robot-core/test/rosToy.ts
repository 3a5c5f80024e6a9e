import {
  defineEmbodiment,
  RosbridgeRobot,
  type Embodiment,
  type RosConnectionOptions,
} from '../src/index.js';

/** Two joints and a gripper with real-sized limits, and one 64×48 head camera. */
export const camToy: Embodiment = defineEmbodiment({
  robotType: 'camtoy',
  dims: [
    { name: 'j1', kind: 'joint', unit: 'rad', lower: -3, upper: 3, maxVelocity: 1e3, delta: true },
    { name: 'j2', kind: 'joint', unit: 'rad', lower: -3, upper: 3, maxVelocity: 1e3, delta: true },
    { name: 'g', kind: 'gripper', unit: 'm', lower: 0, upper: 1, maxVelocity: 1e3, delta: false },
  ],
  cameras: [{ name: 'head', width: 64, height: 48, fps: 30 }],
  controlHz: 30,
  home: [0, 0, 0],
});

interface ArrayMsg {
  readonly data?: unknown;
}

function reader(offset: number, n: number) {
  return (msg: ArrayMsg, s: Float64Array) => {
    const d = msg.data;
    if (!Array.isArray(d) || d.length !== n || !d.every((v) => typeof v === 'number')) return false;
    s.set(d as number[], offset);
    return true;
  };
}

/**
 * A RosbridgeRobot for {@link camToy}: `split` = joints on `/toy/arm` and the gripper on `/toy/grip`,
 * otherwise all three on `/toy/state` (`data` arrays, plus whatever header the test sends); commands on
 * `/toy/cmd`; a `head` camera on `/toy/cam` (compressed unless `raw`).
 */
export function camToyRobot(
  options: RosConnectionOptions & { split?: boolean; raw?: boolean; noCamera?: boolean },
): RosbridgeRobot {
  const state = options.split
    ? [
        { topic: '/toy/arm', messageType: 'toy/Arm', read: reader(0, 2) },
        { topic: '/toy/grip', messageType: 'toy/Grip', read: reader(2, 1) },
      ]
    : [{ topic: '/toy/state', messageType: 'toy/State', read: reader(0, 3) }];
  return new RosbridgeRobot({
    ...options,
    embodiment: camToy,
    state,
    commands: [{ topic: '/toy/cmd', messageType: 'toy/Cmd', build: (p) => ({ data: [...p] }) }],
    cameras: options.noCamera
      ? []
      : [{ name: 'head', topic: '/toy/cam', kind: options.raw ? 'raw' : 'compressed' }],
  });
}

/** A ROS 2 header stamped at `ms`. */
export const stampAt = (ms: number) => ({
  stamp: { sec: Math.floor(ms / 1000), nanosec: Math.round((ms % 1000) * 1e6) },
  frame_id: '',
});
