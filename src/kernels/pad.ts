// Zero padding of NHWC tensors (Keras ZeroPadding2D) and its gradient. WGSL: src/wgsl/pad.wgsl.
import { padWgsl } from '../wgsl/index.js';
import { dispatch1d } from './dispatch.js';
import { bindIo, getPipeline, paramsBuffer, type BoundDispatch } from './runtime.js';

const FAMILY = 'pad';
export const PAD_CONSTANTS = { WG: 256 } as const;

export interface PadShape {
  n: number; h: number; w: number; c: number;
  top: number; bottom: number; left: number; right: number;
}

export interface Pad {
  /** Shapes: x [n,h,w,c] -> y [n, h+top+bottom, w+left+right, c]. */
  forward(s: PadShape, x: GPUBuffer, y: GPUBuffer): BoundDispatch;
  /** Shapes: dy [n, h+top+bottom, w+left+right, c] -> dx [n,h,w,c]. */
  dx(s: PadShape, dy: GPUBuffer, dx: GPUBuffer): BoundDispatch;
}

export async function createPad(device: GPUDevice): Promise<Pad> {
  const spec = { family: FAMILY, code: padWgsl, inputs: 1, outputs: 1, constants: PAD_CONSTANTS };
  const [fwd, back] = await Promise.all([
    getPipeline(device, { ...spec, entry: 'pad_fwd' }), getPipeline(device, { ...spec, entry: 'pad_dx' }),
  ]);
  const bind = (entry: string, pipeline: GPUComputePipeline, s: PadShape, items: number, bufs: GPUBuffer[]): BoundDispatch => {
    const label = `${FAMILY}/${entry}`;
    for (const [k, v] of Object.entries(s)) {
      if (!Number.isInteger(v) || v < 0) throw new RangeError(`${label}: ${k} must be a non-negative integer, got ${v}`);
    }
    const oh = s.h + s.top + s.bottom;
    const ow = s.w + s.left + s.right;
    const params = paramsBuffer(device, label, [
      ['n', 'u32', s.n], ['h', 'u32', s.h], ['w', 'u32', s.w], ['c', 'u32', s.c],
      ['oh', 'u32', oh], ['ow', 'u32', ow], ['top', 'u32', s.top], ['left', 'u32', s.left],
    ]);
    return {
      label, pipeline, bindGroup: bindIo(device, label, pipeline, params, bufs),
      workgroups: dispatch1d(items, PAD_CONSTANTS.WG, device.limits.maxComputeWorkgroupsPerDimension),
    };
  };
  return {
    forward: (s, x, y) => bind('pad_fwd', fwd, s, s.n * (s.h + s.top + s.bottom) * (s.w + s.left + s.right) * s.c, [x, y]),
    dx: (s, dy, dx) => bind('pad_dx', back, s, s.n * s.h * s.w * s.c, [dy, dx]),
  };
}
