// Balanced class weights, as sklearn's compute_class_weight('balanced', classes=np.unique(y), y)
// computes them for the authors' notebook: weight_c = n / (k * count_c), where n is the number
// of training samples and k the number of classes PRESENT in them (np.unique). A class with no
// training samples gets weight 0 (it can never be the target, so its weight is never used) and
// is listed in `absent`, for the caller to report.

export interface ClassWeights {
  /** One weight per class index, length numClasses. */
  weights: Float64Array;
  /** Training samples per class. */
  counts: number[];
  /** Classes with no training samples (weight 0). */
  absent: number[];
}

export function balancedClassWeights(labels: ArrayLike<number>, numClasses: number): ClassWeights {
  const counts = new Array<number>(numClasses).fill(0);
  for (let i = 0; i < labels.length; i++) {
    const c = labels[i];
    if (!Number.isInteger(c) || c < 0 || c >= numClasses) {
      throw new Error(`class weights: label ${c} at index ${i} is outside 0..${numClasses - 1}`);
    }
    counts[c]++;
  }
  const present = counts.filter((c) => c > 0).length;
  const weights = new Float64Array(numClasses);
  counts.forEach((c, i) => {
    if (c > 0) weights[i] = labels.length / (present * c);
  });
  const absent = counts.flatMap((c, i) => (c === 0 ? [i] : []));
  return { weights, counts, absent };
}
