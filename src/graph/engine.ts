// The engine: one GPUDevice, the kernels compiled for it, a buffer pool, and a queue of bound
// dispatches that ops append to. Work is submitted in one compute pass when someone needs the
// results (read, upload) or calls flush().
//
// Compiled plans: `record(fn)` runs fn once with the queue redirected into a Plan and the pool
// reserving every buffer fn touches. Replaying the plan encodes the same dispatches, with the same
// pipelines, bind groups and buffers, as one submission, allocating nothing. Anything that
// changes between replays (inputs, labels, seeds, the learning rate) lives in GPU buffers the
// caller writes before `run()`.

import {
  collectAllocations, encode, readBuffer, upload, withErrorScope, checkDevice, type BoundDispatch,
} from '../kernels/runtime.js';
import { BufferPool, Reservation, type PoolStats } from './pool.js';
import { Storage, Tensor, shapeText, sizeOf, type DType, type Shape } from './tensor.js';
import { createKernels, type Kernels, type KernelOptions } from './kernels.js';
import { reachableNodes } from './tape.js';
import { settle } from '../kernels/wait.js';

/**
 * Work a plan hoisted out of its replays (Engine.hoist): its dispatches run before the plan's own
 * only when the data it reads changed since they last ran. Its outputs stay allocated, held by
 * `outputs`, for the plan's life.
 */
interface Hoisted {
  readonly inputs: readonly Storage[];
  /** Input versions at the last run; -1 before the first. */
  readonly seen: number[];
  readonly dispatches: readonly BoundDispatch[];
  readonly outputs: readonly Storage[];
  /**
   * Its own buffers, apart from the plan's: the plan reuses a buffer once the tensor in it is
   * dead at that point of the recorded order, but hoisted work runs first on replay, so sharing
   * would let the plan overwrite a hoisted output before its consumers read it.
   */
  readonly reservation: Reservation;
}

/** What a plan collects while it records (Engine.record). */
interface Recording {
  /** Where enqueued dispatches go: `dispatches`, or a hoisted group's list while Engine.hoist runs. */
  target: BoundDispatch[];
  readonly dispatches: BoundDispatch[];
  readonly scratch: GPUBuffer[];
  readonly hoisted: Hoisted[];
  /** Storages the plan updates in place (Engine.updatesInPlace). */
  readonly writes: Set<Storage>;
  readonly reservation: Reservation;
  /** Storages the plan's own (non-hoisted) work allocated: rewritten on every replay. */
  readonly fresh: WeakSet<Storage>;
}

export class Plan {
  private disposed = false;
  /** Dispatches the last run() submitted (hoisted work included): for tests and profiles. */
  lastRunDispatches = 0;
  constructor(
    private readonly engine: Engine,
    readonly label: string,
    readonly dispatches: readonly BoundDispatch[],
    private readonly reservation: Reservation,
    private readonly scratch: readonly GPUBuffer[],
    private readonly hoisted: readonly Hoisted[] = [],
    private readonly writes: readonly Storage[] = [],
  ) {}

  /**
   * Encodes the recorded dispatches into one compute pass and submits it, preceded by any hoisted
   * work whose inputs changed; then bumps the versions of what the plan updates in place.
   */
  run(): void {
    this.engine.flush();
    this.engine.submit(this.label, this.nextRun());
  }

  /**
   * The dispatches of one run, for a caller that encodes them together with its own (the
   * predictor puts its input stage first): hoisted work whose inputs changed, then the recorded
   * dispatches. Counts as a run: versions move as in run(), so submit what it returns.
   */
  nextRun(): BoundDispatch[] {
    if (this.disposed) throw new Error(`plan ${this.label} was run after dispose()`);
    const work: BoundDispatch[] = [];
    for (const h of this.hoisted) {
      if (h.inputs.every((s, i) => s.version === h.seen[i])) continue;
      h.inputs.forEach((s, i) => (h.seen[i] = s.version));
      work.push(...h.dispatches);
      // Later hoisted work may read these outputs (a folded filter, then its transpose).
      for (const s of h.outputs) s.version++;
    }
    work.push(...this.dispatches);
    this.lastRunDispatches = work.length;
    for (const s of this.writes) s.version++;
    return work;
  }

  /** Gives the plan's buffers back to the pool. Tensors the plan returned must be disposed too. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const h of this.hoisted) for (const s of h.outputs) s.release();
    this.engine.pool.unreserve(this.reservation);
    for (const h of this.hoisted) this.engine.pool.unreserve(h.reservation);
    for (const b of this.scratch) b.destroy();
  }
}

export interface EngineOptions extends KernelOptions {
  /** Submit after this many queued dispatches even if nobody waits (keeps latency bounded). */
  maxQueued?: number;
}

export class Engine {
  readonly pool: BufferPool;
  gradEnabled = true;
  private queued: BoundDispatch[] = [];
  private recording: Recording | undefined;
  /** Kernel scratch of queued eager work: destroyed once that work is submitted. */
  private queuedScratch: GPUBuffer[] = [];
  private scopes: Set<Tensor>[] = [];
  private readonly maxQueued: number;

  private constructor(readonly device: GPUDevice, readonly kernels: Kernels, opts: EngineOptions) {
    this.pool = new BufferPool(device);
    this.maxQueued = opts.maxQueued ?? 4096;
  }

  static async create(device: GPUDevice, opts: EngineOptions = {}): Promise<Engine> {
    return new Engine(device, await createKernels(device, opts), opts);
  }

  // ---- tensors -------------------------------------------------------------------------------

  /** An uninitialised tensor from the pool. */
  empty(shape: Shape, dtype: DType = 'f32', label = 'tensor'): Tensor {
    for (const d of shape) {
      if (!Number.isInteger(d) || d < 0) throw new RangeError(`${label}: bad shape ${shapeText(shape)}`);
    }
    const buffer = this.pool.acquire(sizeOf(shape) * 4, label);
    const t = new Tensor(this, shape, dtype, new Storage(this, buffer), false, label);
    const r = this.recording;
    if (r && r.target === r.dispatches) r.fresh.add(t.storage);
    this.track(t);
    return t;
  }

  /** A tensor holding `data` (flushes queued work first: the buffer may be reused from it). */
  tensor(data: Float32Array | Int32Array | Uint32Array | number[], shape: Shape, opts: { requiresGrad?: boolean; label?: string } = {}): Tensor {
    const values = Array.isArray(data) ? Float32Array.from(data) : data;
    if (values.length !== sizeOf(shape)) {
      throw new RangeError(`${opts.label ?? 'tensor'}: ${values.length} values for shape ${shapeText(shape)}`);
    }
    const dtype: DType = values instanceof Int32Array ? 'i32' : values instanceof Uint32Array ? 'u32' : 'f32';
    const t = this.empty(shape, dtype, opts.label);
    this.write(t, values);
    t.requiresGrad = opts.requiresGrad ?? false;
    return t;
  }

  /** A tensor filled with `value` on the GPU. */
  full(shape: Shape, value: number, label = 'full'): Tensor {
    const t = this.empty(shape, 'f32', label);
    this.enqueue(this.kernels.elementwise.fill(t.size, t.buffer, value));
    return t;
  }

  /** A tensor viewing `t`'s data with another shape. */
  view(t: Tensor, shape: Shape, requiresGrad = t.requiresGrad): Tensor {
    const v = new Tensor(this, shape, t.dtype, t.storage.retain(), requiresGrad, t.label);
    this.track(v);
    return v;
  }

  /** Overwrites a tensor's values from the CPU. Queued work is submitted first, in order. */
  write(t: Tensor, data: Float32Array | Int32Array | Uint32Array): void {
    if (data.length !== t.size) throw new RangeError(`write ${t.label}: ${data.length} values for ${t.size}`);
    this.flush();
    this.device.queue.writeBuffer(t.buffer, 0, data.buffer, data.byteOffset, data.byteLength);
    t.storage.version++;
  }

  /**
   * Declares that the work just enqueued overwrites `tensors` in place (Adam on parameters, BN's
   * moving statistics): eagerly their versions move now, in a plan on every run.
   */
  updatesInPlace(...tensors: Tensor[]): void {
    for (const t of tensors) {
      if (this.recording) this.recording.writes.add(t.storage);
      else t.storage.version++;
    }
  }

  /**
   * Runs fn, whose result depends only on `inputs`, so that a plan being recorded does its work
   * once and again only when an input's data changes (engine.write, or an update declared with
   * updatesInPlace): constant folding over frozen weights, e.g. BN folded into a convolution's
   * filter, or a filter transposed for the matmul. Outside a recording, or when fn would have to
   * be differentiated (grad enabled and an input requires grad), it just runs fn. fn's result
   * tensors keep their buffers for the plan's life.
   */
  hoist<T>(inputs: readonly Tensor[], fn: () => T): T {
    const r = this.recording;
    // Nested hoists run inside the outer one.
    if (!r || r.target !== r.dispatches) return fn();
    // Only data that changes through versioned writes can be hoisted over: not tensors the plan's
    // own work rewrites every replay, nor values fn would have to differentiate.
    if (inputs.some((t) => r.fresh.has(t.storage) || (this.gradEnabled && t.requiresGrad))) return fn();
    const dispatches: BoundDispatch[] = [];
    const reservation = new Reservation();
    r.target = dispatches;
    this.pool.reserve(reservation);
    let result: T;
    try {
      result = fn();
    } finally {
      r.target = r.dispatches;
      this.pool.reserve(r.reservation);
    }
    const outputs = collectTensors(result).map((t) => t.storage.retain());
    r.hoisted.push({ inputs: inputs.map((t) => t.storage), seen: inputs.map(() => -1), dispatches, outputs, reservation });
    return result;
  }

  async read(t: Tensor): Promise<Float32Array | Int32Array | Uint32Array> {
    if (this.recording) throw new Error(`read(${t.label}) while recording a plan: read after run()`);
    this.flush();
    const bytes = await readBuffer(this.device, t.buffer, t.size * 4);
    return t.dtype === 'i32' ? new Int32Array(bytes) : t.dtype === 'u32' ? new Uint32Array(bytes) : new Float32Array(bytes);
  }

  /** A persistent tensor (parameter, optimiser state) created outside any scope. */
  parameter(data: Float32Array, shape: Shape, label: string, requiresGrad = true): Tensor {
    const t = this.tensor(data, shape, { requiresGrad, label });
    this.keep(t);
    return t;
  }

  // ---- scopes: intermediates are disposed when the scope ends ----------------------------------

  private track(t: Tensor): void {
    this.scopes[this.scopes.length - 1]?.add(t);
  }

  /** Removes `t` from the current scopes, so it outlives them. Returns it. */
  keep<T extends Tensor>(t: T): T {
    for (const s of this.scopes) s.delete(t);
    return t;
  }

  /**
   * Runs fn; every tensor created inside and not returned (or kept) is disposed at the end, and
   * tape nodes of disposed tensors release what they saved.
   */
  scope<T>(fn: () => T): T {
    const mine = new Set<Tensor>();
    this.scopes.push(mine);
    let result: T;
    try {
      result = fn();
    } finally {
      this.scopes.pop();
    }
    const returned = collectTensors(result);
    const out = new Set<Tensor>(returned);
    // Tape nodes that a returned tensor still needs for a later backward() stay alive.
    const needed = reachableNodes(returned);
    for (const t of mine) {
      if (out.has(t)) {
        this.track(t);
        continue;
      }
      if (t.node && !needed.has(t.node)) t.node.free();
      t.dispose();
    }
    return result;
  }

  noGrad<T>(fn: () => T): T {
    const prev = this.gradEnabled;
    this.gradEnabled = false;
    try {
      return fn();
    } finally {
      this.gradEnabled = prev;
    }
  }

  // ---- dispatch queue ----------------------------------------------------------------------------

  enqueue(...bound: BoundDispatch[]): void {
    if (this.recording) {
      this.recording.target.push(...bound);
      return;
    }
    this.queued.push(...bound);
    if (this.queued.length >= this.maxQueued) this.flush();
  }

  /**
   * Takes ownership of kernel scratch buffers made while binding (see collectAllocations): a
   * recording plan keeps them; eager work destroys them after its submission.
   */
  adopt(buffers: readonly GPUBuffer[]): void {
    if (buffers.length === 0) return;
    if (this.recording) this.recording.scratch.push(...buffers);
    else this.queuedScratch.push(...buffers);
  }

  /** Runs fn (which binds kernels) and adopts the scratch it allocated. */
  binding<T>(fn: () => T): T {
    const { result, buffers } = collectAllocations(fn);
    this.adopt(buffers);
    return result;
  }

  /** Submits queued dispatches as one compute pass. */
  flush(): void {
    if (this.recording) return;
    if (this.queued.length) {
      const work = this.queued;
      this.queued = [];
      this.submit('engine', work);
    }
    // Destroying after submit is safe: WebGPU finishes submitted work first.
    for (const b of this.queuedScratch.splice(0)) b.destroy();
  }

  submit(label: string, work: readonly BoundDispatch[]): void {
    checkDevice(this.device, label);
    const enc = this.device.createCommandEncoder({ label });
    const pass = enc.beginComputePass({ label });
    encode(pass, ...work);
    pass.end();
    this.device.queue.submit([enc.finish()]);
  }

  /** Flushes and waits for the GPU; throws a GpuError naming the failing kernel on error. */
  async sync(label = 'engine'): Promise<void> {
    await withErrorScope(this.device, label, async () => {
      this.flush();
      await settle(this.device.queue.onSubmittedWorkDone());
    });
    checkDevice(this.device, label);
  }

  /** Records fn's dispatches into a plan without running them (see the file comment). */
  record<T>(label: string, fn: () => T): { plan: Plan; result: T } {
    if (this.recording) throw new Error('plans do not nest');
    this.flush();
    const dispatches: BoundDispatch[] = [];
    const r: Recording = {
      target: dispatches, dispatches, scratch: [], hoisted: [], writes: new Set(), reservation: new Reservation(), fresh: new WeakSet(),
    };
    this.recording = r;
    this.pool.reserve(r.reservation);
    let result: T;
    try {
      result = this.scope(fn);
    } finally {
      this.recording = undefined;
      this.pool.reserve(undefined);
    }
    return { plan: new Plan(this, label, dispatches, r.reservation, r.scratch, r.hoisted, [...r.writes]), result };
  }

  get isRecording(): boolean {
    return this.recording !== undefined;
  }

  stats(): PoolStats {
    return this.pool.stats();
  }

  /** Uploads without tracking (for kernels' own constant buffers). */
  uploadConstant(data: Float32Array | Int32Array | Uint32Array, label: string): GPUBuffer {
    return upload(this.device, data, label);
  }
}

function collectTensors(value: unknown, out: Tensor[] = [], depth = 0): Tensor[] {
  if (value instanceof Tensor) out.push(value);
  else if (depth < 3 && value && typeof value === 'object') {
    for (const v of Array.isArray(value) ? value : Object.values(value)) collectTensors(v, out, depth + 1);
  }
  return out;
}
