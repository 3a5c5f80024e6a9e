// What a demo run does, as data: the counts of each phase, filled from the mode (fine-tune the shipped
// policy, or train one from scratch), the reduced counts CI uses, and whether a GPU is there.

/** The shipped policy's tasks and robot (the demonstrations it was trained on). */
export const DEMO_TASKS: readonly string[] = ['pick-place', 'conveyor-sort'];
/** Simulated robot of the demo. */
export const DEMO_ROBOT = 'lift2';
/** First held-out evaluation seed (the shipped policy's demonstrations used seeds 1000 and up). */
export const EVAL_FIRST_SEED = 0;
/** First seed of the demonstrations the demo records (apart from the evaluation's and the shipped policy's). */
export const DEMO_FIRST_SEED = 2000;

/** Every setting of a demo run (see {@link resolveDemoOptions} for the defaults). */
export interface DemoOptions {
  /** Run folder: report.html, summary.json, demos/, train/. */
  out: string;
  /** Checkpoint to evaluate and fine-tune (default: the shipped policy). */
  policy?: string;
  /** Simulator tasks (default {@link DEMO_TASKS}, what the shipped policy was trained on). */
  tasks: readonly string[];
  /** Train a new tiny policy from scratch on fresh demonstrations instead of fine-tuning. */
  fromScratch: boolean;
  /** Evaluation episodes per task. */
  seeds: number;
  /** Cut evaluation episodes after this many control ticks (default: each task's own limit). */
  maxSteps?: number;
  /** Demonstrations recorded per task. */
  demos: number;
  /** Optimizer steps of the fine-tune (or of the training from scratch). */
  trainSteps: number;
  /** Samples per optimizer step. */
  batchSize: number;
  /** Peak learning rate. */
  lr: number;
  /** Side of the filmed view in the GIFs (pixels). */
  filmSize: number;
  /** Most frames per GIF. */
  filmFrames: number;
  /** Foresight pairs shown per task. */
  foresightPairs: number;
}

/** What the caller may set; the rest comes from the mode. */
export type DemoOptionsInput = Partial<DemoOptions> & {
  /** The reduced counts CI uses (a couple of short episodes, a few steps). */
  quick?: boolean;
};

const positiveInt = (name: string, v: number): number => {
  if (!(Number.isInteger(v) && v >= 1)) throw new Error(`demo: ${name} must be a positive integer, got ${v}`);
  return v;
};

/**
 * Fills in a run's settings. Fine-tuning (default): 2 evaluation episodes and 2 demonstrations per
 * task, 40 steps. From scratch: on a GPU 25 demonstrations per task and 3000 steps; on a CPU 2 and
 * 80 (it shows the pipeline, not a policy that succeeds). `quick`: 1 episode cut at 60 ticks,
 * 1 demonstration per task, 3 steps of batch 2. Explicit values win over all of these.
 */
export function resolveDemoOptions(input: DemoOptionsInput, env: { gpu: boolean }): DemoOptions {
  const scratch = input.fromScratch ?? false;
  const base: DemoOptions = input.quick
    ? {
        out: 'runs/demo',
        tasks: DEMO_TASKS,
        fromScratch: scratch,
        seeds: 1,
        maxSteps: 60,
        demos: 1,
        trainSteps: 3,
        batchSize: 2,
        lr: 3e-4,
        filmSize: 96,
        filmFrames: 30,
        foresightPairs: 1,
      }
    : {
        out: 'runs/demo',
        tasks: DEMO_TASKS,
        fromScratch: scratch,
        seeds: 2,
        demos: scratch ? (env.gpu ? 25 : 2) : 2,
        trainSteps: scratch ? (env.gpu ? 3000 : 80) : 40,
        batchSize: scratch && env.gpu ? 16 : 8,
        lr: 3e-4,
        filmSize: 192,
        filmFrames: 150,
        foresightPairs: 2,
      };
  const o: DemoOptions = { ...base };
  for (const [k, v] of Object.entries(input))
    if (v !== undefined && k !== 'quick') (o as unknown as Record<string, unknown>)[k] = v;
  positiveInt('seeds', o.seeds);
  positiveInt('demos', o.demos);
  positiveInt('trainSteps', o.trainSteps);
  positiveInt('batchSize', o.batchSize);
  positiveInt('filmSize', o.filmSize);
  positiveInt('filmFrames', o.filmFrames);
  if (o.maxSteps !== undefined) positiveInt('maxSteps', o.maxSteps);
  if (!(Number.isInteger(o.foresightPairs) && o.foresightPairs >= 0))
    throw new Error(`demo: foresightPairs must be a non-negative integer, got ${o.foresightPairs}`);
  if (!(o.lr > 0)) throw new Error(`demo: lr must be a number > 0, got ${o.lr}`);
  if (!(Array.isArray(o.tasks) && o.tasks.length > 0 && o.tasks.every((t) => typeof t === 'string' && t)))
    throw new Error(`demo: tasks must name at least one simulator task, got ${JSON.stringify(o.tasks)}`);
  if (!o.out) throw new Error('demo: out must be a folder');
  return o;
}
