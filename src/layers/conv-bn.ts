// Convolution + inference-mode BatchNormalization as one convolution, for training too.
//
// MobileNet's blocks are [ZeroPadding2D] -> Conv2D / DepthwiseConv2D -> BatchNormalization(+ReLU6).
// When that BN normalises with its moving statistics (frozen, or not training) it is an affine
// map per output channel, y = s * conv(x, W) + (beta - mean * s) with s = gamma / sqrt(var + eps),
// which is conv(x, W * s) + b'. Computing W * s and b' is tiny (the filter, not the activations),
// and both are written with the ordinary batchnorm inference op, so gradients come for free:
// dW = dW' * s, and gamma / beta get theirs if they are trainable. The big tensors then skip a
// BN pass and a padding pass each, forward and backward (on lavapipe those passes were a third
// of a frozen-backbone training step). The layers keep their Keras names and weights; only the
// way a chain of them is called changes. When nothing in the fold needs a gradient (a frozen
// backbone, or inference), a recorded plan hoists the fold out of its replays.
import type { Tensor } from '../graph/tensor.js';
import { batchnorm } from '../graph/ops/batchnorm.js';
import { reshape } from '../graph/ops/elementwise.js';
import type { ExplicitPadding } from '../kernels/padding.js';
import { ZeroPadding2D } from './basic.js';
import { Conv2D, DepthwiseConv2D } from './conv.js';
import type { CallContext, Layer } from './layer.js';
import { BatchNormalization } from './norm.js';

export interface FusedConvBn {
  /** Layers consumed, starting at the index given to matchConvBn. */
  count: number;
  call(x: Tensor): Tensor;
}

/**
 * The chain [ZeroPadding2D] -> Conv2D | DepthwiseConv2D (no activation) -> BatchNormalization in
 * inference mode starting at layers[i], as one folded convolution; undefined when there is none.
 */
export function matchConvBn(layers: readonly Layer[], i: number, ctx: CallContext): FusedConvBn | undefined {
  let j = i;
  let pad: ExplicitPadding | undefined;
  const first = layers[j];
  if (first instanceof ZeroPadding2D) {
    pad = first.explicit;
    j++;
  }
  const conv = layers[j];
  const bn = layers[j + 1];
  if (!(conv instanceof Conv2D || conv instanceof DepthwiseConv2D)) return undefined;
  if (!(bn instanceof BatchNormalization) || bn.usesBatchStatistics(ctx)) return undefined;
  if ((conv.config.activation ?? 'none') !== 'none') return undefined;
  if (pad && (conv.config.padding ?? 'valid') !== 'valid') return undefined;
  return {
    count: j + 2 - i,
    call: (x) => {
      // Constant while these weights stay frozen: a recorded plan computes it once, and again only
      // after a weight is written (Engine.hoist).
      const inputs = [conv.kernel, ...(conv.bias ? [conv.bias] : []), bn.gamma, bn.beta, bn.movingMean, bn.movingVariance];
      const { kernel, bias } = x.engine.hoist(inputs, () => foldInto(conv.kernel, conv.bias, bn));
      return conv.apply(x, kernel, bias, { padding: pad, activation: bn.config.activation ?? 'none' });
    },
  };
}

/**
 * W' = W * s and b' = (b - mean) * s + beta, s = gamma / sqrt(var + eps) per output channel (the
 * last axis of both Keras filter layouts, [kh, kw, cin, cout] and [kh, kw, c, 1] with c outputs).
 */
function foldInto(kernel: Tensor, bias: Tensor | undefined, bn: BatchNormalization): { kernel: Tensor; bias: Tensor } {
  const e = kernel.engine;
  const cout = bn.gamma.size;
  const rows = kernel.size / cout;
  const zeros = e.full([cout], 0, `${bn.name}/fold-zeros`);
  const eps = bn.config.epsilon ?? 1e-3;
  // W * gamma / sqrt(var + eps): batchnorm with mean 0 and beta 0 over the filter's rows.
  const scaled = batchnorm(reshape(kernel, [rows, cout]), bn.gamma, zeros, {
    movingMean: zeros, movingVariance: bn.movingVariance, eps, momentum: 0, act: 'none', training: false,
  });
  // (b - mean) * s + beta: batchnorm of the conv bias (zeros without one) as a single row.
  const shift = batchnorm(reshape(bias ?? zeros, [1, cout]), bn.gamma, bn.beta, {
    movingMean: bn.movingMean, movingVariance: bn.movingVariance, eps, momentum: 0, act: 'none', training: false,
  });
  return { kernel: reshape(scaled, kernel.shape), bias: reshape(shift, [cout]) };
}
