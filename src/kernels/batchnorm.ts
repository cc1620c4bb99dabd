// Batch normalisation over the last axis (NHWC: per channel over N, H, W): inference, training
// (batch statistics by a two-pass workgroup reduction, moving-average update) and both backward
// passes, each with an optional fused ReLU / ReLU6. WGSL: src/wgsl/batchnorm.wgsl.
// Folding BN into the preceding convolution is CPU-side: src/kernels/batchnorm-fold.ts.
//
// Moving variance: Keras 3 and tf.keras 2.x's non-fused path update it with the biased batch
// variance (tf.nn.moments); tf.keras 2.x's fused path (4-D NHWC inputs) gets the running variance
// from FusedBatchNormV3, which applies Bessel's correction n/(n-1). Default 'biased' (Keras 3, and
// PAtt-Lite's only BN trained in training mode, on rank-2/3 head tensors); 'unbiased' reproduces
// tf.keras 2.x for 4-D inputs. Normalisation always uses the biased batch variance.

import { batchnormWgsl } from '../wgsl/index.js';
import { dispatch1d } from './dispatch.js';
import { bindIo, createStorage, getPipeline, GpuError, paramsBuffer, type BoundDispatch } from './runtime.js';

const FAMILY = 'batchnorm';
/** Override constants (WG x PER elements: element-wise entries; CB x RL: the reduction workgroup). */
export const BATCHNORM_CONSTANTS = { WG: 256, PER: 4, CB: 64, RL: 4 } as const;
/** Rows per reduction chunk: at least this many, and at most MAX_CHUNKS chunks per channel. */
const MIN_CHUNK_ROWS = 64;
const MAX_CHUNKS = 512;
/** Floats per channel in the coefficient record batchnorm_dstats_final writes for batchnorm_dx. */
const COEF = 8;

export type BatchnormActivation = 'none' | 'relu' | 'relu6';
const ACT = { none: 0, relu: 1, relu6: 2 } as const;

export interface BatchnormOptions {
  /** Keras default 1e-3. */
  eps?: number;
  /** Activation fused after the normalisation (its gradient is applied in backward). */
  act?: BatchnormActivation;
}
export interface BatchnormTrainOptions extends BatchnormOptions {
  /** Keras default 0.99: moving = momentum * moving + (1 - momentum) * batch. */
  momentum?: number;
  /** Variance fed to the moving average: 'biased' (default, Keras 3) or 'unbiased' (n/(n-1)). */
  movingVariance?: 'biased' | 'unbiased';
}

export interface Batchnorm {
  /** Inference. Shapes: x, y [..., c]; gamma, beta, mean, variance [c]. */
  inference(shape: readonly number[], io: {
    x: GPUBuffer; gamma: GPUBuffer; beta: GPUBuffer; mean: GPUBuffer; variance: GPUBuffer; y: GPUBuffer;
  }, opts?: BatchnormOptions): BoundDispatch;
  /**
   * Training forward: batch statistics, y, saved mean / invstd, moving averages updated in place.
   * Shapes: x, y [..., c]; gamma, beta, movingMean, movingVariance, mean, invstd [c].
   */
  train(shape: readonly number[], io: {
    x: GPUBuffer; gamma: GPUBuffer; beta: GPUBuffer; movingMean: GPUBuffer; movingVariance: GPUBuffer;
    y: GPUBuffer; mean: GPUBuffer; invstd: GPUBuffer;
  }, opts?: BatchnormTrainOptions): BoundDispatch[];
  /**
   * Training backward from the saved batch mean / invstd: dx, dgamma, dbeta (overwritten).
   * Shapes: x, dy, dx [..., c]; gamma, beta, mean, invstd, dgamma, dbeta [c].
   */
  trainBackward(shape: readonly number[], io: {
    x: GPUBuffer; dy: GPUBuffer; gamma: GPUBuffer; beta: GPUBuffer; mean: GPUBuffer; invstd: GPUBuffer;
    dx: GPUBuffer; dgamma: GPUBuffer; dbeta: GPUBuffer;
  }, opts?: BatchnormOptions): BoundDispatch[];
  /**
   * Inference-mode backward (moving statistics are constants): dx = dz * gamma * invstd, and
   * dgamma, dbeta when both buffers are given (otherwise one dispatch, dx only).
   * Shapes: x, dy, dx [..., c]; gamma, beta, mean, variance, dgamma, dbeta [c].
   */
  inferenceBackward(shape: readonly number[], io: {
    x: GPUBuffer; dy: GPUBuffer; gamma: GPUBuffer; beta: GPUBuffer; mean: GPUBuffer; variance: GPUBuffer;
    dx: GPUBuffer; dgamma?: GPUBuffer; dbeta?: GPUBuffer;
  }, opts?: BatchnormOptions): BoundDispatch[];
}

type Entry = 'batchnorm_fwd' | 'batchnorm_stats' | 'batchnorm_stats_final' | 'batchnorm_dstats'
  | 'batchnorm_dstats_final' | 'batchnorm_dx' | 'batchnorm_dx_inference';
/** [inputs, outputs, uses ACT, uses TRAINING] */
const ENTRIES: Record<Entry, readonly [number, number, boolean, boolean]> = {
  batchnorm_fwd: [5, 1, true, true],
  batchnorm_stats: [1, 1, false, false],
  batchnorm_stats_final: [2, 4, false, false],
  batchnorm_dstats: [6, 1, true, true],
  batchnorm_dstats_final: [5, 3, false, true],
  batchnorm_dx: [3, 1, true, false],
  batchnorm_dx_inference: [6, 1, true, false],
};

/** Rows (product of the leading axes) and channels (last axis); throws on a bad shape. */
export function batchnormDims(shape: readonly number[]): { rows: number; c: number; chunkRows: number; chunks: number } {
  if (shape.length < 2 || !shape.every((d) => Number.isInteger(d) && d > 0)) {
    throw new RangeError(`batchnorm: expected a shape [..., c] of positive integers, got [${shape.join(', ')}]`);
  }
  const c = shape[shape.length - 1];
  const rows = shape.slice(0, -1).reduce((a, b) => a * b, 1);
  const chunkRows = Math.max(MIN_CHUNK_ROWS, Math.ceil(rows / MAX_CHUNKS));
  return { rows, c, chunkRows, chunks: Math.ceil(rows / chunkRows) };
}

/** Compiles every batch-norm pipeline variant for `device` (cached per device). */
export async function createBatchnorm(device: GPUDevice): Promise<Batchnorm> {
  const pipelines = new Map<string, GPUComputePipeline>();
  const key = (entry: Entry, act: number, training: boolean) => `${entry}|${act}|${training}`;
  const jobs: Promise<void>[] = [];
  for (const entry of Object.keys(ENTRIES) as Entry[]) {
    const [inputs, outputs, usesAct, usesTraining] = ENTRIES[entry];
    for (const act of usesAct ? [0, 1, 2] : [0]) {
      for (const training of usesTraining ? [false, true] : [false]) {
        jobs.push(getPipeline(device, {
          family: FAMILY, entry, code: batchnormWgsl, inputs, outputs,
          constants: { ...BATCHNORM_CONSTANTS, ACT: act, TRAINING: training },
        }).then((p) => { pipelines.set(key(entry, act, training), p); }));
      }
    }
  }
  await Promise.all(jobs);

  const maxDim = device.limits.maxComputeWorkgroupsPerDimension;
  const bind = (
    entry: Entry, shape: readonly number[], buffers: GPUBuffer[],
    o: BatchnormTrainOptions & { training?: boolean }, workgroups: 'elements' | 'channels' | 'reduce',
  ): BoundDispatch => {
    const { rows, c, chunkRows, chunks } = batchnormDims(shape);
    const act = ACT[o.act ?? 'none'];
    if (act === undefined) throw new RangeError(`batchnorm: unknown activation ${o.act}`);
    const eps = o.eps ?? 1e-3;
    const momentum = o.momentum ?? 0.99;
    if (!(eps > 0)) throw new RangeError(`batchnorm: eps must be > 0, got ${eps}`);
    const varFactor = o.movingVariance === 'unbiased' && rows > 1 ? rows / (rows - 1) : 1;
    const label = `${FAMILY}/${entry}`;
    const pipeline = pipelines.get(key(entry, ENTRIES[entry][2] ? act : 0, ENTRIES[entry][3] ? !!o.training : false))!;
    const params = paramsBuffer(device, label, [
      ['rows', 'u32', rows], ['c', 'u32', c], ['chunk_rows', 'u32', chunkRows], ['chunks', 'u32', chunks],
      ['eps', 'f32', eps], ['momentum', 'f32', momentum], ['var_factor', 'f32', varFactor],
      ['inv_rows', 'f32', 1 / rows],
    ]);
    const wg = BATCHNORM_CONSTANTS;
    const groups: [number, number, number] = workgroups === 'elements'
      ? dispatch1d(Math.ceil((rows * c) / wg.PER), wg.WG, maxDim)
      : workgroups === 'channels' ? dispatch1d(c, wg.WG, maxDim) : [Math.ceil(c / wg.CB), chunks, 1];
    if (groups[1] > maxDim || groups[0] > maxDim) throw new GpuError(`${label}: too many channels (${c})`, label);
    return { label, pipeline, bindGroup: bindIo(device, label, pipeline, params, buffers), workgroups: groups };
  };
  const partials = (shape: readonly number[], what: string): GPUBuffer => {
    const { c, chunks } = batchnormDims(shape);
    return createStorage(device, chunks * 2 * c * 4, `${FAMILY}/${what}/partials`);
  };

  return {
    inference: (shape, io, opts = {}) =>
      bind('batchnorm_fwd', shape, [io.x, io.gamma, io.beta, io.mean, io.variance, io.y], opts, 'elements'),
    train(shape, io, opts = {}) {
      const part = partials(shape, 'train');
      const t = { ...opts, training: true };
      return [
        bind('batchnorm_stats', shape, [io.x, part], t, 'reduce'),
        bind('batchnorm_stats_final', shape, [part, io.x, io.mean, io.invstd, io.movingMean, io.movingVariance], t, 'channels'),
        bind('batchnorm_fwd', shape, [io.x, io.gamma, io.beta, io.mean, io.invstd, io.y], t, 'elements'),
      ];
    },
    trainBackward(shape, io, opts = {}) {
      const part = partials(shape, 'backward');
      const coef = createStorage(device, batchnormDims(shape).c * COEF * 4, `${FAMILY}/backward/coef`);
      const t = { ...opts, training: true };
      return [
        bind('batchnorm_dstats', shape, [io.x, io.dy, io.gamma, io.beta, io.mean, io.invstd, part], t, 'reduce'),
        bind('batchnorm_dstats_final', shape, [part, io.gamma, io.beta, io.mean, io.invstd, io.dgamma, io.dbeta, coef], t, 'channels'),
        bind('batchnorm_dx', shape, [io.x, io.dy, coef, io.dx], t, 'elements'),
      ];
    },
    inferenceBackward(shape, io, opts = {}) {
      const dx = bind('batchnorm_dx_inference', shape,
        [io.x, io.dy, io.gamma, io.beta, io.mean, io.variance, io.dx], opts, 'elements');
      if (!io.dgamma && !io.dbeta) return [dx];
      if (!io.dgamma || !io.dbeta) throw new RangeError('batchnorm inferenceBackward: give both dgamma and dbeta, or neither');
      const part = partials(shape, 'inference-backward');
      const coef = createStorage(device, batchnormDims(shape).c * COEF * 4, `${FAMILY}/inference-backward/coef`);
      const inputs = [io.x, io.dy, io.gamma, io.beta, io.mean, io.variance];
      return [
        bind('batchnorm_dstats', shape, [...inputs, part], opts, 'reduce'),
        bind('batchnorm_dstats_final', shape, [part, io.gamma, io.beta, io.mean, io.variance, io.dgamma, io.dbeta, coef], opts, 'channels'),
        dx,
      ];
    },
  };
}
