// Keras MobileNetV1 (keras/src/applications/mobilenet.py), NHWC, every activation ReLU6 (fused
// into the BatchNormalization before it), layer names as in Keras so weights import by name.
// Truncatable: stop after any block, or after the depthwise half of a block (PAtt-Lite keeps
// conv1 .. conv_dw_9_relu). With include_top: GAP (keepdims) -> Dropout -> conv_preds 1x1 -> softmax.
import { Sequential } from '../layers/sequential.js';
import { Conv2D, DepthwiseConv2D } from '../layers/conv.js';
import { BatchNormalization } from '../layers/norm.js';
import { ZeroPadding2D, GlobalAveragePooling2D, Dropout, Reshape } from '../layers/basic.js';
import type { Layer } from '../layers/layer.js';
import { MOBILENET_POINTWISE_FILTERS, MOBILENET_STRIDE2_BLOCKS, scaleFilters, type MobileNetAlpha } from '../io/weight-specs.js';

export interface MobileNetConfig {
  alpha?: MobileNetAlpha;
  /** Keep blocks 1..lastBlock (13 = the whole network). */
  lastBlock?: number;
  /** Stop after conv_dw_<lastBlock>_relu (skip that block's pointwise half). */
  depthwiseOnlyLast?: boolean;
  includeTop?: boolean;
  classes?: number;
  /** Dropout of the top (Keras default 1e-3). */
  topDropout?: number;
}

/** Every BatchNormalization of the backbone, for freezing (inference mode) together. */
export function backboneBatchNorms(model: Sequential): BatchNormalization[] {
  return model.flat().filter((l): l is BatchNormalization => l instanceof BatchNormalization);
}

export function mobileNet(config: MobileNetConfig = {}, name = 'mobilenet'): Sequential {
  const alpha = config.alpha ?? 1.0;
  const lastBlock = config.lastBlock ?? 13;
  const layers: Layer[] = [];
  const bnRelu6 = (n: string) => new BatchNormalization(`${n}_bn`, { activation: 'relu6' });
  layers.push(new Conv2D('conv1', scaleFilters(32, alpha), { kernelSize: 3, strides: 2, padding: 'same', useBias: false }));
  layers.push(bnRelu6('conv1'));
  for (let b = 1; b <= lastBlock; b++) {
    const stride2 = (MOBILENET_STRIDE2_BLOCKS as readonly number[]).includes(b);
    if (stride2) layers.push(new ZeroPadding2D(`conv_pad_${b}`, [[0, 1], [0, 1]]));
    layers.push(new DepthwiseConv2D(`conv_dw_${b}`, {
      kernelSize: 3, strides: stride2 ? 2 : 1, padding: stride2 ? 'valid' : 'same', useBias: false,
    }));
    layers.push(bnRelu6(`conv_dw_${b}`));
    if (b === lastBlock && config.depthwiseOnlyLast) break;
    const filters = scaleFilters(MOBILENET_POINTWISE_FILTERS[b - 1], alpha);
    layers.push(new Conv2D(`conv_pw_${b}`, filters, { kernelSize: 1, useBias: false }));
    layers.push(bnRelu6(`conv_pw_${b}`));
  }
  if (config.includeTop) {
    if (lastBlock !== 13 || config.depthwiseOnlyLast) throw new Error('MobileNet include_top needs all 13 blocks');
    const classes = config.classes ?? 1000;
    const c = scaleFilters(1024, alpha);
    layers.push(new GlobalAveragePooling2D('global_average_pooling2d'));
    layers.push(new Reshape('reshape_1', [1, 1, c]));
    layers.push(new Dropout('dropout', config.topDropout ?? 1e-3));
    layers.push(new Conv2D('conv_preds', classes, { kernelSize: 1, padding: 'same' }));
    layers.push(new Reshape('reshape_2', [classes]));
  }
  return new Sequential(name, layers);
}
