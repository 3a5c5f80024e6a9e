// Closed-loop evaluation during training: the policy drives a simulated robot (@vla/sim) through
// seeded episodes of each task, with the same I/O layer and observation history a real robot gets,
// and the success rate per task goes to the metrics and the report.
import type { InternVLAA1Policy, PolicyProcessor } from '@vla/internvla-a1';
import { ObservationHistory, policyActionSource } from '@vla/policy-runtime';
import { fromPolicyActions, toPolicyState } from '@vla/robot-core';
import { SimEnv, simRobot } from '@vla/sim';

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

/** Runs `settings.episodes` seeded episodes of each task with the policy in the loop. */
export async function evaluateInSim(
  policy: InternVLAA1Policy,
  processor: PolicyProcessor,
  settings: EvalSettings,
  log: (message: string) => void = () => undefined,
): Promise<EvalResult[]> {
  const results: EvalResult[] = [];
  const history = new ObservationHistory();
  const source = policyActionSource({ policy, processor, history, seed: settings.seed });
  const execute = settings.executeSteps ?? 30;
  const e = simRobot(settings.robot).embodiment;
  if (e.robotType !== processor.json.robotType)
    throw new Error(
      `eval: the simulator's ${settings.robot} is "${e.robotType}" but the policy was trained for "${processor.json.robotType}"`,
    );
  for (const task of settings.tasks) {
    const env = await SimEnv.create({
      task,
      robot: settings.robot,
      camera: 'gpu',
      imageWidth: settings.imageSize ?? processor.json.imageSize,
      imageHeight: settings.imageSize ?? processor.json.imageSize,
    });
    let successes = 0;
    try {
      for (let i = 0; i < settings.episodes; i++) {
        let obs = await env.resetAsync(settings.seed + i);
        history.reset();
        history.push(obs);
        let plan: Float64Array[] = [];
        for (;;) {
          if (plan.length === 0) {
            const chunk = await source({
              robotType: e.robotType,
              state: toPolicyState(e, obs.state),
              images: obs.images,
              prompt: obs.instruction,
              timestampMs: obs.timestampMs,
            });
            plan = fromPolicyActions(e, chunk, obs.state, { delta: false }).slice(0, execute);
          }
          const r = await env.stepAsync(plan.shift());
          obs = r.observation;
          history.push(obs);
          if (r.done || (settings.maxSteps !== undefined && env.stepCount >= settings.maxSteps)) {
            if (r.success) successes++;
            break;
          }
        }
        env.delete();
      }
    } finally {
      env.delete();
    }
    const result = {
      task,
      robot: settings.robot,
      episodes: settings.episodes,
      successes,
      successRate: successes / settings.episodes,
    };
    log(`eval ${task} on ${settings.robot}: ${successes}/${settings.episodes}`);
    results.push(result);
  }
  return results;
}
