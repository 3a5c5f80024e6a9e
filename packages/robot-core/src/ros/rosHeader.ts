/** ROS 1 `time` as rosbridge encodes it. */
export interface Ros1Time {
  readonly secs: number;
  readonly nsecs: number;
}

/** ROS 2 `builtin_interfaces/Time` as rosbridge encodes it. */
export interface Ros2Time {
  readonly sec: number;
  readonly nanosec: number;
}

/** std_msgs/Header for ROS 1 or ROS 2 (ROS 2 has no `seq`). */
export type RosHeader =
  | { readonly seq: number; readonly stamp: Ros1Time; readonly frame_id: string }
  | { readonly stamp: Ros2Time; readonly frame_id: string };

/** A std_msgs/Header stamped at `epochMs` (wall-clock ms since 1970) in the field layout of ROS `version`. */
export function rosHeader(version: 1 | 2, epochMs: number = Date.now(), frameId = ''): RosHeader {
  const s = Math.floor(epochMs / 1000);
  const ns = Math.min(999_999_999, Math.round((epochMs - s * 1000) * 1e6));
  return version === 1
    ? { seq: 0, stamp: { secs: s, nsecs: ns }, frame_id: frameId }
    : { stamp: { sec: s, nanosec: ns }, frame_id: frameId };
}
