// The kernel families the graph uses, compiled once per device when the engine is created, so
// that ops can bind and enqueue synchronously.
import { createElementwise, type Elementwise } from '../kernels/elementwise.js';

export interface Kernels {
  elementwise: Elementwise;
}

export async function createKernels(device: GPUDevice): Promise<Kernels> {
  const [elementwise] = await Promise.all([createElementwise(device)]);
  return { elementwise };
}
