// Conv2D forward (bias, fused ReLU/ReLU6) and its input, filter and bias gradients.
// WGSL: src/wgsl/conv2d.wgsl. Layout NHWC, filter [kh, kw, cin, cout] (Keras axes).
//
// Gradients take dy with respect to the PRE-activation output: when the forward fused an
// activation, apply its derivative first (elementwise relu_dx / relu6_dx on the saved output).
//
// The filter and bias gradients are two-pass reductions over n*oh*ow: pass 1 writes one partial
// sum per chunk of positions into a scratch buffer, pass 2 adds the chunks. The scratch buffer is
// allocated at bind time and owned by the returned `BoundReduction`: call its `destroy()` when
// the binding is no longer needed (or pass your own `scratch` of at least `scratchFloats`).

import { conv2dWgsl, convRgb3x3Wgsl } from '../wgsl/index.js';
import { dispatch1d } from './dispatch.js';
import { bindIo, createStorage, getPipeline, getPipelineSync, paramsBuffer, type BoundDispatch, type ParamField } from './runtime.js';
import {
  ACTIVATION_CODE, checkBuffer, convGeometry, reductionChunks,
  type Activation, type ConvGeometry, type Padding,
} from './padding.js';

const FAMILY = 'conv2d';
/** Override constants (passed to the pipelines; the WGSL defaults are the same numbers). */
export const CONV2D_CONSTANTS = { WG: 64, PX: 4, RT: 4 } as const;
/** Output channels per invocation in conv2d_fwd / conv2d_dw (two vec4 accumulators). */
const CO_TILE = 8;

export interface Conv2dShape {
  n: number;
  h: number;
  w: number;
  cin: number;
  cout: number;
  kh: number;
  kw: number;
  /** One stride for both axes, or [sh, sw]. Default 1. */
  stride?: number | readonly [number, number];
  /** Keras 'same' / 'valid' (default) or explicit zero padding. */
  padding?: Padding;
  /** Fused activation of the forward pass; default 'none'. Gradients ignore it (see above). */
  activation?: Activation;
}

/** A two-pass reduction: its dispatches in order, and the scratch buffer it owns (if any). */
export interface BoundReduction {
  readonly dispatches: readonly BoundDispatch[];
  /** Floats of scratch the reduction needs ([chunks, outputs]). */
  readonly scratchFloats: number;
  /** Destroys the scratch buffer if this binding allocated it (not a caller's). */
  destroy(): void;
}

export interface Conv2d {
  /** y = act(conv(x, w) + bias). Shapes: x [n,h,w,cin], w [kh,kw,cin,cout], bias [cout] -> y [n,oh,ow,cout]. */
  forward(shape: Conv2dShape, b: { x: GPUBuffer; w: GPUBuffer; bias?: GPUBuffer; y: GPUBuffer }): BoundDispatch;
  /** Input gradient. Shapes: dy [n,oh,ow,cout] (pre-activation), w [kh,kw,cin,cout] -> dx [n,h,w,cin]. */
  dx(shape: Conv2dShape, b: { dy: GPUBuffer; w: GPUBuffer; dx: GPUBuffer }): BoundDispatch;
  /** Filter gradient. Shapes: x [n,h,w,cin], dy [n,oh,ow,cout] (pre-activation) -> dw [kh,kw,cin,cout]. */
  dw(shape: Conv2dShape, b: { x: GPUBuffer; dy: GPUBuffer; dw: GPUBuffer; scratch?: GPUBuffer }): BoundReduction;
  /** Bias gradient. Shapes: dy [n,oh,ow,cout] (pre-activation) -> db [cout]. */
  db(shape: Conv2dShape, b: { dy: GPUBuffer; db: GPUBuffer; scratch?: GPUBuffer }): BoundReduction;
  /** Output geometry (oh, ow, strides and resolved pads) of a shape. */
  geometry(shape: Conv2dShape): ConvGeometry;
}

/** Resolves a Conv2dShape's geometry; throws a RangeError naming `kernel` on a bad shape. */
export function conv2dGeometry(shape: Conv2dShape, kernel = FAMILY): ConvGeometry {
  for (const k of ['n', 'cin', 'cout'] as const) {
    if (!Number.isInteger(shape[k]) || shape[k] < 1) {
      throw new RangeError(`${kernel}: ${k} must be a positive integer, got ${shape[k]}`);
    }
  }
  return convGeometry(kernel, shape.h, shape.w, shape.kh, shape.kw, shape.stride ?? 1, shape.padding ?? 'valid');
}

/** The params struct `Conv2dParams`, in WGSL field order. */
export function packConv2dParams(s: Conv2dShape, g: ConvGeometry, items: number, chunk = 0, chunks = 0): ParamField[] {
  return [
    ['n', 'u32', s.n], ['h', 'u32', s.h], ['w', 'u32', s.w], ['cin', 'u32', s.cin],
    ['cout', 'u32', s.cout], ['kh', 'u32', s.kh], ['kw', 'u32', s.kw], ['sh', 'u32', g.sh],
    ['sw', 'u32', g.sw], ['pt', 'u32', g.top], ['pl', 'u32', g.left], ['oh', 'u32', g.oh],
    ['ow', 'u32', g.ow], ['items', 'u32', items], ['chunk', 'u32', chunk], ['chunks', 'u32', chunks],
  ];
}

type Entry = 'conv2d_fwd' | 'conv2d_dx' | 'conv2d_dw' | 'conv2d_db' | 'conv2d_sum_partials';
const IO: Record<Entry, [number, number]> = {
  conv2d_fwd: [3, 1], conv2d_dx: [2, 1], conv2d_dw: [2, 1], conv2d_db: [1, 1], conv2d_sum_partials: [1, 1],
};

/** RGB input and a 3x3 filter with up to 32 outputs (MobileNet's conv1): conv-rgb3x3.wgsl. */
function usesRgb3x3({ cin, kh, kw, cout }: Conv2dShape): boolean {
  return cin === 3 && kh === 3 && kw === 3 && cout % 4 === 0 && cout <= 32;
}

/** Compiles the conv2d pipelines for `device` (cached per device) and returns the binders. */
export async function createConv2d(device: GPUDevice): Promise<Conv2d> {
  const maxDim = device.limits.maxComputeWorkgroupsPerDimension;
  const { WG } = CONV2D_CONSTANTS;
  const pipeline = (entry: Entry, extra: Record<string, number | boolean> = {}) =>
    getPipeline(device, {
      family: FAMILY, entry, code: conv2dWgsl, inputs: IO[entry][0], outputs: IO[entry][1],
      constants: { ...CONV2D_CONSTANTS, ...extra },
    });
  const [dxP, dwP, dbP, sumP] = await Promise.all(
    (['conv2d_dx', 'conv2d_dw', 'conv2d_db', 'conv2d_sum_partials'] as const).map((e) => pipeline(e)),
  );
  // One forward pipeline per (bias, activation): all six compiled now so binding stays synchronous.
  const fwdPipelines = new Map<string, GPUComputePipeline>();
  await Promise.all(
    [false, true].flatMap((HAS_BIAS) => Object.values(ACTIVATION_CODE).map(async (ACT) => {
      fwdPipelines.set(`${HAS_BIAS}/${ACT}`, await pipeline('conv2d_fwd', { HAS_BIAS, ACT }));
    })),
  );
  // Bound to the bias binding when there is no bias (the binding layout is fixed).
  const noBias = createStorage(device, 16, 'conv2d/no-bias', true);

  const bound = (entry: Entry, pipe: GPUComputePipeline, fields: ParamField[], items: number, buffers: GPUBuffer[]) => {
    const label = `${FAMILY}/${entry}`;
    return {
      label,
      pipeline: pipe,
      bindGroup: bindIo(device, label, pipe, paramsBuffer(device, label, fields), buffers),
      workgroups: dispatch1d(items, WG, maxDim),
    } satisfies BoundDispatch;
  };

  /** Pass 1 (`first`) into scratch [chunks, k], then pass 2 into out [k]. */
  const reduction = (
    first: (scratch: GPUBuffer) => BoundDispatch,
    chunks: number,
    k: number,
    out: GPUBuffer,
    given: GPUBuffer | undefined,
    what: string,
  ): BoundReduction => {
    const floats = chunks * k;
    if (given) checkBuffer(`${FAMILY}/${what}`, 'scratch', given, floats, [chunks, k]);
    const scratch = given ?? createStorage(device, floats * 4, `${FAMILY}/${what}/scratch`);
    const sumFields: ParamField[] = [
      ...Array.from({ length: 13 }, (_, j) => [`f${j}`, 'u32', 0] as ParamField),
      ['items', 'u32', k], ['chunk', 'u32', 0], ['chunks', 'u32', chunks],
    ];
    const dispatches = [first(scratch), bound('conv2d_sum_partials', sumP, sumFields, k, [scratch, out])];
    return { dispatches, scratchFloats: floats, destroy: () => { if (!given) scratch.destroy(); } };
  };

  return {
    geometry: (shape) => conv2dGeometry(shape),

    forward(shape, { x, w, bias, y }) {
      const kernel = `${FAMILY}/conv2d_fwd`;
      const g = conv2dGeometry(shape, kernel);
      const { n, h, w: wd, cin, cout, kh, kw } = shape;
      checkBuffer(kernel, 'x', x, n * h * wd * cin, [n, h, wd, cin]);
      checkBuffer(kernel, 'w', w, kh * kw * cin * cout, [kh, kw, cin, cout]);
      if (bias) checkBuffer(kernel, 'bias', bias, cout, [cout]);
      checkBuffer(kernel, 'y', y, n * g.oh * g.ow * cout, [n, g.oh, g.ow, cout]);
      const act = ACTIVATION_CODE[shape.activation ?? 'none'];
      if (act === undefined) throw new RangeError(`${kernel}: unknown activation ${shape.activation}`);
      if (usesRgb3x3(shape)) {
        // RGB input, 3x3 (MobileNet's conv1): src/wgsl/conv-rgb3x3.wgsl, one pixel per invocation.
        const label = `${FAMILY}/conv_rgb3x3`;
        const pipe = getPipelineSync(device, {
          family: `${FAMILY}-rgb3x3`, entry: 'conv_rgb3x3', code: convRgb3x3Wgsl, inputs: 3, outputs: 1,
          constants: { WG, HAS_BIAS: !!bias, ACT: act, COUT4: cout / 4 },
        });
        const pixels = n * g.oh * g.ow;
        return { ...bound('conv2d_fwd', pipe, packConv2dParams(shape, g, pixels), pixels, [x, w, bias ?? noBias, y]), label };
      }
      const items = n * g.oh * Math.ceil(g.ow / CONV2D_CONSTANTS.PX) * Math.ceil(cout / CO_TILE);
      const pipe = fwdPipelines.get(`${!!bias}/${act}`)!;
      return bound('conv2d_fwd', pipe, packConv2dParams(shape, g, items), items, [x, w, bias ?? noBias, y]);
    },

    dx(shape, { dy, w, dx }) {
      const kernel = `${FAMILY}/conv2d_dx`;
      const g = conv2dGeometry(shape, kernel);
      const { n, h, w: wd, cin, cout, kh, kw } = shape;
      checkBuffer(kernel, 'dy', dy, n * g.oh * g.ow * cout, [n, g.oh, g.ow, cout]);
      checkBuffer(kernel, 'w', w, kh * kw * cin * cout, [kh, kw, cin, cout]);
      checkBuffer(kernel, 'dx', dx, n * h * wd * cin, [n, h, wd, cin]);
      if (usesRgb3x3(shape) && g.sh === g.sw) {
        // RGB input, 3x3 (MobileNet's conv1): src/wgsl/conv-rgb3x3.wgsl, one input pixel per invocation.
        const label = `${FAMILY}/conv_rgb3x3_dx`;
        const pipe = getPipelineSync(device, {
          family: `${FAMILY}-rgb3x3`, entry: 'conv_rgb3x3_dx', code: convRgb3x3Wgsl, inputs: 2, outputs: 1,
          constants: { WG, COUT4: cout / 4, STRIDE: g.sh },
        });
        const items = n * h * g.sh * Math.ceil(wd / g.sh);
        return { ...bound('conv2d_dx', pipe, packConv2dParams(shape, g, items), items, [dy, w, dx]), label };
      }
      const items = n * h * wd * Math.ceil(cin / 4);
      return bound('conv2d_dx', dxP, packConv2dParams(shape, g, items), items, [dy, w, dx]);
    },

    dw(shape, { x, dy, dw, scratch }) {
      const kernel = `${FAMILY}/conv2d_dw`;
      const g = conv2dGeometry(shape, kernel);
      const { n, h, w: wd, cin, cout, kh, kw } = shape;
      checkBuffer(kernel, 'x', x, n * h * wd * cin, [n, h, wd, cin]);
      checkBuffer(kernel, 'dy', dy, n * g.oh * g.ow * cout, [n, g.oh, g.ow, cout]);
      checkBuffer(kernel, 'dw', dw, kh * kw * cin * cout, [kh, kw, cin, cout]);
      const positions = n * g.oh * g.ow;
      const tiles = Math.ceil((kh * kw * cin) / CONV2D_CONSTANTS.RT) * Math.ceil(cout / CO_TILE);
      const chunks = reductionChunks(positions, tiles);
      const chunk = Math.ceil(positions / chunks);
      return reduction(
        (s) => bound('conv2d_dw', dwP, packConv2dParams(shape, g, chunks * tiles, chunk, chunks), chunks * tiles, [x, dy, s]),
        chunks, kh * kw * cin * cout, dw, scratch, 'conv2d_dw',
      );
    },

    db(shape, { dy, db, scratch }) {
      const kernel = `${FAMILY}/conv2d_db`;
      const g = conv2dGeometry(shape, kernel);
      const { n, cout } = shape;
      checkBuffer(kernel, 'dy', dy, n * g.oh * g.ow * cout, [n, g.oh, g.ow, cout]);
      checkBuffer(kernel, 'db', db, cout, [cout]);
      const positions = n * g.oh * g.ow;
      const groups = Math.ceil(cout / 4);
      const chunks = reductionChunks(positions, groups, 4096, 64);
      const chunk = Math.ceil(positions / chunks);
      return reduction(
        (s) => bound('conv2d_db', dbP, packConv2dParams(shape, g, chunks * groups, chunk, chunks), chunks * groups, [dy, s]),
        chunks, cout, db, scratch, 'conv2d_db',
      );
    },
  };
}
