// Fast PAtt-Lite inference: uint8 RGB images in, softmax probabilities out.
//
// What makes it fast:
// - every backbone BatchNormalization is folded into the convolution before it (foldBatchnorm,
//   once, when the predictor is made), so conv1, each depthwise and each pointwise convolution is
//   one kernel with a bias and the ReLU6 fused; ZeroPadding2D is folded into the depthwise
//   convolution after it as explicit padding;
// - the whole batch forward (backbone, patch extraction, attention head, softmax) is recorded once
//   per batch size as a Plan (engine.record) and replayed: pre-built pipelines, bind groups and
//   buffers, nothing allocated per batch;
// - the GPU input stage (src/kernels/input.ts: packed uint8 -> bilinear resize to the model's input
//   size -> x / 127.5 - 1) is encoded in the same compute pass as the replayed plan, so a batch is
//   one upload, one submission and one read-back of the probabilities (and logits).
//
// Batches and image sizes:
// - `predict(images)` cuts the images into batches of `batchSize`, in order.
// - The GPU input stage needs one source size per batch. A batch whose images all have the same
//   size (the usual case: a dataset's faces) goes through it. A batch of mixed sizes is resized on
//   the CPU instead, with the same arithmetic (TF bilinear, half-pixel centres, no antialias) and
//   the same preprocessing, then uploaded as floats; the results agree to float rounding. So are
//   batches whose packed bytes would exceed the device's storage-binding limit (huge photos).
// - Attention 'patch' (per image): a last partial batch is padded to `batchSize` (the padding
//   slots are zero images whose outputs are dropped), so one plan serves every batch.
// - Attention 'batch' (the published notebook): padding would change every prediction in the
//   batch, so a partial batch runs at its exact size, with its own plan (kept, so a repeated size
//   is recorded once). Predictions depend on batch size and composition; Keras' model.predict
//   uses batches of 32.

import type { Engine, Plan } from '../graph/engine.js';
import { conv2d, depthwiseConv2d } from '../graph/ops/conv.js';
import { pointwiseConv2d } from '../graph/ops/matmul.js';
import { softmax } from '../graph/ops/softmax.js';
import type { Tensor } from '../graph/tensor.js';
import { foldBatchnorm } from '../kernels/batchnorm-fold.js';
import type { Activation, ExplicitPadding, Padding } from '../kernels/padding.js';
import { collectAllocations, createStorage, withErrorScope, type BoundDispatch } from '../kernels/runtime.js';
import { ZeroPadding2D } from '../layers/basic.js';
import { Conv2D, DepthwiseConv2D } from '../layers/conv.js';
import type { CallContext, Layer } from '../layers/layer.js';
import { BatchNormalization } from '../layers/norm.js';
import { Sequential } from '../layers/sequential.js';
import type { RgbImage } from '../data/image.js';
import type { PattLite } from './patt-lite.js';

const INFER: CallContext = { training: false, seed: 0, step: 0 };

/** One folded backbone convolution: conv(x, w) + b, then the activation. */
export interface FoldedConv {
  name: string;
  kind: 'conv' | 'depthwise' | 'pointwise';
  weights: Tensor;
  bias: Tensor;
  stride: number;
  padding: Padding;
  activation: Activation;
}

/**
 * Folds the model's backbone (Conv2D / DepthwiseConv2D, each followed by a BatchNormalization;
 * ZeroPadding2D before a 'valid' depthwise) into convolutions with bias and fused activation.
 * Reads the current weights from the GPU; the returned tensors belong to the caller.
 */
export async function foldBackbone(model: PattLite): Promise<FoldedConv[]> {
  const e = model.engine;
  const layers = model.backbone.flat().filter((l) => !(l instanceof Sequential));
  const out: FoldedConv[] = [];
  let pad: ExplicitPadding | undefined;
  const fail = (l: Layer, why: string): never => {
    throw new Error(`foldBackbone: cannot fold layer ${l.name}: ${why}`);
  };
  try {
    for (let i = 0; i < layers.length; i++) {
      const l = layers[i];
      if (l instanceof ZeroPadding2D) {
        if (pad) fail(l, 'two ZeroPadding2D in a row');
        pad = l.explicit;
        continue;
      }
      if (!(l instanceof Conv2D) && !(l instanceof DepthwiseConv2D)) fail(l, 'only convolutions followed by BatchNormalization are folded');
      const conv = l as Conv2D | DepthwiseConv2D;
      const bn = layers[i + 1];
      if (!(bn instanceof BatchNormalization)) fail(l, 'it is not followed by a BatchNormalization');
      const norm = bn as BatchNormalization;
      if ((conv.config.activation ?? 'none') !== 'none') fail(l, 'it has its own activation before the BatchNormalization');
      i++;
      const [gamma, beta, mean, variance, kernel, convBias] = await Promise.all([
        norm.gamma.readF32(), norm.beta.readF32(), norm.movingMean.readF32(), norm.movingVariance.readF32(),
        conv.kernel.readF32(), conv.bias ? conv.bias.readF32() : Promise.resolve(undefined),
      ]);
      const shape = conv.kernel.shape as unknown as [number, number, number, number];
      const depthwise = conv instanceof DepthwiseConv2D;
      const folded = foldBatchnorm(depthwise ? 'depthwise' : 'conv', shape,
        kernel, { gamma, beta, mean, variance, eps: norm.config.epsilon ?? 1e-3 }, convBias);
      const stride = conv.config.strides ?? 1;
      let padding: Padding = conv.config.padding ?? 'valid';
      if (pad) {
        if (padding !== 'valid') fail(l, 'ZeroPadding2D before a convolution that pads itself');
        padding = pad;
        pad = undefined;
      }
      const pointwise = !depthwise && shape[0] === 1 && shape[1] === 1 && stride === 1 && typeof padding === 'string';
      const kind = depthwise ? 'depthwise' : pointwise ? 'pointwise' : 'conv';
      out.push({
        name: conv.name,
        kind,
        weights: e.parameter(folded.weights, conv.kernel.shape, `${conv.name}/folded_kernel`, false),
        bias: e.parameter(folded.bias, [folded.bias.length], `${conv.name}/folded_bias`, false),
        stride,
        padding,
        activation: norm.config.activation ?? 'none',
      });
    }
    if (pad) throw new Error('foldBackbone: the backbone ends with a ZeroPadding2D');
  } catch (err) {
    disposeFolded(out);
    throw err;
  }
  return out;
}

function disposeFolded(steps: readonly FoldedConv[]): void {
  for (const s of steps) {
    s.weights.dispose();
    s.bias.dispose();
  }
}

/** Applies folded convolutions; intermediates are released as soon as the next one exists. */
function runFolded(steps: readonly FoldedConv[], x: Tensor): Tensor {
  let y = x;
  for (const s of steps) {
    const attrs = { stride: s.stride, padding: s.padding, activation: s.activation };
    const next = s.kind === 'pointwise' ? pointwiseConv2d(y, s.weights, s.bias, s.activation)
      : s.kind === 'depthwise' ? depthwiseConv2d(y, s.weights, s.bias, attrs)
        : conv2d(y, s.weights, s.bias, attrs);
    if (y !== x) y.dispose();
    y = next;
  }
  return y;
}

// ---- CPU resize (mixed-size batches) ------------------------------------------------------

interface AxisTable {
  lo: Int32Array;
  hi: Int32Array;
  frac: Float32Array;
}

/** TF bilinear, half-pixel centres, no antialias: the same split as src/wgsl/input.wgsl `axis`. */
function axisTable(insz: number, outsz: number): AxisTable {
  const t = { lo: new Int32Array(outsz), hi: new Int32Array(outsz), frac: new Float32Array(outsz) };
  const den = 2 * outsz;
  for (let o = 0; o < outsz; o++) {
    const num = (2 * o + 1) * insz - outsz;
    const fl = Math.floor(num / den);
    const frac = (num - fl * den) / den;
    t.lo[o] = Math.max(fl, 0);
    t.hi[o] = Math.max(Math.min(frac > 0 ? fl + 1 : fl, insz - 1), 0);
    t.frac[o] = frac;
  }
  return t;
}

/**
 * Resizes an RGB image to size x size and applies MobileNet preprocessing (x / 127.5 - 1), as
 * the GPU input stage does, writing floats into `out` at `offset`.
 */
export function preprocessOnCpu(img: RgbImage, size: number, out: Float32Array, offset = 0): void {
  const ty = axisTable(img.height, size);
  const tx = axisTable(img.width, size);
  const d = img.data;
  const w = img.width;
  let o = offset;
  for (let oy = 0; oy < size; oy++) {
    const r0 = ty.lo[oy] * w;
    const r1 = ty.hi[oy] * w;
    const fy = ty.frac[oy];
    for (let ox = 0; ox < size; ox++) {
      const x0 = tx.lo[ox];
      const x1 = tx.hi[ox];
      const fx = tx.frac[ox];
      for (let c = 0; c < 3; c++) {
        const tl = d[(r0 + x0) * 3 + c];
        const tr = d[(r0 + x1) * 3 + c];
        const bl = d[(r1 + x0) * 3 + c];
        const br = d[(r1 + x1) * 3 + c];
        const top = tl + (tr - tl) * fx;
        const bottom = bl + (br - bl) * fx;
        out[o++] = (top + (bottom - top) * fy) / 127.5 - 1;
      }
    }
  }
}

// ---- the predictor -------------------------------------------------------------------------

export interface PredictorOptions {
  /** Images per submission (default 8). */
  batchSize?: number;
  /** Most source bytes per batch for the GPU input stage (default: the device limit, at most 256 MiB). */
  maxInputBytes?: number;
}

export interface Prediction {
  /** Softmax probabilities per image, in input order. */
  probs: Float32Array[];
  /** The classifier's logits per image. */
  logits: Float32Array[];
  /** Index of the most probable class per image. */
  indices: number[];
  /** Name of the most probable class per image. */
  labels: string[];
}

export interface PredictorStats {
  /** Batch sizes with a recorded plan. */
  compiledBatchSizes: number[];
  /** Batches submitted, and how many of them were resized on the CPU (mixed sizes, huge images). */
  batches: number;
  cpuResizedBatches: number;
}

export interface Predictor {
  readonly batchSize: number;
  readonly inputSize: number;
  readonly classNames: readonly string[];
  readonly attention: PattLite['config']['attention'];
  predict(images: readonly RgbImage[]): Promise<Prediction>;
  stats(): PredictorStats;
  /** Frees the plans and folded weights (the model stays usable). */
  dispose(): void;
}

interface InputBinding {
  bound: BoundDispatch;
  buffers: GPUBuffer[];
}

interface PlanEntry {
  n: number;
  plan: Plan;
  x: Tensor;
  logits: Tensor;
  probs: Tensor;
  /** GPU input-stage bindings by source size `h x w` (bound to this entry's x). */
  inputs: Map<string, InputBinding>;
  ran: boolean;
}

const MAX_PLANS = 4;
const MAX_INPUT_BINDINGS = 8;

function checkImage(img: RgbImage, i: number): void {
  if (!img || !Number.isInteger(img.width) || !Number.isInteger(img.height) || img.width < 1 || img.height < 1) {
    throw new RangeError(`predict: image ${i} has no valid size (${img?.width}x${img?.height})`);
  }
  if (img.data.length !== img.width * img.height * 3) {
    throw new RangeError(`predict: image ${i} (${img.width}x${img.height}) needs ${img.width * img.height * 3} RGB bytes, has ${img.data.length}`);
  }
}

class PattLitePredictor implements Predictor {
  readonly inputSize: number;
  readonly classNames: readonly string[];
  private readonly engine: Engine;
  private readonly plans = new Map<number, PlanEntry>();
  private src: GPUBuffer | undefined;
  private staging = new Uint8Array(0);
  private readonly maxInputBytes: number;
  private batches = 0;
  private cpuBatches = 0;
  private disposed = false;

  constructor(private readonly model: PattLite, private readonly folded: FoldedConv[], readonly batchSize: number, opts: PredictorOptions) {
    this.engine = model.engine;
    this.inputSize = model.config.inputSize;
    const k = model.config.classes;
    this.classNames = model.config.classNames ?? Array.from({ length: k }, (_, i) => `class_${i}`);
    const limit = Math.min(this.engine.device.limits.maxStorageBufferBindingSize, 256 * 2 ** 20);
    this.maxInputBytes = Math.min(opts.maxInputBytes ?? limit, limit);
  }

  get attention() {
    return this.model.config.attention;
  }

  private entry(n: number): PlanEntry {
    let e = this.plans.get(n);
    if (e) {
      this.plans.delete(n); // re-insert: most recently used last
      this.plans.set(n, e);
      return e;
    }
    while (this.plans.size >= MAX_PLANS) this.dropPlan(this.plans.keys().next().value as number);
    const eng = this.engine;
    const s = this.inputSize;
    const x = eng.keep(eng.empty([n, s, s, 3], 'f32', `predict/x${n}`));
    let recorded;
    try {
      recorded = eng.noGrad(() => eng.record(`predict/b${n}`, () => {
        const features = runFolded(this.folded, x);
        const logits = this.model.headFromFeatures(features, INFER);
        return { logits, probs: softmax(logits) };
      }));
    } catch (err) {
      x.dispose();
      throw err;
    }
    const { plan, result } = recorded;
    e = { n, plan, x, logits: eng.keep(result.logits), probs: eng.keep(result.probs), inputs: new Map(), ran: false };
    this.plans.set(n, e);
    return e;
  }

  private dropPlan(n: number): void {
    const e = this.plans.get(n);
    if (!e) return;
    this.plans.delete(n);
    this.dropInputs(e);
    e.plan.dispose();
    e.logits.dispose();
    e.probs.dispose();
    e.x.dispose();
  }

  private dropInputs(e: PlanEntry): void {
    for (const b of e.inputs.values()) for (const buf of b.buffers) buf.destroy();
    e.inputs.clear();
  }

  /** The source buffer, grown to `bytes` (bindings to the old one are dropped). */
  private source(bytes: number): GPUBuffer {
    if (!this.src || this.src.size < bytes) {
      this.src?.destroy();
      for (const e of this.plans.values()) this.dropInputs(e);
      const size = Math.ceil(bytes / 4) * 4;
      this.src = createStorage(this.engine.device, size, 'predict/src');
      this.staging = new Uint8Array(size);
    }
    return this.src;
  }

  private inputBinding(e: PlanEntry, hin: number, win: number, src: GPUBuffer): BoundDispatch {
    const key = `${hin}x${win}`;
    let b = e.inputs.get(key);
    if (b) return b.bound;
    if (e.inputs.size >= MAX_INPUT_BINDINGS) {
      const [oldKey, old] = e.inputs.entries().next().value as [string, InputBinding];
      for (const buf of old.buffers) buf.destroy();
      e.inputs.delete(oldKey);
    }
    const s = this.inputSize;
    const { result, buffers } = collectAllocations(() =>
      this.engine.kernels.input.inference({ n: e.n, hin, win, hout: s, wout: s }, src, e.x.buffer));
    b = { bound: result, buffers };
    e.inputs.set(key, b);
    return result;
  }

  /** Runs one batch (images.length <= n) and returns its probabilities and logits. */
  private async runBatch(images: readonly RgbImage[], n: number): Promise<{ probs: Float32Array; logits: Float32Array }> {
    const e = this.entry(n);
    const eng = this.engine;
    const { width, height } = images[0];
    const uniform = images.every((im) => im.width === width && im.height === height);
    const bytes = n * width * height * 3;
    let input: BoundDispatch | undefined;
    eng.flush();
    if (uniform && bytes <= this.maxInputBytes) {
      const src = this.source(bytes);
      const per = width * height * 3;
      const stage = this.staging;
      images.forEach((im, i) => stage.set(im.data, i * per));
      const used = Math.ceil(bytes / 4) * 4;
      stage.fill(0, images.length * per, used);
      eng.device.queue.writeBuffer(src, 0, stage.buffer, stage.byteOffset, used);
      input = this.inputBinding(e, height, width, src);
    } else {
      const s = this.inputSize;
      const per = s * s * 3;
      const x = new Float32Array(n * per);
      images.forEach((im, i) => preprocessOnCpu(im, s, x, i * per));
      eng.write(e.x, x);
      this.cpuBatches++;
    }
    const label = `predict/b${n}`;
    const work = input ? [input, ...e.plan.nextRun()] : e.plan.nextRun();
    if (!e.ran) {
      await withErrorScope(eng.device, label, async () => eng.submit(label, work));
      e.ran = true;
    } else {
      eng.submit(label, work);
    }
    this.batches++;
    const [probs, logits] = await Promise.all([e.probs.readF32(), e.logits.readF32()]);
    return { probs, logits };
  }

  async predict(images: readonly RgbImage[]): Promise<Prediction> {
    if (this.disposed) throw new Error('predict: the predictor was disposed');
    images.forEach(checkImage);
    const k = this.model.config.classes;
    const out: Prediction = { probs: [], logits: [], indices: [], labels: [] };
    for (let i = 0; i < images.length; i += this.batchSize) {
      const chunk = images.slice(i, i + this.batchSize);
      const n = this.attention === 'batch' ? chunk.length : this.batchSize;
      const r = await this.runBatch(chunk, n);
      for (let j = 0; j < chunk.length; j++) {
        const p = r.probs.slice(j * k, (j + 1) * k);
        let best = 0;
        for (let c = 1; c < k; c++) if (p[c] > p[best]) best = c;
        out.probs.push(p);
        out.logits.push(r.logits.slice(j * k, (j + 1) * k));
        out.indices.push(best);
        out.labels.push(this.classNames[best] ?? `class_${best}`);
      }
    }
    return out;
  }

  stats(): PredictorStats {
    return { compiledBatchSizes: [...this.plans.keys()].sort((a, b) => a - b), batches: this.batches, cpuResizedBatches: this.cpuBatches };
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const n of [...this.plans.keys()]) this.dropPlan(n);
    this.src?.destroy();
    this.src = undefined;
    disposeFolded(this.folded);
  }
}

/**
 * Makes a predictor for the model's current weights (later weight changes are not seen: the
 * backbone is folded now). The model's batch-size-`batchSize` plan is recorded on the first batch.
 */
export async function createPredictor(model: PattLite, opts: PredictorOptions = {}): Promise<Predictor> {
  const batchSize = opts.batchSize ?? 8;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 4096) {
    throw new RangeError(`createPredictor: batchSize must be an integer in 1..4096, got ${batchSize}`);
  }
  const folded = await foldBackbone(model);
  return new PattLitePredictor(model, folded, batchSize, opts);
}
