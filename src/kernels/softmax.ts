// Row-wise softmax over the last axis (forward from x, backward from the saved output y).
// WGSL: src/wgsl/softmax.wgsl. One invocation per row: meant for short rows (classes, attention
// scores); a row of thousands of columns would want a workgroup-per-row variant.

import { softmaxWgsl } from '../wgsl/index.js';
import { dispatch1d } from './dispatch.js';
import { bindIo, getPipeline, paramsBuffer, type BoundDispatch } from './runtime.js';

const FAMILY = 'softmax';
/** Override constants: rows per workgroup. */
export const SOFTMAX_CONSTANTS = { WG: 64 } as const;

export interface Softmax {
  /** y = softmax(x) per row. Shapes: x, y (rows, cols). */
  forward(rows: number, cols: number, x: GPUBuffer, y: GPUBuffer): BoundDispatch;
  /** dx = y * (dy - sum(dy * y)) per row. Shapes: y, dy, dx (rows, cols). */
  backward(rows: number, cols: number, y: GPUBuffer, dy: GPUBuffer, dx: GPUBuffer): BoundDispatch;
}

/** Compiles the softmax pipelines for `device` (cached per device). */
export async function createSoftmax(device: GPUDevice): Promise<Softmax> {
  const [fwd, dx] = await Promise.all([
    getPipeline(device, { family: FAMILY, entry: 'softmax_fwd', code: softmaxWgsl, inputs: 1, outputs: 1, constants: SOFTMAX_CONSTANTS }),
    getPipeline(device, { family: FAMILY, entry: 'softmax_dx', code: softmaxWgsl, inputs: 2, outputs: 1, constants: SOFTMAX_CONSTANTS }),
  ]);
  const bind = (entry: string, pipeline: GPUComputePipeline, rows: number, cols: number, buffers: GPUBuffer[]): BoundDispatch => {
    const label = `${FAMILY}/${entry}`;
    if (!(Number.isInteger(rows) && rows > 0 && Number.isInteger(cols) && cols > 0)) {
      throw new RangeError(`${label}: expected rows, cols > 0, got rows ${rows}, cols ${cols}`);
    }
    const params = paramsBuffer(device, label, [['rows', 'u32', rows], ['cols', 'u32', cols], ['pad0', 'u32', 0], ['pad1', 'u32', 0]]);
    return {
      label, pipeline, bindGroup: bindIo(device, label, pipeline, params, buffers),
      workgroups: dispatch1d(rows, SOFTMAX_CONSTANTS.WG, device.limits.maxComputeWorkgroupsPerDimension),
    };
  };
  return {
    forward: (rows, cols, x, y) => bind('softmax_fwd', fwd, rows, cols, [x, y]),
    backward: (rows, cols, y, dy, dxb) => bind('softmax_dx', dx, rows, cols, [y, dy, dxb]),
  };
}
