// float64 CPU references for src/wgsl/elementwise.wgsl.
export const relu = (x: ArrayLike<number>): Float64Array => Float64Array.from(x, (v) => Math.max(v, 0));
export const relu6 = (x: ArrayLike<number>): Float64Array => Float64Array.from(x, (v) => Math.min(Math.max(v, 0), 6));
export const reluDx = (x: ArrayLike<number>, dy: ArrayLike<number>): Float64Array =>
  Float64Array.from(x, (v, i) => (v > 0 ? dy[i] : 0));
export const relu6Dx = (x: ArrayLike<number>, dy: ArrayLike<number>): Float64Array =>
  Float64Array.from(x, (v, i) => (v > 0 && v < 6 ? dy[i] : 0));
export const add = (a: ArrayLike<number>, b: ArrayLike<number>, alpha: number, beta: number): Float64Array =>
  Float64Array.from(a, (v, i) => alpha * v + beta * b[i]);
