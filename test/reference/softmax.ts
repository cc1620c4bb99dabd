// float64 CPU references for src/wgsl/softmax.wgsl.

export function softmax(x: ArrayLike<number>, rows: number, cols: number): Float64Array {
  const y = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    let m = -Infinity;
    for (let j = 0; j < cols; j++) m = Math.max(m, x[r * cols + j]);
    let s = 0;
    for (let j = 0; j < cols; j++) s += Math.exp(x[r * cols + j] - m);
    for (let j = 0; j < cols; j++) y[r * cols + j] = Math.exp(x[r * cols + j] - m) / s;
  }
  return y;
}

export function softmaxDx(y: ArrayLike<number>, dy: ArrayLike<number>, rows: number, cols: number): Float64Array {
  const dx = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let j = 0; j < cols; j++) s += dy[r * cols + j] * y[r * cols + j];
    for (let j = 0; j < cols; j++) dx[r * cols + j] = y[r * cols + j] * (dy[r * cols + j] - s);
  }
  return dx;
}
