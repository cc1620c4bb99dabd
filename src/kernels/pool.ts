// Global average pooling (Keras GlobalAveragePooling2D, NHWC) and its input gradient.
// WGSL: src/wgsl/pool.wgsl.

import { poolWgsl } from '../wgsl/index.js';
import { dispatch1d } from './dispatch.js';
import { bindIo, getPipeline, GpuError, paramsBuffer, type BoundDispatch } from './runtime.js';

const FAMILY = 'pool';
/** Override constants (WG: pool_dx; CB x RL: the pool_fwd reduction workgroup). */
export const POOL_CONSTANTS = { WG: 256, CB: 64, RL: 4 } as const;

export type NHWC = readonly [n: number, h: number, w: number, c: number];

export interface Pool {
  /** Shapes: x [n, h, w, c] -> y [n, c]. */
  globalAverage(shape: NHWC, x: GPUBuffer, y: GPUBuffer): BoundDispatch;
  /** Shapes: dy [n, c] -> dx [n, h, w, c] (overwritten). */
  globalAverageDx(shape: NHWC, dy: GPUBuffer, dx: GPUBuffer): BoundDispatch;
}

function check(shape: NHWC): void {
  if (shape.length !== 4 || !shape.every((d) => Number.isInteger(d) && d > 0)) {
    throw new RangeError(`pool: expected an NHWC shape [n, h, w, c] of positive integers, got [${shape.join(', ')}]`);
  }
}

/** Compiles the pooling pipelines for `device` (cached per device). */
export async function createPool(device: GPUDevice): Promise<Pool> {
  const spec = { family: FAMILY, code: poolWgsl, inputs: 1, outputs: 1, constants: POOL_CONSTANTS };
  const [fwd, dx] = await Promise.all([
    getPipeline(device, { ...spec, entry: 'pool_fwd' }),
    getPipeline(device, { ...spec, entry: 'pool_dx' }),
  ]);
  const maxDim = device.limits.maxComputeWorkgroupsPerDimension;
  const bind = (entry: string, pipeline: GPUComputePipeline, shape: NHWC, buffers: GPUBuffer[],
    workgroups: [number, number, number]): BoundDispatch => {
    const label = `${FAMILY}/${entry}`;
    if (workgroups.some((g) => g > maxDim)) throw new GpuError(`${label}: shape [${shape.join(', ')}] is too large`, label);
    const [n, h, w, c] = shape;
    const params = paramsBuffer(device, label, [['n', 'u32', n], ['hw', 'u32', h * w], ['c', 'u32', c], ['inv_hw', 'f32', 1 / (h * w)]]);
    return { label, pipeline, bindGroup: bindIo(device, label, pipeline, params, buffers), workgroups };
  };
  return {
    globalAverage(shape, x, y) {
      check(shape);
      return bind('pool_fwd', fwd, shape, [x, y], [Math.ceil(shape[3] / POOL_CONSTANTS.CB), shape[0], 1]);
    },
    globalAverageDx(shape, dy, dxb) {
      check(shape);
      return bind('pool_dx', dx, shape, [dy, dxb], dispatch1d(shape[0] * shape[1] * shape[2] * shape[3], POOL_CONSTANTS.WG, maxDim));
    },
  };
}
