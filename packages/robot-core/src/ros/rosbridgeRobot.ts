import { systemClock, type Clock } from '../clock.js';
import type { Embodiment } from '../embodiment.js';
import type { CameraFrame, Observation, Robot, RobotStatus } from '../robot.js';
import { assertSafeCommand, type SafeCommand } from '../safeCommand.js';
import type { BackoffOptions } from './backoff.js';
import {
  decodeCompressedImage,
  decodeRawImage,
  type RgbImage,
  type RosCompressedImage,
  type RosRawImage,
} from './imageDecoding.js';
import { RosbridgeConnection, type RosPublisher } from './rosbridgeConnection.js';

/**
 * A feed of joint state. `read` writes the dims this message carries into `state` (robot units, the
 * embodiment's layout) and returns false to reject a malformed message; a rejected message changes
 * nothing.
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

/** How a driver reaches rosbridge; every robot driver's options extend it. */
export interface RosConnectionOptions {
  /** rosbridge URL, e.g. `ws://localhost:9090`. */
  readonly url: string;
  /** Clock shared with the safety layer and executor. Default {@link systemClock}. */
  readonly clock?: Clock;
  /** Reconnect backoff. */
  readonly backoff?: BackoffOptions;
  /** `status().stale` when the state is older than this (ms). Default 200. */
  readonly staleAfterMs?: number;
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
  /** State messages rejected by a feed's `read`. */
  rejectedMessages: number;
  /** Camera messages received. */
  cameraMessages: number;
  /** Commands published. */
  commandsSent: number;
  /** Commands dropped because the connection was down. */
  commandsDropped: number;
}

// A frame that decodes on first access, so the control loop can observe at full rate without paying
// for JPEG decoding except when the policy actually reads the pixels.
class LazyFrame implements CameraFrame {
  private decoded: RgbImage | undefined;
  constructor(
    private readonly decode: () => RgbImage,
    readonly timestampMs: number,
  ) {}
  private get img(): RgbImage {
    return (this.decoded ??= this.decode());
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
 * time (on the injected clock) of the oldest feed, so when the connection drops the observation ages
 * and the safety layer's watchdog holds. `command` accepts only SafeCommands and drops them while
 * disconnected.
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
  private readonly frames: Record<string, CameraFrame> = {};
  private readonly publishers: { out: RosCommandOutput<unknown>; pub: RosPublisher<unknown> }[];
  private readonly counters: RosbridgeRobotStats = {
    stateMessages: 0,
    rejectedMessages: 0,
    cameraMessages: 0,
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
    if (config.state.length === 0) throw new Error(`${config.embodiment.robotType} driver: no state feeds`);
    this.connection = new RosbridgeConnection({
      url: config.url,
      clock: this.clock,
      backoff: config.backoff,
    });

    config.state.forEach((feed, k) => {
      this.connection.subscribe<never>(feed.topic, feed.messageType, (msg) => {
        const scratch = this.state.slice();
        let ok = false;
        try {
          ok = feed.read(msg, scratch);
        } catch {
          ok = false;
        }
        if (!ok) {
          this.counters.rejectedMessages++;
          return;
        }
        this.state.set(scratch);
        this.feedTimes[k] = this.clock.now();
        this.counters.stateMessages++;
      });
    });
    for (const cam of config.cameras) {
      const decode = cam.kind === 'compressed' ? decodeCompressedImage : decodeRawImage;
      const type = cam.kind === 'compressed' ? 'sensor_msgs/CompressedImage' : 'sensor_msgs/Image';
      this.connection.subscribe<RosCompressedImage & RosRawImage>(
        cam.topic,
        type,
        (msg) => {
          this.counters.cameraMessages++;
          this.frames[cam.name] = new LazyFrame(() => decode(msg), this.clock.now());
        },
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

  /** Latest state and frames; undefined until every state feed has delivered and every dim is set. */
  observe(): Observation | undefined {
    let oldest = Infinity;
    for (const t of this.feedTimes) {
      if (Number.isNaN(t)) return undefined;
      oldest = Math.min(oldest, t);
    }
    for (const v of this.state) if (Number.isNaN(v)) return undefined;
    return { state: this.state.slice(), images: { ...this.frames }, timestampMs: oldest };
  }

  /** Publish a SafeCommand on every command topic; dropped (and counted) while disconnected. */
  command(cmd: SafeCommand): void {
    assertSafeCommand(cmd, this.embodiment.robotType, this.embodiment.dims.length);
    if (!this.connection.connected) {
      this.counters.commandsDropped++;
      return;
    }
    for (const { out, pub } of this.publishers) {
      if (pub.publish(out.build(cmd.positions))) this.counters.commandsSent++;
      else this.counters.commandsDropped++;
    }
  }

  /** Connection and freshness. */
  status(): RobotStatus {
    const obs = this.observe();
    const age = obs ? this.clock.now() - obs.timestampMs : Infinity;
    const connected = this.connection.connected;
    return { connected, stale: !connected || !(age <= this.staleAfterMs), stateAgeMs: age };
  }
}
