// Classification metrics from predictions and labels: accuracy, per-class recall and precision,
// macro F1, and the confusion matrix (rows: true class, columns: predicted class).

export interface ClassificationReport {
  accuracy: number;
  macroF1: number;
  recall: number[];
  precision: number[];
  f1: number[];
  support: number[];
  confusion: number[][];
  count: number;
}

export function argmaxRows(probs: ArrayLike<number>, k: number): Int32Array {
  const n = probs.length / k;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let j = 1; j < k; j++) if (probs[i * k + j] > probs[i * k + best]) best = j;
    out[i] = best;
  }
  return out;
}

export function classificationReport(pred: ArrayLike<number>, truth: ArrayLike<number>, k: number): ClassificationReport {
  if (pred.length !== truth.length) throw new RangeError(`${pred.length} predictions for ${truth.length} labels`);
  const confusion = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  let correct = 0;
  for (let i = 0; i < pred.length; i++) {
    confusion[truth[i]][pred[i]]++;
    if (pred[i] === truth[i]) correct++;
  }
  const support = confusion.map((row) => row.reduce((a, b) => a + b, 0));
  const predicted = confusion[0].map((_, j) => confusion.reduce((a, row) => a + row[j], 0));
  const recall = confusion.map((row, c) => (support[c] ? row[c] / support[c] : 0));
  const precision = confusion.map((row, c) => (predicted[c] ? row[c] / predicted[c] : 0));
  const f1 = recall.map((r, c) => (r + precision[c] > 0 ? (2 * r * precision[c]) / (r + precision[c]) : 0));
  // Macro F1 over the classes present in the labels (sklearn averages over every label given).
  const present = support.map((s, c) => (s > 0 ? c : -1)).filter((c) => c >= 0);
  const macroF1 = present.length ? present.reduce((a, c) => a + f1[c], 0) / present.length : 0;
  return { accuracy: pred.length ? correct / pred.length : 0, macroF1, recall, precision, f1, support, confusion, count: pred.length };
}
