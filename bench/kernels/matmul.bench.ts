// Matrix multiply: each of our variants next to TensorFlow.js WebGPU's tf.matMul on the same
// adapter, same shapes, same process; and the weight gradient of a pointwise layer, dW = X^T·dY
// (A stored [K,M]), with the variant the autotune picked next to tf.matMul(x, dy, true, false).
//
//   npx tsx bench/kernels/matmul.bench.ts       (or import { runMatmulBench } from a suite)
//
// Synchronisation, both sides: a timed run is `perSubmit` matmuls and ends when the queue is idle.
//   ours:   bind once, then per run encode `perSubmit` dispatches in one compute pass, submit,
//           await device.queue.onSubmittedWorkDone(). Nothing is read back.
//   TF.js:  GPU tensors made before timing; per run call tf.matMul `perSubmit` times, flush its
//           batched commands (backend.endComputePassEncoder() + submitQueue(), what its readback
//           does first), await its device's onSubmittedWorkDone(), dispose the outputs. No readback.
// Times are medians (bench/lib/timing.ts) of `repeats` runs after `warmup` untimed runs, divided
// by perSubmit. GFLOP/s = 2*M*K*N / time; GB/s counts A, B and C once (a lower bound on traffic).
// Both sides await the queue through settle() (src/kernels/wait.ts: Node's thread sleeps between
// polls instead of spinning, so neither wait takes a core from a CPU adapter's threads).

import { loadavg } from 'node:os';
import { createGpu } from '../../src/gpu/device.js';
import { createMatmul, MATMUL_VARIANTS, matmulVariantsFor, type MatmulVariant } from '../../src/kernels/matmul.js';
import { autotuneMatmul } from '../../src/kernels/matmul-autotune.js';
import { encode, upload, createStorage, type BoundDispatch } from '../../src/kernels/runtime.js';
import { time, gflops, gbps, table } from '../lib/timing.js';
import { tfjsWebgpu, releaseTfjsWebgpu } from '../lib/tfjs-webgpu.js';
import { uniform } from '../../test/helpers/random.js';
import { settle } from '../../src/kernels/wait.js';
import { isScript } from '../lib/script.js';

export interface MatmulBenchRow {
  /** 'matmul / pointwise' (C = A·B) or 'pointwise dW' (C = A^T·B, A stored [K,M]). */
  kernel: string;
  shape: string;
  impl: string;
  ms: number;
  gflops: number;
  gbps: number;
  /** TF.js time / this time (> 1: faster than TF.js). */
  vsTfjs: number;
}

export const MATMUL_BENCH_SHAPES: readonly { name: string; m: number; k: number; n: number; transA?: boolean }[] = [
  { name: '1024^3', m: 1024, k: 1024, n: 1024 },
  { name: 'pw 14x14x512 b8', m: 1568, k: 512, n: 512 },
  { name: 'pw 112x112 32->64 b8', m: 8 * 112 * 112, k: 32, n: 64 },
  // Weight gradients of the same two layers: K is the batch's pixels, M and N the channels.
  { name: 'pw dW 14x14x512 b8', m: 512, k: 1568, n: 512, transA: true },
  { name: 'pw dW 112x112 32->64 b8', m: 32, k: 8 * 112 * 112, n: 64, transA: true },
];

export async function runMatmulBench(
  opts: { repeats?: number; warmup?: number; perSubmit?: number; log?: (s: string) => void } = {},
): Promise<MatmulBenchRow[]> {
  const log = opts.log ?? console.log;
  const { repeats = 5, warmup = 1, perSubmit = 2 } = opts;
  const gpu = await createGpu();
  const { device } = gpu;
  const tf = await tfjsWebgpu();
  const backend = tf.backend() as unknown as { endComputePassEncoder(): void; submitQueue(): void; device: GPUDevice };
  const rows: MatmulBenchRow[] = [];
  try {
    const tune = await autotuneMatmul(device, (v) => createMatmul(device, { variant: v }), await matmulVariantsFor(device));
    log(`autotune on this adapter: ${tune.variant} (${Object.entries(tune.ms).map(([v, t]) => `${v} ${t!.toFixed(1)} ms`).join(', ')})`);
    const kernels = new Map<MatmulVariant, Awaited<ReturnType<typeof createMatmul>>>();
    const available = await matmulVariantsFor(device);
    for (const v of MATMUL_VARIANTS) {
      if (!available.includes(v)) { log(`${v}: not run (this adapter cannot: sg8 needs 8-lane subgroups)`); continue; }
      kernels.set(v, await createMatmul(device, { variant: v }));
    }
    for (const s of MATMUL_BENCH_SHAPES) {
      const a = uniform(1, s.m * s.k);
      const b = uniform(2, s.k * s.n);
      const flops = 2 * s.m * s.k * s.n;
      const bytes = 4 * (s.m * s.k + s.k * s.n + s.m * s.n);
      const [ab, bb, cb] = [upload(device, a, 'bench/a'), upload(device, b, 'bench/b'), createStorage(device, s.m * s.n * 4, 'bench/c')];
      const ms = new Map<string, number>();
      // Each variant on B [K,N]; where a variant prefers B transposed (sg8), also "transpose B, then
      // multiply" (what our dense / pointwise op runs), timed as one unit.
      const bt = createStorage(device, s.k * s.n * 4, 'bench/b^T');
      for (const [v, mm] of kernels) {
        if (s.transA && v !== tune.variant) continue;
        const runs: [string, BoundDispatch[]][] = [[`ours ${v}`, [mm.matmul({ m: s.m, k: s.k, n: s.n, transA: s.transA }, { a: ab, b: bb, c: cb })]]];
        if (!s.transA && mm.prefersTransposedB(s.m, s.k)) {
          runs.push([`ours ${v}, B transposed first`, [
            mm.transpose({ rows: s.k, cols: s.n }, { x: bb, y: bt }),
            mm.matmul({ m: s.m, k: s.k, n: s.n, transB: true }, { a: ab, b: bt, c: cb }),
          ]]);
        }
        for (const [impl, bound] of runs) {
          const t = await time(async () => {
            const enc = device.createCommandEncoder();
            const pass = enc.beginComputePass();
            for (let i = 0; i < perSubmit; i++) encode(pass, ...bound);
            pass.end();
            device.queue.submit([enc.finish()]);
            await settle(device.queue.onSubmittedWorkDone());
          }, repeats, warmup);
          ms.set(impl, (t.median / perSubmit) * 1e3);
        }
      }
      bt.destroy();
      const ta = tf.tensor2d(a, s.transA ? [s.k, s.m] : [s.m, s.k]);
      const tb = tf.tensor2d(b, [s.k, s.n]);
      const t = await time(async () => {
        const outs = Array.from({ length: perSubmit }, () => tf.matMul(ta, tb, !!s.transA, false));
        backend.endComputePassEncoder();
        backend.submitQueue();
        await settle(backend.device.queue.onSubmittedWorkDone());
        outs.forEach((o) => o.dispose());
      }, repeats, warmup);
      ms.set('tfjs webgpu', (t.median / perSubmit) * 1e3);
      ta.dispose();
      tb.dispose();
      [ab, bb, cb].forEach((x) => x.destroy());
      const tfMs = ms.get('tfjs webgpu')!;
      for (const [impl, m] of ms) {
        rows.push({ kernel: s.transA ? 'pointwise dW' : 'matmul / pointwise', shape: `${s.name} (M${s.m} K${s.k} N${s.n})`, impl, ms: m, gflops: gflops(flops, m / 1e3), gbps: gbps(bytes, m / 1e3), vsTfjs: tfMs / m });
      }
    }
  } finally {
    gpu.close();
    releaseTfjsWebgpu();
  }
  log(table(['kernel', 'shape', 'impl', 'ms', 'GFLOP/s', 'GB/s', 'x TF.js'],
    rows.map((r) => [r.kernel, r.shape, r.impl, r.ms, r.gflops, r.gbps, r.vsTfjs])));
  log(`(medians of ${repeats} runs after ${warmup} warm-up, ${perSubmit} matmuls per submit, queue idle at the end of each run; ` +
    `load average at the end ${loadavg()[0].toFixed(1)} on this machine)`);
  return rows;
}

if (isScript(import.meta.url)) {
  await runMatmulBench();
}
