// The weights Keras expects for MobileNetV1 and for PAtt-Lite, as ordered lists of
// {layer, weight, shape}. The import (keras-h5.ts), the export (keras-h5-export.ts) and the
// model all name weights by the canonical key `layer/weight` built here.
//
// Checked against the Keras sources (read in keras-team/keras):
// - keras/src/applications/mobilenet.py (Keras 3, commit 0e96cb8; same layer names, filters and
//   head as the TF 2.x keras/applications/mobilenet.py): `_conv_block` = Conv2D 'conv1'
//   (3x3, no bias, int(32*alpha) filters) + BatchNormalization 'conv1_bn';
//   `_depthwise_conv_block` = DepthwiseConv2D 'conv_dw_N' (3x3, no bias, depth_multiplier) +
//   'conv_dw_N_bn' + Conv2D 'conv_pw_N' (1x1, no bias, int(filters*alpha)) + 'conv_pw_N_bn';
//   include_top: GlobalAveragePooling2D(keepdims=True) -> Dropout 'dropout' -> Conv2D(classes,
//   1x1, 'same', with bias) 'conv_preds' -> Reshape 'reshape_2' -> Activation 'predictions'.
// - Weight order per layer (Keras 2 `build` order = trainable then non-trainable, and the
//   Keras 3 vars/0..n order): Conv2D kernel(kh,kw,in,out)[, bias]; DepthwiseConv2D
//   depthwise_kernel(kh,kw,in,mult); SeparableConv2D depthwise_kernel(kh,kw,in,mult),
//   pointwise_kernel(1,1,in*mult,out), bias; BatchNormalization gamma, beta, moving_mean,
//   moving_variance; Dense kernel(in,out), bias; Attention(use_scale=True) scale, shape ().
// - The authors' notebook (DESIGN §2): base_model = Model(backbone.input,
//   backbone.layers[-29].output) = conv1 .. conv_dw_9_relu; Sequential 'patch_extraction';
//   Sequential 'pre_classification' [Dense(32), BatchNormalization]; Attention 'attention';
//   Dense(classes, softmax) 'classification_head'.

export type KerasClass =
  | 'Conv2D'
  | 'DepthwiseConv2D'
  | 'SeparableConv2D'
  | 'BatchNormalization'
  | 'Dense'
  | 'Attention';

export interface WeightSpec {
  /** Canonical layer name (the Keras name where Keras fixes one). */
  readonly layer: string;
  /** Keras weight name without the ':0' suffix: 'kernel', 'gamma', 'scale', … */
  readonly weight: string;
  readonly shape: readonly number[];
  readonly kerasClass: KerasClass;
  /**
   * The top-level Keras layer that holds this weight in a saved PAtt-Lite model (a nested
   * model such as 'base_model' or 'patch_extraction'), or the layer itself when not nested.
   */
  readonly group: string;
  /** The inner Keras layer name a fresh Keras session gives it (used by the export). */
  readonly kerasLayer: string;
}

export type MobileNetAlpha = 0.25 | 0.5 | 0.75 | 1.0;

export interface MobileNetOptions {
  alpha?: MobileNetAlpha;
  includeTop?: boolean;
  /** Classes of the `conv_preds` head (include_top only); Keras default 1000. */
  classes?: number;
  /** Input channels of conv1; 3 for RGB. */
  inputChannels?: number;
  /** Keep the blocks up to this one (1..13); 13 = the whole network. */
  lastBlock?: number;
  /** Stop after conv_dw_<lastBlock>(_bn), skipping that block's pointwise half. */
  depthwiseOnlyLast?: boolean;
}

/** Pointwise filters of blocks 1..13 at alpha 1 (keras mobilenet.py). */
export const MOBILENET_POINTWISE_FILTERS: readonly number[] = [
  64, 128, 128, 256, 256, 512, 512, 512, 512, 512, 512, 1024, 1024,
];
/** Blocks whose depthwise conv has stride 2 (ZeroPadding2D + 'valid'). */
export const MOBILENET_STRIDE2_BLOCKS: readonly number[] = [2, 4, 6, 12];

export const BN_WEIGHTS = ['gamma', 'beta', 'moving_mean', 'moving_variance'] as const;

export function weightKey(layer: string, weight: string): string {
  return `${layer}/${weight}`;
}

export function specKey(s: WeightSpec): string {
  return weightKey(s.layer, s.weight);
}

/** Keras `int(filters * alpha)`. */
export function scaleFilters(filters: number, alpha: number): number {
  return Math.trunc(filters * alpha + 1e-9);
}

class SpecList {
  readonly out: WeightSpec[] = [];
  constructor(private readonly group?: string) {}

  add(layer: string, cls: KerasClass, weights: [string, number[]][], kerasLayer = layer): void {
    for (const [weight, shape] of weights) {
      const group = this.group ?? layer;
      this.out.push({ layer, weight, shape, kerasClass: cls, group, kerasLayer });
    }
  }

  bn(layer: string, c: number, kerasLayer = layer): void {
    this.add(layer, 'BatchNormalization', BN_WEIGHTS.map((w) => [w, [c]]), kerasLayer);
  }
}

function mobileNetInto(list: SpecList, o: Required<Omit<MobileNetOptions, 'classes' | 'includeTop'>>): number {
  const { alpha, inputChannels, lastBlock, depthwiseOnlyLast } = o;
  if (![0.25, 0.5, 0.75, 1.0].includes(alpha)) {
    throw new Error(`MobileNet alpha must be 0.25, 0.5, 0.75 or 1.0, got ${alpha}`);
  }
  if (!Number.isInteger(lastBlock) || lastBlock < 0 || lastBlock > 13) {
    throw new Error(`MobileNet lastBlock must be an integer in 0..13, got ${lastBlock}`);
  }
  let c = scaleFilters(32, alpha);
  list.add('conv1', 'Conv2D', [['kernel', [3, 3, inputChannels, c]]]);
  list.bn('conv1_bn', c);
  for (let b = 1; b <= lastBlock; b++) {
    list.add(`conv_dw_${b}`, 'DepthwiseConv2D', [['depthwise_kernel', [3, 3, c, 1]]]);
    list.bn(`conv_dw_${b}_bn`, c);
    if (b === lastBlock && depthwiseOnlyLast) break;
    const f = scaleFilters(MOBILENET_POINTWISE_FILTERS[b - 1], alpha);
    list.add(`conv_pw_${b}`, 'Conv2D', [['kernel', [1, 1, c, f]]]);
    list.bn(`conv_pw_${b}_bn`, f);
    c = f;
  }
  return c;
}

/** The weights of Keras `MobileNet(alpha, include_top, classes)`, in file order. */
export function mobileNetSpecs(opts: MobileNetOptions = {}): WeightSpec[] {
  const list = new SpecList();
  const c = mobileNetInto(list, {
    alpha: opts.alpha ?? 1.0,
    inputChannels: opts.inputChannels ?? 3,
    lastBlock: opts.lastBlock ?? 13,
    depthwiseOnlyLast: opts.depthwiseOnlyLast ?? false,
  });
  if (opts.includeTop) {
    if ((opts.lastBlock ?? 13) !== 13 || opts.depthwiseOnlyLast) {
      throw new Error('MobileNet include_top needs the whole network (lastBlock 13)');
    }
    const k = opts.classes ?? 1000;
    checkClasses(k);
    list.add('conv_preds', 'Conv2D', [['kernel', [1, 1, c, k]], ['bias', [k]]]);
  }
  return list.out;
}

/** Canonical names of the PAtt-Lite layers after the backbone. */
export const PATT_LITE_LAYERS = {
  sepconv1: 'patch_sepconv_1',
  sepconv2: 'patch_sepconv_2',
  conv: 'patch_conv',
  dense: 'pre_dense',
  bn: 'pre_bn',
  attention: 'attention',
  head: 'classification_head',
} as const;

/** The Keras top-level layers (nested models) of the authors' notebook. */
export const PATT_LITE_GROUPS = {
  backbone: 'base_model',
  patch: 'patch_extraction',
  pre: 'pre_classification',
  attention: 'attention',
  head: 'classification_head',
} as const;

export interface PattLiteOptions {
  classes: number;
  inputChannels?: number;
  /** Patch-extraction width (256 in the paper). */
  patchFilters?: number;
  /** Units of the Dense before attention (32 in the paper). */
  denseUnits?: number;
}

/** The weights of PAtt-Lite (DESIGN §2), grouped as the authors' notebook saves them. */
export function pattLiteSpecs(opts: PattLiteOptions): WeightSpec[] {
  const k = opts.classes;
  checkClasses(k);
  const p = opts.patchFilters ?? 256;
  const u = opts.denseUnits ?? 32;
  const L = PATT_LITE_LAYERS;
  const G = PATT_LITE_GROUPS;
  const base = new SpecList(G.backbone);
  const c = mobileNetInto(base, {
    alpha: 1.0,
    inputChannels: opts.inputChannels ?? 3,
    lastBlock: 9,
    depthwiseOnlyLast: true,
  });
  const patch = new SpecList(G.patch);
  patch.add(L.sepconv1, 'SeparableConv2D', [
    ['depthwise_kernel', [4, 4, c, 1]],
    ['pointwise_kernel', [1, 1, c, p]],
    ['bias', [p]],
  ], 'separable_conv2d');
  patch.add(L.sepconv2, 'SeparableConv2D', [
    ['depthwise_kernel', [2, 2, p, 1]],
    ['pointwise_kernel', [1, 1, p, p]],
    ['bias', [p]],
  ], 'separable_conv2d_1');
  patch.add(L.conv, 'Conv2D', [['kernel', [1, 1, p, p]], ['bias', [p]]], 'conv2d');
  const pre = new SpecList(G.pre);
  pre.add(L.dense, 'Dense', [['kernel', [p, u]], ['bias', [u]]], 'dense');
  pre.bn(L.bn, u, 'batch_normalization');
  const top = new SpecList();
  top.add(L.attention, 'Attention', [['scale', []]]);
  top.add(L.head, 'Dense', [['kernel', [u, k]], ['bias', [k]]]);
  return [...base.out, ...patch.out, ...pre.out, ...top.out];
}

function checkClasses(k: number): void {
  if (!Number.isInteger(k) || k < 1 || k > 1_000_000) {
    throw new Error(`classes must be an integer in 1..1000000, got ${k}`);
  }
}

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Total parameter count of a spec list. */
export function paramCount(specs: readonly WeightSpec[]): number {
  return specs.reduce((n, s) => n + elementCount(s.shape), 0);
}

export function shapeString(shape: readonly number[] | undefined): string {
  return shape ? `(${shape.join(', ')}${shape.length === 1 ? ',' : ''})` : '(?)';
}
