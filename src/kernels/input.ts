// The fused input stage (DESIGN §2): uint8 RGB images -> float NHWC for MobileNet.
// WGSL: src/wgsl/input.wgsl. Keras order in the authors' notebook: Resizing(224, 224) ->
// RandomFlip('horizontal') -> RandomContrast(0.3) -> mobilenet.preprocess_input.
//
// Inference: one dispatch (resize, x / 127.5 - 1). Training: resize + random flip, per-image
// channel means (one workgroup per image) and contrast factor, then contrast + clip [0, 255] +
// preprocess in place. The random choices come from a counter-based hash of (seed, step, image)
// read from a 2-u32 GPU buffer [seed, step] (`rngState`); `advance` bumps the step on the GPU and
// `augmentation()` reproduces the flip and factor on the CPU.

import { inputWgsl } from '../wgsl/index.js';
import { dispatch1d } from './dispatch.js';
import { bindIo, createStorage, getPipeline, getPipelineSync, GpuError, paramsBuffer, type BoundDispatch } from './runtime.js';

const FAMILY = 'input';
/** Override constants (also passed to the pipelines): element-wise WG, per-image reduction RWG. */
export const INPUT_CONSTANTS = { WG: 64, RWG: 256 } as const;
/** Keras RandomContrast(0.3): factor uniform in [1 - 0.3, 1 + 0.3]. */
export const DEFAULT_CONTRAST = 0.3;

/** Images of one batch share a source size: src [n, hin, win, 3] uint8 -> y [n, hout, wout, 3]. */
export interface InputShape {
  readonly n: number;
  readonly hin: number;
  readonly win: number;
  readonly hout: number;
  readonly wout: number;
}

/** Packs uint8 RGB bytes 4 per u32 (little-endian), zero-padded to a whole word. */
export function packBytes(bytes: Uint8Array): Uint32Array {
  const out = new Uint32Array(Math.max(1, Math.ceil(bytes.length / 4)));
  new Uint8Array(out.buffer).set(bytes);
  return out;
}

/** The GPU rng buffer's contents: [seed, step] as u32. */
export function rngState(seed: number, step = 0): Uint32Array {
  return Uint32Array.of(seed >>> 0, step >>> 0);
}

function mix32(x: number): number {
  let h = x >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d) >>> 0;
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}

/** The shader's uniform draw in [0, 1) for (seed, step, image, stream), bit for bit. */
export function unitDraw(seed: number, step: number, image: number, stream: number): number {
  const h = mix32((mix32((mix32((mix32(seed) ^ step) >>> 0) ^ image) >>> 0) ^ stream) >>> 0);
  return (h >>> 8) / 16777216;
}

/**
 * The flip and contrast factor the GPU picks for `image` at (seed, step): what tests and a CPU
 * pipeline need to reproduce a training batch. factor is rounded as float32 arithmetic does.
 */
export function augmentation(seed: number, step: number, image: number, contrast = DEFAULT_CONTRAST): { flip: boolean; factor: number } {
  const f = Math.fround;
  const u = unitDraw(seed, step, image, 1);
  const lower = f(contrast);
  return { flip: unitDraw(seed, step, image, 0) < 0.5, factor: f(f(1 - lower) + f(f(lower + lower) * u)) };
}

/** A training input plan: dispatches and the per-image stats it owns ([n, 4]: means, factor). */
export interface BoundInput {
  readonly dispatches: readonly BoundDispatch[];
  readonly stats: GPUBuffer;
}

export interface Input {
  /** Resize + preprocess. Shapes: src (n*hin*win*3 bytes, packed) -> y [n, hout, wout, 3]. */
  inference(shape: InputShape, src: GPUBuffer, y: GPUBuffer): BoundDispatch;
  /** Resize, random flip, RandomContrast, clip, preprocess; randomness from rng = [seed, step]. */
  training(shape: InputShape, src: GPUBuffer, rng: GPUBuffer, y: GPUBuffer, opts?: { contrast?: number }): BoundInput;
  /** rng[1] += 1 (next step's randomness). Shapes: rng (2) u32. */
  advance(rng: GPUBuffer): BoundDispatch;
}

function check(s: InputShape, src: GPUBuffer, y: GPUBuffer, what: string): void {
  for (const k of ['n', 'hin', 'win', 'hout', 'wout'] as const) {
    if (!Number.isInteger(s[k]) || s[k] < 1) throw new RangeError(`${FAMILY}/${what}: ${k} must be a positive integer, got ${s[k]}`);
  }
  const bytes = s.n * s.hin * s.win * 3;
  if (src.size < bytes) throw new GpuError(`${FAMILY}/${what}: src must hold [${s.n}, ${s.hin}, ${s.win}, 3] = ${bytes} bytes, got ${src.size}`, FAMILY);
  const floats = s.n * s.hout * s.wout * 3;
  if (y.size < floats * 4) throw new GpuError(`${FAMILY}/${what}: y must hold [${s.n}, ${s.hout}, ${s.wout}, 3] = ${floats} floats, got ${y.size / 4}`, FAMILY);
  if (s.n * s.hout * s.wout * 3 >= 2 ** 32 || s.n * s.hin * s.win * 3 >= 2 ** 32) {
    throw new RangeError(`${FAMILY}/${what}: batch too large for 32-bit indices`);
  }
}

/** Compiles the input-stage pipelines for `device` (cached per device). */
export async function createInput(device: GPUDevice): Promise<Input> {
  const { WG, RWG } = INPUT_CONSTANTS;
  const pipe = (entry: string, inputs: number, outputs: number, constants: Record<string, number | boolean>) =>
    getPipeline(device, { family: FAMILY, entry, code: inputWgsl, inputs, outputs, constants });
  const [resize, resizeAug, stats, contrast, advance] = await Promise.all([
    pipe('input_resize', 2, 1, { WG, AUGMENT: false }),
    pipe('input_resize', 2, 1, { WG, AUGMENT: true }),
    pipe('input_stats', 2, 1, { RWG }),
    pipe('input_contrast', 1, 1, { WG }),
    pipe('input_advance', 0, 1, {}),
  ]);
  const maxDim = device.limits.maxComputeWorkgroupsPerDimension;
  const sameSize = (s: InputShape) => s.hin === s.hout && s.win === s.wout;
  // Same size in and out: the identity specialisation (compiled on first use).
  const resizeFor = (s: InputShape, augment: boolean): GPUComputePipeline =>
    sameSize(s)
      ? getPipelineSync(device, { family: FAMILY, entry: 'input_resize', code: inputWgsl, inputs: 2, outputs: 1, constants: { WG, AUGMENT: augment, IDENTITY: true } })
      : augment ? resizeAug : resize;

  const bind = (entry: string, pipeline: GPUComputePipeline, s: InputShape, c: number, buffers: GPUBuffer[], workgroups: [number, number, number]): BoundDispatch => {
    const label = `${FAMILY}/${entry}`;
    const params = paramsBuffer(device, label, [
      ['n', 'u32', s.n], ['hin', 'u32', s.hin], ['win', 'u32', s.win], ['hout', 'u32', s.hout], ['wout', 'u32', s.wout],
      ['lower', 'f32', c], ['upper', 'f32', c], ['pad0', 'u32', 0],
    ]);
    return { label, pipeline, bindGroup: bindIo(device, label, pipeline, params, buffers), workgroups };
  };

  return {
    inference(s, src, y) {
      check(s, src, y, 'inference');
      const bytes = s.n * s.hin * s.win * 3;
      if (sameSize(s) && bytes % 4 === 0) {
        const pipeline = getPipelineSync(device, { family: FAMILY, entry: 'input_bytes', code: inputWgsl, inputs: 2, outputs: 1, constants: { WG } });
        return bind('input_bytes', pipeline, s, 0, [src, src, y], dispatch1d(bytes / 4, WG, maxDim));
      }
      return bind('input_resize', resizeFor(s, false), s, 0, [src, src, y], dispatch1d(s.n * s.hout * s.wout, WG, maxDim));
    },
    training(s, src, rng, y, opts = {}) {
      check(s, src, y, 'training');
      const c = opts.contrast ?? DEFAULT_CONTRAST;
      if (!(c >= 0 && c <= 1)) throw new RangeError(`${FAMILY}/training: contrast factor must be in [0, 1], got ${c}`);
      if (rng.size < 8) throw new GpuError(`${FAMILY}/training: rng must hold [seed, step] (2 u32), got ${rng.size} bytes`, FAMILY);
      if (s.n > maxDim) throw new RangeError(`${FAMILY}/training: at most ${maxDim} images per batch, got ${s.n}`);
      const st = createStorage(device, s.n * 16, `${FAMILY}/training/stats`);
      return {
        stats: st,
        dispatches: [
          bind('input_resize', resizeFor(s, true), s, c, [src, rng, y], dispatch1d(s.n * s.hout * s.wout, WG, maxDim)),
          bind('input_stats', stats, s, c, [y, rng, st], [s.n, 1, 1]),
          bind('input_contrast', contrast, s, c, [st, y], dispatch1d(s.n * s.hout * s.wout * 3, WG, maxDim)),
        ],
      };
    },
    advance(rng) {
      const label = `${FAMILY}/input_advance`;
      const params = paramsBuffer(device, label, [['n', 'u32', 0]]);
      return { label, pipeline: advance, bindGroup: bindIo(device, label, advance, params, [rng]), workgroups: [1, 1, 1] };
    },
  };
}
