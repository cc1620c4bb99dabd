// Validation split carved from train when a dataset has none: stratified and seeded.
//
// Each class gives up the same fraction of its samples (largest-remainder rounding, so the
// validation set has exactly round(fraction * n) samples), chosen by a seeded shuffle; a class
// always keeps at least one training sample. Both parts keep the original order, so the result
// depends only on (labels, fraction, seed).

import type { Dataset } from './dataset.js';

/** mulberry32: a small, fast, well-mixed 32-bit PRNG; returns floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Indices of the training and validation parts, each in ascending order. */
export function stratifiedSplit(
  labels: ArrayLike<number>,
  fraction: number,
  seed = 0,
): { train: number[]; val: number[] } {
  if (!(fraction >= 0 && fraction < 1)) throw new Error(`validation fraction ${fraction} is not in [0, 1)`);
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < labels.length; i++) {
    const list = byClass.get(labels[i]);
    if (list) list.push(i);
    else byClass.set(labels[i], [i]);
  }
  const classes = [...byClass.keys()].sort((a, b) => a - b);
  // Largest remainder: floor shares first, then +1 for the largest fractional parts.
  const target = Math.round(fraction * labels.length);
  const exact = classes.map((c) => fraction * byClass.get(c)!.length);
  const take = exact.map(Math.floor);
  const cap = classes.map((c) => Math.max(0, byClass.get(c)!.length - 1));
  for (let i = 0; i < take.length; i++) take[i] = Math.min(take[i], cap[i]);
  const order = classes.map((_, i) => i).sort((a, b) => exact[b] - take[b] - (exact[a] - take[a]) || a - b);
  let missing = target - take.reduce((s, v) => s + v, 0);
  for (let pass = 0; pass < 2 && missing > 0; pass++) {
    for (const i of order) {
      if (missing === 0) break;
      if (take[i] < cap[i] && (pass === 1 || exact[i] > take[i])) { take[i]++; missing--; }
    }
  }
  const random = seededRandom(seed);
  const isVal = new Uint8Array(labels.length);
  classes.forEach((c, ci) => {
    const idx = [...byClass.get(c)!];
    for (let i = idx.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [idx[i], idx[j]] = [idx[j], idx[i]];
    }
    for (let i = 0; i < take[ci]; i++) isVal[idx[i]] = 1;
  });
  const train: number[] = [];
  const val: number[] = [];
  for (let i = 0; i < labels.length; i++) (isVal[i] ? val : train).push(i);
  return { train, val };
}

/** The dataset with a `val` split carved from `train` when it has none (else unchanged). */
export function withValidationSplit(dataset: Dataset, fraction = 0.1, seed = 0): Dataset {
  const train = dataset.splits.train;
  if (dataset.splits.val || !train || fraction === 0) return dataset;
  const { train: keep, val } = stratifiedSplit(train.map((s) => s.label), fraction, seed);
  if (val.length === 0) return dataset;
  return {
    ...dataset,
    splits: { ...dataset.splits, train: keep.map((i) => train[i]), val: val.map((i) => train[i]) },
    notes: [
      ...dataset.notes,
      `val: ${val.length} of ${train.length} train images carved off (stratified, fraction ${fraction}, seed ${seed})`,
    ],
  };
}
