// A lookup table of row vectors (token embeddings), initialised N(0, 1) as in PyTorch.
import type { DType } from '../dtype.js';
import { cast, embedding, type SeedLike } from '../ops/index.js';
import type { Tensor } from '../tensor.js';
import { initGenerator, initNormal } from './init.js';
import { currentMatrixDtype, Module, type ToDtypeOptions } from './module.js';
import { checkNumber } from '../ops/validate.js';

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
    checkNumber('Embedding', 'numEmbeddings', numEmbeddings, { integer: true, min: 0 });
    checkNumber('Embedding', 'embeddingDim', embeddingDim, { integer: true, min: 0 });
    this.outputDtype = null;
    const o = { seed: initGenerator(options.seed), dtype: options.dtype };
    this.weight = this.param('weight', [numEmbeddings, embeddingDim], (s) => initNormal(s, 1, 0, o), {
      dtype: options.dtype,
      matrix: true,
    });
    // Built under withMatrixDtype: the table's dtype is not the activations'.
    if (currentMatrixDtype() && this.weightDtype() !== (options.dtype ?? 'f32')) this.outputDtype = options.dtype ?? 'f32';
  }

  private weightDtype(): DType {
    return this.namedSpecs()[0][1].dtype;
  }

  /**
   * dtype of the looked-up rows: null for the table's own dtype. Set when only the table is
   * converted ({@link ToDtypeOptions.matricesOnly}), so that an f16 table still feeds f32 activations.
   */
  outputDtype: DType | null;

  override toDtype(dtype: DType, options: ToDtypeOptions = {}): this {
    this.outputDtype = options.matricesOnly ? (this.outputDtype ?? this.weightDtype()) : null;
    return super.toDtype(dtype, options);
  }

  /** ids (i32, any shape) → [...ids.shape, dim]. */
  forward(ids: Tensor): Tensor {
    const rows = embedding(this.weight, ids);
    if (!this.outputDtype || rows.dtype === this.outputDtype) return rows;
    const out = cast(rows, this.outputDtype);
    rows.dispose();
    return out;
  }
}
