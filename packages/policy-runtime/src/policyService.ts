// One policy, many episodes: each episode keeps its own observation history; requests that wait
// together run as one batched sampleActions. Real-time chunking guides a request that carries
// committed actions (SPEC §7; LeRobot's RTC for π0).
import { RTC_SCHEDULES, rtcPrefixWeights, type RtcSchedule } from '@vla/flow-matching';
import {
  PolicyProcessorError,
  type InternVLAA1Policy,
  type PolicyObservation as NetworkInputs,
  type PolicyProcessor,
  type RgbFrame,
  type SampleOptions,
} from '@vla/internvla-a1';
import {
  POLICY_DIM,
  type ActionChunk,
  type ActionSource,
  type ChunkRequest,
  type CommittedActions,
  type Observation,
} from '@vla/robot-core';
import { concat, mul, randNormal, tensor, tidy, type Tensor } from '@vla/tensor-webgpu';
import { ObservationHistory } from './observationHistory.js';
import { PolicyRuntimeError } from './policyRuntimeError.js';

/** How requests that carry `committed` actions are guided (LeRobot's RTC settings). */
export interface RtcOptions {
  /** β, the clip of the guidance weight (default 10, LeRobot's default). */
  maxGuidanceWeight?: number;
  /** Prefix weight schedule over the overlap (default 'linear', LeRobot's default). */
  schedule?: RtcSchedule;
  /**
   * Where the prefix weights reach 0, in rows of the new chunk (LeRobot's `execution_horizon`):
   * clipped to the committed rows; default all of them (the paper's H − s).
   */
  executionHorizon?: number;
}

/** Options of {@link PolicyService}. */
export interface PolicyServiceOptions {
  /** The network. The service does not own it: dispose it yourself when done. */
  policy: InternVLAA1Policy;
  /** Its I/O layer (normalisation, delta mask, grippers, cameras); must fit the policy's config. */
  processor: PolicyProcessor;
  /** Euler steps of the flow-matching sampler (default 10). */
  steps?: number;
  /** Seed of every request's starting noise (default 0): a request gives one chunk, batched or not. */
  seed?: number;
  /**
   * Scale of the starting noise (default 1: the distribution the policy was trained from). Below 1
   * the chunk starts nearer the middle of that distribution, 0 from zero itself (one answer per
   * observation, whatever the seed).
   */
  noiseScale?: number;
  /** Requests queued while the GPU is busy run as one batch of at most this many (default 8). */
  maxBatch?: number;
  /** How `committed` requests are guided. */
  rtc?: RtcOptions;
}

/** Timing of one answered request. */
export interface RequestTiming {
  /** From the start of its batch's GPU work to its chunk (ms). */
  inferMs: number;
  /** From the request to the start of its batch (ms). */
  queueMs: number;
  /** Requests in its batch. */
  batchSize: number;
}

/** The policy's visual foresight of one request: frames t+15 decoded by its tokenizer. */
export interface Foresight {
  /** `[views, 3, size, size]` row-major in [-1, 1] (the processor's camera order). */
  images: Float32Array;
  views: number;
  size: number;
  /** The processor's cameras (view order). */
  cameras: readonly string[];
  /** The request's observation time (ms); the images predict 15 control ticks later. */
  observationTimestampMs: number;
}

/** Options of {@link PolicyService.openEpisode}. */
export interface OpenEpisodeOptions {
  /** Receives each answered request's foresight (only then is it decoded). */
  onForesight?: (f: Foresight) => void;
  /**
   * The history to read past frames from (default a new one with offset 15, owned by the episode).
   * With one passed in, {@link PolicyEpisode.observe} pushes to it and reset() clears it.
   */
  history?: ObservationHistory;
}

/** One client's episode on a {@link PolicyService}. */
export interface PolicyEpisode {
  /** Push every control tick's observation (wire as the executor's onObservation). */
  observe(observation: Observation): void;
  /**
   * This episode's ActionSource. Requests of all episodes that wait together run as one GPU batch;
   * a batched chunk equals the chunk the same request gets alone.
   */
  readonly source: ActionSource;
  /** Timing of this episode's last answered request. */
  readonly lastTiming: RequestTiming | undefined;
  /** Starts a new episode on the same handle (clears the history and the last timing). */
  reset(): void;
  /** Rejects later requests; queued ones of this episode (and one in flight) are rejected. */
  close(): void;
}

/** Counters of a {@link PolicyService}. */
export interface PolicyServiceStats {
  /** Requests accepted into the queue. */
  requests: number;
  /** Batches run. */
  batches: number;
  /** The largest batch run. */
  largestBatch: number;
}

/** What one request needs, taken when it is made (the history moves on while it waits its turn). */
interface Job {
  readonly episode: EpisodeState;
  readonly state: Float64Array;
  readonly current: Record<string, RgbFrame | undefined>;
  readonly past: Record<string, RgbFrame | undefined>;
  readonly prompt: string;
  readonly timestampMs: number;
  readonly committed: CommittedActions | undefined;
  readonly queuedAt: number;
  readonly resolve: (chunk: ActionChunk) => void;
  readonly reject: (err: Error) => void;
}

interface EpisodeState {
  readonly history: ObservationHistory;
  readonly onForesight: ((f: Foresight) => void) | undefined;
  closed: boolean;
  lastTiming: RequestTiming | undefined;
}

const now = (): number => performance.now();

/** The processor must fit the network (`PolicyProcessor.checkFits`) and a chunk's 32 columns. */
function checkFits(policy: InternVLAA1Policy, processor: PolicyProcessor, what: string): void {
  try {
    processor.checkFits(policy.config);
  } catch (e) {
    if (!(e instanceof PolicyProcessorError)) throw e;
    throw new PolicyRuntimeError(
      `${what}: processor.${e.field} ${e.problem} (cameras: ${processor.json.cameras.join(', ')})`,
    );
  }
  if (processor.actionDim > POLICY_DIM)
    throw new PolicyRuntimeError(
      `${what}: processor has ${processor.actionDim} action dims, a chunk holds ${POLICY_DIM}`,
    );
}

/**
 * A trained InternVLA-A1 policy serving many episodes at once. Per request: the first
 * `processor.stateDim` values of the request's state (dataset units) are normalised; the current
 * frames of the processor's cameras and the episode's frames t − 15 become the network's images; the
 * prompt is tokenized; the chunk is sampled (`steps` Euler steps from the noise of `seed`), read back
 * and turned by `processor.actionsToRobot` into absolute targets in dataset units, `[chunkSize, 32]`
 * zero-padded and marked `absolute: true`.
 *
 * Batching: requests are queued; when the GPU is free, everything queued (those that arrived in the
 * same macrotask, or while the previous batch ran) runs as one `sampleActions` of up to `maxBatch`.
 * Every request's starting noise is drawn alone from `seed` and stacked, so a batched chunk equals the
 * chunk the request gets alone (up to float rounding of batched kernels).
 *
 * Real-time chunking: a request with `committed` rows (absolute, dataset units) is sampled as
 * inpainting toward them. The rows (first `processor.actionDim` columns) become normalised policy
 * actions relative to THIS request's state (`processor.actionsToPolicy`: delta dims minus the state,
 * then normalised; padded dims target 0), the prefix weights are `rtcPrefixWeights(chunkSize, d,
 * executionHorizon, schedule)` with d = `delaySteps`, and the sampler's guidance is LeRobot's (v held
 * constant in the correction, see flow-matching's `guidedVelocity`). Rows [0, d) of the returned chunk
 * are then overwritten with the committed rows bit for bit: they execute anyway, so "committed actions
 * stay fixed" is a guarantee, not an approximation.
 *
 * Every GPU tensor a batch creates is freed when it ends, also when it fails (then each of its
 * requests is rejected with the error).
 */
export class PolicyService {
  /** The network (not owned). */
  readonly policy: InternVLAA1Policy;
  /** Its processor. */
  readonly processor: PolicyProcessor;
  private readonly steps: number;
  private readonly seed: number;
  private readonly noiseScale: number;
  private readonly maxBatch: number;
  private readonly rtc: Required<Omit<RtcOptions, 'executionHorizon'>> & { executionHorizon?: number };
  private queue: Job[] = [];
  private busy = false;
  private scheduled = false;
  private disposed = false;
  private counters: PolicyServiceStats = { requests: 0, batches: 0, largestBatch: 0 };

  /** Checks the options and that the processor fits the policy (a {@link PolicyRuntimeError} if not). */
  constructor(options: PolicyServiceOptions) {
    const what = 'PolicyService';
    this.policy = options.policy;
    this.processor = options.processor;
    this.steps = options.steps ?? 10;
    this.seed = options.seed ?? 0;
    this.noiseScale = options.noiseScale ?? 1;
    this.maxBatch = options.maxBatch ?? 8;
    if (!(Number.isFinite(this.noiseScale) && this.noiseScale >= 0))
      throw new PolicyRuntimeError(`${what}: noiseScale must be a finite number ≥ 0, got ${this.noiseScale}`);
    if (!Number.isInteger(this.steps) || this.steps < 1)
      throw new PolicyRuntimeError(`${what}: steps must be a positive integer, got ${this.steps}`);
    if (!Number.isInteger(this.maxBatch) || this.maxBatch < 1)
      throw new PolicyRuntimeError(`${what}: maxBatch must be a positive integer, got ${this.maxBatch}`);
    const rtc = options.rtc ?? {};
    this.rtc = {
      maxGuidanceWeight: rtc.maxGuidanceWeight ?? 10,
      schedule: rtc.schedule ?? 'linear',
      ...(rtc.executionHorizon !== undefined ? { executionHorizon: rtc.executionHorizon } : {}),
    };
    if (!(this.rtc.maxGuidanceWeight >= 0) || !Number.isFinite(this.rtc.maxGuidanceWeight))
      throw new PolicyRuntimeError(
        `${what}: rtc.maxGuidanceWeight must be finite and ≥ 0, got ${this.rtc.maxGuidanceWeight}`,
      );
    if (!(RTC_SCHEDULES as readonly string[]).includes(this.rtc.schedule))
      throw new PolicyRuntimeError(`${what}: rtc.schedule ${JSON.stringify(this.rtc.schedule)} is unknown`);
    const eh = this.rtc.executionHorizon;
    if (eh !== undefined && !(Number.isInteger(eh) && eh >= 0))
      throw new PolicyRuntimeError(`${what}: rtc.executionHorizon must be a non-negative integer, got ${eh}`);
    checkFits(this.policy, this.processor, what);
  }

  /** A copy of the counters. */
  get stats(): PolicyServiceStats {
    return { ...this.counters };
  }

  /** A new episode: its own observation history (frames t − 15) and foresight listener. */
  openEpisode(options: OpenEpisodeOptions = {}): PolicyEpisode {
    if (this.disposed) throw new PolicyRuntimeError('PolicyService.openEpisode: the service was disposed');
    const ep: EpisodeState = {
      history: options.history ?? new ObservationHistory(),
      onForesight: options.onForesight,
      closed: false,
      lastTiming: undefined,
    };
    const source: ActionSource = (request) => this.enqueue(ep, request);
    return {
      observe: (observation) => {
        if (!ep.closed) ep.history.push(observation);
      },
      source,
      get lastTiming() {
        return ep.lastTiming;
      },
      reset: () => {
        ep.history.reset();
        ep.lastTiming = undefined;
      },
      close: () => {
        if (ep.closed) return;
        ep.closed = true;
        this.rejectWhere((j) => j.episode === ep, 'PolicyEpisode: the episode was closed');
      },
    };
  }

  /** Rejects every queued request and later ones. Frees nothing it does not own (the policy is the caller's). */
  dispose(): void {
    this.disposed = true;
    this.rejectWhere(() => true, 'PolicyService: the service was disposed');
  }

  private rejectWhere(pred: (j: Job) => boolean, message: string): void {
    const gone = this.queue.filter(pred);
    this.queue = this.queue.filter((j) => !pred(j));
    for (const j of gone) j.reject(new PolicyRuntimeError(message));
  }

  private enqueue(ep: EpisodeState, request: ChunkRequest): Promise<ActionChunk> {
    return new Promise<ActionChunk>((resolve, reject) => {
      if (this.disposed) throw new PolicyRuntimeError('PolicyService: the service was disposed');
      if (ep.closed) throw new PolicyRuntimeError('PolicyEpisode: the episode was closed');
      const job = this.takeJob(ep, request, resolve, reject);
      this.queue.push(job);
      this.counters.requests++;
      this.kick();
    });
  }

  // Start a batch at the next macrotask unless one runs: requests made meanwhile join it.
  private kick(): void {
    if (this.busy || this.scheduled || this.queue.length === 0) return;
    this.scheduled = true;
    setTimeout(() => {
      this.scheduled = false;
      void this.drain();
    }, 0);
  }

  private async drain(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      while (this.queue.length > 0) {
        const jobs = this.queue.splice(0, this.maxBatch);
        this.counters.batches++;
        this.counters.largestBatch = Math.max(this.counters.largestBatch, jobs.length);
        try {
          await this.runBatch(jobs);
        } catch (err) {
          const e = err instanceof Error ? err : new Error(String(err));
          for (const j of jobs) j.reject(e);
        }
      }
    } finally {
      this.busy = false;
    }
  }

  private async runBatch(jobs: Job[]): Promise<void> {
    const { policy, processor } = this;
    const start = now();
    const B = jobs.length;
    const { chunkSize: H, stateDim: D } = policy.config;
    const cameras = processor.json.cameras;
    const foresight = jobs.some((j) => j.episode.onForesight !== undefined);
    // Host-side RTC targets first: a malformed committed block fails before any GPU work.
    const guide = jobs.some((j) => j.committed) ? this.guidanceArrays(jobs, H, D) : undefined;
    // Loads once; later calls return at once (loadPolicyBundle has loaded it already).
    await processor.loadTokenizer();
    const { tokens, textMask } = processor.encodePrompts(
      policy.config,
      jobs.map((j) => j.prompt),
    );
    const out = tidy(() => {
      const states = new Float32Array(B * D);
      jobs.forEach((j, b) => states.set(processor.stateToPolicy(j.state), b * D));
      const current = processor.imageBatchToPolicy(jobs.map((j) => j.current));
      // Only the current frames feed the vision tower.
      const past = processor.imageBatchToPolicy(
        jobs.map((j) => j.past),
        { vision: false },
      );
      const inputs: NetworkInputs = {
        images: cameras.map((_, v) => ({ past: past.images[v], current: current.images[v] })),
        imageMasks: current.masks,
        tokens,
        textMask,
        state: tensor(states, [B, D]),
        ...(current.visionPatches ? { visionPatches: current.visionPatches } : {}),
      };
      // The noise of one request alone, stacked: a request's chunk does not depend on its batch.
      const drawn = randNormal([1, H, D], { seed: this.seed });
      const one = this.noiseScale === 1 ? drawn : mul(drawn, this.noiseScale);
      const noise = B === 1 ? one : concat(new Array<Tensor>(B).fill(one), 0);
      const options: SampleOptions = { steps: this.steps, noise, foresight };
      if (guide)
        options.guidance = {
          target: tensor(guide.target, [B, H, D]),
          weights: tensor(guide.weights, [B, H]),
          maxGuidanceWeight: this.rtc.maxGuidanceWeight,
        };
      const r = policy.sampleActions(inputs, options);
      // Everything else (inputs, noise, the foresight latent) is freed when this scope ends.
      return { actions: r.actions, images: r.images };
    });
    const owned: Tensor[] = [out.actions, ...(out.images ? [out.images] : [])];
    let actions: Float32Array;
    let images: Float32Array | undefined;
    try {
      actions = (await out.actions.toArray()) as Float32Array;
      if (out.images) images = (await out.images.toArray()) as Float32Array;
    } finally {
      for (const t of owned) t.dispose();
    }
    const inferMs = now() - start;
    const S = processor.json.imageSize;
    const perView = 3 * S * S;
    jobs.forEach((j, b) => {
      try {
        const chunk = this.toChunk(actions.subarray(b * H * D, (b + 1) * H * D), j);
        if (j.episode.closed) throw new PolicyRuntimeError('PolicyEpisode: the episode was closed');
        j.episode.lastTiming = { inferMs, queueMs: start - j.queuedAt, batchSize: B };
        if (images && j.episode.onForesight) {
          const size = cameras.length * perView;
          j.episode.onForesight({
            images: images.slice(b * size, (b + 1) * size),
            views: cameras.length,
            size: S,
            cameras,
            observationTimestampMs: j.timestampMs,
          });
        }
        j.resolve(chunk);
      } catch (err) {
        j.reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
  }

  // The network's [H, D] actions of one request → its absolute chunk; committed rows [0, d) verbatim.
  private toChunk(net: Float32Array, j: Job): ActionChunk {
    const rows = this.processor.actionsToRobot(net, j.state);
    const chunk = new Float32Array(rows.length * POLICY_DIM);
    rows.forEach((row, h) => chunk.set(row, h * POLICY_DIM));
    const c = j.committed;
    if (c) {
      const d = Math.min(c.delaySteps, rows.length);
      for (let h = 0; h < d; h++) {
        chunk.fill(0, h * POLICY_DIM, (h + 1) * POLICY_DIM);
        chunk.set(c.actions.subarray(h * c.dim, h * c.dim + Math.min(c.dim, POLICY_DIM)), h * POLICY_DIM);
      }
    }
    return { actions: chunk, horizon: rows.length, dim: POLICY_DIM, absolute: true };
  }

  // Per request: normalised committed targets [H, D] and prefix weights [H] (zeros without committed).
  private guidanceArrays(jobs: Job[], H: number, D: number): { target: Float32Array; weights: Float32Array } {
    const target = new Float32Array(jobs.length * H * D);
    const weights = new Float32Array(jobs.length * H);
    const n = this.processor.actionDim;
    jobs.forEach((j, b) => {
      const c = j.committed;
      if (!c) return;
      const rows = Math.min(c.horizon, H);
      const absolute = Array.from({ length: rows }, (_, h) => c.actions.subarray(h * c.dim, h * c.dim + n));
      target.set(this.processor.actionsToPolicy(absolute, j.state), b * H * D);
      const end = Math.min(this.rtc.executionHorizon ?? c.horizon, c.horizon);
      weights.set(rtcPrefixWeights(H, c.delaySteps, end, this.rtc.schedule), b * H);
    });
    return { target, weights };
  }

  private takeJob(
    ep: EpisodeState,
    request: ChunkRequest,
    resolve: (chunk: ActionChunk) => void,
    reject: (err: Error) => void,
  ): Job {
    const { processor } = this;
    const robotType = processor.json.robotType;
    if (request.robotType !== robotType)
      throw new PolicyRuntimeError(
        `PolicyService: the request is from robot type ${JSON.stringify(request.robotType)}, the processor is for ${JSON.stringify(robotType)}`,
      );
    const n = processor.stateDim;
    if (request.state.length < n)
      throw new PolicyRuntimeError(
        `PolicyService: the request's state has ${request.state.length} values, the processor needs ${n} (${processor.json.stateNames.join(', ')})`,
      );
    if (request.committed) this.checkCommitted(request.committed);
    const pastFrames = ep.history.pastFrames();
    const current: Record<string, RgbFrame | undefined> = {};
    const past: Record<string, RgbFrame | undefined> = {};
    for (const cam of processor.json.cameras) {
      if (!Object.hasOwn(request.images, cam)) continue;
      const frame = request.images[cam];
      // A malformed frame fails its own request here, not the whole batch it would join.
      if (frame && frame.data.length !== frame.width * frame.height * 3)
        throw new PolicyRuntimeError(
          `PolicyService: camera ${cam} of the request has ${frame.data.length} bytes, expected ${frame.height}·${frame.width}·3`,
        );
      current[cam] = frame;
      // No history yet: the current frame is the oldest one known, as at an episode start.
      past[cam] = Object.hasOwn(pastFrames, cam) ? pastFrames[cam] : frame;
    }
    return {
      episode: ep,
      state: Float64Array.from(request.state.subarray(0, n)),
      current,
      past,
      prompt: request.prompt ?? '',
      timestampMs: request.timestampMs,
      committed: request.committed,
      queuedAt: now(),
      resolve,
      reject,
    };
  }

  private checkCommitted(c: CommittedActions): void {
    const n = this.processor.actionDim;
    const bad = (what: string) => new PolicyRuntimeError(`PolicyService: request.committed ${what}`);
    if (!(Number.isInteger(c.horizon) && c.horizon >= 1))
      throw bad(`horizon must be a positive integer, got ${c.horizon}`);
    if (!(Number.isInteger(c.dim) && c.dim >= n && c.dim <= POLICY_DIM))
      throw bad(
        `dim must be an integer in [${n}, ${POLICY_DIM}] (the processor's ${n} action dims), got ${c.dim}`,
      );
    if (c.actions.length !== c.horizon * c.dim)
      throw bad(`has ${c.actions.length} values, [${c.horizon}, ${c.dim}] needs ${c.horizon * c.dim}`);
    if (!(Number.isInteger(c.delaySteps) && c.delaySteps >= 0 && c.delaySteps <= c.horizon))
      throw bad(`delaySteps must be an integer in [0, ${c.horizon}], got ${c.delaySteps}`);
    for (let i = 0; i < c.actions.length; i++)
      if (!Number.isFinite(c.actions[i]))
        throw bad(`row ${Math.floor(i / c.dim)} column ${i % c.dim} is ${c.actions[i]}`);
  }
}
