// Closed-loop episodes: the policy drives a simulated robot (@vla/sim) through seeded episodes, with
// the same I/O layer and observation history a real robot gets. `runEpisodes` is the one loop;
// the evaluation during training counts its successes, and the demo films it and keeps foresight
// pairs through its hooks. (The controller's `vla-control run` deploys through robot-core's
// ChunkExecutor and a clock instead: that is the deployment path, not this direct loop.)
import type { InternVLAA1Policy, PolicyProcessor } from '@vla/internvla-a1';
import { ObservationHistory, policyActionSource } from '@vla/policy-runtime';
import { fromPolicyActions, toPolicyState, type ActionSource } from '@vla/robot-core';
import { SimEnv, simRobot, type SimObservation } from '@vla/sim';

/** What to evaluate (the `eval` section of a training config). */
export interface EvalSettings {
  /** Episodes per task. */
  episodes: number;
  /** Task names of @vla/sim (`pick-place`, `conveyor-sort`, `handover`). */
  tasks: readonly string[];
  /** Simulated robot (`lift2`, `acone`, `genie1`); its embodiment must be the processor's robot type. */
  robot: string;
  /** Seed of the first episode; episode i uses seed + i. */
  seed: number;
  /** Square camera side of the renders (default: the processor's image size). */
  imageSize?: number;
  /** Actions executed from each chunk before asking for the next (default 30 of 50). */
  executeSteps?: number;
  /** Cut episodes after this many control ticks (a failure unless the goal was reached); default the task's own limit. */
  maxSteps?: number;
}

/** Success of one task. */
export interface EvalResult {
  /** Task name. */
  task: string;
  /** Robot name. */
  robot: string;
  /** Episodes run. */
  episodes: number;
  /** Episodes that reached the goal. */
  successes: number;
  /** successes / episodes. */
  successRate: number;
}

/** What {@link runEpisodes} runs: one task, seeds `firstSeed … firstSeed + episodes − 1`. */
export interface EpisodeSettings {
  /** Simulator task (`pick-place`, `conveyor-sort`, `handover`). */
  task: string;
  /** Simulated robot; its embodiment must be the processor's robot type. */
  robot: string;
  /** Episodes to run. */
  episodes: number;
  /** Seed of the first episode. */
  firstSeed: number;
  /** Square camera side of the GPU renders (default: the processor's image size). */
  imageSize?: number;
  /** Actions executed from each chunk before asking for the next (default 30 of 50). */
  executeSteps?: number;
  /** Cut episodes after this many control ticks (a failure unless the goal was reached); default the task's own limit. */
  maxSteps?: number;
}

/** One episode's outcome. */
export interface EpisodeOutcome {
  /** The episode's seed. */
  seed: number;
  /** Whether the task's goal was reached. */
  success: boolean;
  /** Control ticks run. */
  ticks: number;
  /** Action chunks requested. */
  chunks: number;
  /** Wall-clock time of the episode, ms. */
  wallMs: number;
}

/** What the caller of {@link runEpisodes} chooses and watches. */
export interface EpisodeHooks {
  /** The action source of the request made at control tick `tick` of episode `episode` (0-based). */
  source(episode: number, tick: number): ActionSource;
  /** After episode `episode`'s reset, with the ticks it may run. */
  start?(env: SimEnv, episode: number, maxTicks: number): void | Promise<void>;
  /**
   * After every control tick of episode `episode`; `over` on its last. The observation's images are
   * not rendered yet: `await env.develop(observation.images)` before reading them (it renders them as
   * they were at this tick).
   */
  tick?(env: SimEnv, observation: SimObservation, episode: number, over: boolean): void | Promise<void>;
}

/**
 * Runs seeded episodes of one task with the policy in the loop, on the GPU camera: reset, then
 * request a chunk, execute its first `executeSteps` actions (deltas turned into absolute targets on
 * the state of the request), request again, until the goal is reached or the tick limit. `history`
 * is what the hooks' action sources read: it is reset at every episode and gets every observation.
 * A tick's camera frames are rendered only when read (SimEnv's deferred frames): those of the
 * request's tick and the history's past frames (tick t − 15), about 2 renders in 30 ticks.
 */
export async function runEpisodes(
  processor: PolicyProcessor,
  settings: EpisodeSettings,
  history: ObservationHistory,
  hooks: EpisodeHooks,
): Promise<EpisodeOutcome[]> {
  const e = simRobot(settings.robot).embodiment;
  if (e.robotType !== processor.json.robotType)
    throw new Error(
      `closed loop: the simulator's ${settings.robot} is "${e.robotType}" but the policy was trained for "${processor.json.robotType}"`,
    );
  if (!(Number.isInteger(settings.episodes) && settings.episodes >= 1))
    throw new Error(`closed loop: episodes must be a positive integer, got ${settings.episodes}`);
  const size = settings.imageSize ?? processor.json.imageSize;
  const execute = settings.executeSteps ?? 30;
  const env = await SimEnv.create({
    task: settings.task,
    robot: settings.robot,
    camera: 'gpu',
    imageWidth: size,
    imageHeight: size,
  });
  const outcomes: EpisodeOutcome[] = [];
  try {
    for (let i = 0; i < settings.episodes; i++) {
      const seed = settings.firstSeed + i;
      const t0 = performance.now();
      let obs = await env.resetAsync(seed);
      history.reset();
      history.push(obs);
      const maxTicks = Math.min(settings.maxSteps ?? Infinity, env.instance.maxSteps);
      await hooks.start?.(env, i, maxTicks);
      let plan: Float64Array[] = [];
      let chunks = 0;
      for (;;) {
        if (plan.length === 0) {
          // Only the frames the request reads are rendered: this tick's and the history's past ones
          // (their readbacks overlap).
          await Promise.all([env.develop(obs.images), env.develop(history.pastFrames())]);
          const chunk = await hooks.source(
            i,
            env.stepCount,
          )({
            robotType: e.robotType,
            state: toPolicyState(e, obs.state),
            images: obs.images,
            prompt: obs.instruction,
            timestampMs: obs.timestampMs,
          });
          chunks++;
          plan = fromPolicyActions(e, chunk, obs.state, { delta: false }).slice(0, execute);
        }
        const r = env.stepDeferred(plan.shift());
        obs = r.observation;
        history.push(obs);
        const over = r.done || env.stepCount >= maxTicks;
        await hooks.tick?.(env, obs, i, over);
        if (over) {
          outcomes.push({
            seed,
            success: r.success,
            ticks: env.stepCount,
            chunks,
            wallMs: performance.now() - t0,
          });
          break;
        }
      }
    }
  } finally {
    env.delete();
  }
  return outcomes;
}

/**
 * Runs `settings.episodes` seeded episodes of each task with the policy in the loop ({@link runEpisodes};
 * one sampler, seeded with `settings.seed`, for the whole evaluation) and counts the successes.
 */
export async function evaluateInSim(
  policy: InternVLAA1Policy,
  processor: PolicyProcessor,
  settings: EvalSettings,
  log: (message: string) => void = () => undefined,
): Promise<EvalResult[]> {
  const results: EvalResult[] = [];
  const history = new ObservationHistory();
  const source = policyActionSource({ policy, processor, history, seed: settings.seed });
  for (const task of settings.tasks) {
    const outcomes = await runEpisodes(
      processor,
      {
        task,
        robot: settings.robot,
        episodes: settings.episodes,
        firstSeed: settings.seed,
        imageSize: settings.imageSize,
        executeSteps: settings.executeSteps,
        maxSteps: settings.maxSteps,
      },
      history,
      { source: () => source },
    );
    const successes = outcomes.filter((o) => o.success).length;
    log(`eval ${task} on ${settings.robot}: ${successes}/${settings.episodes}`);
    results.push({
      task,
      robot: settings.robot,
      episodes: settings.episodes,
      successes,
      successRate: successes / settings.episodes,
    });
  }
  return results;
}
