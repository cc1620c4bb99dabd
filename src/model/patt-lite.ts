// PAtt-Lite (DESIGN §2): truncated MobileNetV1 (conv1 .. conv_dw_9_relu), patch extraction,
// and an attention classifier. Two attention settings:
//   'patch' (default, corrected): the patch map's h*w cells are tokens of one image; Dense(32)+BN
//           act per token, self-attention runs across the tokens of each image, tokens are
//           averaged, then the final Dense. Nothing crosses images.
//   'batch' (the published notebook): GAP -> Dense(32)+BN -> attention over the (batch, 32)
//           matrix, so every prediction depends on the rest of the batch.
// The model returns logits; the notebook's final softmax is applied by predict / the loss.
import { Engine } from '../graph/engine.js';
import { ParamRegistry } from '../graph/params.js';
import { reshape } from '../graph/ops/elementwise.js';
import { globalAveragePool } from '../graph/ops/pool.js';
import type { Shape, Tensor } from '../graph/tensor.js';
import { Sequential } from '../layers/sequential.js';
import { Conv2D, SeparableConv2D } from '../layers/conv.js';
import { Dense } from '../layers/dense.js';
import { BatchNormalization, calibrateBatchNorms } from '../layers/norm.js';
import { Attention } from '../layers/attention.js';
import { Dropout, SpatialDropout2D } from '../layers/basic.js';
import type { BuildContext, CallContext } from '../layers/layer.js';
import { PATT_LITE_LAYERS as L } from '../io/weight-specs.js';
import { backboneBatchNorms, mobileNet } from './mobilenet.js';

export type AttentionMode = 'patch' | 'batch';

export interface PattLiteConfig {
  classes: number;
  classNames?: string[];
  attention?: AttentionMode;
  /** Square input side after resizing (224 in the paper). */
  inputSize?: number;
  patchFilters?: number;
  denseUnits?: number;
  /** Dropout before pre-classification (0.1 in phase 1, 0.2 in phase 2). */
  dropout?: number;
  /** SpatialDropout2D after patch extraction (phase 2: 0.2). */
  spatialDropout?: number;
  /** Dropout after attention (phase 2: 0.2). */
  postAttentionDropout?: number;
}

export const PATT_LITE_DEFAULTS = {
  attention: 'patch' as AttentionMode,
  inputSize: 224,
  patchFilters: 256,
  denseUnits: 32,
  dropout: 0.1,
  spatialDropout: 0,
  postAttentionDropout: 0,
};

export class PattLite {
  readonly params = new ParamRegistry();
  readonly backbone: Sequential;
  readonly patch: Sequential;
  readonly preDense: Dense;
  readonly preBn: BatchNormalization;
  readonly attention: Attention;
  readonly head: Dense;
  readonly spatialDropout: SpatialDropout2D;
  readonly preDropout: Dropout;
  readonly postDropout: Dropout;
  readonly config: Required<Omit<PattLiteConfig, 'classNames'>> & { classNames?: string[] };
  /** Backbone output shape [h, w, c] for the configured input size. */
  featureShape: Shape = [];

  constructor(readonly engine: Engine, config: PattLiteConfig, seed = 0) {
    if (!Number.isInteger(config.classes) || config.classes < 2) {
      throw new RangeError(`PAtt-Lite needs at least 2 classes, got ${config.classes}`);
    }
    this.config = { ...PATT_LITE_DEFAULTS, ...config };
    const c = this.config;
    const p = c.patchFilters;
    this.backbone = mobileNet({ alpha: 1.0, lastBlock: 9, depthwiseOnlyLast: true }, 'base_model');
    // Keras calls base_model(x, training=False): its BatchNorms always use moving statistics.
    for (const bn of backboneBatchNorms(this.backbone)) bn.frozen = true;
    this.patch = new Sequential('patch_extraction', [
      new SeparableConv2D(L.sepconv1, p, { kernelSize: 4, strides: 4, padding: 'same', activation: 'relu' }),
      new SeparableConv2D(L.sepconv2, p, { kernelSize: 2, strides: 2, padding: 'valid', activation: 'relu' }),
      new Conv2D(L.conv, p, { kernelSize: 1, activation: 'relu' }),
    ]);
    this.spatialDropout = new SpatialDropout2D('spatial_dropout', c.spatialDropout);
    this.preDropout = new Dropout('dropout', c.dropout);
    this.preDense = new Dense(L.dense, c.denseUnits, { activation: 'relu' });
    this.preBn = new BatchNormalization(L.bn);
    this.attention = new Attention(L.attention);
    this.postDropout = new Dropout('dropout_1', c.postAttentionDropout);
    this.head = new Dense(L.head, c.classes);
    const b: BuildContext = { engine, params: this.params, seed };
    const size = c.inputSize;
    this.featureShape = this.backbone.build(b, [size, size, 3]);
    const patchShape = this.patch.build(b, this.featureShape);
    if (patchShape[0] < 1 || patchShape[1] < 1) {
      throw new RangeError(`input ${size}x${size} is too small for PAtt-Lite's patch extraction`);
    }
    this.preDense.build(b, [patchShape[2]]);
    this.preBn.build(b, [c.denseUnits]);
    this.attention.build(b, [c.denseUnits]);
    this.head.build(b, [c.denseUnits]);
  }

  get attentionMode(): AttentionMode {
    return this.config.attention;
  }

  /** Backbone features [b, h, w, 512] from preprocessed images [b, size, size, 3]. */
  features(x: Tensor, ctx: CallContext): Tensor {
    return this.backbone.call(x, ctx);
  }

  /** Logits [b, classes] from backbone features. */
  headFromFeatures(features: Tensor, ctx: CallContext): Tensor {
    let y = this.patch.call(features, ctx);
    y = this.spatialDropout.call(y, ctx);
    const [b, h, w, c] = y.shape;
    if (this.config.attention === 'batch') {
      y = globalAveragePool(y);
      y = this.preDropout.call(y, ctx);
      y = this.preBn.call(this.preDense.call(y, ctx), ctx);
      y = this.attention.call(y, ctx);
    } else {
      y = reshape(y, [b, h * w, c]);
      y = this.preDropout.call(y, ctx);
      y = this.preDense.call(y, ctx);
      y = reshape(this.preBn.call(reshape(y, [b * h * w, this.config.denseUnits]), ctx), [b, h * w, this.config.denseUnits]);
      y = this.attention.call(y, ctx);
      y = globalAveragePool(reshape(y, [b, 1, h * w, this.config.denseUnits]));
    }
    y = this.postDropout.call(y, ctx);
    return this.head.call(y, ctx);
  }

  /** Logits [b, classes] from preprocessed images [b, size, size, 3]. */
  forward(x: Tensor, ctx: CallContext): Tensor {
    return this.headFromFeatures(this.features(x, ctx), ctx);
  }

  /** Freezes the backbone (phase 1) or makes its convolutions trainable with BN frozen (phase 2). */
  setBackboneTrainable(trainable: boolean): void {
    const names = new Set(this.backbone.flat().map((l) => l.name));
    const sel = (_n: string, layer: string) => names.has(layer);
    if (trainable) {
      this.params.unfreeze((n, layer) => sel(n, layer) && !layer.endsWith('_bn'));
      this.params.freeze((n, layer) => sel(n, layer) && layer.endsWith('_bn'));
    } else {
      this.params.freeze(sel);
    }
  }

  /**
   * Moving statistics of every BatchNormalization := the statistics of this batch (see
   * calibrateBatchNorms). For a backbone that was not imported from pretrained weights.
   */
  calibrate(x: Tensor, ctx: CallContext): void {
    const bns = [...backboneBatchNorms(this.backbone), this.preBn];
    this.engine.noGrad(() => this.engine.scope(() => {
      calibrateBatchNorms(bns, () => this.forward(x, { ...ctx, training: false }));
    }));
  }

  dispose(): void {
    this.params.dispose();
  }
}
