// "Someone else's WebGPU app" that borrows one kernel: it gets its own device from navigator.gpu,
// creates and fills its own buffers, asks patt-lite for a bound matrix multiply, encodes it into
// its own compute pass, copies the result out with its own code, and checks it against a JS loop.
//
// URL parameters: seed (inputs), m, k, n (C[M,N] = A[M,K]·B[K,N]), variant (reg | tiled | auto).
// The outcome is shown on the page and left in `window.__result` for test/browser/kernel.test.ts.
//
// The bundle (scripts/build-browser.mjs) turns this import into './patt-lite-kernels.js'.
import {
  createMatmul, MATMUL_VARIANTS, type AutotuneCache, type MatmulVariant,
} from '../../../src/kernels/index.js';
import { checksum, matmulJs, maxRelErr, seededUniform } from './inputs.js';

export interface KernelResult {
  ok: boolean;
  error?: string;
  seed: number;
  m: number;
  k: number;
  n: number;
  /** The variant that ran ('auto' resolves to one of MATMUL_VARIANTS). */
  variant?: MatmulVariant;
  adapter?: string;
  /** createMatmul + bind (pipeline compile; with 'auto' also the one-off autotune). */
  setupMs?: number;
  /** submit -> result mapped on the CPU. */
  gpuMs?: number;
  cpuMs?: number;
  maxRelErr?: number;
  /** checksum(A) + checksum(B): lets a test confirm it rebuilt the same inputs. */
  inputChecksum?: number;
  /** C [M,N] row-major, as read back. */
  c?: number[];
}

declare global {
  interface Window {
    __result?: KernelResult;
  }
}

const TOLERANCE = 1e-4;
const query = new URLSearchParams(location.search);

function intParam(name: string, fallback: number): number {
  const raw = query.get(name);
  const v = raw === null ? fallback : Number(raw);
  if (!Number.isInteger(v) || v < (name === 'seed' ? 0 : 1)) {
    throw new Error(`URL parameter ${name}=${raw} is not a valid integer`);
  }
  return v;
}

function show(rows: [string, string][], verdict: string, good: boolean): void {
  const status = document.getElementById('status')!;
  status.textContent = verdict;
  status.className = good ? 'pass' : 'fail';
  const table = document.getElementById('details')!;
  table.replaceChildren(...rows.map(([k, v]) => {
    const tr = document.createElement('tr');
    const th = document.createElement('th');
    const td = document.createElement('td');
    th.textContent = k;
    td.textContent = v;
    tr.append(th, td);
    return tr;
  }));
}

/** Our own upload: a storage buffer filled through mappedAtCreation. */
function storageFrom(device: GPUDevice, data: Float32Array, label: string): GPUBuffer {
  const buffer = device.createBuffer({
    label, size: data.byteLength, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST, mappedAtCreation: true,
  });
  new Float32Array(buffer.getMappedRange()).set(data);
  buffer.unmap();
  return buffer;
}

/** Remembers the autotuned variant per adapter across page loads. */
const localStorageCache: AutotuneCache = {
  get: (key) => localStorage.getItem(`patt-lite/${key}`) ?? undefined,
  set: (key, value) => localStorage.setItem(`patt-lite/${key}`, value),
};

async function main(result: KernelResult): Promise<void> {
  const { seed, m, k, n } = result;
  const variantParam = query.get('variant') ?? 'auto';
  if (variantParam !== 'auto' && !(MATMUL_VARIANTS as readonly string[]).includes(variantParam)) {
    throw new Error(`URL parameter variant=${variantParam}: use auto, ${MATMUL_VARIANTS.join(', ')}`);
  }
  const variant = variantParam as MatmulVariant | 'auto';

  // 1. Our device.
  if (!navigator.gpu) {
    throw new Error('navigator.gpu is missing: this browser has no WebGPU (headless Chromium without a GPU ' +
      'needs --enable-unsafe-webgpu --enable-unsafe-swiftshader)');
  }
  const adapter = await navigator.gpu.requestAdapter();
  if (!adapter) throw new Error('navigator.gpu.requestAdapter() found no adapter');
  const device = await adapter.requestDevice();
  const info = adapter.info;
  result.adapter = [info.vendor, info.architecture, info.description].filter(Boolean).join(' / ') || 'unknown';

  // 2. Our buffers and inputs.
  const a = seededUniform(seed, m * k);
  const b = seededUniform(seed + 1, k * n);
  result.inputChecksum = checksum(a) + checksum(b);
  const bytesC = m * n * 4;
  const bufA = storageFrom(device, a, 'app/a');
  const bufB = storageFrom(device, b, 'app/b');
  const bufC = device.createBuffer({
    label: 'app/c', size: bytesC, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC,
  });
  const staging = device.createBuffer({
    label: 'app/readback', size: bytesC, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  });

  // 3. The borrowed kernel: a bound dispatch is just a pipeline, a bind group and a grid.
  device.pushErrorScope('validation');
  const t0 = performance.now();
  const mm = await createMatmul(device, { variant, cache: localStorageCache });
  const step = mm.matmul({ m, k, n }, { a: bufA, b: bufB, c: bufC });
  result.variant = mm.variant;
  result.setupMs = performance.now() - t0;

  // 4. Our pass, our copy, our readback.
  const t1 = performance.now();
  const enc = device.createCommandEncoder({ label: 'app/frame' });
  const pass = enc.beginComputePass({ label: 'app/compute' });
  pass.setPipeline(step.pipeline);
  pass.setBindGroup(0, step.bindGroup);
  pass.dispatchWorkgroups(...step.workgroups);
  pass.end();
  enc.copyBufferToBuffer(bufC, 0, staging, 0, bytesC);
  device.queue.submit([enc.finish()]);
  const scoped = await device.popErrorScope();
  if (scoped) throw new Error(`WebGPU validation error: ${scoped.message}`);
  await staging.mapAsync(GPUMapMode.READ);
  const c = new Float32Array(staging.getMappedRange().slice(0));
  staging.unmap();
  result.gpuMs = performance.now() - t1;

  // 5. Check against a plain JS loop.
  const t2 = performance.now();
  const want = matmulJs(a, b, m, k, n);
  result.cpuMs = performance.now() - t2;
  result.maxRelErr = maxRelErr(c, want);
  result.c = Array.from(c);
  result.ok = result.maxRelErr < TOLERANCE;
  for (const buf of [bufA, bufB, bufC, staging]) buf.destroy();
  device.destroy();
}

async function start(): Promise<void> {
  const result: KernelResult = { ok: false, seed: 0, m: 0, k: 0, n: 0 };
  try {
    Object.assign(result, {
      seed: intParam('seed', 1), m: intParam('m', 129), k: intParam('k', 96), n: intParam('n', 83),
    });
    show([['status', 'running…']], 'running…', true);
    await main(result);
  } catch (err) {
    result.ok = false;
    result.error = err instanceof Error ? err.message : String(err);
  }
  const ms = (v?: number) => (v === undefined ? '–' : `${v.toFixed(1)} ms`);
  show([
    ['C = A·B', `A [${result.m}, ${result.k}] · B [${result.k}, ${result.n}] (seed ${result.seed})`],
    ['adapter', result.adapter ?? '–'],
    ['kernel', result.variant ? `createMatmul, variant '${result.variant}'` : '–'],
    ['setup (compile, autotune)', ms(result.setupMs)],
    ['GPU run + readback (first run compiles)', ms(result.gpuMs)],
    ['JS loop (float64)', ms(result.cpuMs)],
    ['max relative error', result.maxRelErr === undefined ? '–' : result.maxRelErr.toExponential(2)],
    ...(result.error ? [['error', result.error] as [string, string]] : []),
  ], result.ok ? `PASS: GPU matches the JS loop (relative error < ${TOLERANCE.toExponential(0)})` : 'FAIL', result.ok);
  window.__result = result;
}

void start();
