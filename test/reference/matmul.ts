// float64 CPU references for src/wgsl/matmul.wgsl and matmul-tiled.wgsl.

export interface MatmulRefShape {
  m: number;
  k: number;
  n: number;
  transA?: boolean;
  transB?: boolean;
  act?: 'none' | 'relu' | 'relu6';
}

/**
 * C = act(op(A)·op(B) + bias + c0). A [M,K] (transA: stored [K,M]), B [K,N] (transB: [N,K]).
 * `rows` limits the work to some rows of C (the result still has M*N entries, others 0).
 */
export function matmul(
  s: MatmulRefShape,
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  bias?: ArrayLike<number>,
  c0?: ArrayLike<number>,
  rows?: readonly number[],
): Float64Array {
  const { m, k, n } = s;
  const out = new Float64Array(m * n);
  const acc = new Float64Array(n);
  for (const i of rows ?? Array.from({ length: m }, (_, i) => i)) {
    acc.fill(0);
    for (let kk = 0; kk < k; kk++) {
      const av = s.transA ? a[kk * m + i] : a[i * k + kk];
      if (av === 0) continue;
      if (s.transB) for (let j = 0; j < n; j++) acc[j] += av * b[j * k + kk];
      else for (let j = 0, o = kk * n; j < n; j++) acc[j] += av * b[o + j];
    }
    for (let j = 0; j < n; j++) {
      let v = acc[j] + (bias ? bias[j] : 0) + (c0 ? c0[i * n + j] : 0);
      if (s.act === 'relu') v = Math.max(v, 0);
      if (s.act === 'relu6') v = Math.min(Math.max(v, 0), 6);
      out[i * n + j] = v;
    }
  }
  return out;
}

/** db[j] = sum_i dC[i, j]. Shapes: dC [M,N] -> db [N]. */
export function biasGrad(m: number, n: number, dc: ArrayLike<number>): Float64Array {
  const db = new Float64Array(n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) db[j] += dc[i * n + j];
  return db;
}

/** The entries of `x` (row-major [rows, cols]) in the listed rows. */
export function pickRows(x: ArrayLike<number>, cols: number, rows: readonly number[]): Float64Array {
  const out = new Float64Array(rows.length * cols);
  rows.forEach((r, t) => {
    for (let j = 0; j < cols; j++) out[t * cols + j] = x[r * cols + j];
  });
  return out;
}
