/**
 * ACT temporal-ensembling weights for `count` predictions of the same time step, ordered oldest first:
 * `w_i = exp(-k · i) / Σ_j exp(-k · j)`, i = 0 for the oldest. With k > 0 the oldest prediction weighs
 * most (ACT's choice, k = 0.01); k = 0 is a plain mean; k < 0 favours the newest.
 */
export function actEnsembleWeights(count: number, k = 0.01): Float64Array {
  if (!(Number.isInteger(count) && count >= 1))
    throw new Error(`actEnsembleWeights: count ${count} is not a positive integer`);
  if (!Number.isFinite(k)) throw new Error(`actEnsembleWeights: k ${k} is not finite`);
  const w = new Float64Array(count);
  let sum = 0;
  for (let i = 0; i < count; i++) sum += w[i] = Math.exp(-k * i);
  for (let i = 0; i < count; i++) w[i] /= sum;
  return w;
}

/** Weighted average of predictions (oldest first) with {@link actEnsembleWeights}. */
export function ensemblePredictions(predictions: ReadonlyArray<ArrayLike<number>>, k = 0.01): Float64Array {
  const w = actEnsembleWeights(predictions.length, k);
  const n = predictions[0].length;
  const out = new Float64Array(n);
  predictions.forEach((p, i) => {
    if (p.length !== n)
      throw new Error(`ensemblePredictions: prediction ${i} has ${p.length} values, expected ${n}`);
    for (let j = 0; j < n; j++) out[j] += w[i] * p[j];
  });
  return out;
}
