// A GPU buffer pool by size class. Tensors take buffers from it and give them back when the last
// holder lets go, so a training step that runs again with the same shapes reuses the same buffers
// and allocates nothing. Live and peak bytes are tracked for reports and for the tests that check
// memory stays constant over many steps.
//
// A compiled plan (see engine.ts) must keep the buffers its recorded dispatches use: while a
// plan records, released buffers go to that plan's own free list instead of the shared one, and
// the plan owns every buffer it took until it is disposed.

import { storageUsage } from '../kernels/runtime.js';

/** Size classes: multiples of 256 bytes below 64 KiB, then steps of 1/8 of a power of two. */
export function sizeClass(bytes: number): number {
  const b = Math.max(256, Math.ceil(bytes / 256) * 256);
  if (b <= 65536) return b;
  const p = 2 ** Math.floor(Math.log2(b));
  const step = p / 8;
  return Math.ceil(b / step) * step;
}

export interface PoolStats {
  /** Bytes held by tensors right now (size classes, not requested sizes). */
  liveBytes: number;
  peakBytes: number;
  /** Bytes in free lists, kept for reuse. */
  freeBytes: number;
  /** Buffers ever created by the pool. */
  created: number;
}

class FreeList {
  private readonly lists = new Map<number, GPUBuffer[]>();
  bytes = 0;
  take(size: number): GPUBuffer | undefined {
    const list = this.lists.get(size);
    const b = list?.pop();
    if (b) this.bytes -= size;
    return b;
  }
  put(size: number, b: GPUBuffer): void {
    let list = this.lists.get(size);
    if (!list) this.lists.set(size, (list = []));
    list.push(b);
    this.bytes += size;
  }
  drain(): GPUBuffer[] {
    const all = [...this.lists.values()].flat();
    this.lists.clear();
    this.bytes = 0;
    return all;
  }
}

/** Buffers taken and freed while a plan records; see the file comment. */
export class Reservation {
  readonly owned = new Set<GPUBuffer>();
  readonly free = new FreeList();
}

export class BufferPool {
  private readonly free = new FreeList();
  private readonly sizes = new WeakMap<GPUBuffer, number>();
  /** The reservation a buffer was taken under: its free list gets it back, whoever is recording then. */
  private readonly owners = new WeakMap<GPUBuffer, Reservation>();
  private live = 0;
  private peak = 0;
  private created = 0;
  private reservation: Reservation | undefined;

  constructor(readonly device: GPUDevice) {}

  acquire(bytes: number, label: string): GPUBuffer {
    const size = sizeClass(bytes);
    let b = this.reservation?.free.take(size) ?? this.free.take(size);
    if (!b) {
      b = this.device.createBuffer({ label, size, usage: storageUsage() });
      this.sizes.set(b, size);
      this.created++;
    }
    if (this.reservation) {
      this.reservation.owned.add(b);
      this.owners.set(b, this.reservation);
    }
    this.live += size;
    this.peak = Math.max(this.peak, this.live);
    return b;
  }

  release(b: GPUBuffer): void {
    const size = this.sizes.get(b);
    if (size === undefined) throw new Error(`buffer ${b.label} does not belong to this pool`);
    this.live -= size;
    const owner = this.owners.get(b);
    if (owner?.owned.has(b)) owner.free.put(size, b);
    else this.free.put(size, b);
  }

  /** Starts routing allocations through `r` (a recording plan). */
  reserve(r: Reservation | undefined): void {
    this.reservation = r;
  }

  /** Returns a plan's buffers (all released by then) to the shared free list. */
  unreserve(r: Reservation): void {
    for (const b of r.free.drain()) this.free.put(this.sizes.get(b)!, b);
    r.owned.clear();
  }

  stats(): PoolStats {
    return { liveBytes: this.live, peakBytes: this.peak, freeBytes: this.free.bytes, created: this.created };
  }

  resetPeak(): void {
    this.peak = this.live;
  }

  /** Destroys the free buffers (live ones stay with their tensors). */
  trim(): void {
    for (const b of this.free.drain()) b.destroy();
  }
}
