// An independent PAtt-Lite in TensorFlow.js ops (test oracle), written from DESIGN §2 and the
// Keras layer definitions, reading weights by their Keras names.
import type * as tfNs from '@tensorflow/tfjs';

type Tf = typeof import('@tensorflow/tfjs');
type T = tfNs.Tensor;
export type WeightMap = Map<string, { shape: readonly number[]; data: Float32Array }>;

const STRIDE2 = [2, 4, 6, 12];
const PW = [64, 128, 128, 256, 256, 512, 512, 512, 512, 512, 512, 1024, 1024];

export interface RefOptions {
  attention: 'patch' | 'batch';
  /** BN of the head in training mode (batch statistics). */
  training: boolean;
  eps?: number;
}

export function pattLiteTf(tf: Tf, w: (name: string) => T, x: T, o: RefOptions): T {
  const eps = o.eps ?? 1e-3;
  const bnInfer = (y: T, n: string) =>
    tf.add(tf.mul(tf.div(tf.sub(y, w(`${n}/moving_mean`)), tf.sqrt(tf.add(w(`${n}/moving_variance`), eps))), w(`${n}/gamma`)), w(`${n}/beta`));
  const relu6 = (y: T) => tf.clipByValue(y, 0, 6);
  let y = relu6(bnInfer(tf.conv2d(x as tfNs.Tensor4D, w('conv1/kernel') as tfNs.Tensor4D, 2, 'same'), 'conv1_bn'));
  for (let b = 1; b <= 9; b++) {
    const s2 = STRIDE2.includes(b);
    if (s2) y = tf.pad(y, [[0, 0], [0, 1], [0, 1], [0, 0]]);
    y = tf.depthwiseConv2d(y as tfNs.Tensor4D, w(`conv_dw_${b}/depthwise_kernel`) as tfNs.Tensor4D, s2 ? 2 : 1, s2 ? 'valid' : 'same');
    y = relu6(bnInfer(y, `conv_dw_${b}_bn`));
    if (b === 9) break;
    void PW;
    y = relu6(bnInfer(tf.conv2d(y as tfNs.Tensor4D, w(`conv_pw_${b}/kernel`) as tfNs.Tensor4D, 1, 'same'), `conv_pw_${b}_bn`));
  }
  const sep = (v: T, n: string, k: number, pad: 'same' | 'valid') => {
    const d = tf.depthwiseConv2d(v as tfNs.Tensor4D, w(`${n}/depthwise_kernel`) as tfNs.Tensor4D, k, pad);
    return tf.relu(tf.add(tf.conv2d(d, w(`${n}/pointwise_kernel`) as tfNs.Tensor4D, 1, 'same'), w(`${n}/bias`)));
  };
  y = sep(y, 'patch_sepconv_1', 4, 'same');
  y = sep(y, 'patch_sepconv_2', 2, 'valid');
  y = tf.relu(tf.add(tf.conv2d(y as tfNs.Tensor4D, w('patch_conv/kernel') as tfNs.Tensor4D, 1, 'same'), w('patch_conv/bias')));
  const [b, h, wd, c] = y.shape;
  const bnHead = (v: T) => {
    if (!o.training) return bnInfer(v, 'pre_bn');
    const { mean, variance } = tf.moments(v, [0]);
    return tf.add(tf.mul(tf.div(tf.sub(v, mean), tf.sqrt(tf.add(variance, eps))), w('pre_bn/gamma')), w('pre_bn/beta'));
  };
  const dense = (v: T, n: string) => tf.add(tf.matMul(v as tfNs.Tensor2D, w(`${n}/kernel`) as tfNs.Tensor2D), w(`${n}/bias`));
  const attend = (q: T) => tf.matMul(tf.softmax(tf.mul(tf.matMul(q, q, false, true), w('attention/scale'))), q);
  let z: T;
  if (o.attention === 'batch') {
    z = attend(bnHead(tf.relu(dense(tf.mean(y, [1, 2]), 'pre_dense'))));
  } else {
    const tokens = bnHead(tf.relu(dense(tf.reshape(y, [b * h * wd, c]), 'pre_dense')));
    const units = tokens.shape[1]!;
    z = tf.mean(attend(tf.reshape(tokens, [b, h * wd, units])), 1);
  }
  return dense(z, 'classification_head');
}
