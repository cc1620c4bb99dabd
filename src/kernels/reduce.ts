// Reductions to a scalar on the GPU: sum, sum of squares, and the global L2 norm over a list of
// buffers (what Keras `global_clipnorm` clips by). WGSL: src/wgsl/reduce.wgsl.
//
// Two passes: `reduce_partial` writes at most WG partials per array into a scratch buffer, then
// one workgroup of `reduce_final` folds them. For the global norm every array writes its partials
// side by side into one scratch buffer and a single `reduce_final` folds them all, so the norm
// never leaves the GPU (the Adam kernel reads it from `out`).

import { reduceWgsl } from '../wgsl/index.js';
import { bindIo, createStorage, getPipeline, GpuError, paramsBuffer, type BoundDispatch } from './runtime.js';

const FAMILY = 'reduce';
/** Override constants shared by every entry point (also passed to the pipelines). */
export const REDUCE_CONSTANTS = { WG: 256 } as const;
/** Most partials one array contributes (one per workgroup of reduce_partial). */
export const MAX_PARTIALS = REDUCE_CONSTANTS.WG;

/** A reduction ready to encode, with the scratch buffer it owns (destroy it with the plan). */
export interface BoundReduce {
  readonly dispatches: readonly BoundDispatch[];
  readonly scratch: GPUBuffer;
}

/** One array of a global-norm reduction. */
export interface ReduceItem {
  readonly n: number;
  readonly buffer: GPUBuffer;
}

export interface Reduce {
  /**
   * out[outIndex] = sum(x), or sum(x^2) with `square`, or its sqrt with `sqrt` too.
   * Shapes: x (n) -> out (>= outIndex + 1).
   */
  sum(n: number, x: GPUBuffer, out: GPUBuffer, opts?: { square?: boolean; sqrt?: boolean; outIndex?: number }): BoundReduce;
  /**
   * out[outIndex] = sqrt(sum over items of sum(x^2)) (or the sum of squares with `squared`).
   * Shapes: items[i].buffer (items[i].n) -> out (>= outIndex + 1).
   */
  globalNorm(items: readonly ReduceItem[], out: GPUBuffer, opts?: { squared?: boolean; outIndex?: number }): BoundReduce;
}

/** Partials (= workgroups of reduce_partial) used for an array of n elements. */
export function partialGroups(n: number): number {
  return Math.max(1, Math.min(MAX_PARTIALS, Math.ceil(n / REDUCE_CONSTANTS.WG)));
}

/** Compiles the reduction pipelines for `device` (cached per device). */
export async function createReduce(device: GPUDevice): Promise<Reduce> {
  const { WG } = REDUCE_CONSTANTS;
  const make = (entry: string, flag: 'SQUARE' | 'SQRT', on: boolean) =>
    getPipeline(device, {
      family: FAMILY, entry, code: reduceWgsl, inputs: 1, outputs: 1, constants: { WG, [flag]: on },
    });
  const [partial, partialSq, final, finalSqrt] = await Promise.all([
    make('reduce_partial', 'SQUARE', false), make('reduce_partial', 'SQUARE', true),
    make('reduce_final', 'SQRT', false), make('reduce_final', 'SQRT', true),
  ]);

  const dispatch = (
    entry: string, pipeline: GPUComputePipeline, fields: [number, number, number], x: GPUBuffer, out: GPUBuffer,
    workgroups: number,
  ): BoundDispatch => {
    const label = `${FAMILY}/${entry}`;
    const [n, offset, groups] = fields;
    const params = paramsBuffer(device, label, [
      ['n', 'u32', n], ['offset', 'u32', offset], ['groups', 'u32', groups], ['pad0', 'u32', 0],
    ]);
    return { label, pipeline, bindGroup: bindIo(device, label, pipeline, params, [x, out]), workgroups: [workgroups, 1, 1] };
  };

  const checkOut = (what: string, out: GPUBuffer, outIndex: number) => {
    if (!Number.isInteger(outIndex) || outIndex < 0 || (outIndex + 1) * 4 > out.size) {
      throw new GpuError(`${FAMILY}/${what}: out index ${outIndex} outside the ${out.size}-byte output`, FAMILY);
    }
  };

  const plan = (items: readonly ReduceItem[], square: boolean, sqrt: boolean, out: GPUBuffer, outIndex: number, what: string) => {
    checkOut(what, out, outIndex);
    if (items.length === 0) throw new GpuError(`${FAMILY}/${what}: no arrays to reduce`, FAMILY);
    let offset = 0;
    const groupsOf = items.map((it) => {
      if (!Number.isInteger(it.n) || it.n < 0 || it.n * 4 > it.buffer.size) {
        throw new GpuError(`${FAMILY}/${what}: array of ${it.n} floats does not fit buffer ${it.buffer.label} (${it.buffer.size} bytes)`, FAMILY);
      }
      return partialGroups(it.n);
    });
    const total = groupsOf.reduce((a, b) => a + b, 0);
    const scratch = createStorage(device, total * 4, `${FAMILY}/${what}/partials`);
    const dispatches: BoundDispatch[] = items.map((it, i) => {
      const d = dispatch('reduce_partial', square ? partialSq : partial, [it.n, offset, groupsOf[i]], it.buffer, scratch, groupsOf[i]);
      offset += groupsOf[i];
      return d;
    });
    dispatches.push(dispatch('reduce_final', sqrt ? finalSqrt : final, [total, outIndex, 1], scratch, out, 1));
    return { dispatches, scratch };
  };

  return {
    sum: (n, x, out, opts = {}) =>
      plan([{ n, buffer: x }], !!opts.square, !!opts.sqrt, out, opts.outIndex ?? 0, 'sum'),
    globalNorm: (items, out, opts = {}) => plan(items, true, !opts.squared, out, opts.outIndex ?? 0, 'globalNorm'),
  };
}
