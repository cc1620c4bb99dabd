// float64 CPU references for src/wgsl/batchnorm.wgsl and src/kernels/batchnorm-fold.ts.
// Layout [rows, c] (rows = N*H*W for NHWC). Straightforward two-pass formulas, no shifts.

type N = ArrayLike<number>;
export type Act = 'none' | 'relu' | 'relu6';

const act = (z: number, a: Act): number => (a === 'relu' ? Math.max(z, 0) : a === 'relu6' ? Math.min(Math.max(z, 0), 6) : z);
const actGrad = (z: number, dy: number, a: Act): number =>
  a === 'relu' ? (z > 0 ? dy : 0) : a === 'relu6' ? (z > 0 && z < 6 ? dy : 0) : dy;

/** Batch mean and biased variance per channel. */
export function moments(x: N, c: number): { mean: Float64Array; variance: Float64Array } {
  const rows = x.length / c;
  const mean = new Float64Array(c);
  const variance = new Float64Array(c);
  for (let i = 0, k = 0; i < x.length; i++, k = k + 1 === c ? 0 : k + 1) mean[k] += x[i];
  for (let k = 0; k < c; k++) mean[k] /= rows;
  for (let i = 0, k = 0; i < x.length; i++, k = k + 1 === c ? 0 : k + 1) variance[k] += (x[i] - mean[k]) ** 2;
  for (let k = 0; k < c; k++) variance[k] /= rows;
  return { mean, variance };
}

/** y = act(gamma * (x - mean) / sqrt(var + eps) + beta). */
export function normalize(x: N, c: number, gamma: N, beta: N, mean: N, variance: N, eps: number, a: Act = 'none'): Float64Array {
  const scale = new Float64Array(c);
  for (let k = 0; k < c; k++) scale[k] = gamma[k] / Math.sqrt(variance[k] + eps);
  const y = new Float64Array(x.length);
  for (let i = 0, k = 0; i < x.length; i++, k = k + 1 === c ? 0 : k + 1) {
    y[i] = act(scale[k] * (x[i] - mean[k]) + beta[k], a);
  }
  return y;
}

export interface TrainResult {
  y: Float64Array; mean: Float64Array; invstd: Float64Array; movingMean: Float64Array; movingVariance: Float64Array;
}

/** Training forward and moving-average update (moving variance biased, or n/(n-1) if unbiased). */
export function train(
  x: N, c: number, gamma: N, beta: N, movingMean: N, movingVariance: N,
  o: { eps: number; momentum: number; act?: Act; unbiased?: boolean },
): TrainResult {
  const rows = x.length / c;
  const { mean, variance } = moments(x, c);
  const factor = o.unbiased && rows > 1 ? rows / (rows - 1) : 1;
  return {
    y: normalize(x, c, gamma, beta, mean, variance, o.eps, o.act),
    mean,
    invstd: variance.map((v) => 1 / Math.sqrt(v + o.eps)),
    movingMean: Float64Array.from(movingMean, (m, k) => o.momentum * m + (1 - o.momentum) * mean[k]),
    movingVariance: Float64Array.from(movingVariance, (m, k) => o.momentum * m + (1 - o.momentum) * variance[k] * factor),
  };
}

export interface Grads { dx: Float64Array; dgamma: Float64Array; dbeta: Float64Array }

/** Gradients of sum(dy * bn(x)) with mean/var either batch statistics or constants. */
function backward(x: N, dy: N, c: number, gamma: N, beta: N, mean: N, variance: N, eps: number, a: Act, batch: boolean): Grads {
  const rows = x.length / c;
  const invstd = Float64Array.from(variance, (v) => 1 / Math.sqrt(v + eps));
  const xhat = new Float64Array(x.length);
  const dz = new Float64Array(x.length);
  const dgamma = new Float64Array(c);
  const dbeta = new Float64Array(c);
  for (let i = 0, k = 0; i < x.length; i++, k = k + 1 === c ? 0 : k + 1) {
    xhat[i] = (x[i] - mean[k]) * invstd[k];
    dz[i] = actGrad(gamma[k] * xhat[i] + beta[k], dy[i], a);
    dbeta[k] += dz[i];
    dgamma[k] += dz[i] * xhat[i];
  }
  const dx = new Float64Array(x.length);
  for (let i = 0, k = 0; i < x.length; i++, k = k + 1 === c ? 0 : k + 1) {
    const centred = batch ? dz[i] - dbeta[k] / rows - (xhat[i] * dgamma[k]) / rows : dz[i];
    dx[i] = gamma[k] * invstd[k] * centred;
  }
  return { dx, dgamma, dbeta };
}

export function trainBackward(x: N, dy: N, c: number, gamma: N, beta: N, eps: number, a: Act = 'none'): Grads {
  const { mean, variance } = moments(x, c);
  return backward(x, dy, c, gamma, beta, mean, variance, eps, a, true);
}

export function inferenceBackward(x: N, dy: N, c: number, gamma: N, beta: N, mean: N, variance: N, eps: number, a: Act = 'none'): Grads {
  return backward(x, dy, c, gamma, beta, mean, variance, eps, a, false);
}

/**
 * Stride-1 convolution, NHWC, Keras filter axes, 'same' (odd k) or 'valid' padding.
 * depthwise: filter [kh, kw, c, mult], output channel ci * mult + m.
 */
export function conv2d(
  x: N, [n, h, w, cin]: readonly number[], f: N, [kh, kw, fc, fo]: readonly number[],
  o: { depthwise?: boolean; padding: 'same' | 'valid'; bias?: N },
): { y: Float64Array; shape: number[] } {
  const cout = o.depthwise ? fc * fo : fo;
  const [ph, pw] = o.padding === 'same' ? [(kh - 1) >> 1, (kw - 1) >> 1] : [0, 0];
  const oh = o.padding === 'same' ? h : h - kh + 1;
  const ow = o.padding === 'same' ? w : w - kw + 1;
  const y = new Float64Array(n * oh * ow * cout);
  for (let b = 0; b < n; b++) for (let i = 0; i < oh; i++) for (let j = 0; j < ow; j++) {
    for (let oc = 0; oc < cout; oc++) {
      let s = o.bias ? o.bias[oc] : 0;
      for (let di = 0; di < kh; di++) for (let dj = 0; dj < kw; dj++) {
        const yi = i + di - ph;
        const xj = j + dj - pw;
        if (yi < 0 || yi >= h || xj < 0 || xj >= w) continue;
        const base = ((b * h + yi) * w + xj) * cin;
        if (o.depthwise) {
          const ci = Math.floor(oc / fo);
          s += x[base + ci] * f[((di * kw + dj) * fc + ci) * fo + (oc % fo)];
        } else {
          for (let ci = 0; ci < cin; ci++) s += x[base + ci] * f[((di * kw + dj) * fc + ci) * fo + oc];
        }
      }
      y[((b * oh + i) * ow + j) * cout + oc] = s;
    }
  }
  return { y, shape: [n, oh, ow, cout] };
}
