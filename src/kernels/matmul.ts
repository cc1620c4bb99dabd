// Matrix multiply family: C[M,N] = act(op(A)·op(B) + bias (+ C)) in three variants (register-tiled
// for CPU-like adapters such as lavapipe, subgroup-broadcast for CPU adapters with 8-lane
// subgroups, workgroup-tiled for real GPUs), the transposed forms backward needs (dA = dC·B^T,
// dB = A^T·dC) and the bias gradient db[N] = column sums of dC.
// WGSL: src/wgsl/matmul.wgsl (register tiles, bias gradient), src/wgsl/matmul-sg.wgsl (with
// matmul-sg-wide.wgsl for 16 x 16 tiles and matmul-sg-tn.wgsl for A^T·B), src/wgsl/matmul-tiled.wgsl.
// The variant is forced by option or picked per adapter by a short autotune
// (./matmul-autotune.ts). A 1x1 convolution over NHWC is this with M = N*H*W, K = cin, N = cout.

import {
  matmulCommonWgsl, matmulSgTnWgsl, matmulSgWgsl, matmulSgWideWgsl, matmulTiledWgsl, matmulWgsl, subgroupTileWgsl,
} from '../wgsl/index.js';
import { dispatch1d } from './dispatch.js';
import { bindIo, createStorage, getPipelineSync, GpuError, paramsBuffer, type BoundDispatch } from './runtime.js';
import { pickMatmulVariant, type AutotuneCache } from './matmul-autotune.js';
import { hasSubgroupSize } from './subgroups.js';
import { planWindows, wideLoopsWgsl, windowBindings } from './matmul-windows.js';

const FAMILY = 'matmul';
export const MATMUL_VARIANTS = ['reg', 'sg8', 'tiled'] as const;
export type MatmulVariant = (typeof MATMUL_VARIANTS)[number];
export type Activation = 'none' | 'relu' | 'relu6';
const ACT_CODE: Record<Activation, number> = { none: 0, relu: 1, relu6: 2 };

/** Output tile sizes: reg = 8 rows x (WG*8) columns per workgroup, sg8 = 16 x 8, tiled = 64 x 64. */
export const MATMUL_TILES = {
  reg: { rows: 8, colsPerInvocation: 8, maxWg: 32, minWg: 8 },
  sg8: { rows: 16, cols: 8 },
  tiled: { rows: 64, cols: 64 },
  /** Rows summed by one invocation in the first bias-gradient pass. */
  dbRows: 64,
  dbWg: 64,
} as const;

export interface MatmulShape {
  m: number;
  k: number;
  n: number;
  /** A is stored [K,M] (C = A^T·B). */
  transA?: boolean;
  /** B is stored [N,K] (C = A·B^T). */
  transB?: boolean;
  /** Add bias[N] (needs `bias` in the buffers). */
  bias?: boolean;
  act?: Activation;
  /** C = act(A·B + bias + C): accumulate into the existing C (gradient accumulation). */
  accumulate?: boolean;
}

export interface MatmulBuffers {
  a: GPUBuffer;
  b: GPUBuffer;
  bias?: GPUBuffer;
  c: GPUBuffer;
}

export interface MatmulOptions {
  /** Force a variant; default 'auto' (autotuned once per device, see matmul-autotune.ts). */
  variant?: MatmulVariant | 'auto';
  /** Where autotune results persist (e.g. src/gpu/autotune-cache.ts in Node). */
  cache?: AutotuneCache;
}

export interface Matmul {
  readonly variant: MatmulVariant;
  /** Shapes: A [M,K] (transA: [K,M]), B [K,N] (transB: [N,K]), bias [N] -> C [M,N]. */
  matmul(shape: MatmulShape, buffers: MatmulBuffers): BoundDispatch;
  /** Dense / pointwise gradient of the input. Shapes: dC [M,N], B [K,N] -> dA [M,K]. */
  dA(shape: { m: number; k: number; n: number; accumulate?: boolean }, buffers: { dc: GPUBuffer; b: GPUBuffer; da: GPUBuffer }): BoundDispatch;
  /** Gradient of the weights. Shapes: A [M,K], dC [M,N] -> dB [K,N]. */
  dB(shape: { m: number; k: number; n: number; accumulate?: boolean }, buffers: { a: GPUBuffer; dc: GPUBuffer; db: GPUBuffer }): BoundDispatch;
  /** Bias gradient, two passes when M > 64. Shapes: dC [M,N] -> db [N]. */
  biasGrad(shape: { m: number; n: number; accumulate?: boolean }, buffers: { dc: GPUBuffer; db: GPUBuffer }): BoundDispatch[];
  /**
   * Whether C = A·B with B [K,N] is faster as A·(B^T)^T with B^T made by `transpose` first (the
   * sg8 variant reads A and B^T as vec4s along k when K % 4 == 0). The transpose touches K·N values
   * once, the multiply M·K·N times, so it pays only for M at least K (measured on lavapipe: a
   * whole inference batch 1.1-1.2x faster at 8 and 32 images; at 1 image, without this rule, 0.9x).
   */
  prefersTransposedB(m: number, k: number): boolean;
  /** y = x^T. Shapes: x [rows, cols] -> y [cols, rows]. */
  transpose(shape: { rows: number; cols: number }, buffers: { x: GPUBuffer; y: GPUBuffer }): BoundDispatch;
  /** Pointwise (1x1, stride 1) convolution. Shapes: x [n,h,w,cin], w [1,1,cin,cout], bias [cout] -> y [n,h,w,cout]. */
  pointwise(shape: { n: number; h: number; w: number; cin: number; cout: number; bias?: boolean; act?: Activation }, buffers: { x: GPUBuffer; w: GPUBuffer; bias?: GPUBuffer; y: GPUBuffer }): BoundDispatch;
}

/** Invocations per register-tiled workgroup: enough lanes to cover N, 8..32 (32 measured best on lavapipe). */
export function regWorkgroupSize(n: number): number {
  const { colsPerInvocation, minWg, maxWg } = MATMUL_TILES.reg;
  let wg = minWg;
  while (wg < maxWg && wg * colsPerInvocation < n) wg *= 2;
  return wg;
}

/** Workgroup grid of a bound matmul: flat tile count folded past the per-dimension limit. */
export function matmulGrid(variant: MatmulVariant, m: number, n: number, maxPerDim: number) {
  const rows = variant === 'reg' ? MATMUL_TILES.reg.rows : MATMUL_TILES[variant].rows;
  const cols = variant === 'reg' ? regWorkgroupSize(n) * MATMUL_TILES.reg.colsPerInvocation : MATMUL_TILES[variant].cols;
  const tilesN = Math.ceil(n / cols);
  const tiles = tilesN * Math.ceil(m / rows);
  return { tilesN, workgroups: dispatch1d(tiles, 1, maxPerDim) };
}

/**
 * 8-column groups per subgroup in matmul_sg8_tn (its TN_GROUPS): the widest of 4, 2, 1 that still
 * leaves at least 4 tiles and is not wider than N needs. Wider tiles feed each A load to more
 * multiply-adds (32 x 32 measured 1.4-2.3x over 32 x 8 at PAtt-Lite's pointwise weight gradients),
 * but at conv_pw_1's M32 N64 it would leave 2 tiles for 8 lavapipe threads: there 32 x 32 measured
 * 1.09x over 32 x 8 and 32 x 16 1.38x in one run; with the kernel's loads reordered, 32 x 16 and
 * 32 x 8 are within noise of each other (0.87-1.15x).
 */
export function tnGroups(m: number, n: number): 1 | 2 | 4 {
  const rowTiles = Math.ceil(m / 32);
  if (n > 16 && rowTiles * Math.ceil(n / 32) >= 4) return 4;
  if (n > 8 && rowTiles * Math.ceil(n / 16) >= 4) return 2;
  return 1;
}

/** Tiles of `rows` x `cols` outputs, one workgroup each (matmul_sg8_v4w: 16 x 16, matmul_sg8_tn: 32 x 8G). */
function sgGrid(m: number, n: number, rows: number, cols: number, maxPerDim: number) {
  const tilesN = Math.ceil(n / cols);
  return { tilesN, workgroups: dispatch1d(tilesN * Math.ceil(m / rows), 1, maxPerDim) };
}

function check(label: string, name: string, buffer: GPUBuffer | undefined, floats: number, shape: string): void {
  if (!buffer) throw new RangeError(`${label}: missing buffer ${name} (${shape})`);
  if (buffer.size < floats * 4) {
    throw new RangeError(`${label}: ${name} must hold ${floats} floats (${shape}), its buffer has ${buffer.size / 4}`);
  }
}

function checkDims(label: string, dims: Record<string, number>): void {
  for (const [k, v] of Object.entries(dims)) {
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`${label}: ${k} must be a positive integer, got ${v}`);
  }
}

const ENTRY: Record<MatmulVariant, string> = { reg: 'matmul_reg', sg8: 'matmul_sg8', tiled: 'matmul_tiled' };
// Each variant's module: the shared fragment (params, bindings, epilogue) and its own kernel.
const CODE: Record<MatmulVariant, string> = {
  reg: matmulCommonWgsl + matmulWgsl,
  sg8: 'enable subgroups;\n' + matmulCommonWgsl + subgroupTileWgsl + matmulSgWgsl,
  tiled: matmulCommonWgsl + matmulTiledWgsl,
};

/** Whether the 'sg8' variant runs here: subgroups, and a workgroup of 8 is one 8-lane subgroup. */
export function matmulSg8Supported(device: GPUDevice): Promise<boolean> {
  return hasSubgroupSize(device, 8);
}

/** The variants that run on `device` (what autotune chooses among). */
export async function matmulVariantsFor(device: GPUDevice): Promise<readonly MatmulVariant[]> {
  return (await matmulSg8Supported(device)) ? MATMUL_VARIANTS : MATMUL_VARIANTS.filter((v) => v !== 'sg8');
}

const dummies = new WeakMap<GPUDevice, GPUBuffer>();
function dummy(device: GPUDevice): GPUBuffer {
  let d = dummies.get(device);
  // Persistent: made lazily inside a bind, it must not become a plan's scratch.
  if (!d) dummies.set(device, (d = createStorage(device, 16, `${FAMILY}/no-bias`, true)));
  return d;
}

/**
 * The matmul kernels for `device`. Binding is synchronous (graph ops bind while building a step):
 * each specialisation (transposes, bias, activation, accumulate, workgroup size, tile width)
 * compiles on its first bind through getPipelineSync.
 */
export async function createMatmul(device: GPUDevice, options: MatmulOptions = {}): Promise<Matmul> {
  const maxPerDim = device.limits.maxComputeWorkgroupsPerDimension;
  const choice = options.variant ?? 'auto';
  const available = await matmulVariantsFor(device);
  if (choice === 'sg8' && !available.includes('sg8')) {
    throw new GpuError(`${FAMILY}: variant 'sg8' needs the 'subgroups' feature with 8-lane subgroups; this device has ` +
      (device.features.has('subgroups') ? 'subgroups of another size' : 'no subgroups') + ". Use 'reg', 'tiled' or 'auto'.");
  }
  const variant: MatmulVariant = choice === 'auto'
    ? await pickMatmulVariant(device, (v) => createMatmul(device, { variant: v }), options.cache, available)
    : choice;

  const matmul = (s: MatmulShape, buf: MatmulBuffers): BoundDispatch => {
    // sg8 reads both operands as vec4s along k and writes C as vec4s when A is [M,K], B is [N,K]
    // and K and N are multiples of 4. With 16 x 16 outputs per workgroup (matmul-sg-wide.wgsl)
    // when B's buffer allows UNIFORM usage (B^T then read through 64 KiB uniform windows,
    // matmul-windows.ts) or K and N are both at least 256; see that file for the measurements.
    // With A stored [K,M] and B [K,N] (the weight gradient) it reads both as vec4s along M and N
    // instead (matmul-sg-tn.wgsl).
    const v4 = variant === 'sg8' && !s.transA && s.transB && s.k % 4 === 0 && s.n % 4 === 0;
    const tn = variant === 'sg8' && !!s.transA && !s.transB && s.m % 4 === 0 && s.n % 4 === 0;
    const windows = v4 && s.n > 8 && (buf.b.usage & GPUBufferUsage.UNIFORM) !== 0 ? planWindows(device, s.k, s.n) : undefined;
    const wide = !!windows || (v4 && s.k >= 256 && s.n >= 256);
    const entry = wide ? 'matmul_sg8_v4w' : v4 ? 'matmul_sg8_v4' : tn ? 'matmul_sg8_tn' : ENTRY[variant];
    const label = `${FAMILY}/${entry}${windows ? 'u' : ''}`;
    checkDims(label, { m: s.m, k: s.k, n: s.n });
    const shape = `A ${s.transA ? `[K,M]=[${s.k},${s.m}]` : `[M,K]=[${s.m},${s.k}]`}, ` +
      `B ${s.transB ? `[N,K]=[${s.n},${s.k}]` : `[K,N]=[${s.k},${s.n}]`}, C [M,N]=[${s.m},${s.n}]`;
    check(label, 'A', buf.a, s.m * s.k, shape);
    check(label, 'B', buf.b, s.k * s.n, shape);
    check(label, 'C', buf.c, s.m * s.n, shape);
    if (s.bias) check(label, 'bias', buf.bias, s.n, `bias [N]=[${s.n}]`);
    const constants: Record<string, number | boolean> = {
      TRANS_A: !!s.transA, TRANS_B: !!s.transB, HAS_BIAS: !!s.bias, ACT: ACT_CODE[s.act ?? 'none'], ACCUM: !!s.accumulate,
    };
    if (variant === 'reg') constants.WG = regWorkgroupSize(s.n);
    const groups = tn ? tnGroups(s.m, s.n) : 1;
    if (tn) constants.TN_GROUPS = groups;
    // The wide kernel's module ends with its k loops, one per window (a uniform array's length is
    // part of the code, so a windowed module is specific to K and N).
    const module = wide
      ? { family: `${FAMILY}-wide${windows ? `-k${s.k}-n${s.n}` : ''}`, code: CODE.sg8 + matmulSgWideWgsl + wideLoopsWgsl(s.k, windows) }
      : tn ? { family: `${FAMILY}-tn`, code: CODE.sg8 + matmulSgTnWgsl } : { family: FAMILY, code: CODE[variant] };
    const pipeline = getPipelineSync(device, { ...module, entry, inputs: 3, outputs: 1, constants, uniformTail: windows?.ranges.length });
    const { tilesN, workgroups } = wide ? sgGrid(s.m, s.n, 16, 16, maxPerDim)
      : tn ? sgGrid(s.m, s.n, 32, 8 * groups, maxPerDim) : matmulGrid(variant, s.m, s.n, maxPerDim);
    const params = paramsBuffer(device, label, [['m', 'u32', s.m], ['k', 'u32', s.k], ['n', 'u32', s.n], ['tiles_n', 'u32', tilesN]]);
    const bias = s.bias ? buf.bias! : dummy(device);
    const tail = windows ? windowBindings(buf.b, s.k, windows) : [];
    return { label, pipeline, bindGroup: bindIo(device, label, pipeline, params, [buf.a, buf.b, bias, buf.c, ...tail]), workgroups };
  };

  const dbPass = (entry: string, m: number, n: number, rows: number, chunks: number, accumulate: boolean,
    input: GPUBuffer, output: GPUBuffer, items: number): BoundDispatch => {
    const label = `${FAMILY}/${entry}`;
    const constants = { DB_WG: MATMUL_TILES.dbWg, DB_ACCUM: accumulate };
    const pipeline = getPipelineSync(device, { family: FAMILY, entry, code: CODE.reg, inputs: 1, outputs: 1, constants });
    const params = paramsBuffer(device, label, [['m', 'u32', m], ['n', 'u32', n], ['rows', 'u32', rows], ['chunks', 'u32', chunks]]);
    return {
      label, pipeline,
      bindGroup: bindIo(device, label, pipeline, params, [input, output]),
      workgroups: dispatch1d(items, MATMUL_TILES.dbWg, maxPerDim),
    };
  };

  const biasGrad: Matmul['biasGrad'] = ({ m, n, accumulate = false }, { dc, db }) => {
    const label = `${FAMILY}/matmul_db_partial`;
    checkDims(label, { m, n });
    check(label, 'dC', dc, m * n, `dC [M,N]=[${m},${n}]`);
    check(label, 'db', db, n, `db [N]=[${n}]`);
    const rows = MATMUL_TILES.dbRows;
    const chunks = Math.ceil(m / rows);
    if (chunks === 1) return [dbPass('matmul_db_partial', m, n, rows, 1, accumulate, dc, db, n)];
    // Scratch for the partial sums: allocated once here, at bind time.
    const partial = createStorage(device, chunks * n * 4, `${FAMILY}/db-partial`);
    return [
      dbPass('matmul_db_partial', m, n, rows, chunks, false, dc, partial, chunks * n),
      dbPass('matmul_db_sum', m, n, rows, chunks, accumulate, partial, db, n),
    ];
  };

  const transpose: Matmul['transpose'] = ({ rows, cols }, { x, y }) => {
    const label = `${FAMILY}/matmul_transpose`;
    checkDims(label, { rows, cols });
    check(label, 'x', x, rows * cols, `x [${rows},${cols}]`);
    check(label, 'y', y, rows * cols, `y [${cols},${rows}]`);
    return dbPass('matmul_transpose', rows, cols, 0, 0, false, x, y, rows * cols);
  };

  return {
    variant,
    matmul,
    prefersTransposedB: (m, k) => variant === 'sg8' && k % 4 === 0 && m >= k,
    transpose,
    dA: ({ m, k, n, accumulate }, { dc, b, da }) =>
      matmul({ m, k: n, n: k, transB: true, accumulate }, { a: dc, b, c: da }),
    dB: ({ m, k, n, accumulate }, { a, dc, db }) =>
      matmul({ m: k, k: m, n, transA: true, accumulate }, { a, b: dc, c: db }),
    biasGrad,
    pointwise: ({ n, h, w, cin, cout, bias, act }, { x, w: wt, bias: bb, y }) =>
      matmul({ m: n * h * w, k: cin, n: cout, bias, act }, { a: x, b: wt, bias: bb, c: y }),
  };
}
