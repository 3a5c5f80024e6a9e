// Float64 reference of batched matmul (PyTorch semantics) and linear.
import { broadcastShapes, size, unravel, type Nd } from './ndarray.js';

/** op(a) · op(b) over broadcast batch dims; a, b at least 2-D. */
export function matmul(a: Nd, b: Nd, transA = false, transB = false): Nd {
  const [ar, ac] = a.shape.slice(-2);
  const [br, bc] = b.shape.slice(-2);
  const M = transA ? ac : ar;
  const K = transA ? ar : ac;
  const N = transB ? br : bc;
  if ((transB ? bc : br) !== K) throw new Error('reference matmul: inner dims differ');
  const batch = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2));
  const out = new Float64Array(size(batch) * M * N);
  const batchOffset = (t: Nd, idx: number[]) => {
    const own = t.shape.slice(0, -2);
    let f = 0;
    own.forEach((d, i) => (f = f * d + (d === 1 ? 0 : idx[idx.length - own.length + i])));
    return f * t.shape[t.shape.length - 2] * t.shape[t.shape.length - 1];
  };
  for (let z = 0; z < size(batch); z++) {
    const idx = unravel(z, batch);
    const ao = batchOffset(a, idx);
    const bo = batchOffset(b, idx);
    for (let i = 0; i < M; i++)
      for (let j = 0; j < N; j++) {
        let s = 0;
        for (let k = 0; k < K; k++) {
          const av = a.data[ao + (transA ? k * ac + i : i * ac + k)];
          const bv = b.data[bo + (transB ? j * bc + k : k * bc + j)];
          s += av * bv;
        }
        out[(z * M + i) * N + j] = s;
      }
  }
  return { data: out, shape: [...batch, M, N] };
}

/** x [..., in] · wᵀ + bias, w [out, in]. */
export function linear(x: Nd, w: Nd, bias?: Nd): Nd {
  const [outF, inF] = w.shape;
  const rows = x.data.length / inF;
  const out = new Float64Array(rows * outF);
  for (let r = 0; r < rows; r++)
    for (let o = 0; o < outF; o++) {
      let s = bias ? bias.data[o] : 0;
      for (let i = 0; i < inF; i++) s += x.data[r * inF + i] * w.data[o * inF + i];
      out[r * outF + o] = s;
    }
  return { data: out, shape: [...x.shape.slice(0, -1), outF] };
}
