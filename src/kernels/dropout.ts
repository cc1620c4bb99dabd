// Inverted dropout (Keras Dropout) and spatial dropout (Keras SpatialDropout2D, one decision per
// (image, channel) over NHWC) with a Philox4x32-10 counter-based mask: backward recomputes the mask
// from (seed, step), nothing is stored. WGSL: src/wgsl/dropout.wgsl.

import { dropoutWgsl } from '../wgsl/index.js';
import { dispatch1d } from './dispatch.js';
import { bindIo, getPipeline, paramsBuffer, type BoundDispatch, type ParamField } from './runtime.js';

const FAMILY = 'dropout';
/** Override constants (WG invocations per workgroup, 4 elements per invocation). */
export const DROPOUT_CONSTANTS = { WG: 256 } as const;
const PER_INVOCATION = 4;

export interface DropoutOptions {
  /** Fraction dropped, in [0, 1). */
  rate: number;
  /** RNG key: two u32 words (seedHi defaults to 0). */
  seed: number;
  seedHi?: number;
  /** Counter: change it every training step (setStep) so each step draws a new mask. */
  step?: number;
  /** SpatialDropout2D: shape must be NHWC; one keep/drop decision per (n, c). */
  spatial?: boolean;
}

/** Forward and backward share one params buffer, so one setStep moves both to the next mask. */
export interface DropoutBinding {
  /** Shapes: x, y (shape). y = x * mask / (1 - rate). */
  forward: BoundDispatch;
  /** Shapes: dy, dx (shape). dx = dy * mask / (1 - rate); present when dy and dx were given. */
  backward?: BoundDispatch;
  /** Writes the step counter (queue.writeBuffer: takes effect for work submitted afterwards). */
  setStep(step: number): void;
}

export interface Dropout {
  bind(shape: readonly number[], io: { x: GPUBuffer; y: GPUBuffer; dy?: GPUBuffer; dx?: GPUBuffer }, opts: DropoutOptions): DropoutBinding;
}

/** The params in WGSL field order (also used by the test's CPU mask). */
export function dropoutParams(shape: readonly number[], opts: DropoutOptions): ParamField[] {
  if (!shape.length || !shape.every((d) => Number.isInteger(d) && d > 0)) {
    throw new RangeError(`dropout: expected a shape of positive integers, got [${shape.join(', ')}]`);
  }
  if (opts.spatial && shape.length !== 4) {
    throw new RangeError(`dropout (spatial): expected an NHWC shape [n, h, w, c], got [${shape.join(', ')}]`);
  }
  if (!(opts.rate >= 0 && opts.rate < 1)) throw new RangeError(`dropout: rate must be in [0, 1), got ${opts.rate}`);
  const n = shape.reduce((a, b) => a * b, 1);
  const c = opts.spatial ? shape[3] : 1;
  const hw = opts.spatial ? shape[1] * shape[2] : 1;
  return [
    ['n', 'u32', n], ['c', 'u32', c], ['hw', 'u32', hw],
    ['threshold', 'u32', Math.ceil(opts.rate * 2 ** 24)], ['scale', 'f32', 1 / (1 - opts.rate)],
    ['seed_lo', 'u32', opts.seed >>> 0], ['seed_hi', 'u32', (opts.seedHi ?? 0) >>> 0], ['step', 'u32', (opts.step ?? 0) >>> 0],
  ];
}

/** Compiles the dropout pipelines for `device` (cached per device). */
export async function createDropout(device: GPUDevice): Promise<Dropout> {
  const pipelines = new Map<string, GPUComputePipeline>();
  await Promise.all(['dropout_fwd', 'dropout_dx'].flatMap((entry) => [false, true].map(async (spatial) => {
    const p = await getPipeline(device, {
      family: FAMILY, entry, code: dropoutWgsl, inputs: 1, outputs: 1, constants: { ...DROPOUT_CONSTANTS, SPATIAL: spatial },
    });
    pipelines.set(`${entry}|${spatial}`, p);
  })));

  return {
    bind(shape, io, opts) {
      const fields = dropoutParams(shape, opts);
      // Mutable: setStep rewrites the step field, so this buffer must not be the shared one.
      const params = paramsBuffer(device, `${FAMILY}/dropout_fwd`, fields, { mutable: true });
      const n = fields[0][2];
      const workgroups = dispatch1d(Math.ceil(n / PER_INVOCATION), DROPOUT_CONSTANTS.WG, device.limits.maxComputeWorkgroupsPerDimension);
      const make = (entry: string, src: GPUBuffer, dst: GPUBuffer): BoundDispatch => {
        const label = `${FAMILY}/${entry}`;
        const pipeline = pipelines.get(`${entry}|${!!opts.spatial}`)!;
        return { label, pipeline, bindGroup: bindIo(device, label, pipeline, params, [src, dst]), workgroups };
      };
      if (!!io.dy !== !!io.dx) throw new RangeError('dropout: give both dy and dx, or neither');
      return {
        forward: make('dropout_fwd', io.x, io.y),
        backward: io.dy && io.dx ? make('dropout_dx', io.dy, io.dx) : undefined,
        setStep(step: number) {
          device.queue.writeBuffer(params, 7 * 4, new Uint32Array([step >>> 0]));
        },
      };
    },
  };
}
