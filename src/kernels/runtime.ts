// What every kernel module shares: errors that name the kernel, a per-device pipeline cache,
// explicit bind-group layouts in our fixed binding order, and buffer upload / readback.
//
// Browser-safe: only WebGPU types, no Node built-ins. A kernel never submits or reads back on
// its own; the helpers here that do (upload, readBuffer) are for callers and tests.

import { settle } from './wait.js';

/** Any failure on the GPU side: no adapter, a validation error, an out-of-memory, device loss. */
export class GpuError extends Error {
  constructor(message: string, readonly kernel?: string) {
    super(message);
    this.name = 'GpuError';
  }
}

interface DeviceState {
  lost?: string;
  uncaptured: string[];
  pipelines: Map<string, Promise<GPUComputePipeline>>;
  modules: Map<string, GPUShaderModule>;
  layouts: Map<string, GPUBindGroupLayout>;
  bindGroups: Map<string, GPUBindGroup>;
  params: Map<string, GPUBuffer>;
}

const states = new WeakMap<GPUDevice, DeviceState>();

function stateOf(device: GPUDevice): DeviceState {
  let s = states.get(device);
  if (!s) {
    s = {
      uncaptured: [], pipelines: new Map(), modules: new Map(), layouts: new Map(),
      bindGroups: new Map(), params: new Map(),
    };
    states.set(device, s);
  }
  return s;
}

/**
 * Records device loss and errors nobody captured, so the next `checkDevice` (or readback) turns
 * them into a GpuError instead of a silent wrong answer. Safe to call more than once.
 */
export function watchDevice(device: GPUDevice): void {
  const s = stateOf(device);
  if ((s as { watched?: boolean }).watched) return;
  (s as { watched?: boolean }).watched = true;
  device.lost.then((info) => {
    // A deliberate destroy() is not a failure.
    if (info.reason !== 'destroyed') s.lost = `device lost (${info.reason}): ${info.message}`;
  });
  device.addEventListener('uncapturederror', (ev) => {
    const e = (ev as GPUUncapturedErrorEvent).error;
    if (s.uncaptured.length < 16) s.uncaptured.push(e.message);
  });
}

/** Throws if the device was lost or an uncaptured error happened since the last check. */
export function checkDevice(device: GPUDevice, what = 'GPU work'): void {
  const s = stateOf(device);
  if (s.lost) throw new GpuError(`${what}: ${s.lost}`);
  if (s.uncaptured.length) {
    const messages = s.uncaptured.splice(0);
    throw new GpuError(`${what}: WebGPU error: ${messages.join('\n')}`);
  }
}

/**
 * Runs `fn` inside validation and out-of-memory error scopes and throws a GpuError that names
 * `label` (a kernel's `family/entry`) when WebGPU reports an error.
 */
export async function withErrorScope<T>(
  device: GPUDevice,
  label: string,
  fn: () => T | Promise<T>,
): Promise<T> {
  device.pushErrorScope('out-of-memory');
  device.pushErrorScope('validation');
  let value: T;
  try {
    value = await fn();
  } finally {
    const validation = await device.popErrorScope();
    const oom = await device.popErrorScope();
    const err = validation ?? oom;
    if (err) throw new GpuError(`${label}: ${err.message}`, label);
  }
  return value;
}

/** Override constants: the one way a kernel is specialised (workgroup size, tiles, flags). */
export type Constants = Readonly<Record<string, number | boolean>>;

function constantsKey(constants: Constants): string {
  return Object.keys(constants).sort().map((k) => `${k}=${Number(constants[k])}`).join(',');
}

function toRecord(constants: Constants): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(constants)) out[k] = Number(v);
  return out;
}

/**
 * One explicit layout per (inputs, outputs, uniformTail) count: binding 0 uniform, inputs
 * (read-only storage), outputs (storage), then `uniformTail` uniform bindings (matmul's windows).
 */
export function ioLayout(device: GPUDevice, inputs: number, outputs: number, uniformTail = 0): GPUBindGroupLayout {
  const s = stateOf(device);
  const key = `${inputs}:${outputs}${uniformTail ? `:u${uniformTail}` : ''}`;
  let layout = s.layouts.get(key);
  if (!layout) {
    const entries: GPUBindGroupLayoutEntry[] = [
      { binding: 0, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'uniform' } },
    ];
    for (let i = 0; i < inputs + outputs + uniformTail; i++) {
      const type = i < inputs ? 'read-only-storage' : i < inputs + outputs ? 'storage' : 'uniform';
      entries.push({ binding: 1 + i, visibility: GPUShaderStage.COMPUTE, buffer: { type } });
    }
    layout = device.createBindGroupLayout({ label: `io/${key}`, entries });
    s.layouts.set(key, layout);
  }
  return layout;
}

export interface PipelineSpec {
  /** Kernel family, e.g. 'depthwise'; with the entry point it labels every GPU object. */
  family: string;
  entry: string;
  code: string;
  inputs: number;
  outputs: number;
  constants?: Constants;
  /** Uniform bindings after the outputs (see ioLayout). */
  uniformTail?: number;
}

async function shaderModule(device: GPUDevice, family: string, code: string): Promise<GPUShaderModule> {
  const s = stateOf(device);
  let mod = s.modules.get(family + '\n' + code);
  if (mod) return mod;
  device.pushErrorScope('validation');
  mod = device.createShaderModule({ label: family, code });
  const info = await mod.getCompilationInfo();
  const scoped = await device.popErrorScope();
  const errors = info.messages.filter((m) => m.type === 'error');
  if (errors.length || scoped) {
    if (!errors.length) throw new GpuError(`WGSL module ${family}: ${scoped!.message}`, family);
    const text = errors.map((m) => `  ${family}.wgsl:${m.lineNum}:${m.linePos} ${m.message}`);
    throw new GpuError(`WGSL compilation failed for ${family}:\n${text.join('\n')}`, family);
  }
  s.modules.set(family + '\n' + code, mod);
  return mod;
}

/** What identifies a pipeline within a device: module family, entry point, constants and layout. */
function pipelineKey(spec: PipelineSpec): string {
  return `${spec.family}/${spec.entry}|${constantsKey(spec.constants ?? {})}|${spec.inputs}:${spec.outputs}:${spec.uniformTail ?? 0}`;
}

/** Compiles (once per device, entry point and constants) and returns a compute pipeline. */
export function getPipeline(device: GPUDevice, spec: PipelineSpec): Promise<GPUComputePipeline> {
  const s = stateOf(device);
  const constants = spec.constants ?? {};
  const key = pipelineKey(spec);
  let p = s.pipelines.get(key);
  if (!p) {
    const label = `${spec.family}/${spec.entry}`;
    p = (async () => {
      const module = await shaderModule(device, spec.family, spec.code);
      const layout = device.createPipelineLayout({
        label,
        bindGroupLayouts: [ioLayout(device, spec.inputs, spec.outputs, spec.uniformTail)],
      });
      try {
        return await settle(device.createComputePipelineAsync({
          label,
          layout,
          compute: { module, entryPoint: spec.entry, constants: toRecord(constants) },
        }));
      } catch (err) {
        throw new GpuError(`${label}: pipeline creation failed: ${(err as Error).message}`, label);
      }
    })();
    // A failed compile must not poison the cache for a later, corrected attempt.
    p.catch(() => s.pipelines.delete(key));
    s.pipelines.set(key, p);
  }
  return p;
}

const syncPipelines = new WeakMap<GPUDevice, Map<string, GPUComputePipeline>>();

/**
 * The synchronous twin of getPipeline, for kernels that specialise on the shape at bind time
 * (a bind must not await). Creation errors are not awaited here: they surface as uncaptured
 * errors, which checkDevice / readBuffer turn into a GpuError naming the label. Prefer compiling
 * ahead with getPipeline where the set of specialisations is known.
 */
export function getPipelineSync(device: GPUDevice, spec: PipelineSpec): GPUComputePipeline {
  let cache = syncPipelines.get(device);
  if (!cache) syncPipelines.set(device, (cache = new Map()));
  const constants = spec.constants ?? {};
  const key = pipelineKey(spec);
  let p = cache.get(key);
  if (!p) {
    const s = stateOf(device);
    const label = `${spec.family}/${spec.entry}`;
    let module = s.modules.get(spec.family + '\n' + spec.code);
    if (!module) {
      module = device.createShaderModule({ label: spec.family, code: spec.code });
      s.modules.set(spec.family + '\n' + spec.code, module);
    }
    p = device.createComputePipeline({
      label,
      layout: device.createPipelineLayout({ label, bindGroupLayouts: [ioLayout(device, spec.inputs, spec.outputs, spec.uniformTail)] }),
      compute: { module, entryPoint: spec.entry, constants: toRecord(constants) },
    });
    cache.set(key, p);
  }
  return p;
}

/** A dispatch ready to encode: everything was created at bind time, nothing per call. */
export interface BoundDispatch {
  readonly label: string;
  readonly pipeline: GPUComputePipeline;
  readonly bindGroup: GPUBindGroup;
  readonly workgroups: readonly [number, number, number];
}

/** Encodes bound dispatches into a compute pass the caller owns. */
export function encode(pass: GPUComputePassEncoder, ...bound: readonly BoundDispatch[]): void {
  for (const b of bound) {
    if (b.workgroups[0] * b.workgroups[1] * b.workgroups[2] === 0) continue;
    pass.setPipeline(b.pipeline);
    pass.setBindGroup(0, b.bindGroup);
    pass.dispatchWorkgroups(b.workgroups[0], b.workgroups[1], b.workgroups[2]);
  }
}

let nextId = 1;
const objectIds = new WeakMap<object, number>();
function idOf(o: object): number {
  let id = objectIds.get(o);
  if (id === undefined) objectIds.set(o, (id = nextId++));
  return id;
}

const BIND_GROUP_CACHE_LIMIT = 16384;

/**
 * Builds the bind group for a pipeline: params uniform, then inputs, then outputs (then any
 * uniform tail), each a whole buffer or a range of one. Bind groups are cached per device by
 * (pipeline, buffers, ranges): a training step that binds the same pooled buffers again gets the
 * same bind group instead of a new allocation.
 */
export function bindIo(
  device: GPUDevice,
  label: string,
  pipeline: GPUComputePipeline,
  params: GPUBuffer,
  buffers: readonly (GPUBuffer | GPUBufferBinding)[],
): GPUBindGroup {
  const s = stateOf(device);
  const resources: GPUBufferBinding[] = [params, ...buffers].map((b) => ('buffer' in b ? b : { buffer: b }));
  const key = [idOf(pipeline), ...resources.map((r) => `${idOf(r.buffer)}${r.offset || r.size ? `@${r.offset ?? 0}+${r.size}` : ''}`)].join(',');
  let group = s.bindGroups.get(key);
  if (!group) {
    group = device.createBindGroup({
      label,
      layout: pipeline.getBindGroupLayout(0),
      entries: resources.map((resource, binding) => ({ binding, resource })),
    });
    if (s.bindGroups.size >= BIND_GROUP_CACHE_LIMIT) s.bindGroups.clear();
    s.bindGroups.set(key, group);
  }
  return group;
}

/** Field types of a params struct: 4-byte scalars only, so std140 offsets are 4 * index. */
export type ParamField = readonly [name: string, type: 'u32' | 'i32' | 'f32', value: number];

/** Packs params fields (in WGSL struct order) into bytes, 16-byte padded. */
export function packParams(label: string, fields: readonly ParamField[]): ArrayBuffer {
  const bytes = Math.max(16, Math.ceil((fields.length * 4) / 16) * 16);
  const data = new ArrayBuffer(bytes);
  const view = new DataView(data);
  fields.forEach(([name, type, value], i) => {
    if (!Number.isFinite(value)) throw new GpuError(`${label}: param ${name} is ${value}`, label);
    if (type === 'f32') view.setFloat32(i * 4, value, true);
    else if (type === 'i32') view.setInt32(i * 4, value, true);
    else {
      if (value < 0 || value > 0xffffffff || !Number.isInteger(value)) {
        throw new GpuError(`${label}: param ${name} must be a u32, got ${value}`, label);
      }
      view.setUint32(i * 4, value, true);
    }
  });
  return data;
}

/**
 * A uniform buffer holding a params struct. Params buffers are immutable and shared: identical
 * contents on one device give the same buffer, so binding the same shapes again allocates
 * nothing. Pass `{ mutable: true }` for a private buffer the caller rewrites with writeBuffer.
 */
export function paramsBuffer(
  device: GPUDevice,
  label: string,
  fields: readonly ParamField[],
  opts: { mutable?: boolean } = {},
): GPUBuffer {
  const data = packParams(label, fields);
  const s = stateOf(device);
  const key = opts.mutable ? '' : Array.from(new Uint32Array(data), (v) => v.toString(36)).join('.');
  if (!opts.mutable) {
    const cached = s.params.get(key);
    if (cached) return cached;
  }
  const buffer = device.createBuffer({
    label: `${label}/params`,
    size: data.byteLength,
    usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
  });
  device.queue.writeBuffer(buffer, 0, data);
  if (!opts.mutable) s.params.set(key, buffer);
  else collector?.push(buffer);
  return buffer;
}

export type TypedArray = Float32Array | Int32Array | Uint32Array | Uint16Array;

/**
 * Usage of every buffer the kernels and the graph allocate. UNIFORM too: a kernel may read a small
 * operand through a uniform binding, which lavapipe loads without its per-lane storage-load loop
 * (matmul_sg8_v4wu, matmul-windows.ts).
 */
export function storageUsage(): number {
  return GPUBufferUsage.STORAGE | GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
}

let collector: GPUBuffer[] | undefined;

/**
 * Runs fn and returns the scratch and mutable params buffers that kernels created while binding
 * inside it, so an owner (a graph op, a compiled plan) can destroy them when it is done.
 */
export function collectAllocations<T>(fn: () => T): { result: T; buffers: GPUBuffer[] } {
  const outer = collector;
  const mine: GPUBuffer[] = [];
  collector = mine;
  try {
    return { result: fn(), buffers: mine };
  } finally {
    collector = outer;
    outer?.push(...mine);
  }
}

/**
 * A storage buffer of `bytes` (rounded up to 4), readable, writable and copyable. Pass
 * `persistent` for buffers a kernel caches for the device's lifetime (placeholders): those must
 * not be handed to whoever is collecting a binding's scratch.
 */
export function createStorage(device: GPUDevice, bytes: number, label: string, persistent = false): GPUBuffer {
  const b = device.createBuffer({ label, size: Math.max(4, Math.ceil(bytes / 4) * 4), usage: storageUsage() });
  if (!persistent) collector?.push(b);
  return b;
}

/** A storage buffer holding `data`. */
export function upload(device: GPUDevice, data: TypedArray, label: string): GPUBuffer {
  const size = Math.max(4, Math.ceil(data.byteLength / 4) * 4);
  const buffer = device.createBuffer({ label, size, usage: storageUsage(), mappedAtCreation: true });
  new Uint8Array(buffer.getMappedRange()).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  buffer.unmap();
  return buffer;
}

/** Copies `byteLength` bytes of `buffer` to the CPU. Waits for queued work; throws on device loss. */
export async function readBuffer(device: GPUDevice, buffer: GPUBuffer, byteLength = buffer.size): Promise<ArrayBuffer> {
  const size = Math.ceil(byteLength / 4) * 4;
  const staging = device.createBuffer({
    label: `${buffer.label}/readback`,
    size,
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  });
  const enc = device.createCommandEncoder({ label: `${buffer.label}/readback` });
  enc.copyBufferToBuffer(buffer, 0, staging, 0, size);
  device.queue.submit([enc.finish()]);
  try {
    await settle(staging.mapAsync(GPUMapMode.READ));
  } catch (err) {
    checkDevice(device, `reading ${buffer.label}`);
    throw new GpuError(`reading ${buffer.label}: ${(err as Error).message}`);
  }
  const out = staging.getMappedRange().slice(0, byteLength);
  staging.unmap();
  staging.destroy();
  checkDevice(device, `reading ${buffer.label}`);
  return out;
}

export async function readF32(device: GPUDevice, buffer: GPUBuffer, count?: number): Promise<Float32Array> {
  return new Float32Array(await readBuffer(device, buffer, count === undefined ? buffer.size : count * 4));
}

/** Fills `buffer` with one float value (tests poison outputs with NaN before a run). */
export function fillF32(device: GPUDevice, buffer: GPUBuffer, value: number, count = buffer.size / 4): void {
  device.queue.writeBuffer(buffer, 0, new Float32Array(count).fill(value));
}
