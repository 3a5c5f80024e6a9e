import type { LeRobotDataset } from './dataset';
import { LeRobotError } from './errors';
import { featureWidth } from './info';
import { concatStats } from './normalize';
import type { RobotMapping } from './robotMapping';
import type { NormStats } from './sampleBuilder';
import { StreamingFeatureStats, type DatasetStats } from './stats';

/** What the action statistics describe: absolute actions per frame, or deltas over action chunks. */
export type ActionStatsMode = 'abs' | 'delta';

/** Options of {@link DeltaActionStats} and {@link computeDeltaActionStats}. */
export interface DeltaActionStatsOptions {
  /** `delta` (default): actions minus the chunk's current state on the delta dims; `abs`: actions as stored. */
  actionMode?: ActionStatsMode;
  /** Actions per chunk (default 50); episodes shorter than this are skipped entirely. */
  chunkSize?: number;
  /** Also gather LeRobot's histogram quantiles q01…q99 (a second pass over the same episodes; default true). */
  quantiles?: boolean;
  /** Histogram bins of the quantiles (LeRobot: 5000). */
  quantileBins?: number;
}

/** The statistics a pass over a dataset gives. */
export interface DeltaActionStatsResult {
  /** Per state and action feature key, like upstream's `stats.json` (a key's dims only). */
  features: DatasetStats;
  /** The same, concatenated into the state and action vectors the model sees. */
  normStats: NormStats;
  /** Episodes that contributed. */
  usedEpisodes: number;
  /** Episodes shorter than `chunkSize`, left out of every statistic. */
  skippedEpisodes: number;
  /** Frames of all episodes, skipped ones included. */
  totalFrames: number;
}

/** A column of one episode: `length × width` values, row-major. */
export interface EpisodeColumn {
  values: ArrayLike<number>;
  width: number;
}

/**
 * Normalisation statistics computed the way upstream InternVLA-A1 computes them for training
 * (its `compute_norm_stats` scripts), one episode at a time:
 * - an episode shorter than `chunkSize` is skipped for every key, state included;
 * - state keys: every frame of the remaining episodes;
 * - action keys, `abs`: every frame; `delta`: for every start `t` with a full chunk inside the
 *   episode (`t = 0 … length − chunkSize`), the `chunkSize` actions `t … t + chunkSize − 1` minus
 *   the state at `t` on the delta-mask dims — the chunks the model trains on, never padded ones.
 * Mean and std are population statistics. With quantiles on, call {@link startSecondPass} and feed
 * the same episodes again. Upstream keeps running float32 sums; this keeps float64, so results
 * agree to float32 rounding.
 */
export class DeltaActionStats {
  readonly actionMode: ActionStatsMode;
  readonly chunkSize: number;
  private readonly state: Map<string, StreamingFeatureStats>;
  private readonly action: Map<string, StreamingFeatureStats>;
  private readonly stateDim: number;
  private readonly actionDim: number;
  private pass: 1 | 2 = 1;
  private used = [0, 0];
  private skipped = 0;
  private frames = 0;

  /**
   * @param mapping Which keys make the state and action vectors, and the delta mask.
   * @param widths Width of every state and action key.
   */
  constructor(
    readonly mapping: Pick<RobotMapping, 'stateKeys' | 'actionKeys' | 'deltaMask'>,
    readonly widths: Readonly<Record<string, number>>,
    private readonly options: DeltaActionStatsOptions = {},
  ) {
    this.actionMode = options.actionMode ?? 'delta';
    this.chunkSize = options.chunkSize ?? 50;
    if (this.actionMode !== 'abs' && this.actionMode !== 'delta')
      throw new LeRobotError(
        'invalid_argument',
        `delta action stats: actionMode must be 'abs' or 'delta', got '${String(this.actionMode)}'`,
      );
    if (!Number.isInteger(this.chunkSize) || this.chunkSize < 1)
      throw new LeRobotError(
        'invalid_argument',
        `delta action stats: chunkSize must be a positive integer, got ${this.chunkSize}`,
      );
    const width = (k: string): number => {
      const w = widths[k];
      if (!Number.isInteger(w) || w < 1)
        throw new LeRobotError('invalid_argument', `delta action stats: no width for feature '${k}'`);
      return w;
    };
    const bins = options.quantileBins ?? 5000;
    this.state = new Map(mapping.stateKeys.map((k) => [k, new StreamingFeatureStats(width(k), bins)]));
    this.action = new Map(mapping.actionKeys.map((k) => [k, new StreamingFeatureStats(width(k), bins)]));
    this.stateDim = mapping.stateKeys.reduce((a, k) => a + width(k), 0);
    this.actionDim = mapping.actionKeys.reduce((a, k) => a + width(k), 0);
    if (mapping.deltaMask.length !== this.actionDim)
      throw new LeRobotError(
        'shape_mismatch',
        `delta action stats: delta mask has ${mapping.deltaMask.length} entries but the action has ${this.actionDim} dims`,
      );
    const last = mapping.deltaMask.lastIndexOf(true);
    if (this.actionMode === 'delta' && last >= this.stateDim)
      throw new LeRobotError(
        'shape_mismatch',
        `delta action stats: delta dim ${last} has no matching state dim (state has ${this.stateDim})`,
      );
  }

  /** Ends the first pass; feed the same episodes again, in any order, for the quantiles. */
  startSecondPass(): void {
    if (this.pass === 2)
      throw new LeRobotError('invalid_argument', 'delta action stats: already in the second pass');
    if (this.used[0] === 0)
      throw new LeRobotError(
        'invalid_argument',
        `delta action stats: no episode of at least ${this.chunkSize} frames in the first pass`,
      );
    for (const s of [...this.state.values(), ...this.action.values()]) s.startSecondPass();
    this.pass = 2;
  }

  /** Concatenates `keys` of row `r` into `out` (a state or action vector). */
  private gather(
    columns: Readonly<Record<string, EpisodeColumn>>,
    keys: readonly string[],
    r: number,
    out: Float64Array,
  ): void {
    let o = 0;
    for (const k of keys) {
      const c = columns[k];
      for (let j = 0; j < c.width; j++) out[o++] = c.values[r * c.width + j];
    }
  }

  /**
   * Adds one episode of `length` frames; returns false when it is skipped for being shorter than
   * the chunk. `columns` must hold every state and action key at its width.
   */
  addEpisode(columns: Readonly<Record<string, EpisodeColumn>>, length: number): boolean {
    for (const k of [...this.mapping.stateKeys, ...this.mapping.actionKeys]) {
      const c = columns[k];
      if (!c)
        throw new LeRobotError('malformed_data', `delta action stats: the episode has no column '${k}'`);
      if (c.width !== this.widths[k] || c.values.length !== length * c.width)
        throw new LeRobotError(
          'shape_mismatch',
          `delta action stats: column '${k}' has ${c.values.length} values of width ${c.width}, expected ${length} rows of ${this.widths[k]}`,
        );
    }
    if (this.pass === 1) this.frames += length;
    if (length < this.chunkSize) {
      if (this.pass === 1) this.skipped++;
      return false;
    }
    this.used[this.pass - 1]++;
    for (const [k, s] of this.state) {
      const c = columns[k];
      for (let r = 0; r < length; r++) s.add(c.values, r * c.width);
    }
    if (this.actionMode === 'abs') {
      for (const [k, s] of this.action) {
        const c = columns[k];
        for (let r = 0; r < length; r++) s.add(c.values, r * c.width);
      }
      return true;
    }
    const mask = this.mapping.deltaMask;
    const state = new Float64Array(this.stateDim);
    const action = new Float64Array(this.actionDim);
    const perKey = [...this.action.values()];
    for (let t = 0; t + this.chunkSize <= length; t++) {
      this.gather(columns, this.mapping.stateKeys, t, state);
      for (let k = 0; k < this.chunkSize; k++) {
        this.gather(columns, this.mapping.actionKeys, t + k, action);
        for (let j = 0; j < this.actionDim; j++) if (mask[j]) action[j] -= state[j];
        let o = 0;
        for (const s of perKey) {
          s.add(action, o);
          o += s.width;
        }
      }
    }
    return true;
  }

  /** The statistics (quantiles only after a complete second pass over the same episodes). */
  result(): DeltaActionStatsResult {
    if (this.pass === 2 && this.used[1] !== this.used[0])
      throw new LeRobotError(
        'invalid_argument',
        `delta action stats: second pass used ${this.used[1]} episodes, first pass ${this.used[0]}`,
      );
    if (this.used[0] === 0)
      throw new LeRobotError(
        'invalid_argument',
        `delta action stats: no episode of at least ${this.chunkSize} frames`,
      );
    const features: DatasetStats = {};
    for (const [k, s] of [...this.state, ...this.action]) features[k] = s.result();
    return {
      features,
      normStats: {
        state: concatStats(this.mapping.stateKeys.map((k) => features[k])),
        actions: concatStats(this.mapping.actionKeys.map((k) => features[k])),
      },
      usedEpisodes: this.used[0],
      skippedEpisodes: this.skipped,
      totalFrames: this.frames,
    };
  }
}

/**
 * Normalisation statistics of a dataset as upstream computes them for training (see
 * {@link DeltaActionStats}), reading one episode at a time; two passes when quantiles are on.
 */
export async function computeDeltaActionStats(
  dataset: LeRobotDataset,
  mapping: Pick<RobotMapping, 'stateKeys' | 'actionKeys' | 'deltaMask'>,
  options: DeltaActionStatsOptions = {},
): Promise<DeltaActionStatsResult> {
  const widths: Record<string, number> = {};
  for (const k of [...mapping.stateKeys, ...mapping.actionKeys]) {
    const spec = dataset.info.features[k];
    if (!spec)
      throw new LeRobotError(
        'invalid_argument',
        `delta action stats: feature '${k}' is not in meta/info.json`,
      );
    widths[k] = featureWidth(spec);
  }
  const stats = new DeltaActionStats(mapping, widths, options);
  const passes = options.quantiles === false ? 1 : 2;
  for (let pass = 1; pass <= passes; pass++) {
    if (pass === 2) stats.startSecondPass();
    for (const e of dataset.episodes) {
      const ep = await dataset.readEpisode(e.episodeIndex);
      stats.addEpisode(ep.columns, ep.length);
    }
  }
  return stats.result();
}
