// The drivers under test and how a well-behaved robot talks to each: which topics carry joint
// state (and how a state vector becomes those messages), which carry camera images, which take
// commands. Gripper maps are set to identity so a message value is the state value.
import type { Embodiment, RosbridgeRobot } from '@vla/robot-core';
import {
  ACONE,
  ACONE_TOPICS,
  LIFT2,
  LIFT2_TOPICS,
  createAcOneDriver,
  createLift2Driver,
} from '@vla/robots-arx';
import { GENIE1, GENIE1_JOINT_NAMES, GENIE1_TOPICS, createGenie1Driver } from '@vla/robots-genie';

/** One joint-state topic: the dims it carries and its message for a state vector. */
export interface FeedSpec {
  topic: string;
  /** Message carrying `state` (the full vector) stamped at `stampMs` (wall clock). */
  message(state: readonly number[], stampMs: number): Record<string, unknown>;
}

/** A driver and its robot's side of the protocol. */
export interface RobotSpec {
  name: string;
  embodiment: Embodiment;
  feeds: FeedSpec[];
  cameras: { topic: string; kind: 'compressed' | 'raw' }[];
  commandTopics: string[];
  /** Messages carry header stamps. */
  stamped: boolean;
  create(options: Record<string, unknown>): RosbridgeRobot;
}

const IDENTITY = { scale: 1, offset: 0 };
const zeros = (n: number) => new Array<number>(n).fill(0);

function ros2Header(ms: number) {
  return { stamp: { sec: Math.floor(ms / 1000), nanosec: Math.round((ms % 1000) * 1e6) }, frame_id: '' };
}

// The drivers' option types differ per package version; the campaign passes plain objects.
type AnyOptions = never;

/** ARX Lift-2 (ROS 1), compressed or raw cameras. */
function lift2(kind: 'compressed' | 'raw'): RobotSpec {
  const cams =
    kind === 'raw'
      ? ['/camera_h/color/image_raw', '/camera_l/color/image_raw', '/camera_r/color/image_raw']
      : [LIFT2_TOPICS.head, LIFT2_TOPICS.hand_left, LIFT2_TOPICS.hand_right];
  return {
    name: kind === 'raw' ? 'lift2-raw' : 'lift2',
    embodiment: LIFT2,
    feeds: [LIFT2_TOPICS.leftFeedback, LIFT2_TOPICS.rightFeedback].map((topic, arm) => ({
      topic,
      message: (s: readonly number[]) => ({
        joint_pos: s.slice(7 * arm, 7 * arm + 7),
        joint_vel: zeros(7),
        joint_cur: zeros(7),
        mode: 0,
      }),
    })),
    cameras: cams.map((topic) => ({ topic, kind })),
    commandTopics: [LIFT2_TOPICS.leftCommand, LIFT2_TOPICS.rightCommand],
    stamped: false,
    create: (o) => createLift2Driver({ ...o, cameraKind: kind, gripperToMessage: IDENTITY } as AnyOptions),
  };
}

/** ARX AC One (ROS 2). */
function acOne(): RobotSpec {
  return {
    name: 'acone',
    embodiment: ACONE,
    feeds: [ACONE_TOPICS.leftFeedback, ACONE_TOPICS.rightFeedback].map((topic, arm) => ({
      topic,
      message: (s: readonly number[], ms: number) => ({
        header: ros2Header(ms),
        end_pos: zeros(6),
        joint_pos: s.slice(7 * arm, 7 * arm + 7),
        joint_vel: zeros(7),
        joint_cur: zeros(7),
      }),
    })),
    cameras: [ACONE_TOPICS.head, ACONE_TOPICS.hand_left, ACONE_TOPICS.hand_right].map((topic) => ({
      topic,
      kind: 'compressed' as const,
    })),
    commandTopics: [ACONE_TOPICS.leftCommand, ACONE_TOPICS.rightCommand],
    stamped: true,
    create: (o) => createAcOneDriver({ ...o, gripperToMessage: IDENTITY } as AnyOptions),
  };
}

/** AgiBot Genie-1 simulator (ROS 2 JointState, matched by name; extra joints and any order allowed). */
function genie1(): RobotSpec {
  const names = GENIE1.dims.map((d) => GENIE1_JOINT_NAMES[d.name]);
  return {
    name: 'genie1',
    embodiment: GENIE1,
    feeds: [
      {
        topic: GENIE1_TOPICS.jointStates,
        message: (s: readonly number[], ms: number) => ({
          header: ros2Header(ms),
          name: ['idx01_body_joint1', ...[...names].reverse()],
          position: [0.1, ...[...s].reverse()],
          velocity: [],
          effort: [],
        }),
      },
    ],
    cameras: [GENIE1_TOPICS.head, GENIE1_TOPICS.hand_left, GENIE1_TOPICS.hand_right].map((topic) => ({
      topic,
      kind: 'compressed' as const,
    })),
    commandTopics: [GENIE1_TOPICS.command],
    stamped: true,
    create: (o) =>
      createGenie1Driver({ ...o, gripperState: IDENTITY, gripperCommand: IDENTITY } as AnyOptions),
  };
}

/** Every driver the campaign exercises. */
export function robotSpecs(): RobotSpec[] {
  return [lift2('compressed'), lift2('raw'), acOne(), genie1()];
}
