// The cumulative segment mask of big_vision/openpi: with c = cumsum(ar), query i may attend key j
// iff c[j] <= c[i] and both tokens are valid. One rule gives bidirectional blocks that see every
// earlier block, which is all the InternVLA-A1 layout needs.
import { Tensor } from '@vla/tensor-webgpu';

/** Per-token flags: numbers (non-zero = set) or booleans. */
export type Flags = ArrayLike<number | boolean>;

/**
 * Additive value for masked logits: upstream's `OPENPI_ATTENTION_MASK_VALUE`. The core's attention
 * treats additive values <= -1e30 as masked (probability exactly 0), so a padding query, whose keys
 * are all masked, outputs 0 instead of NaN, and a cached pass equals the full pass even there.
 */
export const MASK_VALUE = -2.3819763e38;

/** Input of {@link segmentMask}. */
export interface SegmentMaskInput {
  /** Block-start flags: one vector shared by the batch, or one per sample. */
  ar: Flags | readonly Flags[];
  /** Per-sample validity (true / non-zero = real token, false = padding). Omitted: all valid. */
  valid?: readonly Flags[];
  /** Batch size when neither `ar` nor `valid` is given per sample (default 1). */
  batch?: number;
  /**
   * Query rows `[start, end)` (default the whole sequence). Keys are always `[0, end)`: a segment
   * evaluated against a KV cache sees the cached tokens and itself, nothing later.
   */
  queries?: readonly [number, number];
}

/** A host mask: `allowed[(b * queries + i) * keys + j]` is 1 where query i may attend key j. */
export interface HostMask {
  allowed: Uint8Array;
  batch: number;
  /** Number of query rows. */
  queries: number;
  /** Number of key columns. */
  keys: number;
  /** Index of the first query row in the full sequence. */
  queryStart: number;
}

function isFlagList(x: Flags | readonly Flags[]): x is readonly Flags[] {
  return Array.isArray(x) && x.length > 0 && typeof x[0] === 'object' && x[0] !== null;
}

/**
 * The cumulative segment mask on the host. `ar` and `valid` may be shared or per sample; all
 * vectors must have the same length S.
 */
export function segmentMask(input: SegmentMaskInput): HostMask {
  const arList = isFlagList(input.ar) ? input.ar : null;
  const validList = input.valid ?? null;
  const batch = arList?.length ?? validList?.length ?? input.batch ?? 1;
  if (arList && validList && arList.length !== validList.length) {
    throw new Error(`segmentMask: ${arList.length} ar vectors but ${validList.length} valid vectors`);
  }
  if (input.batch !== undefined && input.batch !== batch) {
    throw new Error(`segmentMask: batch ${input.batch} does not match the ${batch} per-sample vectors`);
  }
  const arOf = (b: number): Flags => (arList ? arList[b] : (input.ar as Flags));
  const S = arOf(0).length;
  for (let b = 0; b < batch; b++) {
    if (arOf(b).length !== S)
      throw new Error(`segmentMask: ar of sample ${b} has length ${arOf(b).length}, expected ${S}`);
    if (validList && validList[b].length !== S) {
      throw new Error(`segmentMask: valid of sample ${b} has length ${validList[b].length}, expected ${S}`);
    }
  }
  const [q0, q1] = input.queries ?? [0, S];
  if (!(Number.isInteger(q0) && Number.isInteger(q1) && 0 <= q0 && q0 <= q1 && q1 <= S)) {
    throw new Error(`segmentMask: query range [${q0}, ${q1}) is not inside [0, ${S}]`);
  }
  const Sq = q1 - q0;
  const Sk = q1;
  const allowed = new Uint8Array(batch * Sq * Sk);
  const c = new Int32Array(S);
  for (let b = 0; b < batch; b++) {
    const ar = arOf(b);
    const valid = validList?.[b];
    let acc = 0;
    for (let j = 0; j < S; j++) c[j] = acc += ar[j] ? 1 : 0;
    for (let i = q0; i < q1; i++) {
      if (valid && !valid[i]) continue;
      const row = (b * Sq + (i - q0)) * Sk;
      for (let j = 0; j < Sk; j++) if (c[j] <= c[i] && (!valid || valid[j])) allowed[row + j] = 1;
    }
  }
  return { allowed, batch, queries: Sq, keys: Sk, queryStart: q0 };
}

/** Options of {@link segmentMaskTensor}. */
export interface MaskTensorOptions {
  /** `additive` (default): f32 with 0 / {@link MASK_VALUE}; `bool`: 1 = may attend. */
  kind?: 'additive' | 'bool';
}

/**
 * The cumulative segment mask as a tensor `[B, 1, Sq, Sk]`, ready for `scaledDotProductAttention`.
 * Accepts a {@link SegmentMaskInput} or a mask already built by {@link segmentMask}.
 */
export function segmentMaskTensor(
  input: SegmentMaskInput | HostMask,
  options: MaskTensorOptions = {},
): Tensor {
  const m = 'allowed' in input ? input : segmentMask(input);
  const shape = [m.batch, 1, m.queries, m.keys];
  if ((options.kind ?? 'additive') === 'bool')
    return Tensor.fromData(Uint32Array.from(m.allowed), shape, 'bool');
  const add = new Float32Array(m.allowed.length);
  for (let i = 0; i < add.length; i++) add[i] = m.allowed[i] ? 0 : MASK_VALUE;
  return Tensor.fromData(add, shape, 'f32');
}
