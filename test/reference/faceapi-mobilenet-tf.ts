// face-api's MobileNetV1 forward in TensorFlow.js ops (test oracle), written from
// @vladmandic/face-api src/ssdMobilenetv1/mobileNetV1.ts and pointwiseConvLayer.ts and reading the
// raw TF weights by their TF names (MobilenetV1/Conv2d_i_...): TF 'same' padding everywhere,
// folded BN as `+ convolution_bn_offset`, depthwise BN via tf.batchNorm with face-api's epsilon,
// ReLU6 as clipByValue(0, 6). Nothing here uses our Keras names or padding.
import type * as tfNs from '@tensorflow/tfjs';

type Tf = typeof import('@tensorflow/tfjs');
type T = tfNs.Tensor;
type T4 = tfNs.Tensor4D;

const FACE_API_EPSILON = 0.0010000000474974513;

export interface FaceApiRefOptions {
  /** Run blocks 1..lastBlock (face-api runs 13). */
  lastBlock: number;
  /** Stop after the depthwise half (+ BN + ReLU6) of lastBlock. */
  depthwiseOnlyLast?: boolean;
}

export function faceApiMobileNetTf(tf: Tf, w: (tfName: string) => T, x: T, o: FaceApiRefOptions): T {
  const pointwise = (v: T, prefix: string, stride: number) =>
    tf.clipByValue(tf.add(tf.conv2d(v as T4, w(`${prefix}/weights`) as T4, stride, 'same'), w(`${prefix}/convolution_bn_offset`)), 0, 6);
  const depthwise = (v: T, prefix: string, stride: number) => {
    const y = tf.depthwiseConv2d(v as T4, w(`${prefix}/depthwise_weights`) as T4, stride, 'same');
    const bn = tf.batchNorm(y as T4, w(`${prefix}/BatchNorm/moving_mean`) as tfNs.Tensor1D, w(`${prefix}/BatchNorm/moving_variance`) as tfNs.Tensor1D,
      w(`${prefix}/BatchNorm/beta`) as tfNs.Tensor1D, w(`${prefix}/BatchNorm/gamma`) as tfNs.Tensor1D, FACE_API_EPSILON);
    return tf.clipByValue(bn, 0, 6);
  };
  let y = pointwise(x, 'MobilenetV1/Conv2d_0_pointwise', 2);
  for (let i = 1; i <= o.lastBlock; i++) {
    y = depthwise(y, `MobilenetV1/Conv2d_${i}_depthwise`, [2, 4, 6, 12].includes(i) ? 2 : 1);
    if (i === o.lastBlock && o.depthwiseOnlyLast) break;
    y = pointwise(y, `MobilenetV1/Conv2d_${i}_pointwise`, 1);
  }
  return y;
}
