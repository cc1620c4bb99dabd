// Facial expression recognition in the page: the whole engine (src/graph, src/model) runs on a
// GPUDevice from navigator.gpu. Loads a PAtt-Lite checkpoint (safetensors) with fetch, builds the
// model and a batch-1 predictor, then classifies images: ?image=URL at load, a file picked in the
// input, or a file dropped on the page. Images are decoded by the browser (createImageBitmap with
// no colour-space conversion, then a canvas' getImageData) into packed RGB bytes, the predictor's
// input; resizing and preprocessing happen on the GPU as in Node.
//
// URL parameters: model (checkpoint URL, default model.safetensors beside the page), image (an
// image URL to classify at load), matmul (reg | tiled | auto: the matrix-multiply variant).
// Each finished classification is left in `window.__result` (test/browser/classify.test.ts);
// `window.__ready` (see ClassifyWindow) says the model has loaded (or why it could not).

import { Engine } from '../../../src/graph/engine.js';
import { createPredictor, type Predictor } from '../../../src/model/inference.js';
import { instantiateCheckpoint, readCheckpointBytes } from '../../../src/model/checkpoint-bytes.js';
import type { AutotuneCache } from '../../../src/kernels/matmul-autotune.js';
import { MATMUL_VARIANTS, type MatmulVariant } from '../../../src/kernels/matmul.js';
import { rgbaToRgb, rgbChecksum } from './rgb.js';

/** The predictor's input: packed RGB, 3 bytes per pixel, row-major. */
type RgbImage = Parameters<Predictor['predict']>[0][number];

export interface ClassifyResult {
  ok: boolean;
  error?: string;
  /** Softmax probabilities, one per class, in classNames order. */
  probs?: number[];
  classNames?: string[];
  /** The most probable class. */
  label?: string;
  /** predict() for this image: upload, GPU resize, forward, read-back (the first also records the plan). */
  ms?: number;
  /** Where the image came from (URL or file name), its size and the FNV-1a of its RGB bytes. */
  image?: { source: string; width: number; height: number; rgbChecksum: string; decodeMs: number };
}

export interface ClassifyReady {
  ok: boolean;
  error?: string;
  adapter?: string;
  model?: string;
  classes?: number;
  inputSize?: number;
  attention?: string;
  matmul?: MatmulVariant;
  /** Engine.create (kernel compilation, matmul autotune). */
  engineMs?: number;
  /** fetch of the checkpoint (runs while the kernels compile). */
  downloadMs?: number;
  /** Checkpoint decode and checks, weight upload, folding the backbone for the predictor. */
  modelMs?: number;
  warnings?: string[];
}

/**
 * What the page leaves on `window` for automation. Not a global `Window` augmentation: the kernel
 * page declares `__result` with its own type, and the two pages are type-checked together.
 */
export interface ClassifyWindow {
  __result?: ClassifyResult;
  __ready?: ClassifyReady;
}
const published = window as unknown as ClassifyWindow;

const query = new URLSearchParams(location.search);
const $ = (id: string) => document.getElementById(id)!;

function setStatus(text: string, state: 'busy' | 'pass' | 'fail'): void {
  const status = $('status');
  status.textContent = text;
  status.className = state === 'busy' ? '' : state;
}

function showDetails(rows: [string, string][]): void {
  $('details').replaceChildren(...rows.map(([k, v]) => {
    const tr = document.createElement('tr');
    const th = document.createElement('th');
    const td = document.createElement('td');
    th.textContent = k;
    td.textContent = v;
    tr.append(th, td);
    return tr;
  }));
}

function showBars(classNames: readonly string[], probs: readonly number[]): void {
  let best = 0;
  for (let i = 1; i < probs.length; i++) if (probs[i] > probs[best]) best = i;
  $('bars').replaceChildren(...classNames.map((name, i) => {
    const row = document.createElement('div');
    row.className = i === best ? 'bar top' : 'bar';
    const label = document.createElement('span');
    label.className = 'name';
    label.textContent = name;
    const track = document.createElement('div');
    track.className = 'track';
    const fill = document.createElement('div');
    fill.className = 'fill';
    fill.style.width = `${(100 * probs[i]).toFixed(2)}%`;
    track.append(fill);
    const pct = document.createElement('span');
    pct.className = 'pct';
    pct.textContent = `${(100 * probs[i]).toFixed(1)}%`;
    row.append(label, track, pct);
    return row;
  }));
}

const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));

async function getDevice(): Promise<{ device: GPUDevice; adapter: string }> {
  if (!navigator.gpu) {
    throw new Error('navigator.gpu is missing: this browser has no WebGPU (headless Chromium without a GPU ' +
      'needs --enable-unsafe-webgpu --enable-unsafe-swiftshader)');
  }
  const adapter = await navigator.gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) throw new Error('navigator.gpu.requestAdapter() found no adapter');
  // The limits src/gpu/device.ts asks Dawn for: large activations and the kernels' workgroups.
  const lim = adapter.limits;
  const device = await adapter.requestDevice({
    label: 'patt-lite/classify',
    requiredLimits: {
      maxStorageBufferBindingSize: lim.maxStorageBufferBindingSize,
      maxBufferSize: lim.maxBufferSize,
      maxComputeWorkgroupStorageSize: lim.maxComputeWorkgroupStorageSize,
      maxComputeInvocationsPerWorkgroup: lim.maxComputeInvocationsPerWorkgroup,
      maxComputeWorkgroupSizeX: lim.maxComputeWorkgroupSizeX,
      maxComputeWorkgroupSizeY: lim.maxComputeWorkgroupSizeY,
      maxStorageBuffersPerShaderStage: lim.maxStorageBuffersPerShaderStage,
    },
  });
  const info = adapter.info;
  return { device, adapter: [info.vendor, info.architecture, info.description].filter(Boolean).join(' / ') || 'unknown' };
}

/** Remembers the autotuned matmul variant per adapter across page loads. */
const localStorageCache: AutotuneCache = {
  get: (key) => localStorage.getItem(`patt-lite/${key}`) ?? undefined,
  set: (key, value) => localStorage.setItem(`patt-lite/${key}`, value),
};

async function fetchBytes(url: string, what: string): Promise<Uint8Array> {
  let res: Response;
  try {
    res = await fetch(url);
  } catch (err) {
    throw new Error(`${what} ${url}: fetch failed (${errorText(err)})`);
  }
  if (!res.ok) throw new Error(`${what} ${url}: HTTP ${res.status} ${res.statusText}`);
  return new Uint8Array(await res.arrayBuffer());
}

/**
 * Decodes an image file to packed RGB. No colour management (colorSpaceConversion 'none') and no
 * premultiplication, so an opaque PNG gives exactly its stored bytes, as the Node decoder does.
 */
async function decodeImage(blob: Blob): Promise<RgbImage> {
  const bitmap = await createImageBitmap(blob, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  try {
    const { width, height } = bitmap;
    const canvas = new OffscreenCanvas(width, height);
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    if (!ctx) throw new Error('no 2D canvas context to read the image pixels');
    ctx.drawImage(bitmap, 0, 0);
    const rgba = ctx.getImageData(0, 0, width, height).data;
    // The preview shows the decoded pixels themselves.
    const preview = $('preview') as HTMLCanvasElement;
    preview.width = width;
    preview.height = height;
    preview.getContext('2d')!.putImageData(new ImageData(rgba, width, height), 0, 0);
    preview.hidden = false;
    return { width, height, data: rgbaToRgb(rgba, width, height) };
  } finally {
    bitmap.close();
  }
}

interface Loaded {
  predictor: Predictor;
  ready: ClassifyReady;
}

async function load(ready: ClassifyReady): Promise<Loaded> {
  const matmulParam = query.get('matmul') ?? 'auto';
  if (matmulParam !== 'auto' && !(MATMUL_VARIANTS as readonly string[]).includes(matmulParam)) {
    throw new Error(`URL parameter matmul=${matmulParam}: use auto, ${MATMUL_VARIANTS.join(', ')}`);
  }
  const { device, adapter } = await getDevice();
  ready.adapter = adapter;
  device.lost.then((info) => {
    if (info.reason !== 'destroyed') setStatus(`the GPU device was lost: ${info.message}`, 'fail');
  });
  // The checkpoint downloads while the kernels compile.
  const modelUrl = new URL(query.get('model') ?? 'model.safetensors', location.href).href;
  ready.model = modelUrl;
  const t1 = performance.now();
  const download = fetchBytes(modelUrl, 'model').then((bytes) => {
    ready.downloadMs = performance.now() - t1;
    return bytes;
  });
  download.catch(() => undefined); // reported when awaited below
  setStatus('compiling the kernels…', 'busy');
  const t0 = performance.now();
  const engine = await Engine.create(device, {
    matmulVariant: matmulParam as MatmulVariant | 'auto', autotuneCache: localStorageCache,
  });
  ready.engineMs = performance.now() - t0;
  ready.matmul = engine.kernels.matmul.variant;

  setStatus(`loading ${modelUrl}…`, 'busy');
  const bytes = await download;
  const t2 = performance.now();
  const checkpoint = readCheckpointBytes(bytes, modelUrl);
  device.pushErrorScope('validation');
  let predictor: Predictor;
  try {
    predictor = await createPredictor(instantiateCheckpoint(engine, checkpoint), { batchSize: 1 });
  } finally {
    const scoped = await device.popErrorScope();
    if (scoped) throw new Error(`WebGPU validation error while loading the model: ${scoped.message}`);
  }
  ready.modelMs = performance.now() - t2;
  Object.assign(ready, {
    classes: checkpoint.config.classes,
    inputSize: checkpoint.config.inputSize,
    attention: checkpoint.config.attention,
    warnings: checkpoint.warnings,
  });
  return { predictor, ready };
}

function readyRows(ready: ClassifyReady): [string, string][] {
  const ms = (v?: number) => (v === undefined ? '–' : `${v.toFixed(0)} ms`);
  return [
    ['adapter', ready.adapter ?? '–'],
    ['model', ready.model ?? '–'],
    ['architecture', ready.classes === undefined ? '–'
      : `${ready.classes} classes, ${ready.inputSize}x${ready.inputSize} input, attention '${ready.attention}'`],
    ['kernels (compile, matmul autotune)', `${ms(ready.engineMs)}${ready.matmul ? `, matmul '${ready.matmul}'` : ''}`],
    ['model download (during compile)', ms(ready.downloadMs)],
    ['model decode, upload, fold', ms(ready.modelMs)],
    ...(ready.warnings ?? []).map((w) => ['warning', w] as [string, string]),
  ];
}

/** Classifies one image and publishes the result; errors are shown and published too. */
async function classify(loaded: Loaded, source: string, blob: () => Promise<Blob>): Promise<void> {
  const result: ClassifyResult = { ok: false };
  const extra: [string, string][] = [];
  try {
    setStatus(`classifying ${source}…`, 'busy');
    const t0 = performance.now();
    const img = await decodeImage(await blob());
    const decodeMs = performance.now() - t0;
    result.image = { source, width: img.width, height: img.height, rgbChecksum: rgbChecksum(img.data), decodeMs };
    const t1 = performance.now();
    const pred = await loaded.predictor.predict([img]);
    result.ms = performance.now() - t1;
    result.probs = Array.from(pred.probs[0]);
    result.classNames = [...loaded.predictor.classNames];
    result.label = pred.labels[0];
    result.ok = true;
    showBars(result.classNames, result.probs);
    setStatus(`${result.label} (${(100 * Math.max(...result.probs)).toFixed(1)}%)`, 'pass');
    extra.push(
      ['image', `${source}: ${img.width}x${img.height}, RGB fnv1a ${result.image.rgbChecksum}`],
      ['decode', `${decodeMs.toFixed(0)} ms`],
      ['predict (resize, forward, read-back)', `${result.ms.toFixed(0)} ms`],
    );
  } catch (err) {
    result.error = errorText(err);
    setStatus(`could not classify ${source}: ${result.error}`, 'fail');
  }
  showDetails([...readyRows(loaded.ready), ...extra]);
  published.__result = result;
}

function acceptFiles(loaded: Loaded): void {
  const input = $('file') as HTMLInputElement;
  input.disabled = false;
  let busy = Promise.resolve();
  const queue = (file: File) => {
    busy = busy.then(() => classify(loaded, file.name, async () => file));
  };
  input.addEventListener('change', () => {
    if (input.files?.[0]) queue(input.files[0]);
  });
  document.addEventListener('dragover', (ev) => {
    ev.preventDefault();
    document.body.classList.add('dragging');
  });
  document.addEventListener('dragleave', () => document.body.classList.remove('dragging'));
  document.addEventListener('drop', (ev) => {
    ev.preventDefault();
    document.body.classList.remove('dragging');
    const file = ev.dataTransfer?.files[0];
    if (file) queue(file);
  });
}

async function start(): Promise<void> {
  const ready: ClassifyReady = { ok: false };
  let loaded: Loaded;
  try {
    loaded = await load(ready);
    ready.ok = true;
  } catch (err) {
    ready.error = errorText(err);
    setStatus(`could not load the model: ${ready.error}`, 'fail');
    showDetails(readyRows(ready));
    published.__ready = ready;
    return;
  }
  showDetails(readyRows(ready));
  setStatus('model loaded: pick or drop an image', 'pass');
  published.__ready = ready;
  acceptFiles(loaded);
  const image = query.get('image');
  if (image) {
    const url = new URL(image, location.href).href;
    await classify(loaded, url, async () => {
      const res = await fetch(url);
      if (!res.ok) throw new Error(`image ${url}: HTTP ${res.status} ${res.statusText}`);
      return res.blob();
    });
  }
}

void start();
