// A tensor that lives on the GPU: a shape, a dtype, a pooled buffer, and, when it was made by an
// op that is being differentiated, the tape node that made it.
//
// Lifetime is reference counted: the user's handle is one reference and every tape node that
// saved the tensor for its backward holds another. The buffer goes back to the pool when the
// last reference goes, so intermediates are freed as soon as backward no longer needs them.

import type { Engine } from './engine.js';
import type { TapeNode } from './tape.js';

export type DType = 'f32' | 'i32' | 'u32';
export type Shape = readonly number[];

let nextTensorId = 1;

export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function shapeText(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}

/** A pooled buffer shared by tensors that view the same data (detach, reshape). */
export class Storage {
  private refs = 1;
  /**
   * Bumped whenever the data is overwritten outside the op that made it: engine.write, and GPU
   * updates in place that ops declare (Adam on parameters, BN's moving statistics). Work hoisted
   * out of a plan (Engine.hoist) reruns when a version it was computed from has moved.
   */
  version = 0;
  constructor(readonly engine: Engine, private buf: GPUBuffer | undefined) {}
  get buffer(): GPUBuffer | undefined {
    return this.buf;
  }
  retain(): this {
    if (!this.buf) throw new Error('a storage was retained after it was freed');
    this.refs++;
    return this;
  }
  release(): void {
    if (!this.buf || --this.refs > 0) return;
    this.engine.pool.release(this.buf);
    this.buf = undefined;
  }
}

export class Tensor {
  readonly id = nextTensorId++;
  readonly size: number;
  /** Set by backward() on tensors that require a gradient and are leaves (parameters). */
  grad: Tensor | undefined;
  /** The tape node that produced this tensor (undefined for leaves and under no-grad). */
  node: TapeNode | undefined;
  private handle = true;

  constructor(
    readonly engine: Engine,
    readonly shape: Shape,
    readonly dtype: DType,
    readonly storage: Storage,
    public requiresGrad = false,
    readonly label = 'tensor',
  ) {
    this.size = sizeOf(shape);
  }

  get buffer(): GPUBuffer {
    const b = this.handle ? this.storage.buffer : undefined;
    if (!b) throw new Error(`${this.label} ${shapeText(this.shape)} was used after it was disposed`);
    return b;
  }

  get disposed(): boolean {
    return !this.handle || this.storage.buffer === undefined;
  }

  get bytes(): number {
    return this.size * 4;
  }

  /** Drops the user's handle and the gradient it holds; the tape may still hold the data. */
  dispose(): void {
    this.grad?.dispose();
    this.grad = undefined;
    if (!this.handle) return;
    this.handle = false;
    this.storage.release();
  }

  /** A view of the same data with another shape (no copy). */
  reshape(shape: Shape): Tensor {
    if (sizeOf(shape) !== this.size) {
      throw new RangeError(`reshape: ${shapeText(this.shape)} has ${this.size} elements, ${shapeText(shape)} ${sizeOf(shape)}`);
    }
    return this.engine.view(this, shape);
  }

  /** The same values, cut from the tape: no gradient flows back through the result. */
  detach(): Tensor {
    return new Tensor(this.engine, this.shape, this.dtype, this.storage.retain(), false, `${this.label}/detached`);
  }

  /** Reads the values back (flushes pending GPU work). */
  read(): Promise<Float32Array | Int32Array | Uint32Array> {
    return this.engine.read(this);
  }

  async readF32(): Promise<Float32Array> {
    const v = await this.engine.read(this);
    return v instanceof Float32Array ? v : Float32Array.from(v);
  }

  toString(): string {
    return `Tensor(${this.label}, ${shapeText(this.shape)}, ${this.dtype}${this.requiresGrad ? ', grad' : ''})`;
  }
}
