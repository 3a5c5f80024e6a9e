import { LeRobotError } from './errors';
import { describeJson } from './json';

/** The quantile statistics LeRobot stores, with their levels. */
export const QUANTILES = [
  ['q01', 0.01],
  ['q10', 0.1],
  ['q50', 0.5],
  ['q90', 0.9],
  ['q99', 0.99],
] as const;

/** Name of one quantile statistic. */
export type QuantileKey = (typeof QUANTILES)[number][0];

/** Every statistic name LeRobot v3.0 stores per feature. */
export const STAT_KEYS = ['min', 'max', 'mean', 'std', 'count', 'q01', 'q10', 'q50', 'q90', 'q99'] as const;

/**
 * Statistics of one feature, each a flat vector over the feature's components (images: one value
 * per channel, stored on disk as `[C][1][1]`). `count` has one element. Quantiles are absent in
 * v2.1 datasets.
 */
export interface FeatureStats {
  min: number[];
  max: number[];
  mean: number[];
  std: number[];
  count: number[];
  q01?: number[];
  q10?: number[];
  q50?: number[];
  q90?: number[];
  q99?: number[];
}

/** Statistics of every feature of a dataset (`meta/stats.json`, or one episode's). */
export type DatasetStats = Record<string, FeatureStats>;

/**
 * How statistics are computed:
 * - `accurate`: float64 throughout, two-pass standard deviation, LeRobot's histogram quantiles.
 * - `lerobot-v3.0`: mirrors LeRobot ≥ 0.4 with NumPy 2 (`RunningQuantileStats`): arithmetic in the
 *   source dtype (float32 stays float32), `std = sqrt(E[x²] - E[x]²)`, histogram quantiles with
 *   5000 bins. Use it to reproduce stored v3.0 stats bit for bit where possible.
 * - `lerobot-v2.1`: mirrors LeRobot 0.3 (`np.mean`/`np.std` in the source dtype, no quantiles).
 */
export type StatsFlavor = 'accurate' | 'lerobot-v3.0' | 'lerobot-v2.1';

/** Options of {@link computeFeatureStats}. */
export interface ComputeStatsOptions {
  flavor?: StatsFlavor;
  /** Whether the values are float32 (arithmetic is then rounded to float32 in the LeRobot flavors). */
  float32?: boolean;
  /** Value stored as `count` (default: the number of rows). Images store the sampled frame count. */
  count?: number;
  /** Histogram bins for quantiles (LeRobot: 5000). */
  quantileBins?: number;
}

const identity = (x: number): number => x;

// NumPy's pairwise summation (used for contiguous 1-D reductions), in the given rounding.
function pairwiseSum(v: ArrayLike<number>, start: number, n: number, r: (x: number) => number): number {
  if (n < 8) {
    let s = 0;
    for (let i = 0; i < n; i++) s = r(s + v[start + i]);
    return s;
  }
  if (n <= 128) {
    const acc = [0, 0, 0, 0, 0, 0, 0, 0];
    for (let k = 0; k < 8; k++) acc[k] = v[start + k];
    let i = 8;
    for (; i < n - (n % 8); i += 8) for (let k = 0; k < 8; k++) acc[k] = r(acc[k] + v[start + i + k]);
    let s = r(r(r(acc[0] + acc[1]) + r(acc[2] + acc[3])) + r(r(acc[4] + acc[5]) + r(acc[6] + acc[7])));
    for (; i < n; i++) s = r(s + v[start + i]);
    return s;
  }
  let n2 = Math.floor(n / 2);
  n2 -= n2 % 8;
  return r(pairwiseSum(v, start, n2, r) + pairwiseSum(v, start + n2, n - n2, r));
}

// Column sums the way NumPy reduces axis 0 of an (n, width) array: row by row, or pairwise when width is 1.
function columnSums(
  values: ArrayLike<number>,
  n: number,
  width: number,
  r: (x: number) => number,
  map?: (x: number) => number,
): number[] {
  if (width === 1) {
    const src = map ? Float64Array.from({ length: n }, (_, i) => map(values[i])) : values;
    return [pairwiseSum(src, 0, n, r)];
  }
  const sums = new Array<number>(width).fill(0);
  for (let i = 0; i < n; i++) {
    const row = i * width;
    for (let j = 0; j < width; j++) sums[j] = r(sums[j] + (map ? map(values[row + j]) : values[row + j]));
  }
  return sums;
}

// np.linspace(start, stop, bins + 1) in the given rounding (NumPy 2 keeps float32 inputs in float32).
function linspaceEdges(start: number, stop: number, bins: number, r: (x: number) => number): Float64Array {
  const edges = new Float64Array(bins + 1);
  const step = r(r(stop - start) / bins);
  for (let i = 0; i < bins; i++) edges[i] = step === 0 ? start : r(r(i * step) + start);
  edges[bins] = stop;
  return edges;
}

/** Bin edges of LeRobot's quantile histogram for one component, in the given rounding. */
function histogramEdges(min: number, max: number, bins: number, r: (x: number) => number): Float64Array {
  const [lo, hi] = r === Math.fround ? [r(min - r(1e-10)), r(max + r(1e-10))] : [min - 1e-10, max + 1e-10];
  return linspaceEdges(lo, hi, bins, r);
}

/** Adds `x` to the histogram: bins are closed on the left, the last one on both sides; outside values are dropped. */
function histogramAdd(hist: Float64Array, edges: Float64Array, x: number): void {
  const bins = hist.length;
  if (!(x >= edges[0] && x <= edges[bins])) return;
  let a = 0;
  let b = bins;
  while (b - a > 1) {
    const m = (a + b) >> 1;
    if (edges[m] <= x) a = m;
    else b = m;
  }
  hist[Math.min(a, bins - 1)] += 1;
}

/** LeRobot's histogram quantile: linear interpolation inside the bin that crosses `q·count`. */
function histogramQuantiles(
  hist: Float64Array,
  edges: Float64Array,
  n: number,
  r: (x: number) => number,
): number[] {
  const bins = hist.length;
  const cum = new Float64Array(bins);
  let acc = 0;
  for (let k = 0; k < bins; k++) cum[k] = acc += hist[k];
  return QUANTILES.map(([, q]) => {
    const target = q * n;
    let idx = 0;
    while (idx < bins && cum[idx] < target) idx++;
    if (idx === 0) return edges[0];
    if (idx >= bins) return edges[bins];
    const before = cum[idx - 1];
    const inBin = cum[idx] - before;
    if (inBin === 0) return edges[idx];
    return edges[idx] + ((target - before) / inBin) * r(edges[idx + 1] - edges[idx]);
  });
}

/**
 * Computes min, max, mean, std, count and (except for the v2.1 flavor) q01…q99 of a feature
 * stored row-major as `n × width` values, per component. See {@link StatsFlavor}.
 */
export function computeFeatureStats(
  values: ArrayLike<number>,
  width: number,
  options: ComputeStatsOptions = {},
): FeatureStats {
  const flavor = options.flavor ?? 'accurate';
  if (!Number.isInteger(width) || width < 1)
    throw new LeRobotError('invalid_argument', `stats: width must be >= 1, got ${width}`);
  if (values.length % width !== 0) {
    throw new LeRobotError(
      'invalid_argument',
      `stats: ${values.length} values do not split into rows of ${width}`,
    );
  }
  const n = values.length / width;
  if (n === 0) throw new LeRobotError('invalid_argument', 'stats: no rows');
  const r = flavor !== 'accurate' && options.float32 ? Math.fround : identity;
  const min = new Array<number>(width).fill(Infinity);
  const max = new Array<number>(width).fill(-Infinity);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < width; j++) {
      const x = values[i * width + j];
      if (x < min[j]) min[j] = x;
      if (x > max[j]) max[j] = x;
    }
  }
  const mean = columnSums(values, n, width, r).map((s) => r(s / n));
  let std: number[];
  if (flavor === 'lerobot-v3.0' && n >= 2) {
    const meanSq = columnSums(values, n, width, r, (x) => r(x * x)).map((s) => r(s / n));
    std = meanSq.map((m2, j) => r(Math.sqrt(Math.max(0, r(m2 - r(mean[j] * mean[j]))))));
  } else {
    const dev = new Float64Array(values.length);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < width; j++) dev[i * width + j] = r(values[i * width + j] - mean[j]);
    std = columnSums(dev, n, width, r, (x) => r(x * x)).map((s) => r(Math.sqrt(r(s / n))));
  }
  const stats: FeatureStats = { min, max, mean, std, count: [options.count ?? n] };
  if (flavor === 'lerobot-v2.1') return stats;
  const bins = options.quantileBins ?? 5000;
  const qs: number[][] = QUANTILES.map(() => new Array<number>(width));
  for (let j = 0; j < width; j++) {
    if (n < 2) {
      for (let k = 0; k < QUANTILES.length; k++) qs[k][j] = mean[j];
      continue;
    }
    const edges = histogramEdges(min[j], max[j], bins, r);
    const hist = new Float64Array(bins);
    for (let i = 0; i < n; i++) histogramAdd(hist, edges, values[i * width + j]);
    const q = histogramQuantiles(hist, edges, n, r);
    for (let k = 0; k < QUANTILES.length; k++) qs[k][j] = q[k];
  }
  QUANTILES.forEach(([key], k) => {
    stats[key] = qs[k];
  });
  return stats;
}

/**
 * Accurate statistics of data too large to hold at once, in two passes over the same rows:
 * pass 1 (`add`) gathers min, max, mean and variance (Welford); after `startSecondPass`, pass 2
 * (`add` again, same rows) fills the quantile histograms. Equals `computeFeatureStats` (accurate)
 * up to float64 rounding.
 */
export class StreamingFeatureStats {
  private n = 0;
  private readonly min: number[];
  private readonly max: number[];
  private readonly mean: number[];
  private readonly m2: number[];
  private hist?: Float64Array[];
  private edges?: Float64Array[];
  private seen = 0;

  constructor(
    readonly width: number,
    private readonly bins = 5000,
  ) {
    this.min = new Array<number>(width).fill(Infinity);
    this.max = new Array<number>(width).fill(-Infinity);
    this.mean = new Array<number>(width).fill(0);
    this.m2 = new Array<number>(width).fill(0);
  }

  /** Adds one row of `width` values starting at `offset`. */
  add(values: ArrayLike<number>, offset = 0): void {
    const w = this.width;
    if (this.hist) {
      for (let j = 0; j < w; j++) histogramAdd(this.hist[j], this.edges![j], values[offset + j]);
      this.seen++;
      return;
    }
    this.n++;
    for (let j = 0; j < w; j++) {
      const x = values[offset + j];
      if (x < this.min[j]) this.min[j] = x;
      if (x > this.max[j]) this.max[j] = x;
      const d = x - this.mean[j];
      this.mean[j] += d / this.n;
      this.m2[j] += d * (x - this.mean[j]);
    }
  }

  /** Ends pass 1; feed the same rows again for the quantiles. */
  startSecondPass(): void {
    if (this.n === 0)
      throw new LeRobotError('invalid_argument', 'StreamingFeatureStats: no rows in the first pass');
    this.edges = this.min.map((lo, j) => histogramEdges(lo, this.max[j], this.bins, identity));
    this.hist = this.min.map(() => new Float64Array(this.bins));
  }

  /** The statistics; quantiles only after a complete second pass. */
  result(): FeatureStats {
    if (this.n === 0) throw new LeRobotError('invalid_argument', 'StreamingFeatureStats: no rows');
    const out: FeatureStats = {
      min: [...this.min],
      max: [...this.max],
      mean: [...this.mean],
      std: this.m2.map((m) => Math.sqrt(m / this.n)),
      count: [this.n],
    };
    if (this.hist) {
      if (this.seen !== this.n)
        throw new LeRobotError(
          'invalid_argument',
          `StreamingFeatureStats: second pass saw ${this.seen} rows, first pass ${this.n}`,
        );
      const qs = this.hist.map((h, j) =>
        this.n < 2
          ? QUANTILES.map(() => this.mean[j])
          : histogramQuantiles(h, this.edges![j], this.n, identity),
      );
      QUANTILES.forEach(([key], k) => {
        out[key] = qs.map((q) => q[k]);
      });
    }
    return out;
  }
}

/**
 * Aggregates per-episode statistics into dataset statistics the way LeRobot does: min of mins,
 * max of maxes, count-weighted mean, parallel-algorithm variance, count-weighted quantiles.
 */
export function aggregateFeatureStats(list: FeatureStats[]): FeatureStats {
  if (list.length === 0) throw new LeRobotError('invalid_argument', 'aggregateFeatureStats: empty list');
  const width = list[0].mean.length;
  const total = list.reduce((a, s) => a + s.count[0], 0);
  const mean = new Array<number>(width).fill(0);
  for (const s of list) for (let j = 0; j < width; j++) mean[j] += s.mean[j] * s.count[0];
  for (let j = 0; j < width; j++) mean[j] /= total;
  const variance = new Array<number>(width).fill(0);
  for (const s of list) {
    for (let j = 0; j < width; j++) {
      const d = s.mean[j] - mean[j];
      variance[j] += (s.std[j] * s.std[j] + d * d) * s.count[0];
    }
  }
  const out: FeatureStats = {
    // reduce, not Math.min(...): a spread of 100k+ episodes overflows the call stack.
    min: Array.from({ length: width }, (_, j) => list.reduce((m, s) => Math.min(m, s.min[j]), Infinity)),
    max: Array.from({ length: width }, (_, j) => list.reduce((m, s) => Math.max(m, s.max[j]), -Infinity)),
    mean,
    std: variance.map((v) => Math.sqrt(v / total)),
    count: [total],
  };
  for (const [key] of QUANTILES) {
    if (!list.every((s) => s[key] !== undefined)) continue;
    const q = new Array<number>(width).fill(0);
    for (const s of list) for (let j = 0; j < width; j++) q[j] += s[key]![j] * s.count[0];
    out[key] = q.map((v) => v / total);
  }
  return out;
}

/** Aggregates per-episode dataset statistics feature by feature (union of keys), like LeRobot. */
export function aggregateStats(list: DatasetStats[]): DatasetStats {
  const keys = new Set(list.flatMap((s) => Object.keys(s)));
  const out: DatasetStats = {};
  for (const key of keys) out[key] = aggregateFeatureStats(list.filter((s) => s[key]).map((s) => s[key]));
  return out;
}

// Iterative, so deeply nested garbage cannot overflow the stack.
function flattenNumbers(v: unknown, where: string, path: string | undefined): number[] {
  const out: number[] = [];
  const stack: unknown[] = [v];
  while (stack.length > 0) {
    const x = stack.pop();
    if (typeof x === 'number') out.push(x);
    else if (typeof x === 'bigint') out.push(Number(x));
    else if (Array.isArray(x) || ArrayBuffer.isView(x)) {
      const a = x as unknown as ArrayLike<unknown>;
      for (let i = a.length - 1; i >= 0; i--) stack.push(a[i]);
    } else {
      throw new LeRobotError('malformed_metadata', `${where}: expected numbers, got ${describeJson(x)}`, {
        path,
      });
    }
  }
  return out;
}

/**
 * Parses a stats object (`stats.json`, a line of `episodes_stats.jsonl`) into flat vectors. Nested
 * image stats (`[[[v]], ...]`) are flattened. `where` names the source in errors, `path` is the
 * dataset-relative file they carry.
 */
export function parseStats(json: unknown, where: string, path?: string): DatasetStats {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new LeRobotError('malformed_metadata', `${where}: stats must be an object`, { path });
  }
  const out: DatasetStats = {};
  for (const [feature, raw] of Object.entries(json as Record<string, unknown>)) {
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
      throw new LeRobotError('malformed_metadata', `${where}: stats of '${feature}' must be an object`, {
        path,
      });
    const s: Partial<FeatureStats> = {};
    for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
      (s as Record<string, number[]>)[k] = flattenNumbers(v, `${where} ${feature}.${k}`, path);
    }
    for (const k of ['min', 'max', 'mean', 'std', 'count'] as const) {
      if (!s[k])
        throw new LeRobotError('malformed_metadata', `${where}: stats of '${feature}' lack '${k}'`, { path });
    }
    // defineProperty: a feature named `__proto__` stays a plain entry.
    Object.defineProperty(out, feature, { value: s, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/**
 * Shapes flat stats back into LeRobot's JSON layout: image/video features as `[C][1][1]`,
 * everything else as flat lists; `count` always a one-element list.
 */
export function statsToJson(
  stats: DatasetStats,
  imageKeys: Iterable<string> = [],
): Record<string, Record<string, unknown>> {
  const images = new Set(imageKeys);
  const out: Record<string, Record<string, unknown>> = {};
  for (const [feature, s] of Object.entries(stats)) {
    const o: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(s) as [string, number[] | undefined][]) {
      if (!v) continue;
      o[k] = images.has(feature) && k !== 'count' ? v.map((x) => [[x]]) : [...v];
    }
    out[feature] = o;
  }
  return out;
}

/** How many frames LeRobot samples from an episode of `length` frames for image statistics. */
export function imageStatsSampleCount(length: number): number {
  const lo = Math.min(100, length);
  return Math.max(lo, Math.min(Math.floor(length ** 0.75), 10000));
}

function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** Frame indices LeRobot samples for image statistics (`round(linspace(0, length-1, count))`). */
export function imageStatsSampleIndices(length: number): number[] {
  const num = imageStatsSampleCount(length);
  if (num <= 1) return num === 1 ? [0] : [];
  const step = (length - 1) / (num - 1);
  return Array.from({ length: num }, (_, i) => roundHalfEven(i === num - 1 ? length - 1 : i * step));
}

/** LeRobot's downsampling stride for image statistics (none below 300 px, else about 150 px wide). */
export function imageStatsStride(height: number, width: number): number {
  if (Math.max(width, height) < 300) return 1;
  return Math.floor(width > height ? width / 150 : height / 150);
}

/**
 * Per-channel statistics of RGB frames (HWC uint8), computed like LeRobot: the frames are the
 * sampled ones, strided by {@link imageStatsStride}, and every value is divided by 255.
 * `count` is the number of frames.
 */
export function computeImageStats(
  frames: Uint8Array[],
  height: number,
  width: number,
  channels = 3,
  options: { quantiles?: boolean } = {},
): FeatureStats {
  const stride = imageStatsStride(height, width);
  const hs = Math.ceil(height / stride);
  const ws = Math.ceil(width / stride);
  const values = new Float64Array(frames.length * hs * ws * channels);
  let o = 0;
  for (const f of frames) {
    if (f.length !== height * width * channels) {
      throw new LeRobotError(
        'shape_mismatch',
        `image stats: frame has ${f.length} bytes, expected ${height}x${width}x${channels}`,
      );
    }
    for (let y = 0; y < height; y += stride) {
      for (let x = 0; x < width; x += stride) {
        const p = (y * width + x) * channels;
        for (let c = 0; c < channels; c++) values[o++] = f[p + c] / 255;
      }
    }
  }
  const s = computeFeatureStats(values, channels, {
    flavor: options.quantiles === false ? 'lerobot-v2.1' : 'accurate',
    count: frames.length,
  });
  return s;
}
