// Picks the matmul variant for an adapter: times each variant on a representative shape, in the
// operand layout it is used with, and keeps the fastest. Results are remembered per device (WeakMap) and, through a pluggable
// AutotuneCache, across processes (src/gpu/autotune-cache.ts is a Node file cache; a browser app
// can pass one over localStorage). Browser-safe: WebGPU and performance.now() only.
//
// This is the one place in src/kernels that submits work and waits for it: autotune has to.

import { createStorage, encode, type BoundDispatch } from './runtime.js';
import type { Matmul, MatmulVariant } from './matmul.js';
import { settle } from './wait.js';

/** A string store for tuning results; get may return undefined, either call may be async. */
export interface AutotuneCache {
  get(key: string): string | undefined | Promise<string | undefined>;
  set(key: string, value: string): void | Promise<void>;
}

/** Representative shape: a pointwise layer of the backbone (rows x cin x cout), cheap to run. */
export const AUTOTUNE_SHAPE = { m: 392, k: 256, n: 256 } as const;
const ROUNDS = 9;
const chosen = new WeakMap<GPUDevice, Promise<MatmulVariant>>();

/** The cache key: one entry per adapter (vendor, architecture, device, description); v2 added sg8,
 * v3 times sg8 with B transposed (a v2 entry may hold reg where sg8 is 2x faster). */
export function adapterKey(device: GPUDevice): string {
  const info = (device as { adapterInfo?: GPUAdapterInfo }).adapterInfo;
  if (!info) return 'matmul-variant/v3|unknown-adapter';
  return `matmul-variant/v3|${info.vendor}|${info.architecture}|${info.device}|${info.description}`;
}

async function timeDispatches(device: GPUDevice, bound: BoundDispatch, reps: number): Promise<number> {
  const enc = device.createCommandEncoder({ label: 'matmul/autotune' });
  const pass = enc.beginComputePass({ label: 'matmul/autotune' });
  for (let r = 0; r < reps; r++) encode(pass, bound);
  pass.end();
  const t0 = performance.now();
  device.queue.submit([enc.finish()]);
  await settle(device.queue.onSubmittedWorkDone());
  return performance.now() - t0;
}

/** Times `variants` (see matmulVariantsFor) on AUTOTUNE_SHAPE; returns the fastest (ties go to the first). */
export async function autotuneMatmul(
  device: GPUDevice,
  create: (variant: MatmulVariant) => Promise<Matmul>,
  variants: readonly MatmulVariant[],
): Promise<{ variant: MatmulVariant; ms: Partial<Record<MatmulVariant, number>> }> {
  const { m, k, n } = AUTOTUNE_SHAPE;
  const a = createStorage(device, m * k * 4, 'matmul/autotune/a');
  const b = createStorage(device, k * n * 4, 'matmul/autotune/b');
  const c = createStorage(device, m * n * 4, 'matmul/autotune/c');
  const ms: Partial<Record<MatmulVariant, number>> = {};
  try {
    const bound = new Map<MatmulVariant, BoundDispatch>();
    for (const v of variants) {
      const mm = await create(v);
      // Each variant as the engine runs it: sg8 multiplies by a filter transposed once to [N,K]
      // (the ops hoist that transpose out of every step), which is its fast path. Timed on B [K,N],
      // sg8 ran within 5% of reg here and lost to it in one bench run, which then measured the
      // weight gradients with reg at 2.5x the time.
      const transB = mm.prefersTransposedB(m, k);
      const dispatch = mm.matmul({ m, k, n, bias: false, transB }, { a, b, c });
      await timeDispatches(device, dispatch, 1); // warm-up: the first dispatch pays for pipeline and driver setup
      bound.set(v, dispatch);
    }
    // Rounds interleave the variants, so a burst of load on a shared CPU hits them alike; the
    // median of the rounds decides (single timings picked reg over sg8 on lavapipe in some runs,
    // costing a third of the inference speed, and the choice is cached on disk). A variant over
    // twice the best after the first round is out (tiled on lavapipe), so the rest get more rounds.
    const samples = new Map<MatmulVariant, number[]>(variants.map((v) => [v, []]));
    for (let round = 0; round < ROUNDS; round++) {
      for (const [v, dispatch] of bound) samples.get(v)!.push(await timeDispatches(device, dispatch, 2));
      if (round === 0) {
        const best = Math.min(...[...samples.values()].map((t) => t[0]));
        for (const [v, t] of samples) if (t[0] > 2 * best) bound.delete(v);
      }
    }
    for (const [v, t] of samples) ms[v] = t.sort((x, y) => x - y)[t.length >> 1];
  } finally {
    a.destroy();
    b.destroy();
    c.destroy();
  }
  const variant = variants.reduce((best, v) => (ms[v]! < ms[best]! ? v : best), variants[0]);
  return { variant, ms };
}

/** The variant for `device`: from the per-device memo, then `cache`, else a fresh autotune. */
export function pickMatmulVariant(
  device: GPUDevice,
  create: (variant: MatmulVariant) => Promise<Matmul>,
  cache: AutotuneCache | undefined,
  variants: readonly MatmulVariant[],
): Promise<MatmulVariant> {
  let p = chosen.get(device);
  if (!p) {
    p = (async () => {
      const key = adapterKey(device);
      const cached = await cache?.get(key);
      if (cached && (variants as readonly string[]).includes(cached)) return cached as MatmulVariant;
      const { variant } = await autotuneMatmul(device, create, variants);
      await cache?.set(key, variant);
      return variant;
    })();
    chosen.set(device, p);
    p.catch(() => chosen.delete(device));
  }
  return p;
}
