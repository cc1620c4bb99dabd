// float64 CPU references for src/wgsl/pool.wgsl.

/** Shapes: x [n, h, w, c] -> [n, c]. */
export function globalAverage(x: ArrayLike<number>, [n, h, w, c]: readonly number[]): Float64Array {
  const y = new Float64Array(n * c);
  for (let b = 0; b < n; b++) {
    for (let s = 0; s < h * w; s++) for (let k = 0; k < c; k++) y[b * c + k] += x[(b * h * w + s) * c + k];
  }
  return y.map((v) => v / (h * w));
}

/** Shapes: dy [n, c] -> dx [n, h, w, c]. */
export function globalAverageDx(dy: ArrayLike<number>, [n, h, w, c]: readonly number[]): Float64Array {
  const dx = new Float64Array(n * h * w * c);
  for (let i = 0; i < dx.length; i++) dx[i] = dy[Math.floor(i / (h * w * c)) * c + (i % c)] / (h * w);
  return dx;
}
