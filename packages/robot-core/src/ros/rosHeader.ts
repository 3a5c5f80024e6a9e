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

/**
 * `header.stamp` of a message in ms, in the ROS 1 (`secs`, `nsecs`) or ROS 2 (`sec`, `nanosec`)
 * layout; undefined when the message has no header or stamp, or the stamp is zero (ROS's "unset").
 * Throws an Error naming the value when a stamp is there but is not a pair of finite numbers with
 * `0 <= nanoseconds < 1e9`.
 */
export function headerStampMs(msg: unknown): number | undefined {
  const header = (msg as { header?: unknown } | null)?.header;
  if (typeof header !== 'object' || header === null) return undefined;
  const stamp = (header as { stamp?: unknown }).stamp;
  if (stamp === undefined) return undefined;
  const st = (stamp ?? {}) as Record<string, unknown>;
  const s = 'sec' in st ? st.sec : st.secs;
  const ns = 'nanosec' in st ? st.nanosec : st.nsecs;
  if (typeof s !== 'number' || typeof ns !== 'number' || !Number.isFinite(s) || !(ns >= 0 && ns < 1e9))
    throw new Error(`header.stamp ${JSON.stringify(stamp)} is not a time`);
  if (s === 0 && ns === 0) return undefined;
  return s * 1000 + ns / 1e6;
}
