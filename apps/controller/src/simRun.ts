import {
  ChunkExecutor,
  FakeClock,
  SafetyLayer,
  tickPeriodMs,
  toPolicyState,
  type ActionSource,
  type Clock,
  type Observation,
  type ExecutionStrategy,
  type SafetyConfig,
} from '@vla/robot-core';
import { ObservationHistory } from '@vla/policy-runtime';
import { SimEnv } from '@vla/sim';
import type { OpenEpisode } from './episodeSource.js';
import { latencyStats } from './boundaryJerk.js';
import { RunControl } from './runControl.js';
import { RunRecorder, type RunListener } from './runRecorder.js';
import type { RunSummary } from './runSummary.js';
import { simRobotView } from './simRobotView.js';

/** Options of {@link runSim}. */
export interface SimRunOptions {
  /** Opens the policy for each episode (a local checkpoint, a PolicyService episode, a remote server). */
  readonly openEpisode: OpenEpisode;
  /** Simulator task (default `pick-place`). */
  readonly task?: string;
  /** Simulated robot (default `lift2`); the policy's robot type must match its embodiment. */
  readonly robot?: string;
  /** Camera renderer (default `raycast`). */
  readonly camera?: 'gpu' | 'raycast';
  /** Square image side (default 64). */
  readonly imageSize?: number;
  /** Episodes (default 1), seeds `seed`, `seed + 1`, …. */
  readonly episodes?: number;
  /** Seed of the first episode (default 0). */
  readonly seed?: number;
  /** Cut each episode after this many ticks (default: the task's own limit). */
  readonly maxSteps?: number;
  /** Chunk execution (default chunk, 30 steps). */
  readonly strategy?: ExecutionStrategy;
  /** Instruction sent with every request (default: the task's own, per episode). */
  readonly prompt?: string;
  /**
   * Lockstep: simulated time on a FakeClock, every chunk delivered exactly `delayTicks` control ticks
   * after its request (the executor waits for the inference to finish meanwhile), so a run is
   * deterministic. Absent: real time on the system clock, inference overlapping execution.
   */
  readonly lockstep?: { readonly delayTicks: number };
  /**
   * Latency the executor plans for (early requests). Default: in lockstep the simulated delay; in real
   * time a warm-up request's measured latency × 1.5 (after one that compiles), then 1.2 × the 95th
   * percentile measured so far.
   */
  readonly expectedLatencyMs?: number;
  /** Safety layer settings. */
  readonly safety?: SafetyConfig;
  /** E-stop, stop and instruction handle (keyboard, dashboard, signals). */
  readonly control?: RunControl;
  /** Progress, ticks and chunks as they happen. */
  readonly listener?: RunListener;
}

/**
 * Runs a policy on the simulator through robot-core's ChunkExecutor and a safety layer, episode after
 * episode, and summarises success, chunk latency, holds and jerk at chunk boundaries. Each episode
 * gets a fresh policy episode (observation history), a fresh safety-layer run, and ends on success,
 * the task's time limit or `maxSteps`. In real time the executor ticks on the clock at the robot's
 * control rate and the world advances one control tick after every command, while the next chunk is
 * computed (asynchronous inference).
 */
export async function runSim(options: SimRunOptions): Promise<RunSummary> {
  const robotName = options.robot ?? 'lift2';
  const task = options.task ?? 'pick-place';
  const size = options.imageSize ?? 64;
  const env = await SimEnv.create({
    task,
    robot: robotName,
    camera: options.camera ?? 'raycast',
    imageWidth: size,
    imageHeight: size,
  });
  const control = options.control ?? new RunControl();
  const listener = options.listener ?? {};
  const strategy = options.strategy ?? { kind: 'chunk', executeSteps: 30 };
  const episodes = options.episodes ?? 1;
  const seed0 = options.seed ?? 0;
  const period = tickPeriodMs(env.robotSpec.embodiment);
  const recorder = new RunRecorder(env.robotSpec.embodiment);
  const measured: number[] = [];
  let expected = options.expectedLatencyMs;
  if (options.lockstep) {
    const d = options.lockstep.delayTicks;
    if (!(Number.isInteger(d) && d >= 0))
      throw new Error(`runSim: lockstep.delayTicks ${d} is not a non-negative integer`);
    // Just under d periods, so the executor plans for exactly d steps (ceil of latency / period).
    expected ??= Math.max(0, d - 0.5) * period;
  }
  try {
    for (let i = 0; i < episodes && !control.stopped; i++) {
      const seed = seed0 + i;
      await env.resetAsync(seed);
      const prompt = options.prompt || control.instruction || env.instance.instruction;
      const episode = options.openEpisode();
      const safety = new SafetyLayer(env.robotSpec.embodiment, options.safety);
      recorder.beginEpisode();
      listener.log?.(`episode ${i + 1}/${episodes} (seed ${seed}): ${prompt}`);
      let success = false;
      try {
        if (!options.lockstep && expected === undefined) {
          // Warm-up: the first request compiles the pipelines, the second measures what the executor
          // must plan for (with a margin).
          const o = env.robot.observe();
          const request = {
            robotType: env.robotSpec.embodiment.robotType,
            state: toPolicyState(env.robotSpec.embodiment, o.state),
            images: o.images,
            prompt,
            timestampMs: env.nowMs(),
          };
          await episode.source(request);
          const t0 = performance.now();
          await episode.source(request);
          expected = 1.5 * (performance.now() - t0);
          listener.log?.(`warm-up request: ${(expected / 1.5).toFixed(0)} ms`);
        }
        const maxTicks = Math.min(options.maxSteps ?? Infinity, env.instance.maxSteps);
        const run = options.lockstep
          ? lockstepEpisode(env, options.lockstep.delayTicks, maxTicks)
          : realtimeEpisode(env, maxTicks);
        success = await run({
          source: episode.source,
          observe: (o) => episode.observe?.(o),
          safety,
          strategy,
          expectedLatencyMs: expected ?? 0,
          prompt,
          control,
          recorder,
          listener,
          measured,
          seed,
        });
      } finally {
        episode.close();
        control.attach(undefined);
        if (safety.started) safety.stop();
      }
      // Later episodes plan for the 95th percentile measured so far, with a margin.
      if (!options.lockstep && options.expectedLatencyMs === undefined && measured.length)
        expected = 1.2 * latencyStats(measured).p95;
      const summary = recorder.episodes[recorder.episodes.length - 1];
      if (summary) {
        listener.episode?.(summary);
        listener.log?.(
          `episode ${i + 1}: ${success ? 'success' : 'no success'} after ${summary.ticks} ticks, ${summary.chunks} chunks, ${summary.holds} holds`,
        );
      }
    }
  } finally {
    env.delete();
  }
  return recorder.summary({
    mode: options.lockstep ? 'lockstep' : 'realtime',
    robot: robotName,
    task,
    strategy: strategy.kind,
    estops: control.emergencyStops,
    stopped: control.stopped,
  });
}

interface EpisodeWiring {
  readonly source: ActionSource;
  readonly observe: (o: Observation) => void;
  readonly safety: SafetyLayer;
  readonly strategy: ExecutionStrategy;
  readonly expectedLatencyMs: number;
  readonly prompt: string;
  readonly control: RunControl;
  readonly recorder: RunRecorder;
  readonly listener: RunListener;
  readonly measured: number[];
  readonly seed: number;
}

function executor(
  env: SimEnv,
  clock: Clock,
  w: EpisodeWiring,
  source: ActionSource,
  ended: () => boolean,
  afterCommand: () => void = () => undefined,
) {
  let last: Observation | undefined;
  let attached = false;
  const exec = new ChunkExecutor({
    robot: simRobotView(env, clock),
    safety: w.safety,
    source,
    clock,
    // 'rtc' is robot-core's once real-time chunking lands there (the contract of issue 12).
    strategy: w.strategy,
    expectedLatencyMs: w.expectedLatencyMs,
    prompt: w.prompt,
    onObservation: (o) => {
      last = o;
      w.observe(o);
    },
    onCommand: (cmd) => {
      // The operator's handle reaches the layer once the executor started it (a latched e-stop
      // blocks a start): the first command always holds, as no chunk can have arrived before it.
      if (!attached) {
        attached = true;
        w.control.attach(w.safety);
      }
      w.recorder.command(cmd);
      w.listener.tick?.({ timestampMs: clock.now(), command: cmd, ...(last ? { observation: last } : {}) });
      afterCommand();
    },
    onError: (err) => {
      if (!ended()) w.recorder.error(err);
    },
  });
  return exec;
}

/** The episode's result: success. */
type EpisodeRun = (w: EpisodeWiring) => Promise<boolean>;

// Simulated time: a FakeClock that follows the world; the executor's ticks are driven by hand, and a
// chunk requested on tick t is released before tick t + delayTicks (counted in ticks, not in float
// milliseconds), however long it took to compute: the loop waits for the inference meanwhile.
// Rendering is most of a simulated tick on a CPU adapter, so each tick's frames are only recorded
// (SimEnv's deferred frames) and rendered when a request reads them: its own tick's and, for a policy
// that reads past frames, those of PAST_FRAME_OFFSET ticks before (kept in a history pushed on the
// same ticks as the policy's). With a tick listener (the dashboard shows every tick's frames), every
// tick is rendered.
function lockstepEpisode(env: SimEnv, delayTicks: number, maxTicks: number): EpisodeRun {
  return async (w) => {
    const clock = new FakeClock(env.nowMs());
    let inflight: Promise<unknown> | undefined;
    let done = false;
    let tick = 0;
    const releases: { atTick: number; release: () => void }[] = [];
    const everyTick = w.listener.tick !== undefined;
    const seen = new ObservationHistory();
    const source: ActionSource = (request) => {
      const atTick = tick + Math.max(1, delayTicks);
      const read = [request.images, seen.pastFrames()];
      let t0 = 0;
      const computed = Promise.all(read.map((frames) => env.develop(frames))).then(() => {
        t0 = performance.now();
        return w.source(request);
      });
      inflight = computed.catch(() => undefined);
      return computed.then(async (chunk) => {
        const ms = performance.now() - t0;
        await new Promise<void>((release) => releases.push({ atTick, release }));
        w.measured.push(ms);
        w.recorder.chunk(ms);
        w.listener.chunk?.({ latencyMs: ms, timestampMs: clock.now() });
        return chunk;
      });
    };
    const observe = (o: Observation) => {
      seen.push(o);
      w.observe(o);
    };
    const exec = executor(env, clock, { ...w, observe }, source, () => done);
    let success = false;
    for (; tick < maxTicks && !w.control.stopped;) {
      exec.tick();
      env.world.tick();
      tick++;
      if (everyTick) await env.robot.capture();
      else env.robot.captureDeferred();
      if (inflight) {
        await inflight;
        inflight = undefined;
      }
      // Only chunks a later tick can use arrive (one due after the episode's last tick never does).
      for (let i = releases.length - 1; i >= 0 && tick < maxTicks; i--) {
        if (releases[i].atTick <= tick) releases.splice(i, 1)[0].release();
      }
      // Moves the fake time to the world's and lets the released chunks reach the executor.
      await clock.advance(env.nowMs() - clock.now());
      if (env.instance.progress(env.world) >= 1) {
        success = true;
        break;
      }
    }
    done = true;
    exec.stop();
    w.recorder.endEpisode(w.seed, success, exec.stats);
    return success;
  };
}

// Real time: the executor ticks on the system clock (offset to the world's time), each command is
// followed by one physics tick, and inference runs concurrently (its promise is not awaited).
function realtimeEpisode(env: SimEnv, maxTicks: number): EpisodeRun {
  return (w) =>
    new Promise<boolean>((resolve) => {
      const base = env.nowMs();
      const start = performance.now();
      const clock: Clock = {
        now: () => base + (performance.now() - start),
        setTimeout: (fn, ms) => setTimeout(fn, ms),
        clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
      };
      let ticks = 0;
      let capturing = false;
      let finished = false;
      const source: ActionSource = async (request) => {
        const t0 = performance.now();
        const chunk = await w.source(request);
        const ms = performance.now() - t0;
        if (!finished) {
          w.measured.push(ms);
          w.recorder.chunk(ms);
          w.listener.chunk?.({ latencyMs: ms, timestampMs: clock.now() });
        }
        return chunk;
      };
      const exec = executor(
        env,
        clock,
        w,
        source,
        () => finished,
        () => {
          // One physics tick per control tick, on the executor's timer.
          env.world.tick();
          ticks++;
          if (!capturing) {
            capturing = true;
            void env.robot.capture().finally(() => (capturing = false));
          }
          if (env.instance.progress(env.world) >= 1) queueMicrotask(() => finish(true));
          else if (ticks >= maxTicks) queueMicrotask(() => finish(false));
        },
      );
      const finish = (success: boolean) => {
        if (finished) return;
        finished = true;
        exec.stop();
        // Leave the robot holding where it is.
        if (w.safety.started) env.robot.command(w.safety.step(undefined, clock.now()));
        w.recorder.endEpisode(w.seed, success, exec.stats);
        w.control.signal.removeEventListener('abort', onAbort);
        resolve(success);
      };
      const onAbort = () => finish(false);
      w.control.signal.addEventListener('abort', onAbort);
      exec.start();
    });
}
