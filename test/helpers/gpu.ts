// One GPU device for the whole test process (creating devices is slow on a software adapter),
// closed by the root hook in test/setup.ts. `run` submits bound dispatches inside an error
// scope, so any validation error fails the test with the kernel's name.

import { createGpu, type Gpu } from '../../src/gpu/device.js';
import { encode, upload, createStorage, readF32, fillF32, withErrorScope, type BoundDispatch } from '../../src/kernels/runtime.js';

let shared: Promise<Gpu> | undefined;

export function testGpu(): Promise<Gpu> {
  shared ??= createGpu();
  return shared;
}

export async function closeTestGpu(): Promise<void> {
  if (!shared) return;
  const g = await shared.catch(() => undefined);
  g?.close();
  shared = undefined;
}

/** Encodes `bound` into one compute pass, submits, and waits for the queue. */
export async function run(device: GPUDevice, ...bound: BoundDispatch[]): Promise<void> {
  const label = bound.map((b) => b.label).join(', ');
  await withErrorScope(device, label, async () => {
    const enc = device.createCommandEncoder({ label });
    const pass = enc.beginComputePass({ label });
    encode(pass, ...bound);
    pass.end();
    device.queue.submit([enc.finish()]);
    await device.queue.onSubmittedWorkDone();
  });
}

/** Tracks buffers a test creates and destroys them afterwards. */
export class Buffers {
  private readonly all: GPUBuffer[] = [];
  constructor(readonly device: GPUDevice) {}
  from(data: Float32Array | Int32Array | Uint32Array, label = 'test/input'): GPUBuffer {
    const b = upload(this.device, data, label);
    this.all.push(b);
    return b;
  }
  /** An output buffer of n floats, poisoned with NaN so unwritten elements fail comparisons. */
  poisoned(n: number, label = 'test/output'): GPUBuffer {
    const b = createStorage(this.device, n * 4, label);
    fillF32(this.device, b, Number.NaN, Math.max(1, n));
    this.all.push(b);
    return b;
  }
  read(b: GPUBuffer, n?: number): Promise<Float32Array> {
    return readF32(this.device, b, n);
  }
  destroy(): void {
    for (const b of this.all) b.destroy();
    this.all.length = 0;
  }
}
