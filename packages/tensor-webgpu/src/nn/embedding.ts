// A lookup table of row vectors (token embeddings), initialised N(0, 1) as in PyTorch.
import type { DType } from '../dtype.js';
import { embedding, type SeedLike } from '../ops/index.js';
import type { Tensor } from '../tensor.js';
import { initGenerator, initNormal } from './init.js';
import { Module } from './module.js';

/** Options of {@link Embedding}. */
export interface EmbeddingOptions {
  seed?: SeedLike;
  dtype?: DType;
}

/** `weight` [numEmbeddings, dim] ~ N(0, 1); forward gathers rows by integer ids. */
export class Embedding extends Module {
  readonly weight: Tensor;

  constructor(
    readonly numEmbeddings: number,
    readonly embeddingDim: number,
    options: EmbeddingOptions = {},
  ) {
    super();
    const o = { seed: initGenerator(options.seed), dtype: options.dtype };
    this.weight = this.param('weight', [numEmbeddings, embeddingDim], (s) => initNormal(s, 1, 0, o), {
      dtype: options.dtype,
    });
  }

  /** ids (i32, any shape) → [...ids.shape, dim]. */
  forward(ids: Tensor): Tensor {
    return embedding(this.weight, ids);
  }
}
