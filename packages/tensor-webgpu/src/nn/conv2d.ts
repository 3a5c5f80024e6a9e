// 2-D convolution layers (NCHW) with PyTorch's weight layouts and default initialisation.
import type { DType } from '../dtype.js';
import {
  conv2d,
  convTranspose2d,
  type Conv2dParams,
  type ConvTranspose2dParams,
  type Padding2d,
  type SeedLike,
  type SpatialSize,
} from '../ops/index.js';
import type { Tensor } from '../tensor.js';
import { initGenerator, kaimingUniform } from './init.js';
import { Module } from './module.js';
import { checkNumber, spatialPair } from '../ops/validate.js';

/** Options shared by {@link Conv2d} and {@link ConvTranspose2d}. */
export interface Conv2dOptions {
  stride?: SpatialSize;
  /** A number, [ph, pw] or [top, bottom, left, right] (default 0). */
  padding?: Padding2d;
  dilation?: SpatialSize;
  groups?: number;
  /** Add a bias (default true). */
  bias?: boolean;
  seed?: SeedLike;
  dtype?: DType;
}

function checkGroups(layer: string, inChannels: number, outChannels: number, groups: number): void {
  checkNumber(layer, 'inChannels', inChannels, { integer: true, min: 1 });
  checkNumber(layer, 'outChannels', outChannels, { integer: true, min: 1 });
  checkNumber(layer, 'groups', groups, { integer: true, min: 1 });
  if (inChannels % groups !== 0 || outChannels % groups !== 0) {
    throw new Error(
      `${layer}: in ${inChannels} and out ${outChannels} channels must both be divisible by groups ${groups}`,
    );
  }
}

/** Conv2d: `weight` [out, in/groups, kh, kw] and `bias` [out], both ~ U(±1/√fanIn), fanIn = in/groups·kh·kw. */
export class Conv2d extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  readonly kernelSize: [number, number];
  private readonly conv: Conv2dParams;

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    kernelSize: SpatialSize,
    options: Conv2dOptions = {},
  ) {
    super();
    const groups = options.groups ?? 1;
    checkGroups('Conv2d', inChannels, outChannels, groups);
    this.kernelSize = spatialPair('Conv2d', 'kernelSize', kernelSize, 1, 1);
    const [kh, kw] = this.kernelSize;
    const fanIn = (inChannels / groups) * kh * kw;
    const o = { seed: initGenerator(options.seed), dtype: options.dtype };
    this.weight = this.param(
      'weight',
      [outChannels, inChannels / groups, kh, kw],
      (s) => kaimingUniform(s, fanIn, o),
      { dtype: options.dtype, matrix: true },
    );
    this.bias =
      options.bias === false
        ? null
        : this.param('bias', [outChannels], (s) => kaimingUniform(s, fanIn, o), { dtype: options.dtype });
    this.conv = {
      stride: options.stride ?? 1,
      padding: options.padding ?? 0,
      dilation: options.dilation ?? 1,
      groups,
    };
  }

  /** x [N, in, H, W] → [N, out, H', W']. */
  forward(x: Tensor): Tensor {
    return conv2d(x, this.weight, this.bias ?? undefined, this.conv);
  }
}

/** Options of {@link ConvTranspose2d}. */
export interface ConvTranspose2dOptions extends Conv2dOptions {
  /** Extra rows/cols added to one side of the output (default 0). */
  outputPadding?: SpatialSize;
}

/**
 * ConvTranspose2d: `weight` [in, out/groups, kh, kw] and `bias` [out] ~ U(±1/√fanIn) where, as in
 * PyTorch, fanIn is computed from the weight's dim 1: out/groups·kh·kw.
 */
export class ConvTranspose2d extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  readonly kernelSize: [number, number];
  private readonly conv: ConvTranspose2dParams;

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    kernelSize: SpatialSize,
    options: ConvTranspose2dOptions = {},
  ) {
    super();
    const groups = options.groups ?? 1;
    checkGroups('ConvTranspose2d', inChannels, outChannels, groups);
    this.kernelSize = spatialPair('ConvTranspose2d', 'kernelSize', kernelSize, 1, 1);
    const [kh, kw] = this.kernelSize;
    const fanIn = (outChannels / groups) * kh * kw;
    const o = { seed: initGenerator(options.seed), dtype: options.dtype };
    this.weight = this.param(
      'weight',
      [inChannels, outChannels / groups, kh, kw],
      (s) => kaimingUniform(s, fanIn, o),
      { dtype: options.dtype, matrix: true },
    );
    this.bias =
      options.bias === false
        ? null
        : this.param('bias', [outChannels], (s) => kaimingUniform(s, fanIn, o), { dtype: options.dtype });
    this.conv = {
      stride: options.stride ?? 1,
      padding: options.padding ?? 0,
      outputPadding: options.outputPadding ?? 0,
      dilation: options.dilation ?? 1,
      groups,
    };
  }

  /** x [N, in, H, W] → [N, out, H', W']. */
  forward(x: Tensor): Tensor {
    return convTranspose2d(x, this.weight, this.bias ?? undefined, this.conv);
  }
}
