// Element-wise kernels: fill, add, axpy, scale, ReLU / ReLU6 forward and input gradient.
// WGSL: src/wgsl/elementwise.wgsl (one invocation per element) and, when n % 4 == 0,
// src/wgsl/elementwise-vec4.wgsl (one per 4 elements, about twice as fast on lavapipe).
// Workgroups of WG.

import { elementwiseCommonWgsl, elementwiseVec4Wgsl, elementwiseWgsl } from '../wgsl/index.js';
import { dispatch1d } from './dispatch.js';
import { bindIo, getPipeline, paramsBuffer, type BoundDispatch } from './runtime.js';

const FAMILY = 'elementwise';
/** Override constants shared by every entry point (also passed to the pipelines). */
export const ELEMENTWISE_CONSTANTS = { WG: 256 } as const;

/** [entry point, inputs, outputs] */
const ENTRIES = {
  fill: [0, 1],
  add: [2, 1],
  axpy: [1, 1],
  scale: [1, 1],
  relu_fwd: [1, 1],
  relu_dx: [2, 1],
  relu6_fwd: [1, 1],
  relu6_dx: [2, 1],
  scale_by: [2, 1],
  broadcast: [1, 1],
} as const;
type Entry = keyof typeof ENTRIES;
/** Entry points that have a vec4 form (the GPU-scalar ones read a 1-float buffer and do not). */
const VEC4: ReadonlySet<Entry> = new Set<Entry>(['fill', 'add', 'axpy', 'scale', 'relu_fwd', 'relu_dx', 'relu6_fwd', 'relu6_dx']);

export interface Elementwise {
  /** out[i] = value. Shapes: out (n). */
  fill(n: number, out: GPUBuffer, value: number): BoundDispatch;
  /** y = alpha * a + beta * b. Shapes: a, b, y (n). */
  add(n: number, a: GPUBuffer, b: GPUBuffer, y: GPUBuffer, alpha?: number, beta?: number): BoundDispatch;
  /** y += alpha * x, in place on y. Shapes: x, y (n). */
  axpy(n: number, x: GPUBuffer, y: GPUBuffer, alpha?: number): BoundDispatch;
  /** y = alpha * x. Shapes: x, y (n). */
  scale(n: number, x: GPUBuffer, y: GPUBuffer, alpha: number): BoundDispatch;
  /** y = relu(x) or relu6(x). Shapes: x, y (n). */
  activation(kind: 'relu' | 'relu6', n: number, x: GPUBuffer, y: GPUBuffer): BoundDispatch;
  /** y = alpha * x * s[0], s a GPU scalar. Shapes: x, y (n); s (1). */
  scaleBy(n: number, x: GPUBuffer, s: GPUBuffer, y: GPUBuffer, alpha?: number): BoundDispatch;
  /** y[i] = alpha * s[0]. Shapes: s (1), y (n). */
  broadcast(n: number, s: GPUBuffer, y: GPUBuffer, alpha?: number): BoundDispatch;
  /** dx = dy * act'(x). Shapes: x, dy, dx (n). */
  activationDx(kind: 'relu' | 'relu6', n: number, x: GPUBuffer, dy: GPUBuffer, dx: GPUBuffer): BoundDispatch;
}

/** Compiles every element-wise pipeline for `device` (cached per device). */
export async function createElementwise(device: GPUDevice): Promise<Elementwise> {
  const names = Object.keys(ENTRIES) as Entry[];
  const pipelines = new Map<string, GPUComputePipeline>();
  await Promise.all(
    names.flatMap((entry) => [false, true].filter((v4) => !v4 || VEC4.has(entry)).map(async (v4) => {
      const [inputs, outputs] = ENTRIES[entry];
      const pipeline = await getPipeline(device, {
        family: v4 ? `${FAMILY}-vec4` : FAMILY, entry, code: elementwiseCommonWgsl + (v4 ? elementwiseVec4Wgsl : elementwiseWgsl),
        inputs, outputs, constants: ELEMENTWISE_CONSTANTS,
      });
      pipelines.set(`${entry}/${v4}`, pipeline);
    })),
  );

  const bind = (entry: Entry, n: number, buffers: GPUBuffer[], alpha = 0, beta = 0): BoundDispatch => {
    const label = `${FAMILY}/${entry}`;
    const v4 = n % 4 === 0 && VEC4.has(entry);
    const pipeline = pipelines.get(`${entry}/${v4}`)!;
    const params = paramsBuffer(device, label, [
      ['n', 'u32', n], ['alpha', 'f32', alpha], ['beta', 'f32', beta], ['pad0', 'u32', 0],
    ]);
    return {
      label,
      pipeline,
      bindGroup: bindIo(device, label, pipeline, params, buffers),
      workgroups: dispatch1d(v4 ? n / 4 : n, ELEMENTWISE_CONSTANTS.WG, device.limits.maxComputeWorkgroupsPerDimension),
    };
  };

  return {
    fill: (n, out, value) => bind('fill', n, [out], value),
    add: (n, a, b, y, alpha = 1, beta = 1) => bind('add', n, [a, b, y], alpha, beta),
    axpy: (n, x, y, alpha = 1) => bind('axpy', n, [x, y], alpha),
    scale: (n, x, y, alpha) => bind('scale', n, [x, y], alpha),
    scaleBy: (n, x, s, y, alpha = 1) => bind('scale_by', n, [x, s, y], alpha),
    broadcast: (n, s, y, alpha = 1) => bind('broadcast', n, [s, y], alpha),
    activation: (kind, n, x, y) => bind(kind === 'relu' ? 'relu_fwd' : 'relu6_fwd', n, [x, y]),
    activationDx: (kind, n, x, dy, dx) => bind(kind === 'relu' ? 'relu_dx' : 'relu6_dx', n, [x, dy, dx]),
  };
}
