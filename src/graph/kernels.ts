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
import { createOptimizer, type Optimizer } from '../kernels/optimizer.js';
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
  optimizer: Optimizer;
  pool: Pool;
  reduce: Reduce;
  softmax: Softmax;
}

export async function createKernels(device: GPUDevice): Promise<Kernels> {
  const [elementwise, attention, batchnorm, conv2d, depthwise, dropout, input, loss, optimizer, pool, reduce, softmax] =
    await Promise.all([
      createElementwise(device), createAttention(device), createBatchnorm(device), createConv2d(device),
      createDepthwise(device), createDropout(device), createInput(device), createLoss(device),
      createOptimizer(device), createPool(device), createReduce(device), createSoftmax(device),
    ]);
  return { elementwise, attention, batchnorm, conv2d, depthwise, dropout, input, loss, optimizer, pool, reduce, softmax };
}
