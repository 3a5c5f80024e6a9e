// PyTorch's default initialisations, drawn from one seeded Generator so a model built twice after
// the same `manualSeed` has identical weights.
import type { DType } from '../dtype.js';
import { full, Generator, randNormal, randUniform, type SeedLike } from '../ops/index.js';
import type { Tensor } from '../tensor.js';

let generator = new Generator(0);

/** Reseeds the generator that layers draw their initial weights from (default seed 0). */
export function manualSeed(seed: number): void {
  generator = new Generator(seed);
}

/**
 * The generator a layer draws from: a given Generator, a fresh one for a numeric seed (so a layer's
 * weight and bias get different streams), or the shared {@link manualSeed} generator.
 */
export function initGenerator(seed?: SeedLike): Generator {
  if (seed === undefined) return generator;
  return typeof seed === 'number' ? new Generator(seed) : seed;
}

/** Seed and dtype of an initialiser (seed defaults to the {@link manualSeed} generator, dtype to f32). */
export interface InitOptions {
  seed?: SeedLike;
  dtype?: DType;
}

/** U(−bound, bound). */
export function initUniform(shape: readonly number[], bound: number, o: InitOptions = {}): Tensor {
  return randUniform(shape, { seed: o.seed ?? generator, low: -bound, high: bound, dtype: o.dtype });
}

/**
 * Kaiming-uniform with a = √5, PyTorch's default for Linear and Conv weights: gain √(2/(1+a²)) = √(1/3),
 * so bound = gain·√(3/fanIn) = 1/√fanIn. The same bound is PyTorch's default for their biases.
 */
export function kaimingUniform(shape: readonly number[], fanIn: number, o: InitOptions = {}): Tensor {
  return initUniform(shape, fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0, o);
}

/** N(mean, std²). */
export function initNormal(shape: readonly number[], std = 1, mean = 0, o: InitOptions = {}): Tensor {
  return randNormal(shape, { seed: o.seed ?? generator, mean, std, dtype: o.dtype });
}

/** A constant (ones for norm weights, zeros for biases). */
export function initConstant(shape: readonly number[], value: number, dtype: DType = 'f32'): Tensor {
  return full(shape, value, dtype);
}
