// Seeded random tensors. Counter-based (Philox4x32-10 on the GPU): the same seed always gives the
// same values, independent of what ran before; a Generator hands out fresh seeds for loops.
import type { DType } from '../dtype.js';
import { launchRandom } from '../kernels/random.js';
import type { Backend } from '../runtime/backend.js';
import { engine as defaultEngine } from '../runtime/session.js';
import type { Tensor } from '../tensor.js';
import { checkNumber } from './validate.js';

const MASK64 = (1n << 64n) - 1n;

/**
 * A source of seeds for training loops: `new Generator(42).next()` returns a fresh 53-bit seed on
 * every call (SplitMix64), deterministic for the generator's seed.
 */
export class Generator {
  private state: bigint;
  /** Creates a generator from an integer seed. */
  constructor(seed: number | bigint) {
    if (typeof seed === 'number' && (!Number.isInteger(seed) || seed < 0)) throw new Error(`Generator: seed must be a non-negative integer, got ${seed}`);
    this.state = BigInt(seed) & MASK64;
  }
  /** The next seed (an integer in [0, 2^53)). */
  next(): number {
    this.state = (this.state + 0x9e3779b97f4a7c15n) & MASK64;
    let z = this.state;
    z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64;
    z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK64;
    z = z ^ (z >> 31n);
    return Number(z >> 11n);
  }
}

/** A seed: a non-negative integer below 2^53, or a {@link Generator} to draw one from. */
export type SeedLike = number | Generator;

/** Resolves a SeedLike to an integer seed. */
export function resolveSeed(seed: SeedLike, op: string): number {
  if (seed instanceof Generator) return seed.next();
  if (typeof seed !== 'number' || !Number.isSafeInteger(seed) || seed < 0) {
    throw new Error(`${op}: seed must be a non-negative safe integer or a Generator, got ${String(seed)}`);
  }
  return seed;
}

/** Options shared by random ops. */
export interface RandomOptions {
  seed: SeedLike;
  /** f32 (default) or f16 (needs shader-f16). */
  dtype?: DType;
  /** Engine (default: the default engine). */
  engine?: Backend;
}

function prepare(op: string, shape: readonly number[], opts: RandomOptions): { eng: Backend; dtype: DType; seed: number } {
  const eng = opts.engine ?? defaultEngine();
  const dtype = opts.dtype ?? 'f32';
  if (dtype !== 'f32' && dtype !== 'f16') throw new Error(`${op}: dtype must be f32 or f16, got ${dtype}`);
  if (dtype === 'f16' && !eng.hasF16) throw new Error(`${op}: dtype f16 needs the shader-f16 feature, which this device lacks`);
  for (const d of shape) if (!Number.isInteger(d) || d < 0) throw new Error(`${op}: invalid shape [${shape.join(', ')}]`);
  return { eng, dtype, seed: resolveSeed(opts.seed, op) };
}

/** Uniform samples in [low, high) (default [0, 1)). */
export function randUniform(shape: readonly number[], opts: RandomOptions & { low?: number; high?: number }): Tensor {
  const low = checkNumber('randUniform', 'low', opts.low ?? 0);
  const high = checkNumber('randUniform', 'high', opts.high ?? 1, { min: low });
  const { eng, dtype, seed } = prepare('randUniform', shape, opts);
  return launchRandom(eng, 'uniform', shape, dtype, seed, low, high);
}

/** Normal samples (Box–Muller) with the given mean (default 0) and std (default 1). */
export function randNormal(shape: readonly number[], opts: RandomOptions & { mean?: number; std?: number }): Tensor {
  const mean = checkNumber('randNormal', 'mean', opts.mean ?? 0);
  const std = checkNumber('randNormal', 'std', opts.std ?? 1, { min: 0 });
  const { eng, dtype, seed } = prepare('randNormal', shape, opts);
  return launchRandom(eng, 'normal', shape, dtype, seed, mean, std);
}

/** Beta(alpha, beta) samples in (0, 1), via two Gamma samples (Marsaglia–Tsang; shapes < 1 boosted). */
export function randBeta(shape: readonly number[], alpha: number, beta: number, opts: RandomOptions): Tensor {
  checkNumber('randBeta', 'alpha', alpha, { above: 0 });
  checkNumber('randBeta', 'beta', beta, { above: 0 });
  const { eng, dtype, seed } = prepare('randBeta', shape, opts);
  return launchRandom(eng, 'beta', shape, dtype, seed, alpha, beta);
}

/** Raw Philox4x32-10 output as u32 (counter = element index / 4, key = seed). */
export function randBits(shape: readonly number[], opts: { seed: SeedLike; engine?: Backend }): Tensor {
  const eng = opts.engine ?? defaultEngine();
  return launchRandom(eng, 'bits', shape, 'u32', resolveSeed(opts.seed, 'randBits'));
}
