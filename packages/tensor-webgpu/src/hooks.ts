// Late-bound ops the core needs (autograd accumulation, readback of strided views). The op modules
// fill these in when they load, which keeps tensor.ts and autograd.ts free of import cycles.
import type { Tensor } from './tensor.js';

/** @internal */
export const hooks = {
  add: (_a: Tensor, _b: Tensor): Tensor => {
    throw new Error('ops not loaded: import from @vla/tensor-webgpu');
  },
  contiguous: (_t: Tensor): Tensor => {
    throw new Error('ops not loaded: import from @vla/tensor-webgpu');
  },
  onesLike: (_t: Tensor): Tensor => {
    throw new Error('ops not loaded: import from @vla/tensor-webgpu');
  },
  backward: (_root: Tensor, _grad?: Tensor): void => {
    throw new Error('autograd not loaded: import from @vla/tensor-webgpu');
  },
};
