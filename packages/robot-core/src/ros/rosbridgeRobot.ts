import { systemClock, type Clock } from '../clock.js';
import { measuredStateProblem, type Embodiment } from '../embodiment.js';
import type { CameraFrame, Observation, Robot, RobotStatus } from '../robot.js';
import { acceptSafeCommand, type SafeCommand } from '../safeCommand.js';
import { contentHash } from './contentHash.js';
import {
  DEFAULT_IMAGE_LIMITS,
  checkCompressedImage,
  checkRawImage,
  decodeCompressedImage,
  decodeRawImage,
  type ImageLimits,
  type RgbImage,
  type RosCompressedImage,
  type RosRawImage,
} from './imageDecoding.js';
import {
  RosbridgeConnection,
  type RosPublisher,
  type RosbridgeConnectionOptions,
} from './rosbridgeConnection.js';
import { headerStampMs } from './rosHeader.js';
import { StampGate } from './stampGate.js';

/**
 * A feed of joint state. `read` writes the dims this message carries into `state` (robot units, the
 * embodiment's layout) and returns false to reject a malformed message. The driver also rejects what
 * `read` wrote when a value is not finite or lies more than a whole range outside its dim's limits (no
 * sensor reads that; a unit or encoding fault does). A rejected message changes no value, and the
 * state counts as missing until that feed delivers a good one.
 */
export interface RosStateFeed<M = unknown> {
  /** Topic name. */
  readonly topic: string;
  /** ROS message type, e.g. `sensor_msgs/JointState`. */
  readonly messageType: string;
  /** Copy the message's values into the state vector. */
  readonly read: (msg: M, state: Float64Array) => boolean;
}

/** A command topic: `build` turns safe positions (robot units) into one message. */
export interface RosCommandOutput<M = unknown> {
  /** Topic name. */
  readonly topic: string;
  /** ROS message type. */
  readonly messageType: string;
  /** Message for these positions. */
  readonly build: (positions: readonly number[]) => M;
}

/** A camera topic, decoded lazily to RGB8 when a frame's pixels are first read. */
export interface RosCameraFeed {
  /** Embodiment camera name (`head`, `hand_left`, `hand_right`). */
  readonly name: string;
  /** Topic name. */
  readonly topic: string;
  /** `compressed` = sensor_msgs/CompressedImage (JPEG/PNG), `raw` = sensor_msgs/Image. */
  readonly kind: 'compressed' | 'raw';
}

/**
 * How a driver reaches rosbridge and judges what it hears; every robot driver's options extend it.
 * The transport settings (`url`, `clock` — shared with the safety layer and executor —, `backoff`,
 * frame and fragment caps) are those of {@link RosbridgeConnectionOptions}.
 */
export interface RosConnectionOptions extends RosbridgeConnectionOptions {
  /** `status().stale` when the state is older than this (ms). Default 200. */
  readonly staleAfterMs?: number;
  /**
   * Follow `header.stamp` where messages carry one (default true): a state message or frame whose stamp
   * does not advance past its feed's last one is dropped (counted in `staleMessages` /
   * `repeatedFrames`) and does not refresh anything. Messages without a header keep arrival time.
   * Stamp history restarts on every reconnect.
   */
  readonly followStamps?: boolean;
  /**
   * A state message whose stamp lags the newest stamp seen on any state feed by more than this (ms) is
   * dropped; within it, the message counts as taken that much earlier than it arrived. Default 500.
   */
  readonly maxStampLagMs?: number;
  /**
   * A camera that has delivered and whose newest distinct frame (new bytes, by a cheap content hash,
   * and an advancing stamp) is older than this (ms) is stale: `status().stale` and the observation's
   * `timestampMs` stops advancing, so the safety layer's watchdog holds. `Infinity` turns it off, e.g.
   * for a simulator rendering a static scene. Default 1000.
   */
  readonly cameraStaleAfterMs?: number;
  /**
   * Per-camera image caps are the embodiment's camera size times this, in width and height, and
   * `maxDecodedBytes` 7 bytes per capped pixel (8-bit RGBA PNG plus the RGB output). Default 2.
   */
  readonly cameraSizeMargin?: number;
  /** Caps per camera name, overriding the ones derived from the embodiment (or the defaults). */
  readonly cameraLimits?: Readonly<Record<string, Partial<ImageLimits>>>;
  /**
   * A measured value further outside its dim's limits than this many times the dim's range is refused
   * as garbage. Default 1.
   */
  readonly stateRangeTolerance?: number;
}

/** Configuration of a {@link RosbridgeRobot}: pure data plus small message codecs. */
export interface RosbridgeRobotConfig extends RosConnectionOptions {
  /** The embodiment spoken. */
  readonly embodiment: Embodiment;
  /** Joint state feeds; together they must cover every dim. */
  readonly state: readonly RosStateFeed<never>[];
  /** Command topics; each gets every command. */
  readonly commands: readonly RosCommandOutput<unknown>[];
  /** Cameras. */
  readonly cameras: readonly RosCameraFeed[];
  /** rosbridge throttle for camera topics (ms). Default 0. */
  readonly cameraThrottleMs?: number;
}

/** Counters of a {@link RosbridgeRobot}. */
export interface RosbridgeRobotStats {
  /** State messages accepted. */
  stateMessages: number;
  /** State messages rejected by a feed's `read` or by the driver's range check. */
  rejectedMessages: number;
  /** State messages dropped because their `header.stamp` did not advance or lagged too far. */
  staleMessages: number;
  /** Camera messages received. */
  cameraMessages: number;
  /** Frames refused (size caps, malformed fields, undecodable bytes); the camera is stale until a good one. */
  rejectedFrames: number;
  /** Frames whose bytes or stamp repeat the previous one; they refresh nothing. */
  repeatedFrames: number;
  /** Why the last message or frame was refused or dropped, naming topic or camera, field and value. */
  lastRejection?: string;
  /** Commands published. */
  commandsSent: number;
  /** Commands dropped because the connection was down. */
  commandsDropped: number;
}

// How far outside its limits, in ranges, a measured value may be before the driver refuses it. Wide on
// purpose: the safety layer applies its own, configurable, tighter check; this one catches garbage.
const ABSURD_RANGES = 1;

// A frame that decodes on first access, so the control loop can observe at full rate without paying
// for JPEG decoding except when the policy actually reads the pixels.
// A decode failure is reported once to `failed` (which marks the camera stale) and rethrown, named.
class LazyFrame implements CameraFrame {
  private decoded: RgbImage | undefined;
  private error: Error | undefined;
  constructor(
    private readonly decode: () => RgbImage,
    readonly timestampMs: number,
    private readonly failed: (frame: LazyFrame, err: Error) => Error,
  ) {}
  private get img(): RgbImage {
    if (this.error) throw this.error;
    try {
      return (this.decoded ??= this.decode());
    } catch (err) {
      this.error = this.failed(this, err instanceof Error ? err : new Error(String(err)));
      throw this.error;
    }
  }
  get width(): number {
    return this.img.width;
  }
  get height(): number {
    return this.img.height;
  }
  get data(): Uint8Array {
    return this.img.data;
  }
}

/**
 * A {@link Robot} over rosbridge, configured by data: which topics carry joint state, which take
 * commands, which carry camera images. Robot packages supply the topic maps and message codecs.
 *
 * `observe` returns undefined until every state feed has delivered; its `timestampMs` is the reception
 * time (on the injected clock) of the oldest feed, moved back by how far a feed's `header.stamp` lags
 * the newest one, and held back to a camera's last distinct frame once that camera is stale. So when
 * the connection drops, a feed freezes or replays old stamps, or a camera repeats itself, the
 * observation ages and the safety layer's watchdog holds. Frames are checked against per-camera size
 * caps from their headers on arrival and decoded lazily. `command` accepts only SafeCommands and
 * drops them while disconnected.
 */
export class RosbridgeRobot implements Robot {
  /** The embodiment spoken. */
  readonly embodiment: Embodiment;
  /** The underlying connection (state, stats, backoff delays). */
  readonly connection: RosbridgeConnection;
  private readonly clock: Clock;
  private readonly staleAfterMs: number;
  private readonly state: Float64Array;
  private readonly feedTimes: number[];
  private readonly feedErrors: (Error | undefined)[];
  private readonly frames: Record<string, CameraFrame> = {};
  private readonly cameras: CameraSlot[];
  private readonly followStamps: boolean;
  private readonly stateStamps: StampGate;
  private readonly cameraStamps: StampGate;
  private readonly cameraStaleAfterMs: number;
  private readonly stateRangeTolerance: number;
  private readonly publishers: { out: RosCommandOutput<unknown>; pub: RosPublisher<unknown> }[];
  private readonly counters: RosbridgeRobotStats = {
    stateMessages: 0,
    rejectedMessages: 0,
    staleMessages: 0,
    cameraMessages: 0,
    rejectedFrames: 0,
    repeatedFrames: 0,
    commandsSent: 0,
    commandsDropped: 0,
  };

  /** Sets up subscriptions and publishers; call {@link RosbridgeRobot.connect} to start. */
  constructor(config: RosbridgeRobotConfig) {
    this.embodiment = config.embodiment;
    this.clock = config.clock ?? systemClock;
    this.staleAfterMs = config.staleAfterMs ?? 200;
    this.state = new Float64Array(config.embodiment.dims.length).fill(Number.NaN);
    this.feedTimes = config.state.map(() => Number.NaN);
    this.feedErrors = config.state.map(() => undefined);
    if (config.state.length === 0) throw new Error(`${config.embodiment.robotType} driver: no state feeds`);
    this.followStamps = config.followStamps ?? true;
    this.stateStamps = new StampGate(config.state.length, config.maxStampLagMs ?? 500);
    this.cameraStamps = new StampGate(config.cameras.length, Infinity);
    this.cameraStaleAfterMs = config.cameraStaleAfterMs ?? 1000;
    this.stateRangeTolerance = config.stateRangeTolerance ?? ABSURD_RANGES;
    if (!(this.cameraStaleAfterMs > 0 && this.stateRangeTolerance >= 0))
      throw new Error(
        `${config.embodiment.robotType} driver: cameraStaleAfterMs must be > 0 and stateRangeTolerance >= 0, got ${this.cameraStaleAfterMs}, ${this.stateRangeTolerance}`,
      );
    this.connection = new RosbridgeConnection({ ...config, clock: this.clock });
    // A new session is a new timeline (a restarted simulator starts its clock again).
    this.connection.onStateChange((s) => {
      if (s !== 'connected') return;
      this.stateStamps.reset();
      this.cameraStamps.reset();
    });

    config.state.forEach((feed, k) => {
      this.connection.subscribe<never>(feed.topic, feed.messageType, (msg) => {
        const scratch = this.state.slice();
        let problem: string | undefined;
        let stamp: number | undefined;
        try {
          if (this.followStamps) {
            stamp = headerStampMs(msg);
            const old = this.stateStamps.check(k, stamp);
            if (old !== undefined) {
              // Replayed or frozen: nothing new about the robot, so nothing is refreshed.
              this.counters.staleMessages++;
              this.counters.lastRejection = `${feed.topic}: ${old}`;
              return;
            }
          }
          if (!feed.read(msg, scratch)) problem = 'malformed message';
        } catch (err) {
          problem = `malformed message (${err instanceof Error ? err.message : String(err)})`;
        }
        problem ??= this.implausible(scratch);
        if (problem !== undefined) {
          // The newest word from this feed is that the state is unknown: stale until a good message.
          this.feedTimes[k] = Number.NaN;
          this.feedErrors[k] = new Error(`${this.embodiment.robotType} driver: ${feed.topic}: ${problem}`);
          this.counters.lastRejection = this.feedErrors[k].message;
          this.counters.rejectedMessages++;
          return;
        }
        this.state.set(scratch);
        this.feedTimes[k] = this.stateStamps.accept(k, stamp, this.clock.now());
        this.feedErrors[k] = undefined;
        this.counters.stateMessages++;
      });
    });
    this.cameras = config.cameras.map((feed, index) => ({
      feed,
      index,
      limits: cameraLimits(config, feed.name),
      hash: undefined,
      freshMs: undefined,
      error: undefined,
    }));
    for (const cam of this.cameras) {
      const type = cam.feed.kind === 'compressed' ? 'sensor_msgs/CompressedImage' : 'sensor_msgs/Image';
      this.connection.subscribe<RosCompressedImage & RosRawImage>(
        cam.feed.topic,
        type,
        (msg) => this.onFrame(cam, msg),
        { throttleMs: config.cameraThrottleMs ?? 0 },
      );
    }
    this.publishers = config.commands.map((out) => ({
      out,
      pub: this.connection.advertise(out.topic, out.messageType),
    }));
  }

  /** Start connecting (and reconnecting with backoff after drops). */
  connect(): void {
    this.connection.open();
  }

  /** Disconnect for good. */
  close(): void {
    this.connection.close();
  }

  /** A copy of the counters. */
  get stats(): RosbridgeRobotStats {
    return { ...this.counters };
  }

  /** Why a state feed's newest message was rejected (the first such feed), naming topic, dim and value; undefined when none was. */
  get stateError(): Error | undefined {
    return this.feedErrors.find((e) => e !== undefined);
  }

  /**
   * Latest state and frames; undefined until every state feed has delivered and every dim is set, and
   * while a feed's newest message was rejected. A stale or failed camera holds `timestampMs` at its
   * last distinct frame.
   */
  observe(): Observation | undefined {
    let oldest = Infinity;
    for (const t of this.feedTimes) {
      if (Number.isNaN(t)) return undefined;
      oldest = Math.min(oldest, t);
    }
    for (const v of this.state) if (Number.isNaN(v)) return undefined;
    const now = this.clock.now();
    for (const c of this.cameras)
      if (c.freshMs !== undefined && (c.error || !(now - c.freshMs <= this.cameraStaleAfterMs)))
        oldest = Math.min(oldest, c.freshMs);
    return { state: this.state.slice(), images: { ...this.frames }, timestampMs: oldest };
  }

  /**
   * Publish a SafeCommand on every command topic; dropped (and counted) while disconnected. Throws
   * unless it is the next command of the layer driving this robot (see {@link acceptSafeCommand}); a
   * dropped command is used up all the same.
   */
  command(cmd: SafeCommand): void {
    acceptSafeCommand(this, cmd);
    if (!this.connection.connected) {
      this.counters.commandsDropped++;
      return;
    }
    for (const { out, pub } of this.publishers) {
      if (pub.publish(out.build(cmd.positions))) this.counters.commandsSent++;
      else this.counters.commandsDropped++;
    }
  }

  // The first written value that is not a measurement at all. Dims no feed has set yet (NaN before
  // and after) are checked as their home value, i.e. skipped.
  private implausible(scratch: Float64Array): string | undefined {
    const written: number[] = [];
    for (let i = 0; i < scratch.length; i++)
      written.push(
        Number.isNaN(scratch[i]) && Number.isNaN(this.state[i]) ? this.embodiment.home[i] : scratch[i],
      );
    return measuredStateProblem(this.embodiment, written, this.stateRangeTolerance);
  }

  // Check a frame on arrival (stamp, fields, header size against the caps, repeated bytes); decode later.
  private onFrame(c: CameraSlot, msg: RosCompressedImage & RosRawImage): void {
    const now = this.clock.now();
    this.counters.cameraMessages++;
    try {
      const stamp = this.followStamps ? headerStampMs(msg) : undefined;
      const old = this.followStamps ? this.cameraStamps.check(c.index, stamp) : undefined;
      if (old !== undefined) {
        this.counters.repeatedFrames++;
        this.counters.lastRejection = `camera "${c.feed.name}" (${c.feed.topic}): ${old}`;
        return;
      }
      const limits = c.limits;
      let decode: () => RgbImage;
      let bytes: Uint8Array;
      if (c.feed.kind === 'compressed') {
        bytes = checkCompressedImage(msg, limits).bytes;
        const format = msg.format;
        decode = () => decodeCompressedImage({ format, data: bytes }, limits);
      } else {
        bytes = checkRawImage(msg, limits);
        const { width, height, encoding, is_bigendian, step } = msg;
        decode = () => decodeRawImage({ width, height, encoding, is_bigendian, step, data: bytes }, limits);
      }
      if (this.followStamps) this.cameraStamps.accept(c.index, stamp, now);
      const hash = contentHash(bytes);
      if (hash === c.hash) {
        this.counters.repeatedFrames++;
        return;
      }
      c.hash = hash;
      c.freshMs = now;
      c.error = undefined;
      this.frames[c.feed.name] = new LazyFrame(decode, now, (frame, err) => {
        const named = this.frameError(c, err.message);
        if (this.frames[c.feed.name] === frame) c.error = named;
        return named;
      });
    } catch (err) {
      c.error = this.frameError(c, err instanceof Error ? err.message : String(err));
    }
  }

  private frameError(c: CameraSlot, what: string): Error {
    this.counters.rejectedFrames++;
    const e = new Error(`camera "${c.feed.name}" (${c.feed.topic}): ${what}`);
    this.counters.lastRejection = e.message;
    return e;
  }

  /** Connection and freshness. */
  status(): RobotStatus {
    const obs = this.observe();
    const age = obs ? this.clock.now() - obs.timestampMs : Infinity;
    const connected = this.connection.connected;
    const now = this.clock.now();
    const cameraStale = this.cameras.some(
      (c) =>
        c.error !== undefined || (c.freshMs !== undefined && !(now - c.freshMs <= this.cameraStaleAfterMs)),
    );
    return {
      connected,
      stale: !connected || cameraStale || !(age <= this.staleAfterMs),
      stateAgeMs: age,
    };
  }
}

interface CameraSlot {
  readonly feed: RosCameraFeed;
  readonly index: number;
  readonly limits: ImageLimits;
  hash: string | undefined;
  freshMs: number | undefined;
  error: Error | undefined;
}

// Caps of one camera: the embodiment's size times the margin, then explicit overrides.
function cameraLimits(config: RosbridgeRobotConfig, name: string): ImageLimits {
  const spec = config.embodiment.cameras.find((c) => c.name === name);
  const m = config.cameraSizeMargin ?? 2;
  if (!(m >= 1))
    throw new Error(`${config.embodiment.robotType} driver: cameraSizeMargin must be >= 1, got ${m}`);
  let base = DEFAULT_IMAGE_LIMITS;
  if (spec) {
    const maxWidth = Math.ceil(spec.width * m);
    const maxHeight = Math.ceil(spec.height * m);
    base = { maxWidth, maxHeight, maxDecodedBytes: maxWidth * maxHeight * 7 };
  }
  return { ...base, ...config.cameraLimits?.[name] };
}
