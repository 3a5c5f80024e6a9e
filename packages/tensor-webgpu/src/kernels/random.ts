// Counter-based random numbers on the GPU: Philox4x32-10 (Salmon et al., "Parallel random numbers:
// as easy as 1, 2, 3", SC'11) keyed by the 64-bit seed, with the element index as the counter, so a
// seed gives the same numbers regardless of launch shape and no state lives on the GPU.
// Uniform: 24-bit mantissa from the top bits. Normal: Box–Muller on pairs. Beta: X/(X+Y) with
// Gamma samples from Marsaglia–Tsang (shape < 1 boosted by U^(1/shape)), combined in log space.
import type { Backend } from '../runtime/backend.js';
import { cpuRandom } from '../cpu/random.js';
import type { DType } from '../dtype.js';
import { Tensor, shapeSize } from '../tensor.js';
import { storageType } from './elementwise.js';
import { fmtShape } from './shape.js';
import { wgslProgram } from './program.js';

/** Distributions of the random template (`bits` writes raw u32 Philox output). */
export type Distribution = 'uniform' | 'normal' | 'beta' | 'bits';

const WG = 256;

/** Philox4x32-10 in WGSL (32×32→64-bit products from 16-bit halves; WGSL has no mulhi). */
export const PHILOX_WGSL = `fn mulhilo(a: u32, b: u32) -> vec2<u32> {
  let al = a & 0xffffu; let ah = a >> 16u; let bl = b & 0xffffu; let bh = b >> 16u;
  let ll = al * bl; let lh = al * bh; let hl = ah * bl; let hh = ah * bh;
  let mid = (ll >> 16u) + (lh & 0xffffu) + (hl & 0xffffu);
  return vec2<u32>(hh + (lh >> 16u) + (hl >> 16u) + (mid >> 16u), a * b);
}
fn philox(counter: vec4<u32>, key: vec2<u32>) -> vec4<u32> {
  var c = counter;
  var k = key;
  for (var r = 0u; r < 10u; r++) {
    let p0 = mulhilo(0xD2511F53u, c.x);
    let p1 = mulhilo(0xCD9E8D57u, c.z);
    c = vec4<u32>(p1.x ^ c.y ^ k.x, p1.y, p0.x ^ c.w ^ k.y, p0.y);
    k = k + vec2<u32>(0x9E3779B9u, 0xBB67AE85u);
  }
  return c;
}
// [0, 1) and (0, 1] from the top 24 bits.
fn unit(x: u32) -> f32 { return f32(x >> 8u) * 5.9604644775390625e-8; }
fn unit_open0(x: u32) -> f32 { return f32((x >> 8u) + 1u) * 5.9604644775390625e-8; }`;

const TWO_PI = '6.283185307179586';

// log of a Gamma(shape) sample; stream separates X and Y of a Beta, e the element.
const GAMMA_WGSL = `fn log_gamma_sample(shape: f32, e: u32, stream: u32) -> f32 {
  let key = vec2<u32>(u.k0, u.k1);
  let boost = shape < 1.0;
  let a = select(shape, shape + 1.0, boost);
  let d = a - 1.0 / 3.0;
  let c = 1.0 / sqrt(9.0 * d);
  var result = log(d);
  var log_boost = 0.0;
  for (var attempt = 0u; attempt < 64u; attempt++) {
    let r = philox(vec4<u32>(e, attempt, stream, 0x5eedu), key);
    if (attempt == 0u && boost) { log_boost = log(unit_open0(r.w)) / shape; }
    let x = sqrt(-2.0 * log(unit_open0(r.x))) * cos(${TWO_PI} * unit(r.y));
    let t = 1.0 + c * x;
    if (t <= 0.0) { continue; }
    let v = t * t * t;
    let uu = unit_open0(r.z);
    if (log(uu) < 0.5 * x * x + d - d * v + d * log(v)) {
      result = log(d * v);
      break;
    }
  }
  return result + log_boost;
}`;

/** Random variant: distribution and output dtype. */
export interface RandomParams {
  dist: Distribution;
  dtype: DType;
}

/**
 * Random fill: `p0`/`p1` are low/high, mean/std or alpha/beta. Uniform, normal and bits write four
 * values per thread (one Philox block); beta one value per thread.
 */
export const randomProgram = wgslProgram({
  name: 'rand',
  bindings: (p: RandomParams) => ({ out: { access: 'read_write' as const, type: storageType(p.dtype) } }),
  uniforms: { n: 'u32', k0: 'u32', k1: 'u32', p0: 'f32', p1: 'f32' },
  workgroupSize: () => WG,
  body: ({ dist, dtype }, { workgroupSize }) => {
    const T = storageType(dtype);
    const main = `@compute @workgroup_size(${workgroupSize})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let t = linearIndex(wid, lid, nwg);`;
    if (dist === 'beta') {
      return `${PHILOX_WGSL}
${GAMMA_WGSL}
${main}
  if (t >= u.n) { return; }
  let lx = log_gamma_sample(u.p0, t, 1u);
  let ly = log_gamma_sample(u.p1, t, 2u);
  out[t] = ${T}(1.0 / (1.0 + exp(ly - lx)));
}`;
    }
    let values: string;
    if (dist === 'bits') values = 'let v = r;';
    else if (dist === 'uniform')
      values =
        'let v = vec4<f32>(unit(r.x), unit(r.y), unit(r.z), unit(r.w)) * (u.p1 - u.p0) + vec4<f32>(u.p0);';
    else {
      values = `let ra = sqrt(-2.0 * log(unit_open0(r.x)));
  let rb = sqrt(-2.0 * log(unit_open0(r.z)));
  let ta = ${TWO_PI} * unit(r.y);
  let tb = ${TWO_PI} * unit(r.w);
  let v = vec4<f32>(ra * cos(ta), ra * sin(ta), rb * cos(tb), rb * sin(tb)) * u.p1 + vec4<f32>(u.p0);`;
    }
    return `${PHILOX_WGSL}
${main}
  if (t * 4u >= u.n) { return; }
  let r = philox(vec4<u32>(t, 0u, 0u, 0u), vec2<u32>(u.k0, u.k1));
  ${values}
  for (var j = 0u; j < 4u; j++) {
    if (t * 4u + j < u.n) { out[t * 4u + j] = ${T}(v[j]); }
  }
}`;
  },
});

/** Full WGSL of one random variant (for generated-code tests). */
export function randomWgsl(dist: Distribution, dtype: DType): string {
  return randomProgram.wgsl({ dist, dtype });
}

/** Splits a 53-bit integer seed into the two 32-bit Philox key words. */
export function seedKey(seed: number): [number, number] {
  return [(seed % 4294967296) >>> 0, Math.floor(seed / 4294967296) >>> 0];
}

/** Fills a new tensor with samples; `p0`/`p1` are low/high, mean/std or alpha/beta. */
export function launchRandom(
  backend: Backend,
  dist: Distribution,
  shape: readonly number[],
  dtype: DType,
  seed: number,
  p0 = 0,
  p1 = 0,
): Tensor {
  const out = Tensor.empty(shape, dtype, backend);
  const n = shapeSize(shape);
  if (n === 0) return out;
  const [k0, k1] = seedKey(seed);
  const label = `rand ${dist} ${fmtShape(shape)}`;
  if (backend.kind === 'cpu') {
    cpuRandom(backend, dist, out, k0, k1, p0, p1, label);
    return out;
  }
  const engine = backend;
  const threads = dist === 'beta' ? n : Math.ceil(n / 4);
  randomProgram.dispatch(
    engine,
    { dist, dtype },
    {
      label,
      buffers: { out: out.buffer },
      uniforms: { n, k0, k1, p0, p1 },
      workgroups: engine.grid(Math.ceil(threads / WG)),
    },
  );
  return out;
}
