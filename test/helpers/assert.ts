// Numeric assertions. Relative error is norm-wise: max|actual - expected| / max|expected|, so one
// near-zero element does not blow it up, while an unwritten (NaN-poisoned) element always fails.

import { expect } from 'chai';

export type Numbers = ArrayLike<number>;

export function maxAbs(a: Numbers): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

/** max|a - e| / max(max|e|, floor). NaN or Inf anywhere gives Infinity. */
export function relError(actual: Numbers, expected: Numbers, floor = 1e-30): number {
  if (actual.length !== expected.length) {
    throw new Error(`length mismatch: actual ${actual.length}, expected ${expected.length}`);
  }
  let diff = 0;
  for (let i = 0; i < actual.length; i++) {
    const d = Math.abs(actual[i] - expected[i]);
    if (!Number.isFinite(d)) return Infinity;
    diff = Math.max(diff, d);
  }
  return diff / Math.max(maxAbs(expected), floor);
}

/** Fails with the worst element named when the relative error exceeds `tol`. */
export function expectClose(actual: Numbers, expected: Numbers, tol: number, what = 'value'): void {
  const err = relError(actual, expected);
  if (!(err <= tol)) {
    let worst = 0;
    let worstD = -1;
    for (let i = 0; i < actual.length; i++) {
      const d = Math.abs(actual[i] - expected[i]);
      if (!(d <= worstD)) { worstD = d; worst = i; }
      if (Number.isNaN(d)) break;
    }
    expect.fail(
      `${what}: relative error ${err.toExponential(3)} > ${tol} ` +
        `(worst at [${worst}]: got ${actual[worst]}, expected ${expected[worst]}; n=${actual.length})`,
    );
  }
}
