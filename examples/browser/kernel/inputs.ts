// The page's own helpers, independent of the engine: seeded inputs and a plain JS matrix
// multiply to check the GPU against. mulberry32 with values lo + (hi - lo) * r(), the same
// sequence as test/helpers/random.ts `uniform`, so the Node test can rebuild the inputs from the
// seed in the URL.

/** n values uniform in [lo, hi) from a 32-bit seed (mulberry32). */
export function seededUniform(seed: number, n: number, lo = -1, hi = 1): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = lo + (hi - lo) * (((t ^ (t >>> 14)) >>> 0) / 4294967296);
  }
  return out;
}

/** C = A·B in float64. Shapes: A [M,K], B [K,N] -> C [M,N], all row-major. */
export function matmulJs(a: Float32Array, b: Float32Array, m: number, k: number, n: number): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let kk = 0; kk < k; kk++) {
      const av = a[i * k + kk];
      for (let j = 0; j < n; j++) c[i * n + j] += av * b[kk * n + j];
    }
  }
  return c;
}

/** Norm-wise relative error max|got - want| / max|want|; NaN anywhere gives Infinity. */
export function maxRelErr(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i] - want[i]);
    if (!Number.isFinite(d)) return Infinity;
    diff = Math.max(diff, d);
    scale = Math.max(scale, Math.abs(want[i]));
  }
  return diff / Math.max(scale, 1e-30);
}

/** A cheap fingerprint of a float array (sum of |x|), to tell two input sets apart. */
export function checksum(x: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += Math.abs(x[i]);
  return s;
}
