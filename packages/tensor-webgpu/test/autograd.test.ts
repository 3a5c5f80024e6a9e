import { describe, expect, it } from 'vitest';
import { eng } from './setup.js';
import * as T from '../src/index.js';
import { expectClose, gradCheck, randomArray } from './util.js';

function leaf(data: number[], shape?: number[]): T.Tensor {
  const t = T.tensor(data, shape);
  t.requiresGrad = true;
  return t;
}

describe('autograd', () => {
  it('accumulates gradients across two backward calls', async () => {
    const x = leaf([1, 2, 3]);
    T.sum(T.mul(x, x)).backward();
    T.sum(T.mul(x, 3)).backward();
    expectClose(await x.grad!.toArray(), [5, 7, 9]);
  });

  it('diamond graph: one tensor used twice', async () => {
    const x = leaf([0.5, -1, 2]);
    const y = T.exp(x);
    const z = T.sum(T.add(T.mul(y, x), y)); // d/dx = e^x * x + e^x + e^x
    z.backward();
    expectClose(await x.grad!.toArray(), [0.5, -1, 2].map((v) => Math.exp(v) * (v + 2)), { rtol: 1e-5 });
  });

  it('backward through views (slice, permute, expand, reshape)', async () => {
    const x = leaf(randomArray(6, 1) as unknown as number[], [2, 3]);
    const v = T.reshape(T.permute(T.slice(x, 1, 1, 3), [1, 0]), [4]);
    const e = T.expand(T.unsqueeze(v, 0), [3, 4]);
    T.sum(e).backward();
    expectClose(await x.grad!.toArray(), [0, 3, 3, 0, 3, 3]);
  });

  it('noGrad records nothing; detach stops the gradient', async () => {
    const x = leaf([1, 2]);
    const y = T.noGrad(() => T.mul(x, x));
    expect(y.requiresGrad).toBe(false);
    expect(y.gradNode).toBe(null);
    const z = T.sum(T.mul(T.detach(T.mul(x, 5)), x));
    z.backward();
    expectClose(await x.grad!.toArray(), [5, 10]);
    expect(() => T.sum(y).backward()).toThrow(/does not require grad/);
  });

  it('non-scalar backward needs an explicit gradient; a freed graph cannot be reused', () => {
    const x = leaf([1, 2]);
    const y = T.mul(x, 2);
    expect(() => y.backward()).toThrow(/not a scalar/);
    const s = T.sum(y);
    s.backward();
    expect(() => s.backward()).toThrow();
  });

  it('integer and comparison outputs are not differentiable', () => {
    const x = leaf([1, 2]);
    expect(T.gt(x, 1).requiresGrad).toBe(false);
    expect(T.argmax(x, 0).requiresGrad).toBe(false);
  });

  it('gradCheck catches a wrong gradient (a missing factor of 2)', async () => {
    const wrongSquare = (t: T.Tensor) => {
      const out = T.noGrad(() => T.mul(t, t));
      return T.recordOp('wrongSquare', out, [t], (g, [s]) => [T.mul(g, s)], [t]);
    };
    const input = { data: randomArray(10, 3, 0.5, 2), shape: [10] };
    await expect(gradCheck(wrongSquare, [input])).rejects.toThrow(/gradient entries differ/);
    const rightSquare = (t: T.Tensor) => {
      const out = T.noGrad(() => T.mul(t, t));
      return T.recordOp('square', out, [t], (g, [s]) => [T.mul(g, T.mul(s, 2))], [t]);
    };
    await gradCheck(rightSquare, [input]);
  });
});

describe('ownership', () => {
  it('tidy disposes intermediates and the pool returns to its baseline', async () => {
    await eng.sync();
    const base = eng.poolStats().inUseBytes;
    const x = T.tensor(randomArray(1000, 4), [10, 100]);
    const kept = T.tidy(() => {
      const a = T.exp(x);
      const b = T.softmax(T.mul(a, 2), -1);
      const c = T.sum(T.transpose(b), 0);
      const d = T.concat([c, T.pad(c, [[1, 1]])], 0);
      T.cumsum(d, 0);
      T.randNormal([50], { seed: 1 });
      return T.max(d);
    });
    expect(kept.isDisposed).toBe(false);
    expect(eng.poolStats().inUseBytes).toBeGreaterThan(base);
    kept.dispose();
    x.dispose();
    expect(eng.poolStats().inUseBytes).toBe(base);
  });

  it('a training-style step (forward, backward, grads) leaves no leaks', async () => {
    const base = eng.poolStats().inUseBytes;
    const w = T.tensor(randomArray(12, 5), [4, 3]);
    w.requiresGrad = true;
    const ids = T.tensor([0, 2, 3, 3], [2, 2], 'i32');
    for (let step = 0; step < 2; step++) {
      T.tidy(() => {
        const h = T.embedding(w, ids);
        const loss = T.mean(T.mul(T.logSoftmax(T.gelu(h), -1), -1));
        loss.backward();
      });
    }
    expect(w.grad).not.toBe(null);
    w.dispose();
    expect(w.grad).toBe(null);
    ids.dispose();
    expect(eng.poolStats().inUseBytes).toBe(base);
  });

  it('a tidy whose callback throws frees what it created, keeps what was kept, and rethrows', async () => {
    const base = eng.poolStats().inUseBytes;
    const x = T.tensor(randomArray(24, 6), [4, 6]);
    let survivor: T.Tensor | undefined;
    for (let i = 0; i < 3; i++) {
      expect(() =>
        T.tidy(() => {
          const a = T.exp(x);
          survivor?.dispose();
          survivor = T.keep(T.mul(a, 2));
          T.softmax(a, -1);
          throw new Error(`step ${i} failed`);
        }),
      ).toThrow(`step ${i} failed`);
    }
    expect(survivor!.isDisposed).toBe(false);
    expect(await survivor!.toArray()).toHaveLength(24);
    survivor!.dispose();
    x.dispose();
    expect(eng.poolStats().inUseBytes).toBe(base);
  });

  it('a graph built in nested scopes is freed when the outer scope drops it, with or without backward', async () => {
    const x = leaf([0.5, -1, 2]);
    const base = eng.poolStats().inUseBytes;
    for (const withBackward of [false, true]) {
      T.tidy(() => {
        // exp and mul save tensors in scopes that end while a survivor's graph still reaches them.
        const y = T.tidy(() => T.tidy(() => T.mul(T.exp(x), x)));
        const loss = T.sum(T.mul(y, y));
        if (withBackward) loss.backward();
      });
      x.grad?.dispose();
      x.grad = null;
      expect(eng.poolStats().inUseBytes).toBe(base);
    }
    x.dispose();
  });

  it('dispose() of the last tensor of a graph frees the saved tensors of the ops behind it', () => {
    const x = leaf([1, 2, 3]);
    const base = eng.poolStats().inUseBytes;
    const a = T.exp(x);
    const b = T.mul(a, a);
    a.dispose(); // b still needs exp's node
    expect(eng.poolStats().inUseBytes).toBeGreaterThan(base);
    b.dispose();
    expect(eng.poolStats().inUseBytes).toBe(base);
    x.dispose();
  });

  it('a tensor kept across scopes back-propagates later through the dropped intermediates', async () => {
    const xs = [0.5, -1, 2];
    const x = leaf(xs);
    const base = eng.poolStats().inUseBytes;
    let h!: T.Tensor;
    T.tidy(() => {
      h = T.keep(T.tidy(() => T.mul(T.exp(x), x)));
    });
    T.tidy(() => T.sum(T.mul(h, 2)).backward());
    // d/dx sum(2·x·e^x) = 2·e^x·(x + 1)
    expectClose(await x.grad!.toArray(), xs.map((v) => 2 * Math.exp(v) * (v + 1)), { rtol: 1e-5 });
    x.grad!.dispose();
    x.grad = null;
    h.dispose();
    expect(eng.poolStats().inUseBytes).toBe(base);
    x.dispose();
  });

  it('disposing an intermediate whose downstream tensor is alive keeps backward working through it', async () => {
    const xs = [0.5, 1, 2];
    const x = leaf(xs);
    const base = eng.poolStats().inUseBytes;
    const a = T.exp(x);
    const b = T.mul(a, x);
    a.dispose();
    const s = T.sum(b);
    s.backward();
    expectClose(await x.grad!.toArray(), xs.map((v) => Math.exp(v) * (v + 1)), { rtol: 1e-5 });
    x.grad!.dispose();
    x.grad = null;
    b.dispose();
    s.dispose();
    expect(eng.poolStats().inUseBytes).toBe(base);
    x.dispose();
  });

  it('backward through a graph already consumed by backward still errors', () => {
    const x = leaf([1, 2]);
    const y = T.tidy(() => T.tidy(() => T.mul(T.exp(x), 2)));
    T.sum(y).backward();
    expect(() => T.sum(T.mul(y, 3)).backward()).toThrow(/already freed/);
    x.dispose();
  });

  it('views keep storage alive until the last one is disposed', async () => {
    const base = eng.poolStats().inUseBytes;
    const x = T.tensor([1, 2, 3, 4], [2, 2]);
    const v = T.transpose(x);
    x.dispose();
    expectClose(await v.toArray(), [1, 3, 2, 4]);
    v.dispose();
    expect(eng.poolStats().inUseBytes).toBe(base);
    await expect(x.toArray()).rejects.toThrow(/disposed/);
  });
});
