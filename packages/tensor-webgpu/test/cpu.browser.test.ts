// The CPU engine in a browser: the same WebAssembly kernels on Web Workers when the page is
// cross-origin isolated (the browser suite serves COOP/COEP headers, see vitest.browser.config.ts),
// and single-threaded on unshared memory otherwise. Results are checked against host references
// and against one thread.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CpuEngine, matmul, softmax, sum, Tensor, tidy } from '../src/index.js';
import { expectClose, randomArray } from './util.js';

let multi: CpuEngine;
let single: CpuEngine;

beforeAll(async () => {
  multi = await CpuEngine.create({ threads: 3 });
  single = await CpuEngine.create({ threads: 1 });
});

afterAll(() => {
  multi?.destroy();
  single?.destroy();
});

function hostMatmul(a: Float32Array, b: Float32Array, m: number, k: number, n: number): Float64Array {
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++)
    for (let p = 0; p < k; p++) for (let j = 0; j < n; j++) out[i * n + j] += a[i * k + p] * b[p * n + j];
  return out;
}

describe('CPU engine in Chromium', () => {
  it('is cross-origin isolated and runs on worker threads', () => {
    expect(typeof window).toBe('object');
    expect(globalThis.crossOriginIsolated).toBe(true);
    expect(multi.threads).toBe(3);
  });

  it('matmul, softmax and a reduction match the host, with 3 threads and with 1 bit for bit', async () => {
    const [m, k, n] = [67, 129, 93];
    const a = randomArray(m * k, 11);
    const b = randomArray(k * n, 12);
    const x = randomArray(37 * 301, 13);
    const results = [];
    for (const e of [multi, single]) {
      const out = tidy(() => {
        const c = matmul(Tensor.fromData(a, [m, k], 'f32', e), Tensor.fromData(b, [k, n], 'f32', e));
        const s = softmax(Tensor.fromData(x, [37, 301], 'f32', e), -1);
        return [c, s, sum(s, -1)];
      });
      results.push(await Promise.all(out.map((t) => t.toArray())));
      out.forEach((t) => t.dispose());
    }
    expectClose(results[0][0], hostMatmul(a, b, m, k, n), { atol: 1e-4, rtol: 1e-4 });
    expectClose(results[0][2], new Float32Array(37).fill(1), { atol: 1e-5 });
    for (let i = 0; i < 3; i++) expect(Array.from(results[0][i])).toEqual(Array.from(results[1][i]));
  });
});
