// Policies trained by this project and shipped inside the package, found by name. The files sit in
// `policies/` next to `dist/`, so a URL relative to this module reaches them from an install, a
// workspace or a bundle that keeps the folder layout.

/** What a shipped policy is for and where its files are. */
export interface PretrainedPolicyInfo {
  /** Name to ask for (`tiny-lift2`). */
  name: string;
  /** Checkpoint file in `policies/`: weights plus the processor (normalisation, cameras, vocabulary). */
  file: string;
  /** Its training record in `policies/` (see {@link TrainingRecord}). */
  recordFile: string;
  /** Simulated robot it drives (`@vla/sim` name). */
  robot: string;
  /** Simulator tasks it was trained on. */
  tasks: readonly string[];
  /** One line for people. */
  description: string;
}

/** One closed-loop evaluation of a task. */
export interface TaskSuccess {
  /** Episodes run. */
  episodes: number;
  /** Episodes that reached the goal. */
  successes: number;
}

/**
 * The final evaluation of a task: `vla-control run --lockstep --delay 0 --seed <firstSeed>` on the
 * seeds `firstSeed`, `firstSeed + 1`, … (one episode each; the sampler seeded with `firstSeed`, so
 * `--seed <s> --sampler-seed <firstSeed> --episodes 1` replays seed s alone).
 */
export interface FinalEvaluation extends TaskSuccess {
  /** Seed of the first episode. */
  firstSeed: number;
  /** The seeds whose episode reached the goal, ascending (as many as `successes`). */
  seedsWon: number[];
}

/** A point of the learning curve: the training loss and, where measured, closed-loop success. */
export interface CurvePoint {
  /** Optimizer step. */
  step: number;
  /** Training loss around that step. */
  loss: number;
  /** Success per task when it was evaluated at this step. */
  success?: Record<string, TaskSuccess>;
}

/** How a shipped policy was trained and how well it does: the numbers its report and docs show. */
export interface TrainingRecord {
  /** Policy name. */
  name: string;
  /** Model preset and whether the generation expert was on. */
  model: { preset: string; generation: boolean };
  /** Demonstrations per task (scripted-expert episodes recorded with `vla-sim record`). */
  demonstrations: Record<string, number>;
  /** Optimizer steps trained. */
  steps: number;
  /** Samples per step. */
  batchSize: number;
  /** Where it was trained (engine, threads, machine). */
  device: string;
  /** Wall-clock training time in seconds. */
  wallClockS: number;
  /** Final closed-loop evaluation on held-out seeds, per task. */
  evaluation: Record<string, FinalEvaluation>;
  /** Loss and success along training. */
  curve: CurvePoint[];
  /** A line on the policy's state, shown with it (e.g. that it stands in for one still training). */
  status?: string;
}

/** Every shipped policy. */
export const PRETRAINED_POLICIES: readonly PretrainedPolicyInfo[] = Object.freeze([
  {
    name: 'tiny-lift2',
    file: 'tiny-lift2.safetensors',
    recordFile: 'tiny-lift2.json',
    robot: 'lift2',
    tasks: ['pick-place', 'conveyor-sort'],
    description:
      'the tiny InternVLA-A1 (generation expert on) trained on scripted demonstrations of the simulated ARX Lift-2, 64 px cameras',
  },
]);

/** Name of the policy used when none is asked for. */
export const DEFAULT_PRETRAINED_POLICY = 'tiny-lift2';

/** The entry of a shipped policy; an unknown name is an error listing the known ones. */
export function pretrainedPolicy(name: string = DEFAULT_PRETRAINED_POLICY): PretrainedPolicyInfo {
  const info = PRETRAINED_POLICIES.find((p) => p.name === name);
  if (!info)
    throw new Error(
      `no shipped policy named '${name}' (shipped: ${PRETRAINED_POLICIES.map((p) => p.name).join(', ')})`,
    );
  return info;
}

/** URL of a shipped policy's checkpoint (a `file:` URL in Node; fetchable where the package is served). */
export function pretrainedPolicyUrl(name: string = DEFAULT_PRETRAINED_POLICY): URL {
  return new URL(`../policies/${pretrainedPolicy(name).file}`, import.meta.url);
}

/** URL of a shipped policy's training record. */
export function trainingRecordUrl(name: string = DEFAULT_PRETRAINED_POLICY): URL {
  return new URL(`../policies/${pretrainedPolicy(name).recordFile}`, import.meta.url);
}
