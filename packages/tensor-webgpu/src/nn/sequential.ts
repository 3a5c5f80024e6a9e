// Layers applied in order, named by position like PyTorch's nn.Sequential.
import type { Tensor } from '../tensor.js';
import { Module } from './module.js';

/** A module with a one-tensor forward. */
export interface UnaryModule extends Module {
  forward(x: Tensor): Tensor;
}

/**
 * Modules, or parameter-free functions such as `relu`, applied in order. Modules are registered under
 * their position, so `new Sequential(new Linear(4, 8), relu, new Linear(8, 1))` has the PyTorch keys
 * `0.weight`, `0.bias`, `2.weight`, `2.bias`.
 */
export class Sequential extends Module {
  private readonly steps: ((x: Tensor) => Tensor)[] = [];

  constructor(...layers: (UnaryModule | ((x: Tensor) => Tensor))[]) {
    super();
    layers.forEach((l, i) => {
      if (l instanceof Module) {
        const m = this.module(String(i), l);
        this.steps.push((x) => m.forward(x));
      } else {
        this.steps.push(l);
      }
    });
  }

  /** Applies every layer in turn. */
  forward(x: Tensor): Tensor {
    let y = x;
    for (const step of this.steps) y = step(y);
    return y;
  }
}
