// Pretrained MobileNetV1 weights from the face detector shipped by `@vladmandic/face-api`
// (`model/ssd_mobilenetv1_model-weights_manifest.json` + `ssd_mobilenetv1_model.bin`), renamed
// to our Keras names (weight-specs.ts) so the PAtt-Lite backbone can start from a network that
// was trained on faces.
//
// The file format is the TF.js weights manifest (checked against tfjs-core io_utils.js
// `decodeWeight` and weights_loader `weightsLoaderFactory`): an array of groups, each with `paths`
// (shards, concatenated in order) and `weights` [{name, shape, dtype, quantization?}]; the shard
// bytes are the weights back to back in manifest order, each taking size * bytes-per-value of its
// *stored* type (the quantization dtype when there is one: uint8 1, uint16 2, float16 2; else
// float32/int32 4). Dequantization is `q * scale + min` (rounded for int32 weights). This file
// also holds SSD head weights and int32 constants; they are skipped but counted in the offsets.
//
// How face-api runs this backbone (src/ssdMobilenetv1/mobileNetV1.ts, pointwiseConvLayer.ts):
// - Conv2d_0 (3x3, stride 2) and every Conv2d_i_pointwise: `conv2d(x, weights, s, 'same')`, then
//   `+ convolution_bn_offset` (BatchNorm folded into the kernel), then clipByValue(0, 6) = ReLU6.
// - Conv2d_i_depthwise: `depthwiseConv2d(x, w, s, 'same')`, `tf.batchNorm(x, moving_mean,
//   moving_variance, beta, gamma, 0.0010000000474974513)`, ReLU6. That epsilon is float32(1e-3),
//   the very value our BatchNormalization (epsilon 1e-3) adds in float32 on the GPU, so the
//   variances need no adjustment (the code below would shift them by the difference otherwise).
// - Stride 2 in the depthwise convs of blocks 2, 4, 6, 12: the same blocks as Keras.
// - Input: x / 127.5 - 1 (SsdMobilenetv1.ts), as Keras' MobileNet preprocess_input.
//
// Mapping: conv1/kernel and conv_pw_i/kernel are the folded kernels; their BatchNorms become the
// identity plus the offset: gamma 1, beta = offset, moving_mean 0, moving_variance = f32(1 - 1e-3)
// (f32(1 - 1e-3) + f32(1e-3) is exactly 1 in float32, so our BN computes x + offset).
// conv_dw_i/depthwise_kernel and conv_dw_i_bn are copied.
//
// Padding. TF 'SAME' with stride 2 and kernel 3 pads (0, 1) on an even side, like Keras'
// ZeroPadding2D((0,1),(0,1)) + 'valid', but (1, 1) on an odd side, where Keras also yields one row
// and column fewer. conv1 is 'same' in both, so it never differs. The two networks agree exactly
// iff the input to each stride-2 depthwise block (2, 4, 6, and 12 when kept) is even in both
// spatial sides: with s = ceil(H / 2) after conv1, s must be a multiple of 2^k where k is the
// number of stride-2 blocks kept: k = 3 for PAtt-Lite (lastBlock 6..11): H mod 16 in {0, 15};
// k = 4 at full depth: H mod 32 in {0, 31}. 224 and 96 qualify. See faceApiPaddingMatches.

import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { halfToFloat32 } from './float16.js';
import { MOBILENET_STRIDE2_BLOCKS, mobileNetSpecs, specKey } from './weight-specs.js';
import type { PattLite } from '../model/patt-lite.js';

export const FACE_API_MANIFEST = 'ssd_mobilenetv1_model-weights_manifest.json';
/** face-api's depthwise BatchNorm epsilon (float32(1e-3), as written in its mobileNetV1.ts). */
export const FACE_API_BN_EPSILON = 0.0010000000474974513;
/** Our (Keras) BatchNormalization epsilon. */
const OUR_BN_EPSILON = 1e-3;

export interface NamedWeight {
  shape: number[];
  data: Float32Array;
}

export interface TfjsWeightEntry {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: { dtype: string; scale?: number; min?: number };
}

export interface TfjsWeightGroup {
  paths: string[];
  weights: TfjsWeightEntry[];
}

export interface FaceApiOptions {
  /** Folder holding the manifest and its .bin (default: the installed @vladmandic/face-api/model). */
  modelDir?: string;
  /** Keep blocks 1..lastBlock (default 13). */
  lastBlock?: number;
  /** Stop after conv_dw_<lastBlock>_bn (PAtt-Lite: lastBlock 9 with this set). */
  depthwiseOnlyLast?: boolean;
}

/** The installed face-api model folder. */
export function faceApiModelDir(): string {
  const require = createRequire(import.meta.url);
  let pkg: string;
  try {
    pkg = require.resolve('@vladmandic/face-api/package.json');
  } catch {
    throw new Error('face-api weights: package @vladmandic/face-api is not installed; pass modelDir');
  }
  return join(dirname(pkg), 'model');
}

const STORED_BYTES: Record<string, number> = { uint8: 1, uint16: 2, float16: 2, float32: 4, int32: 4 };

function elements(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function parseManifest(file: string, text: string): TfjsWeightGroup[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new Error(`face-api manifest ${file} is not valid JSON: ${(e as Error).message}`);
  }
  const bad = (why: string): never => {
    throw new Error(`face-api manifest ${file} is malformed: ${why}`);
  };
  if (!Array.isArray(json)) bad('expected an array of weight groups');
  const groups = json as TfjsWeightGroup[];
  groups.forEach((g, i) => {
    if (!g || !Array.isArray(g.paths) || !g.paths.every((p) => typeof p === 'string') || !Array.isArray(g.weights)) {
      bad(`group ${i} needs string 'paths' and a 'weights' array`);
    }
    for (const w of g.weights) {
      if (!w || typeof w.name !== 'string' || !Array.isArray(w.shape) || !w.shape.every((d) => Number.isInteger(d) && d >= 0)) {
        bad(`group ${i}: weight ${JSON.stringify(w?.name)} needs a name and an integer shape`);
      }
      const stored = w.quantization ? w.quantization.dtype : w.dtype;
      if (!(stored in STORED_BYTES)) bad(`weight ${w.name}: unsupported stored dtype ${stored}`);
      if (w.dtype !== 'float32' && w.dtype !== 'int32') bad(`weight ${w.name}: unsupported dtype ${w.dtype}`);
      const q = w.quantization;
      if (q && (q.dtype === 'uint8' || q.dtype === 'uint16') && !(Number.isFinite(q.scale) && Number.isFinite(q.min))) {
        bad(`weight ${w.name}: ${q.dtype} quantization needs numeric scale and min`);
      }
      if (q?.dtype === 'float16' && w.dtype !== 'float32') bad(`weight ${w.name}: float16 quantization of ${w.dtype}`);
    }
  });
  return groups;
}

function decode(w: TfjsWeightEntry, bytes: Uint8Array): Float32Array {
  const n = elements(w.shape);
  const q = w.quantization;
  const out = new Float32Array(n);
  if (q?.dtype === 'uint8' || q?.dtype === 'uint16') {
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const { scale, min } = q as { scale: number; min: number };
    const round = w.dtype === 'int32';
    for (let i = 0; i < n; i++) {
      const v = (q.dtype === 'uint8' ? bytes[i] : dv.getUint16(2 * i, true)) * scale + min;
      out[i] = round ? Math.round(v) : v;
    }
    return out;
  }
  if (q?.dtype === 'float16') return halfToFloat32(bytes);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < n; i++) out[i] = w.dtype === 'int32' ? dv.getInt32(4 * i, true) : dv.getFloat32(4 * i, true);
  return out;
}

/**
 * Every weight of a TF.js weights manifest (or those `keep` selects), by its TF name, as float32
 * (int32 constants are converted). Errors name the file that is missing or inconsistent.
 */
export async function readTfjsWeights(
  manifestPath: string,
  keep: (name: string) => boolean = () => true,
): Promise<Map<string, NamedWeight>> {
  let text: string;
  try {
    text = await readFile(manifestPath, 'utf8');
  } catch (e) {
    throw new Error(`face-api manifest ${manifestPath} cannot be read: ${(e as Error).message}`);
  }
  const groups = parseManifest(manifestPath, text);
  const dir = dirname(manifestPath);
  const out = new Map<string, NamedWeight>();
  for (const g of groups) {
    const shards: Uint8Array[] = [];
    for (const p of g.paths) {
      const file = join(dir, p);
      try {
        shards.push(new Uint8Array(await readFile(file)));
      } catch (e) {
        throw new Error(`face-api weights ${file} (listed in ${manifestPath}) cannot be read: ${(e as Error).message}`);
      }
    }
    const total = shards.reduce((a, s) => a + s.length, 0);
    const bin = shards.length === 1 ? shards[0] : new Uint8Array(total);
    if (shards.length !== 1) {
      let o = 0;
      for (const s of shards) { bin.set(s, o); o += s.length; }
    }
    const files = g.paths.map((p) => join(dir, p)).join(' + ');
    const expected = g.weights.reduce((a, w) => a + elements(w.shape) * STORED_BYTES[w.quantization?.dtype ?? w.dtype], 0);
    if (expected !== total) {
      throw new Error(`face-api weights ${files}: ${total} bytes, but ${manifestPath} describes ${expected}`);
    }
    let offset = 0;
    for (const w of g.weights) {
      const size = elements(w.shape) * STORED_BYTES[w.quantization?.dtype ?? w.dtype];
      if (keep(w.name)) {
        if (out.has(w.name)) throw new Error(`face-api manifest ${manifestPath} lists ${w.name} twice`);
        out.set(w.name, { shape: [...w.shape], data: decode(w, bin.subarray(offset, offset + size)) });
      }
      offset += size;
    }
  }
  return out;
}

/**
 * face-api's MobileNetV1 weights under our Keras names (conv1, conv_dw_N, conv_pw_N and their
 * `_bn`), for blocks 1..lastBlock, in the order of mobileNetSpecs. See the file comment for the
 * BatchNorm mapping.
 */
export async function loadFaceApiMobileNet(opts: FaceApiOptions = {}): Promise<Map<string, NamedWeight>> {
  const lastBlock = opts.lastBlock ?? 13;
  const specs = mobileNetSpecs({ alpha: 1.0, lastBlock, depthwiseOnlyLast: opts.depthwiseOnlyLast });
  const manifest = join(opts.modelDir ?? faceApiModelDir(), FACE_API_MANIFEST);
  const raw = await readTfjsWeights(manifest, (n) => n.startsWith('MobilenetV1/'));
  const take = (name: string, shape: readonly number[]): Float32Array => {
    const w = raw.get(name);
    if (!w) throw new Error(`face-api manifest ${manifest} has no weight ${name}`);
    if (w.shape.join(',') !== shape.join(',')) {
      throw new Error(`face-api weight ${name} in ${manifest} has shape [${w.shape}], expected [${shape}]`);
    }
    return w.data;
  };
  const specShape = new Map(specs.map((s) => [specKey(s), s.shape]));
  const out = new Map<string, NamedWeight>();
  const put = (key: string, data: Float32Array) => {
    const shape = specShape.get(key);
    if (!shape) throw new Error(`internal: ${key} is not a MobileNet weight`);
    out.set(key, { shape: [...shape], data });
  };
  const folded = (ours: string, tf: string) => {
    const kernel = specShape.get(`${ours}/kernel`)!;
    put(`${ours}/kernel`, take(`${tf}/weights`, kernel));
    const c = kernel[3];
    put(`${ours}_bn/gamma`, new Float32Array(c).fill(1));
    put(`${ours}_bn/beta`, take(`${tf}/convolution_bn_offset`, [c]));
    put(`${ours}_bn/moving_mean`, new Float32Array(c));
    put(`${ours}_bn/moving_variance`, new Float32Array(c).fill(1 - OUR_BN_EPSILON));
  };
  folded('conv1', 'MobilenetV1/Conv2d_0_pointwise');
  // var + eps must match: shift by the epsilon difference as float32 sees it (0 for face-api).
  const epsShift = Math.fround(FACE_API_BN_EPSILON) - Math.fround(OUR_BN_EPSILON);
  for (let b = 1; b <= lastBlock; b++) {
    const tf = `MobilenetV1/Conv2d_${b}_depthwise`;
    const kernel = specShape.get(`conv_dw_${b}/depthwise_kernel`)!;
    const c = kernel[2];
    put(`conv_dw_${b}/depthwise_kernel`, take(`${tf}/depthwise_weights`, kernel));
    put(`conv_dw_${b}_bn/gamma`, take(`${tf}/BatchNorm/gamma`, [c]));
    put(`conv_dw_${b}_bn/beta`, take(`${tf}/BatchNorm/beta`, [c]));
    put(`conv_dw_${b}_bn/moving_mean`, take(`${tf}/BatchNorm/moving_mean`, [c]));
    const variance = take(`${tf}/BatchNorm/moving_variance`, [c]);
    put(`conv_dw_${b}_bn/moving_variance`, epsShift === 0 ? variance : variance.map((v) => v + epsShift));
    if (b === lastBlock && opts.depthwiseOnlyLast) break;
    folded(`conv_pw_${b}`, `MobilenetV1/Conv2d_${b}_pointwise`);
  }
  // Same names, same order as the Keras weight list.
  return new Map(specs.map((s) => [specKey(s), out.get(specKey(s))!]));
}

/**
 * Whether face-api's TF 'SAME' padding and our Keras padding give the same network for an
 * h x w input (see the file comment): ceil(side / 2) must be a multiple of 2^k, k = the number of
 * stride-2 depthwise blocks among 1..lastBlock.
 */
export function faceApiPaddingMatches(h: number, w = h, lastBlock = 13): boolean {
  const k = MOBILENET_STRIDE2_BLOCKS.filter((b) => b <= lastBlock).length;
  return [h, w].every((s) => Math.ceil(s / 2) % 2 ** k === 0);
}

export interface LoadBackboneOptions {
  modelDir?: string;
  /** Called when the input size makes TF and Keras padding differ (default console.warn). */
  onWarning?: (message: string) => void;
}

/**
 * Writes face-api's pretrained MobileNetV1 into every backbone parameter of `model` and returns
 * how many were written. Throws if a backbone parameter has no face-api counterpart.
 */
export async function loadFaceApiBackbone(model: PattLite, opts: LoadBackboneOptions = {}): Promise<number> {
  const weights = await loadFaceApiMobileNet({ modelDir: opts.modelDir, lastBlock: 13 });
  const layers = new Set(model.backbone.flat().map((l) => l.name));
  const targets = model.params.all().filter((p) => layers.has(p.layer));
  const missing = targets.filter((p) => !weights.has(p.name)).map((p) => p.name);
  if (missing.length) throw new Error(`face-api MobileNetV1 has no weights for ${missing.join(', ')}`);
  for (const p of targets) {
    const w = weights.get(p.name)!;
    if (w.shape.join(',') !== p.tensor.shape.join(',')) {
      throw new Error(`face-api weight for ${p.name} has shape [${w.shape}], the model wants [${p.tensor.shape}]`);
    }
  }
  for (const p of targets) model.engine.write(p.tensor, weights.get(p.name)!.data);
  let lastBlock = 0;
  for (const name of layers) {
    const m = /^conv_dw_(\d+)$/.exec(name);
    if (m) lastBlock = Math.max(lastBlock, Number(m[1]));
  }
  const size = model.config.inputSize;
  if (!faceApiPaddingMatches(size, size, lastBlock)) {
    const k = MOBILENET_STRIDE2_BLOCKS.filter((b) => b <= lastBlock).length;
    (opts.onWarning ?? console.warn)(
      `face-api backbone: input ${size}x${size} gives odd sides at a stride-2 block, where face-api pads TF 'SAME' ` +
        `(1,1) and this model pads Keras (0,1); the features differ from face-api's. Use a size with ` +
        `ceil(size/2) a multiple of ${2 ** k}.`,
    );
  }
  return targets.length;
}
