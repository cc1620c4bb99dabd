// Conv2D, DepthwiseConv2D and SeparableConv2D (Keras semantics and weight names).
import type { Shape, Tensor } from '../graph/tensor.js';
import { conv2d, depthwiseConv2d } from '../graph/ops/conv.js';
import { pointwiseConv2d } from '../graph/ops/matmul.js';
import { convGeometry, type Activation, type Padding } from '../kernels/padding.js';
import { Layer, addParam, filled, glorotUniform, initRng, type BuildContext, type CallContext } from './layer.js';

export interface ConvConfig {
  kernelSize: number | readonly [number, number];
  strides?: number;
  padding?: Padding;
  useBias?: boolean;
  activation?: Activation;
}

/** What a fused caller may change about a convolution layer's call. */
export interface ConvOverrides {
  padding?: Padding;
  activation?: Activation;
}

const pair = (k: number | readonly [number, number]): [number, number] => (typeof k === 'number' ? [k, k] : [k[0], k[1]]);

function outShape(name: string, [h, w]: Shape, k: [number, number], c: ConvConfig, cout: number): Shape {
  const g = convGeometry(name, h, w, k[0], k[1], c.strides ?? 1, c.padding ?? 'valid');
  return [g.oh, g.ow, cout];
}

export class Conv2D extends Layer {
  kernel!: Tensor;
  bias: Tensor | undefined;
  constructor(name: string, readonly filters: number, readonly config: ConvConfig) {
    super(name);
  }
  build(b: BuildContext, inputShape: Shape): Shape {
    const [kh, kw] = pair(this.config.kernelSize);
    const cin = inputShape[2];
    const shape = [kh, kw, cin, this.filters];
    const rng = initRng(b.seed, `${this.name}/kernel`);
    this.kernel = addParam(b, this.name, 'kernel', shape, glorotUniform(shape, kh * kw * cin, kh * kw * this.filters, rng));
    if (this.config.useBias ?? true) this.bias = addParam(b, this.name, 'bias', [this.filters], filled([this.filters], 0));
    return outShape(this.name, inputShape, [kh, kw], this.config, this.filters);
  }
  call(x: Tensor, _ctx: CallContext): Tensor {
    return this.apply(x, this.kernel, this.bias);
  }
  /** This layer's convolution with other weights, padding or activation (./conv-bn.ts folds BN in). */
  apply(x: Tensor, kernel: Tensor, bias: Tensor | undefined, over: ConvOverrides = {}): Tensor {
    const c = this.config;
    const [kh, kw] = pair(c.kernelSize);
    const padding = over.padding ?? c.padding;
    const activation = over.activation ?? c.activation;
    // A 1x1 stride-1 unpadded convolution is a matrix multiply; the tiled matmul is much faster.
    if (kh === 1 && kw === 1 && (c.strides ?? 1) === 1 && typeof padding !== 'object') return pointwiseConv2d(x, kernel, bias, activation);
    return conv2d(x, kernel, bias, { stride: c.strides, padding, activation });
  }
}

export class DepthwiseConv2D extends Layer {
  kernel!: Tensor;
  bias: Tensor | undefined;
  constructor(name: string, readonly config: ConvConfig) {
    super(name);
  }
  build(b: BuildContext, inputShape: Shape): Shape {
    const [kh, kw] = pair(this.config.kernelSize);
    const c = inputShape[2];
    const shape = [kh, kw, c, 1];
    const rng = initRng(b.seed, `${this.name}/depthwise_kernel`);
    // Keras derives fans from the kernel shape [kh, kw, c, 1]: fan_in = kh*kw*c, fan_out = kh*kw.
    this.kernel = addParam(b, this.name, 'depthwise_kernel', shape, glorotUniform(shape, kh * kw * c, kh * kw, rng));
    if (this.config.useBias ?? true) this.bias = addParam(b, this.name, 'bias', [c], filled([c], 0));
    return outShape(this.name, inputShape, [kh, kw], this.config, c);
  }
  call(x: Tensor, _ctx: CallContext): Tensor {
    return this.apply(x, this.kernel, this.bias);
  }
  /** This layer's convolution with other weights, padding or activation (./conv-bn.ts folds BN in). */
  apply(x: Tensor, kernel: Tensor, bias: Tensor | undefined, over: ConvOverrides = {}): Tensor {
    const c = this.config;
    return depthwiseConv2d(x, kernel, bias, {
      stride: c.strides, padding: over.padding ?? c.padding, activation: over.activation ?? c.activation,
    });
  }
}

/** Depthwise (no bias) then pointwise (with bias) then the activation; weights in Keras order. */
export class SeparableConv2D extends Layer {
  depthwiseKernel!: Tensor;
  pointwiseKernel!: Tensor;
  bias: Tensor | undefined;
  constructor(name: string, readonly filters: number, readonly config: ConvConfig) {
    super(name);
  }
  build(b: BuildContext, inputShape: Shape): Shape {
    const [kh, kw] = pair(this.config.kernelSize);
    const c = inputShape[2];
    const dshape = [kh, kw, c, 1];
    const pshape = [1, 1, c, this.filters];
    const rng = initRng(b.seed, `${this.name}/kernels`);
    this.depthwiseKernel = addParam(b, this.name, 'depthwise_kernel', dshape, glorotUniform(dshape, kh * kw * c, kh * kw, rng));
    this.pointwiseKernel = addParam(b, this.name, 'pointwise_kernel', pshape, glorotUniform(pshape, c, this.filters, rng));
    if (this.config.useBias ?? true) this.bias = addParam(b, this.name, 'bias', [this.filters], filled([this.filters], 0));
    return outShape(this.name, inputShape, [kh, kw], this.config, this.filters);
  }
  call(x: Tensor, _ctx: CallContext): Tensor {
    const c = this.config;
    const d = depthwiseConv2d(x, this.depthwiseKernel, undefined, { stride: c.strides, padding: c.padding });
    return pointwiseConv2d(d, this.pointwiseKernel, this.bias, c.activation);
  }
}
