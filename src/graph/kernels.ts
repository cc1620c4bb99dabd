// The kernel families the graph uses, compiled once per device when the engine is created, so
// that ops can bind and enqueue synchronously.
import { createAttention, type Attention } from '../kernels/attention.js';
import { createBatchnorm, type Batchnorm } from '../kernels/batchnorm.js';
import { createConv2d, type Conv2d } from '../kernels/conv2d.js';
import { createDepthwise, type Depthwise } from '../kernels/depthwise.js';
import { createDropout, type Dropout } from '../kernels/dropout.js';
import { createElementwise, type Elementwise } from '../kernels/elementwise.js';
import { createInput, type Input } from '../kernels/input.js';
import { createLoss, type Loss } from '../kernels/loss.js';
import { createMatmul, type Matmul, type MatmulVariant } from '../kernels/matmul.js';
import type { AutotuneCache } from '../kernels/matmul-autotune.js';
import { createOptimizer, type Optimizer } from '../kernels/optimizer.js';
import { createPad, type Pad } from '../kernels/pad.js';
import { createPool, type Pool } from '../kernels/pool.js';
import { createReduce, type Reduce } from '../kernels/reduce.js';
import { createSoftmax, type Softmax } from '../kernels/softmax.js';

export interface Kernels {
  elementwise: Elementwise;
  attention: Attention;
  batchnorm: Batchnorm;
  conv2d: Conv2d;
  depthwise: Depthwise;
  dropout: Dropout;
  input: Input;
  loss: Loss;
  matmul: Matmul;
  optimizer: Optimizer;
  pad: Pad;
  pool: Pool;
  reduce: Reduce;
  softmax: Softmax;
}

export interface KernelOptions {
  /** Force a matrix-multiply variant instead of autotuning. */
  matmulVariant?: MatmulVariant | 'auto';
  /** Where the autotune result is remembered (Node: src/gpu/autotune-cache.ts). */
  autotuneCache?: AutotuneCache;
}

export async function createKernels(device: GPUDevice, opts: KernelOptions = {}): Promise<Kernels> {
  const [elementwise, attention, batchnorm, conv2d, depthwise, dropout, input, loss, matmul, optimizer, pad, pool, reduce,
    softmax] = await Promise.all([
    createElementwise(device), createAttention(device), createBatchnorm(device), createConv2d(device),
    createDepthwise(device), createDropout(device), createInput(device), createLoss(device),
    createMatmul(device, { variant: opts.matmulVariant ?? 'auto', cache: opts.autotuneCache }),
    createOptimizer(device), createPad(device), createPool(device), createReduce(device), createSoftmax(device),
  ]);
  return {
    elementwise, attention, batchnorm, conv2d, depthwise, dropout, input, loss, matmul, optimizer, pad, pool, reduce, softmax,
  };
}
