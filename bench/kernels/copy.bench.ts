// The adapter's own memory bandwidth: one large copyBufferToBuffer, the ceiling the kernels' GB/s
// are compared against.
//
//   npx tsx bench/kernels/copy.bench.ts       (or import { runCopyBench } from a suite)
//
// A timed run encodes `perSubmit` copies of `bytes` in one command buffer, submits, and awaits
// device.queue.onSubmittedWorkDone(). GB/s counts the bytes read plus the bytes written
// (2 x bytes per copy), the way the kernels' GB/s counts inputs and outputs.
import { createGpu } from '../../src/gpu/device.js';
import { time, gbps } from '../lib/timing.js';
import { settle } from '../../src/kernels/wait.js';
import { isScript } from '../lib/script.js';

export interface CopyBenchResult {
  bytes: number;
  ms: number;
  gbps: number;
  runs: number;
}

export async function runCopyBench(
  opts: { megabytes?: number; repeats?: number; warmup?: number; perSubmit?: number; log?: (s: string) => void } = {},
): Promise<CopyBenchResult> {
  const log = opts.log ?? console.log;
  const { repeats = 5, warmup = 2, perSubmit = 2 } = opts;
  const gpu = await createGpu();
  const { device } = gpu;
  try {
    const max = Math.min(device.limits.maxBufferSize, 2 ** 31);
    const bytes = Math.min((opts.megabytes ?? 256) * 1024 * 1024, max - (max % 4));
    const usage = GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
    const src = device.createBuffer({ label: 'bench/copy-src', size: bytes, usage });
    const dst = device.createBuffer({ label: 'bench/copy-dst', size: bytes, usage });
    // Touch the source once so the driver has real pages behind it.
    const enc0 = device.createCommandEncoder();
    enc0.clearBuffer(src);
    device.queue.submit([enc0.finish()]);
    await settle(device.queue.onSubmittedWorkDone());
    const t = await time(async () => {
      const enc = device.createCommandEncoder();
      for (let i = 0; i < perSubmit; i++) enc.copyBufferToBuffer(src, 0, dst, 0, bytes);
      device.queue.submit([enc.finish()]);
      await settle(device.queue.onSubmittedWorkDone());
    }, repeats, warmup);
    src.destroy();
    dst.destroy();
    const s = t.median / perSubmit;
    const r = { bytes, ms: s * 1e3, gbps: gbps(2 * bytes, s), runs: repeats };
    log(`copy ${(bytes / 2 ** 20).toFixed(0)} MiB: ${r.ms.toFixed(2)} ms, ${r.gbps.toFixed(1)} GB/s (read + write; median of ${repeats})`);
    return r;
  } finally {
    gpu.close();
  }
}

if (isScript(import.meta.url)) {
  await runCopyBench();
}
