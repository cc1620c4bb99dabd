// float64 CPU reference for src/wgsl/loss.wgsl (Keras sum_over_batch_size: divide by b).

export function softmaxCrossEntropy(
  logits: ArrayLike<number>, labels: ArrayLike<number>, b: number, k: number, weights?: ArrayLike<number>,
): { loss: number; perSample: Float64Array; dlogits: Float64Array; correct: number } {
  const perSample = new Float64Array(b);
  const dlogits = new Float64Array(b * k);
  let correct = 0;
  for (let r = 0; r < b; r++) {
    const z = Array.from({ length: k }, (_, j) => logits[r * k + j]);
    const m = Math.max(...z);
    const arg = z.indexOf(m);
    const s = z.reduce((acc, v) => acc + Math.exp(v - m), 0);
    const w = weights ? weights[r] : 1;
    const y = labels[r];
    perSample[r] = w * (m + Math.log(s) - z[y]);
    for (let j = 0; j < k; j++) dlogits[r * k + j] = (w * (Math.exp(z[j] - m) / s - (j === y ? 1 : 0))) / b;
    if (arg === y) correct++;
  }
  return { loss: perSample.reduce((a, v) => a + v, 0) / b, perSample, dlogits, correct };
}
