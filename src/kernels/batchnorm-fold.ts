// Folding an inference-mode BatchNormalization into the convolution before it (CPU side, done
// once at load time): conv(x, w) + b followed by gamma * (. - mean) / sqrt(var + eps) + beta
// equals conv(x, w * s) + (b - mean) * s + beta with s = gamma / sqrt(var + eps) per output channel.
// Browser-safe (no Node built-ins); arithmetic in float64, results rounded to float32 once.

export interface BatchnormStats {
  gamma: ArrayLike<number>;
  beta: ArrayLike<number>;
  mean: ArrayLike<number>;
  variance: ArrayLike<number>;
  /** Keras default 1e-3. */
  eps?: number;
}

export interface FoldedConv {
  weights: Float32Array;
  bias: Float32Array;
}

/**
 * Folds BN into conv weights with Keras axes.
 * Shapes: conv [kh, kw, cin, cout] (kind 'conv'; BN over cout) or depthwise [kh, kw, c, mult]
 * (kind 'depthwise'; BN over c * mult, output channel ci * mult + m); bias and BN vectors have
 * one entry per output channel. Returns new arrays; the inputs are not modified.
 */
export function foldBatchnorm(
  kind: 'conv' | 'depthwise',
  shape: readonly [kh: number, kw: number, cin: number, cout: number],
  weights: ArrayLike<number>,
  bn: BatchnormStats,
  bias?: ArrayLike<number>,
): FoldedConv {
  if (shape.length !== 4 || !shape.every((d) => Number.isInteger(d) && d > 0)) {
    throw new RangeError(`foldBatchnorm: expected a filter shape [kh, kw, cin, cout], got [${shape.join(', ')}]`);
  }
  const outC = kind === 'conv' ? shape[3] : shape[2] * shape[3];
  const size = shape[0] * shape[1] * shape[2] * shape[3];
  if (weights.length !== size) {
    throw new RangeError(`foldBatchnorm: ${kind} filter [${shape.join(', ')}] needs ${size} weights, got ${weights.length}`);
  }
  for (const [name, v] of [['gamma', bn.gamma], ['beta', bn.beta], ['mean', bn.mean], ['variance', bn.variance], ['bias', bias]] as const) {
    if (v && v.length !== outC) {
      throw new RangeError(`foldBatchnorm: ${name} needs ${outC} entries (output channels), got ${v.length}`);
    }
  }
  const eps = bn.eps ?? 1e-3;
  const scale = new Float64Array(outC);
  const folded = { weights: new Float32Array(size), bias: new Float32Array(outC) };
  for (let o = 0; o < outC; o++) {
    scale[o] = bn.gamma[o] / Math.sqrt(bn.variance[o] + eps);
    folded.bias[o] = ((bias ? bias[o] : 0) - bn.mean[o]) * scale[o] + bn.beta[o];
  }
  // In both layouts the output channel is the flat index modulo outC (the last axes vary fastest).
  for (let i = 0; i < size; i++) folded.weights[i] = weights[i] * scale[i % outC];
  return folded;
}
