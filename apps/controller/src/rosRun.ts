import { createAcOneDriver, createLift2Driver } from '@vla/robots-arx';
import { createGenie1Driver } from '@vla/robots-genie';
import {
  ChunkExecutor,
  SafetyLayer,
  systemClock,
  type Clock,
  type Observation,
  type ExecutionStrategy,
  type RosConnectionOptions,
  type RosbridgeRobot,
  type SafetyConfig,
} from '@vla/robot-core';
import type { OpenEpisode } from './episodeSource.js';
import { RunControl } from './runControl.js';
import { RunRecorder, type RunListener } from './runRecorder.js';
import type { RunSummary } from './runSummary.js';

/** ROS robots `vla-control run --robot … --rosbridge ws://…` drives. */
export const ROS_ROBOTS = ['arx-lift2', 'arx-acone', 'genie1'] as const;
/** A ROS robot name. */
export type RosRobotName = (typeof ROS_ROBOTS)[number];

/**
 * The rosbridge driver of a ROS robot with its default topics: ARX Lift-2 and AC One (ROS 1,
 * robots-arx), AgiBot Genie-1 (ROS 2 Genie Sim interface, robots-genie). They hold on stale state or
 * cameras through robot-core's freshness rules. Not connected yet.
 */
export function createRosRobot(name: RosRobotName, options: RosConnectionOptions): RosbridgeRobot {
  if (name === 'arx-lift2') return createLift2Driver(options);
  if (name === 'arx-acone') return createAcOneDriver(options);
  if (name === 'genie1') return createGenie1Driver(options);
  throw new Error(`unknown ROS robot "${String(name)}" (one of ${ROS_ROBOTS.join(', ')})`);
}

/** Options of {@link runRobot}. */
export interface RobotRunOptions {
  /** A connected or connecting driver (e.g. {@link createRosRobot}); closed when the run ends. */
  readonly robot: RosbridgeRobot;
  /** Its name in the summary. */
  readonly robotName: string;
  /** The policy. */
  readonly openEpisode: OpenEpisode;
  /** Chunk execution (default chunk, 30 steps). */
  readonly strategy?: ExecutionStrategy;
  /** Instruction sent with every request. */
  readonly prompt: string;
  /** Stop after this many control ticks (default: until stopped). */
  readonly maxSteps?: number;
  /** Latency the executor plans for (default 0, then the largest measured, per restart). */
  readonly expectedLatencyMs?: number;
  /** Safety layer settings. */
  readonly safety?: SafetyConfig;
  /** The clock of driver, safety layer and executor (default the system clock). */
  readonly clock?: Clock;
  /** E-stop and stop handle. */
  readonly control?: RunControl;
  /** Progress, ticks and chunks as they happen. */
  readonly listener?: RunListener;
}

/**
 * Drives a ROS robot in real time: the executor ticks at the embodiment's control rate on the clock,
 * every command goes through a safety layer for the driver's embodiment, inference overlaps
 * execution. A dropped connection or a stale camera makes the driver's observation go missing or age,
 * and the safety layer holds (the watchdog). Ends after `maxSteps` ticks or on `control.stop()`, with
 * one last hold command; the driver is closed.
 */
export async function runRobot(options: RobotRunOptions): Promise<RunSummary> {
  const { robot } = options;
  const clock = options.clock ?? systemClock;
  const control = options.control ?? new RunControl();
  const listener = options.listener ?? {};
  const strategy = options.strategy ?? { kind: 'chunk', executeSteps: 30 };
  const recorder = new RunRecorder(robot.embodiment);
  const safety = new SafetyLayer(robot.embodiment, options.safety);
  const episode = options.openEpisode();
  recorder.beginEpisode();
  let finished = false;
  let ticks = 0;
  let last: Observation | undefined;
  try {
    await new Promise<void>((resolve) => {
      const exec = new ChunkExecutor({
        robot,
        safety,
        clock,
        strategy,
        expectedLatencyMs: options.expectedLatencyMs ?? 0,
        prompt: options.prompt,
        source: async (request) => {
          const sent = clock.now();
          const chunk = await episode.source(request);
          if (!finished) {
            const ms = clock.now() - sent;
            recorder.chunk(ms);
            listener.chunk?.({ latencyMs: ms, timestampMs: clock.now() });
          }
          return chunk;
        },
        onObservation: (o) => {
          last = o;
          episode.observe?.(o);
        },
        onCommand: (cmd) => {
          // Attached once the executor started the layer (a latched e-stop blocks a start): the
          // first command always holds, as no chunk can have arrived before it.
          if (ticks === 0) control.attach(safety);
          recorder.command(cmd);
          listener.tick?.({ timestampMs: clock.now(), command: cmd, ...(last ? { observation: last } : {}) });
          ticks++;
          if (options.maxSteps !== undefined && ticks >= options.maxSteps) queueMicrotask(finish);
        },
        onError: (err) => {
          if (!finished) {
            recorder.error(err);
            listener.log?.(`error: ${err.message}`);
          }
        },
      });
      const finish = () => {
        if (finished) return;
        finished = true;
        exec.stop();
        control.signal.removeEventListener('abort', finish);
        // A last hold where the robot is (nothing is sent while disconnected).
        if (safety.started) {
          try {
            robot.command(safety.step(undefined, clock.now()));
          } catch {
            // The driver refuses while disconnected: nothing moves then anyway.
          }
        }
        recorder.endEpisode(0, false, exec.stats);
        resolve();
      };
      control.signal.addEventListener('abort', finish);
      if (control.stopped) finish();
      else exec.start();
    });
  } finally {
    episode.close();
    control.attach(undefined);
    if (safety.started) safety.stop();
    robot.close();
  }
  return recorder.summary({
    mode: 'realtime',
    robot: options.robotName,
    strategy: strategy.kind,
    estops: control.emergencyStops,
    stopped: control.stopped,
  });
}
