// Layers with Keras semantics and Keras weight names. A layer is a config plus parameters
// registered under `layer_name/weight` (conv_dw_1/depthwise_kernel), so importing Keras weights
// is a lookup. Layers are built for a known input shape; `call` runs the graph ops.

import type { Engine } from '../graph/engine.js';
import type { ParamRegistry } from '../graph/params.js';
import type { Tensor, Shape } from '../graph/tensor.js';
import type { DropoutBinding } from '../kernels/dropout.js';

export interface CallContext {
  /** Dropout active, BatchNormalization in training mode (unless the layer is pinned). */
  training: boolean;
  /** Seed and step for random layers; a compiled plan advances the step through `onDropout`. */
  seed: number;
  step: number;
  /** Receives every dropout binding made while recording, so a plan can set its step per replay. */
  onDropout?: (binding: DropoutBinding) => void;
}

export interface BuildContext {
  engine: Engine;
  params: ParamRegistry;
  /** Deterministic initialisation. */
  seed: number;
}

export abstract class Layer {
  constructor(readonly name: string) {}
  /** Registers parameters for an input of `inputShape` (batch axis excluded); returns the output shape. */
  abstract build(b: BuildContext, inputShape: Shape): Shape;
  abstract call(x: Tensor, ctx: CallContext): Tensor;
}

/** A seeded generator for initialisers (mulberry32). */
export function initRng(seed: number, salt: string): () => number {
  let a = seed >>> 0;
  for (let i = 0; i < salt.length; i++) a = Math.imul(a ^ salt.charCodeAt(i), 0x9e3779b1) >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Keras glorot_uniform: U(-l, l), l = sqrt(6 / (fan_in + fan_out)), receptive field included. */
export function glorotUniform(shape: Shape, fanIn: number, fanOut: number, rng: () => number): Float32Array {
  const limit = Math.sqrt(6 / (fanIn + fanOut));
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (2 * rng() - 1) * limit;
  return out;
}

export function filled(shape: Shape, value: number): Float32Array {
  return new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(value);
}

/** Registers a new parameter tensor on the GPU. */
export function addParam(b: BuildContext, layer: string, weight: string, shape: Shape, data: Float32Array, trainable = true): Tensor {
  const t = b.engine.parameter(data, shape, `${layer}/${weight}`, trainable);
  return b.params.add(layer, weight, t, trainable);
}
