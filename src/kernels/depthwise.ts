// Depthwise Conv2D (channel multiplier 1) forward (bias, fused ReLU/ReLU6) and its input, filter
// and bias gradients. WGSL: src/wgsl/depthwise.wgsl (any channel count), depthwise-vec4.wgsl
// (c % 4 == 0, including the 3x3 rolling-rows kernels that MobileNet's layers use, forward at
// strides 1 and 2 and the stride-1 input gradient) and depthwise-3x3-dw.wgsl (the 3x3 filter
// gradient at strides 1 and 2, rolling rows too). Layout NHWC, filter [kh, kw, c, 1].
//
// Gradients take dy with respect to the PRE-activation output: when the forward fused an
// activation, apply its derivative first (elementwise relu_dx / relu6_dx on the saved output).
// MobileNet's depthwise layers have no bias and their activation follows a BatchNorm, so they
// run with `activation: 'none'` and no bias.
//
// The filter and bias gradients are two-pass reductions over n*oh*ow: pass 1 writes one partial
// sum per chunk of positions into a scratch buffer, pass 2 adds the chunks. The scratch buffer is
// allocated at bind time and owned by the returned `BoundReduction` (call `destroy()` when done),
// unless the caller passes its own `scratch` of at least `scratchFloats` floats.

import { depthwiseWgsl, depthwiseVec4Wgsl, depthwise3x3DwWgsl } from '../wgsl/index.js';
import { dispatch1d } from './dispatch.js';
import { bindIo, createStorage, getPipeline, getPipelineSync, paramsBuffer, type BoundDispatch, type ParamField } from './runtime.js';
import {
  ACTIVATION_CODE, checkBuffer, convGeometry, reductionChunks,
  type Activation, type ConvGeometry, type Padding,
} from './padding.js';
import type { BoundReduction } from './conv2d.js';

export type { BoundReduction } from './conv2d.js';

const FAMILY = 'depthwise';
/** Override constants (passed to the pipelines; the WGSL defaults are the same numbers). */
export const DEPTHWISE_CONSTANTS = { WG: 64, PX: 4, TAPS: 9 } as const;
/**
 * Output rows per invocation in the rolling 3x3 filter gradient: at stride 1, 8, 16 and 32 were
 * within 5%; at stride 2 (one column per invocation) 64 rows, i.e. one block per image at
 * MobileNet's sizes, ran 1.2-1.5x faster than 16 at 112 and 56 (fewer partial sums to add).
 */
const DW_ROWS = { 1: 16, 2: 64 } as const;

export interface DepthwiseShape {
  n: number;
  h: number;
  w: number;
  c: number;
  kh: number;
  kw: number;
  /** One stride for both axes, or [sh, sw]. Default 1. */
  stride?: number | readonly [number, number];
  /** Keras 'same' / 'valid' (default) or explicit zero padding. */
  padding?: Padding;
  /** Fused activation of the forward pass; default 'none'. Gradients ignore it (see above). */
  activation?: Activation;
}

export interface Depthwise {
  /** y = act(depthwise(x, w) + bias). Shapes: x [n,h,w,c], w [kh,kw,c,1], bias [c] -> y [n,oh,ow,c]. */
  forward(shape: DepthwiseShape, b: { x: GPUBuffer; w: GPUBuffer; bias?: GPUBuffer; y: GPUBuffer }): BoundDispatch;
  /** Input gradient. Shapes: dy [n,oh,ow,c] (pre-activation), w [kh,kw,c,1] -> dx [n,h,w,c]. */
  dx(shape: DepthwiseShape, b: { dy: GPUBuffer; w: GPUBuffer; dx: GPUBuffer }): BoundDispatch;
  /** Filter gradient. Shapes: x [n,h,w,c], dy [n,oh,ow,c] (pre-activation) -> dw [kh,kw,c,1]. */
  dw(shape: DepthwiseShape, b: { x: GPUBuffer; dy: GPUBuffer; dw: GPUBuffer; scratch?: GPUBuffer }): BoundReduction;
  /** Bias gradient. Shapes: dy [n,oh,ow,c] (pre-activation) -> db [c]. */
  db(shape: DepthwiseShape, b: { dy: GPUBuffer; db: GPUBuffer; scratch?: GPUBuffer }): BoundReduction;
  geometry(shape: DepthwiseShape): ConvGeometry;
}

/** Resolves a DepthwiseShape's geometry; throws a RangeError naming `kernel` on a bad shape. */
export function depthwiseGeometry(shape: DepthwiseShape, kernel = FAMILY): ConvGeometry {
  for (const k of ['n', 'c'] as const) {
    if (!Number.isInteger(shape[k]) || shape[k] < 1) {
      throw new RangeError(`${kernel}: ${k} must be a positive integer, got ${shape[k]}`);
    }
  }
  return convGeometry(kernel, shape.h, shape.w, shape.kh, shape.kw, shape.stride ?? 1, shape.padding ?? 'valid');
}

/** The params struct `DepthwiseParams`, in WGSL field order. */
export function packDepthwiseParams(s: DepthwiseShape, g: ConvGeometry, items: number, chunk = 0, chunks = 0): ParamField[] {
  return [
    ['n', 'u32', s.n], ['h', 'u32', s.h], ['w', 'u32', s.w], ['c', 'u32', s.c],
    ['kh', 'u32', s.kh], ['kw', 'u32', s.kw], ['sh', 'u32', g.sh], ['sw', 'u32', g.sw],
    ['pt', 'u32', g.top], ['pl', 'u32', g.left], ['oh', 'u32', g.oh], ['ow', 'u32', g.ow],
    ['items', 'u32', items], ['chunk', 'u32', chunk], ['chunks', 'u32', chunks], ['pad0', 'u32', 0],
  ];
}

type Entry = 'depthwise_fwd' | 'depthwise_patch_dw' | 'depthwise_3x3' | 'depthwise_3x3s2' | 'depthwise_3x3_dw' | 'depthwise_3x3s2_dw' | 'depthwise_dx' | 'depthwise_dw' | 'depthwise_db' | 'depthwise_sum_partials';
const IO: Record<Entry, [number, number]> = {
  depthwise_fwd: [3, 1], depthwise_patch_dw: [2, 1], depthwise_3x3: [3, 1], depthwise_3x3s2: [3, 1], depthwise_3x3_dw: [2, 1], depthwise_3x3s2_dw: [2, 1],
  depthwise_dx: [2, 1], depthwise_dw: [2, 1], depthwise_db: [1, 1], depthwise_sum_partials: [1, 1],
};

/** Compiles the depthwise pipelines for `device` (cached per device) and returns the binders. */
export async function createDepthwise(device: GPUDevice): Promise<Depthwise> {
  const maxDim = device.limits.maxComputeWorkgroupsPerDimension;
  const { WG, PX, TAPS } = DEPTHWISE_CONSTANTS;
  const pipeline = (entry: Entry, vec4: boolean, extra: Record<string, number | boolean> = {}) =>
    getPipeline(device, {
      family: vec4 ? `${FAMILY}-vec4` : FAMILY, entry, code: vec4 ? depthwiseVec4Wgsl : depthwiseWgsl,
      inputs: IO[entry][0], outputs: IO[entry][1], constants: { ...DEPTHWISE_CONSTANTS, ...extra },
    });
  const [dbP, sumP] = await Promise.all([pipeline('depthwise_db', false), pipeline('depthwise_sum_partials', false)]);
  // Per variant (scalar, vec4): dw and one forward per (bias, activation), and the scalar dx, all
  // compiled now so that binding stays synchronous (the vec4 dx is specialised per shape at bind
  // time, as are the 3x3 and patch kernels).
  const [scalarDx, ...variants] = await Promise.all([
    pipeline('depthwise_dx', false),
    ...[false, true].map(async (vec4) => {
      const fwd = new Map<string, GPUComputePipeline>();
      const [dw] = await Promise.all([
        pipeline('depthwise_dw', vec4),
        ...[false, true].flatMap((HAS_BIAS) => Object.values(ACTIVATION_CODE).map(async (ACT) => {
          fwd.set(`${HAS_BIAS}/${ACT}`, await pipeline('depthwise_fwd', vec4, { HAS_BIAS, ACT }));
        })),
      ]);
      return { fwd, dw: dw as GPUComputePipeline };
    }),
  ]);
  const variant = (c: number) => variants[c % 4 === 0 ? 1 : 0];
  // Bound to the bias binding when there is no bias (the binding layout is fixed).
  const noBias = createStorage(device, 16, 'depthwise/no-bias', true);

  const bound = (entry: Entry, pipe: GPUComputePipeline, fields: ParamField[], items: number, buffers: GPUBuffer[]): BoundDispatch => {
    const label = `${FAMILY}/${entry}`;
    return {
      label,
      pipeline: pipe,
      bindGroup: bindIo(device, label, pipe, paramsBuffer(device, label, fields), buffers),
      workgroups: dispatch1d(items, WG, maxDim),
    };
  };

  /**
   * A depthwise-vec4.wgsl pipeline specialised at bind time (on the shape), compiled on first use
   * (getPipelineSync, like the matmul family).
   */
  const vec4Pipeline = (entry: Entry, constants: Record<string, number | boolean>): GPUComputePipeline =>
    getPipelineSync(device, {
      family: `${FAMILY}-vec4`, entry, code: depthwiseVec4Wgsl, inputs: IO[entry][0], outputs: IO[entry][1],
      constants: { ...DEPTHWISE_CONSTANTS, ...constants },
    });

  /**
   * The 3x3 rolling-rows kernels (depthwise_3x3 / depthwise_3x3s2 in depthwise-vec4.wgsl): `input` [n, ih, iw, c]
   * -> `output` [n, oh, ow, c] with zero padding (top, left), specialised per channel count and
   * rows per invocation.
   */
  const rolling3x3 = (
    dims: { n: number; ih: number; iw: number; c: number; oh: number; ow: number; top: number; left: number; stride: 1 | 2 },
    opts: { flip: boolean; bias: boolean; act: number },
    buffers: GPUBuffer[],
  ): BoundDispatch => {
    const { n, ih, iw, c, oh, ow, top, left, stride } = dims;
    const entry = stride === 1 ? 'depthwise_3x3' : 'depthwise_3x3s2';
    const label = `${FAMILY}/${entry}`;
    const py = oh >= 56 ? 16 : 8; // measured: 16 rows win at 112 and 56, 8 at 28 and 14
    const pipe = vec4Pipeline(entry, { C4: c / 4, PY: py, FLIP: opts.flip, HAS_BIAS: opts.bias, ACT: opts.act });
    const fields = packDepthwiseParams(
      { n, h: ih, w: iw, c, kh: 3, kw: 3 }, { sh: stride, sw: stride, top, left, bottom: 0, right: 0, oh, ow }, 0,
    );
    // Output columns per invocation: 4 at stride 1, 1 at stride 2 (depthwise-vec4.wgsl says why).
    const lanes = (c / 4) * (stride === 1 ? Math.ceil(ow / 4) : ow);
    const workgroups: [number, number, number] = [Math.ceil(lanes / WG), Math.ceil(oh / py), n];
    if (workgroups.some((d) => d > maxDim)) throw new RangeError(`${label}: grid ${workgroups.join('x')} exceeds ${maxDim} per dimension`);
    return { label, pipeline: pipe, bindGroup: bindIo(device, label, pipe, paramsBuffer(device, label, fields), buffers), workgroups };
  };
  /** The stride (1 or 2) when the rolling 3x3 kernels apply, else 0. */
  const rolling3x3Stride = (shape: DepthwiseShape, g: ConvGeometry): 0 | 1 | 2 =>
    shape.c % 4 === 0 && shape.kh === 3 && shape.kw === 3 && g.sh === g.sw && (g.sh === 1 || g.sh === 2) && g.top <= 2 && g.left <= 2
      ? (g.sh as 1 | 2) : 0;

  /**
   * The 3x3 filter gradient by rolling rows at stride 1 or 2 (depthwise-3x3-dw.wgsl, after
   * depthwise-vec4.wgsl): one chunk of partial sums per invocation, then the chunk sum.
   */
  const rolling3x3Dw = (
    shape: DepthwiseShape, g: ConvGeometry, [x, dy]: [GPUBuffer, GPUBuffer], dw: GPUBuffer, scratch: GPUBuffer | undefined,
    stride: 1 | 2,
  ): BoundReduction => {
    const { n, c } = shape;
    const entry = stride === 1 ? 'depthwise_3x3_dw' : 'depthwise_3x3s2_dw';
    const label = `${FAMILY}/${entry}`;
    const py = DW_ROWS[stride];
    const pipe = getPipelineSync(device, {
      family: `${FAMILY}-3x3-dw`, entry, code: depthwiseVec4Wgsl + depthwise3x3DwWgsl, inputs: 2, outputs: 1,
      constants: { ...DEPTHWISE_CONSTANTS, C4: c / 4, PY: py },
    });
    // Output columns per invocation: 4 at stride 1, 1 at stride 2.
    const strips = stride === 1 ? Math.ceil(g.ow / 4) : g.ow;
    const workgroups: [number, number, number] = [Math.ceil((c / 4) * strips / WG), Math.ceil(g.oh / py), n];
    if (workgroups.some((d) => d > maxDim)) throw new RangeError(`${label}: grid ${workgroups.join('x')} exceeds ${maxDim} per dimension`);
    const chunks = n * workgroups[1] * strips;
    const fields = packDepthwiseParams(shape, g, 0);
    return reduction(
      (s) => ({ label, pipeline: pipe, bindGroup: bindIo(device, label, pipe, paramsBuffer(device, label, fields), [x, dy, s]), workgroups }),
      chunks, 9 * c, dw, scratch, entry,
    );
  };

  /** Pass 1 (`first`) into scratch [chunks, k], then pass 2 into out [k]. */
  const reduction = (
    first: (scratch: GPUBuffer) => BoundDispatch, chunks: number, k: number, out: GPUBuffer,
    given: GPUBuffer | undefined, what: string,
  ): BoundReduction => {
    const floats = chunks * k;
    if (given) checkBuffer(`${FAMILY}/${what}`, 'scratch', given, floats, [chunks, k]);
    const scratch = given ?? createStorage(device, floats * 4, `${FAMILY}/${what}/scratch`);
    const sumFields: ParamField[] = packDepthwiseParams(
      { n: 1, h: 1, w: 1, c: 1, kh: 1, kw: 1 }, { sh: 1, sw: 1, top: 0, bottom: 0, left: 0, right: 0, oh: 1, ow: 1 },
      k, 0, chunks,
    );
    const dispatches = [first(scratch), bound('depthwise_sum_partials', sumP, sumFields, k, [scratch, out])];
    return { dispatches, scratchFloats: floats, destroy: () => { if (!given) scratch.destroy(); } };
  };

  const check = (entry: Entry, shape: DepthwiseShape, named: Record<string, [GPUBuffer, number[]]>) => {
    const kernel = `${FAMILY}/${entry}`;
    const g = depthwiseGeometry(shape, kernel);
    for (const [nm, [buf, dims]] of Object.entries(named)) {
      const full = dims.map((d) => (d === -1 ? g.oh : d === -2 ? g.ow : d));
      checkBuffer(kernel, nm, buf, full.reduce((a, b) => a * b, 1), full);
    }
    return g;
  };

  return {
    geometry: (shape) => depthwiseGeometry(shape),

    forward(shape, { x, w, bias, y }) {
      const { n, h, w: wd, c, kh, kw } = shape;
      const named: Record<string, [GPUBuffer, number[]]> = { x: [x, [n, h, wd, c]], w: [w, [kh, kw, c, 1]], y: [y, [n, -1, -2, c]] };
      if (bias) named.bias = [bias, [c]];
      const g = check('depthwise_fwd', shape, named);
      const act = ACTIVATION_CODE[shape.activation ?? 'none'];
      if (act === undefined) throw new RangeError(`${FAMILY}/depthwise_fwd: unknown activation ${shape.activation}`);
      const stride = rolling3x3Stride(shape, g);
      if (stride) {
        return rolling3x3({ n, ih: h, iw: wd, c, oh: g.oh, ow: g.ow, top: g.top, left: g.left, stride },
          { flip: false, bias: !!bias, act }, [x, w, bias ?? noBias, y]);
      }
      if (c % 4 === 0 && g.sw >= kw) {
        // Windows that do not overlap along x (the patch extraction, 4x4 / 4): the PX columns of an
        // invocation share nothing but the filter, and one column per invocation measured 1.2-1.4x
        // faster at 8x14x14x512 (more, smaller invocations balance better over lavapipe's threads).
        const pipe = vec4Pipeline('depthwise_fwd', {
          PX: 1, HAS_BIAS: !!bias, ACT: act, SHAPE_C4: c / 4, SHAPE_OH: g.oh, SHAPE_OW: g.ow,
        });
        const items = n * g.oh * g.ow * (c / 4);
        return bound('depthwise_fwd', pipe, packDepthwiseParams(shape, g, items), items, [x, w, bias ?? noBias, y]);
      }
      const items = n * g.oh * Math.ceil(g.ow / PX) * Math.ceil(c / 4);
      const pipe = variant(c).fwd.get(`${!!bias}/${act}`)!;
      return bound('depthwise_fwd', pipe, packDepthwiseParams(shape, g, items), items, [x, w, bias ?? noBias, y]);
    },

    dx(shape, { dy, w, dx }) {
      const { n, h, w: wd, c, kh, kw } = shape;
      const g = check('depthwise_dx', shape, { dy: [dy, [n, -1, -2, c]], w: [w, [kh, kw, c, 1]], dx: [dx, [n, h, wd, c]] });
      // Stride 1: dx is dy convolved with the rotated filter, padded by (2 - top, 2 - left).
      if (rolling3x3Stride(shape, g) === 1) {
        return rolling3x3({ n, ih: g.oh, iw: g.ow, c, oh: h, ow: wd, top: 2 - g.top, left: 2 - g.left, stride: 1 },
          { flip: true, bias: false, act: 0 }, [dy, w, noBias, dx]);
      }
      // The vec4 variant tiles PX input columns per invocation, specialised on the shape's
      // divisors (see SHAPE_* in depthwise-vec4.wgsl); the scalar one does one column.
      const vec4 = c % 4 === 0;
      const items = n * h * (vec4 ? Math.ceil(wd / PX) : wd) * Math.ceil(c / 4);
      const pipe = vec4
        ? vec4Pipeline('depthwise_dx', { SHAPE_C4: c / 4, SHAPE_H: h, SHAPE_W: wd, SHAPE_SH: g.sh, SHAPE_SW: g.sw })
        : scalarDx;
      return bound('depthwise_dx', pipe, packDepthwiseParams(shape, g, items), items, [dy, w, dx]);
    },

    dw(shape, { x, dy, dw, scratch }) {
      const { n, h, w: wd, c, kh, kw } = shape;
      const g = check('depthwise_dw', shape, { x: [x, [n, h, wd, c]], dy: [dy, [n, -1, -2, c]], dw: [dw, [kh, kw, c, 1]] });
      if (c % 4 === 0 && g.sh === kh && g.sw === kw && kw <= 4) {
        // Windows that do not overlap (the patch extraction): one pass, no partial sums.
        const entry = 'depthwise_patch_dw';
        const pipe = vec4Pipeline(entry, { PKW: kw });
        const items = kh * (c / 4);
        return { dispatches: [bound(entry, pipe, packDepthwiseParams(shape, g, items), items, [x, dy, dw])], scratchFloats: 0, destroy: () => {} };
      }
      const stride = rolling3x3Stride(shape, g);
      if (stride) return rolling3x3Dw(shape, g, [x, dy], dw, scratch, stride);
      const positions = n * g.oh * g.ow;
      const tiles = Math.ceil((kh * kw) / TAPS) * Math.ceil(c / 4);
      const chunks = reductionChunks(positions, tiles);
      const chunk = Math.ceil(positions / chunks);
      const items = chunks * tiles;
      return reduction(
        (s) => bound('depthwise_dw', variant(c).dw, packDepthwiseParams(shape, g, items, chunk, chunks), items, [x, dy, s]),
        chunks, kh * kw * c, dw, scratch, 'depthwise_dw',
      );
    },

    db(shape, { dy, db, scratch }) {
      const { n, c } = shape;
      const g = check('depthwise_db', shape, { dy: [dy, [n, -1, -2, c]], db: [db, [c]] });
      const positions = n * g.oh * g.ow;
      const groups = Math.ceil(c / 4);
      const chunks = reductionChunks(positions, groups, 4096, 64);
      const chunk = Math.ceil(positions / chunks);
      const items = chunks * groups;
      return reduction(
        (s) => bound('depthwise_db', dbP, packDepthwiseParams(shape, g, items, chunk, chunks), items, [dy, s]),
        chunks, c, db, scratch, 'depthwise_db',
      );
    },
  };
}
