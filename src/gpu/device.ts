// GPU access for Node: one place that creates the WebGPU adapter and device through Dawn (the
// `webgpu` npm package), reports what it found, and shuts down so the process exits by itself.
//
// Browser code does not import this module: it gets its GPUDevice from `navigator.gpu` and hands
// it to the kernels directly. Everything below `src/kernels` only needs a GPUDevice.

import os from 'node:os';
import { GpuError, watchDevice } from '../kernels/runtime.js';

/** Optional features we use when the adapter has them. */
export const OPTIONAL_FEATURES: readonly GPUFeatureName[] = [
  'shader-f16',
  'subgroups',
  'timestamp-query',
] as GPUFeatureName[];

export interface GpuOptions {
  /** Substring of the adapter name to use (Dawn's `adapter=` option). Env: PATT_ADAPTER. */
  adapter?: string;
  /** Dawn backend: vulkan, metal, d3d12, d3d11, opengl, opengles, null. Env: PATT_BACKEND. */
  backend?: string;
  /** 'high-performance' (default) or 'low-power'. */
  powerPreference?: GPUPowerPreference;
  /** Request no optional features even when available (for testing the plain path). */
  noOptionalFeatures?: boolean;
}

export interface AdapterReport {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** True when the adapter is a CPU implementation (lavapipe, SwiftShader). */
  isSoftware: boolean;
  features: string[];
  limits: Record<string, number>;
}

export interface Gpu {
  readonly device: GPUDevice;
  readonly adapter: AdapterReport;
  /** Optional features that were requested and granted. */
  readonly features: ReadonlySet<string>;
  /** Destroys the device and drops every reference to Dawn, so Node can exit by itself. */
  close(): void;
}

interface DawnModule {
  create(options: string[]): GPU;
  globals: Record<string, unknown>;
}

let dawn: DawnModule | undefined;

async function loadDawn(): Promise<DawnModule> {
  if (dawn) return dawn;
  // lavapipe reads LP_NUM_THREADS when the driver loads; oversubscribing the 2 cores measured
  // 1.3-1.45x faster (DESIGN §5), most of it because a plain await on Dawn spun the main thread
  // (src/kernels/wait.ts); with settle() 2 and 8 threads are within noise and 8 is kept. Only a
  // default: the user's own setting wins.
  process.env.LP_NUM_THREADS ??= String(Math.max(8, 4 * cpuCount()));
  // Silences Mesa's "XDG_RUNTIME_DIR is invalid or not set" warning on headless machines.
  process.env.XDG_RUNTIME_DIR ??= '/tmp';
  try {
    dawn = (await import('webgpu')) as unknown as DawnModule;
  } catch (err) {
    throw new GpuError(
      `the \`webgpu\` package (Dawn) could not be loaded: ${(err as Error).message}\n` +
        'Run `npm ci` in the project; Dawn ships prebuilt for linux-x64, darwin and win32.',
    );
  }
  // The WebGPU constants (GPUBufferUsage, GPUMapMode, ...) as globals, as in a browser.
  for (const [name, value] of Object.entries(dawn.globals)) {
    if (!(name in globalThis)) (globalThis as Record<string, unknown>)[name] = value;
  }
  return dawn;
}

function cpuCount(): number {
  return os.availableParallelism?.() ?? os.cpus().length;
}

/** The text a user sees when no adapter exists: what to install to get one. */
export function noAdapterMessage(opts: GpuOptions, dawnError?: string): string {
  const wanted = [
    opts.adapter ? `adapter "${opts.adapter}"` : '',
    opts.backend ? `backend "${opts.backend}"` : '',
  ].filter(Boolean).join(', ');
  return [
    `No WebGPU adapter found${wanted ? ` matching ${wanted}` : ''}.`,
    dawnError ? `Dawn said: ${dawnError.trim()}` : '',
    'To get one:',
    '  - with a GPU: install its Vulkan driver (NVIDIA: the proprietary driver with Vulkan; ' +
      'AMD/Intel: mesa-vulkan-drivers), then check `vulkaninfo --summary`;',
    '  - without a GPU (Debian 12): run `bash scripts/setup-software-gpu.sh` as root; it installs',
    "    Mesa's lavapipe software Vulkan driver (mesa-vulkan-drivers >= 24 from bookworm-backports).",
    opts.adapter || opts.backend
      ? '  - or unset PATT_ADAPTER / PATT_BACKEND (or drop --adapter / --backend) to take any adapter;' +
        ' `patt-lite info --adapter ?` lists them.'
      : '',
  ].filter(Boolean).join('\n');
}

function reportAdapter(adapter: GPUAdapter): AdapterReport {
  const info = adapter.info;
  const limits: Record<string, number> = {};
  // GPUSupportedLimits exposes its fields as prototype getters; walk them.
  const proto = Object.getPrototypeOf(adapter.limits) as object;
  for (const key of Object.getOwnPropertyNames(proto)) {
    const value = (adapter.limits as unknown as Record<string, unknown>)[key];
    if (typeof value === 'number') limits[key] = value;
  }
  const text = `${info.vendor} ${info.architecture} ${info.device} ${info.description}`;
  return {
    vendor: info.vendor,
    architecture: info.architecture,
    device: info.device,
    description: info.description,
    isSoftware: /llvmpipe|lavapipe|swiftshader|software/i.test(text),
    features: [...adapter.features].map(String).sort(),
    limits,
  };
}

/**
 * Creates the adapter and device. Options fall back to PATT_ADAPTER / PATT_BACKEND. Requests the
 * adapter's maximum buffer sizes (the defaults cap storage buffers at 128 MiB, too small for a
 * batch of 224x224 activations) and the optional features it has.
 */
export async function createGpu(options: GpuOptions = {}): Promise<Gpu> {
  const opts: GpuOptions = {
    ...options,
    adapter: options.adapter ?? (process.env.PATT_ADAPTER || undefined),
    backend: options.backend ?? (process.env.PATT_BACKEND || undefined),
  };
  const { create } = await loadDawn();
  const dawnOptions: string[] = [];
  if (opts.backend) dawnOptions.push(`backend=${opts.backend}`);
  if (opts.adapter) dawnOptions.push(`adapter=${opts.adapter}`);
  // Dawn toggles for experiments and benchmarks, e.g. PATT_DAWN_ENABLE=disable_robustness.
  if (process.env.PATT_DAWN_ENABLE) dawnOptions.push(`enable-dawn-features=${process.env.PATT_DAWN_ENABLE}`);
  if (process.env.PATT_DAWN_DISABLE) dawnOptions.push(`disable-dawn-features=${process.env.PATT_DAWN_DISABLE}`);

  let gpu: GPU | undefined = create(dawnOptions);
  let adapter: GPUAdapter | null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: opts.powerPreference ?? 'high-performance' });
  } catch (err) {
    gpu = undefined;
    throw new GpuError(noAdapterMessage(opts, (err as Error).message));
  }
  if (!adapter) {
    gpu = undefined;
    throw new GpuError(noAdapterMessage(opts));
  }
  const report = reportAdapter(adapter);
  const features = opts.noOptionalFeatures
    ? []
    : OPTIONAL_FEATURES.filter((f) => adapter!.features.has(f));
  const lim = adapter.limits;
  const device = await adapter.requestDevice({
    label: 'patt-lite',
    requiredFeatures: features,
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
  watchDevice(device);
  let closed = false;
  return {
    device,
    adapter: report,
    features: new Set(features.map(String)),
    close() {
      if (closed) return;
      closed = true;
      device.destroy();
      // Dawn keeps the event loop alive while the object from create() is reachable.
      gpu = undefined;
    },
  };
}

/** One line for logs: "mesa llvmpipe (software), vulkan features: shader-f16 subgroups". */
export function describeGpu(g: Gpu): string {
  const a = g.adapter;
  const name = [a.vendor, a.device || a.description, a.architecture].filter(Boolean).join(' / ');
  return `${name}${a.isSoftware ? ' (software)' : ''}; features: ${[...g.features].join(' ') || 'none'}`;
}
