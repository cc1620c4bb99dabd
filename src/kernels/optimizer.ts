// Adam (Keras defaults and formula) with global gradient-norm clipping, state on the GPU.
// WGSL: src/wgsl/optimizer.wgsl. The global norm comes from `createReduce(...).globalNorm` into a
// 1-float buffer that `adam_step` reads: no readback. The learning rate and the step count live in
// a 4-float state buffer [lr, t, beta1^t, beta2^t] (`adamState` packs it), so a schedule changes
// the rate with one writeBuffer and nothing is rebuilt.
//
// One training step encodes: globalNorm(grads) -> advance(state) -> step(...) per parameter.

import { optimizerWgsl } from '../wgsl/index.js';
import { dispatch1d } from './dispatch.js';
import { bindIo, getPipeline, GpuError, paramsBuffer, type BoundDispatch } from './runtime.js';

const FAMILY = 'optimizer';
/** Override constants shared by the element-wise entry points (also passed to the pipelines). */
export const OPTIMIZER_CONSTANTS = { WG: 256 } as const;

/** Keras `Adam` defaults (keras/src/optimizers/adam.py); clipnorm = `global_clipnorm`. */
export interface AdamConfig {
  beta1: number;
  beta2: number;
  epsilon: number;
  /** Global-norm clip threshold; undefined = no clipping. PAtt-Lite uses 3.0. */
  clipnorm?: number;
}
export const ADAM_DEFAULTS: AdamConfig = { beta1: 0.9, beta2: 0.999, epsilon: 1e-7 };

/** Floats in the state buffer: [lr, t, beta1^t, beta2^t]. */
export const ADAM_STATE_FLOATS = 4;

/** The state buffer's contents before step `step + 1` (t = step steps already taken). */
export function adamState(lr: number, step = 0, cfg: Pick<AdamConfig, 'beta1' | 'beta2'> = ADAM_DEFAULTS): Float32Array {
  return Float32Array.of(lr, step, cfg.beta1 ** step, cfg.beta2 ** step);
}

export interface AdamBuffers {
  param: GPUBuffer;
  grad: GPUBuffer;
  /** First and second moments (zero-initialised by the caller). */
  m: GPUBuffer;
  v: GPUBuffer;
  /** [lr, t, beta1^t, beta2^t] */
  state: GPUBuffer;
  /** Global gradient norm (1 float); required when clipnorm is set. */
  norm?: GPUBuffer;
}

export interface Optimizer {
  /** t += 1, beta powers advanced; encode once per step before the `adamStep`s. Shapes: state (4). */
  adamAdvance(state: GPUBuffer, cfg?: Partial<AdamConfig>): BoundDispatch;
  /** One Adam update of one parameter array. Shapes: param, grad, m, v (n); state (4); norm (1). */
  adamStep(n: number, bufs: AdamBuffers, cfg?: Partial<AdamConfig>): BoundDispatch;
}

/** Compiles the optimiser pipelines for `device` (cached per device). */
export async function createOptimizer(device: GPUDevice): Promise<Optimizer> {
  const { WG } = OPTIMIZER_CONSTANTS;
  const pipe = (entry: string, inputs: number, outputs: number, constants: Record<string, number | boolean>) =>
    getPipeline(device, { family: FAMILY, entry, code: optimizerWgsl, inputs, outputs, constants });
  const [advance, step, stepClip] = await Promise.all([
    pipe('adam_advance', 0, 1, {}),
    pipe('adam_step', 3, 3, { WG, CLIP: false }),
    pipe('adam_step', 3, 3, { WG, CLIP: true }),
  ]);

  const params = (label: string, n: number, cfg: AdamConfig) =>
    paramsBuffer(device, label, [
      ['n', 'u32', n], ['beta1', 'f32', cfg.beta1], ['beta2', 'f32', cfg.beta2], ['epsilon', 'f32', cfg.epsilon],
      ['clipnorm', 'f32', cfg.clipnorm ?? 0], ['pad0', 'u32', 0], ['pad1', 'u32', 0], ['pad2', 'u32', 0],
    ]);

  return {
    adamAdvance(state, partial = {}) {
      const cfg = { ...ADAM_DEFAULTS, ...partial };
      const label = `${FAMILY}/adam_advance`;
      if (state.size < ADAM_STATE_FLOATS * 4) throw new GpuError(`${label}: state needs ${ADAM_STATE_FLOATS} floats, got ${state.size} bytes`, label);
      return { label, pipeline: advance, bindGroup: bindIo(device, label, advance, params(label, 1, cfg), [state]), workgroups: [1, 1, 1] };
    },
    adamStep(n, bufs, partial = {}) {
      const cfg = { ...ADAM_DEFAULTS, ...partial };
      const label = `${FAMILY}/adam_step`;
      const clip = cfg.clipnorm !== undefined;
      if (clip && !(cfg.clipnorm! > 0)) throw new GpuError(`${label}: clipnorm must be > 0, got ${cfg.clipnorm}`, label);
      if (clip && !bufs.norm) throw new GpuError(`${label}: clipnorm ${cfg.clipnorm} needs the global-norm buffer`, label);
      for (const k of ['param', 'grad', 'm', 'v'] as const) {
        if (bufs[k].size < n * 4) throw new GpuError(`${label}: ${k} holds ${bufs[k].size / 4} floats, expected ${n}`, label);
      }
      const pipeline = clip ? stepClip : step;
      const io = [bufs.grad, bufs.state, bufs.norm ?? bufs.state, bufs.param, bufs.m, bufs.v];
      return {
        label, pipeline, bindGroup: bindIo(device, label, pipeline, params(label, n, cfg), io),
        workgroups: dispatch1d(n, WG, device.limits.maxComputeWorkgroupsPerDimension),
      };
    },
  };
}
