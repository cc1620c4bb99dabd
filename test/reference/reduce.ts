// float64 CPU references for src/wgsl/reduce.wgsl.
export function sum(x: ArrayLike<number>, square = false): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += square ? x[i] * x[i] : x[i];
  return s;
}

/** sqrt of the sum of squares over every array (Keras `global_norm`). */
export function globalNorm(arrays: readonly ArrayLike<number>[]): number {
  return Math.sqrt(arrays.reduce((acc, a) => acc + sum(a, true), 0));
}
