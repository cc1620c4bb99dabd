// Self-attention (Q = K = V = x, a learned scalar scale): our forward and backward kernels, and
// the forward next to TensorFlow.js WebGPU (matMul, mul, softmax, matMul) on the same adapter.
//
//   npx tsx bench/kernels/attention.bench.ts      (or import { runAttentionBench } from a suite)
//
// Synchronisation: each timed run is one op in one submit and ends when the queue is idle (the
// submit and its wait, ~0.3 ms here, are included on both sides); TF.js's batched commands are
// flushed the way its own readback does (see conv.bench.ts); nothing is read back.
// Shapes: PAtt-Lite's own token form at batch 8 (4 tokens of 32: tiny, launch-bound), the
// published batch form at batch 128 ([128,32] scores across the batch), and a larger token form
// (196 tokens of 64) where the arithmetic shows. FLOPs count the two matrix products
// (forward 4*b*tq*tv*d; backward about 8*b*tq*tv*d); softmax is not counted.
import { createGpu } from '../../src/gpu/device.js';
import { createAttention, batchShape, tokenShape, type AttentionShape } from '../../src/kernels/attention.js';
import { encode, upload, createStorage, type BoundDispatch } from '../../src/kernels/runtime.js';
import { time, gflops, gbps, table } from '../lib/timing.js';
import { tfjsWebgpu, releaseTfjsWebgpu } from '../lib/tfjs-webgpu.js';
import { settle } from '../../src/kernels/wait.js';
import { isScript } from '../lib/script.js';

export interface AttentionBenchRow {
  op: string;
  shape: string;
  oursMs: number;
  oursGflops: number;
  oursGbps: number;
  /** Forward only: TF.js has no fused attention backward to compare against. */
  tfjsMs?: number;
}

export const ATTENTION_BENCH_SHAPES: { name: string; s: AttentionShape }[] = [
  { name: 'PAtt-Lite token form b8', s: tokenShape(8, 4, 32) },
  { name: 'batch form b128', s: batchShape(128, 32) },
  { name: 'token form 196x64 b8', s: tokenShape(8, 196, 64) },
];

export async function runAttentionBench(
  opts: { repeats?: number; warmup?: number; log?: (s: string) => void } = {},
): Promise<AttentionBenchRow[]> {
  const log = opts.log ?? console.log;
  const { repeats = 5, warmup = 2 } = opts;
  const gpu = await createGpu();
  const { device } = gpu;
  const tf = await tfjsWebgpu();
  const backend = tf.backend() as unknown as {
    ensureCommandEncoderReady(): void; endComputePassEncoder(): void; submitQueue(): void; device: GPUDevice;
  };
  const att = await createAttention(device);
  const rows: AttentionBenchRow[] = [];
  const ours = async (bound: readonly BoundDispatch[]) => {
    const enc = device.createCommandEncoder();
    const pass = enc.beginComputePass();
    encode(pass, ...bound);
    pass.end();
    device.queue.submit([enc.finish()]);
    await settle(device.queue.onSubmittedWorkDone());
  };
  try {
    for (const { name, s } of ATTENTION_BENCH_SHAPES) {
      const nx = s.batch * s.tq * s.d;
      const np = s.batch * s.tq * s.tv;
      const x = Float32Array.from({ length: nx }, (_, i) => Math.sin(i * 12.9898) * 0.3);
      const made = [upload(device, x, 'bench/x'), upload(device, Float32Array.of(0.7), 'bench/scale'),
        createStorage(device, np * 4, 'bench/probs'), createStorage(device, nx * 4, 'bench/out'),
        upload(device, x, 'bench/dout'), createStorage(device, nx * 4, 'bench/dx'), createStorage(device, 4, 'bench/dscale')];
      const [xb, sb, probs, out, dout, dx, dscale] = made;
      const fwd = att.forward(s, { q: xb, k: xb, v: xb, scale: sb, probs, out });
      const bwd = att.backwardSelf(s, { x: xb, scale: sb, probs, dout, dx, dscale });
      const shape = `batch ${s.batch} tq ${s.tq} tv ${s.tv} d ${s.d}`;
      const flops = 4 * s.batch * s.tq * s.tv * s.d;

      const tf3 = tf.tensor3d(x, [s.batch, s.tq, s.d]);
      const tscale = tf.scalar(0.7);
      const theirs = async () => {
        const y = tf.tidy(() => tf.matMul(tf.softmax(tf.mul(tf.matMul(tf3, tf3, false, true), tscale)), tf3));
        backend.ensureCommandEncoderReady();
        backend.endComputePassEncoder();
        backend.submitQueue();
        await settle(backend.device.queue.onSubmittedWorkDone());
        y.dispose();
      };
      const tf_ = await time(theirs, repeats, warmup);
      const f = await time(() => ours(fwd), repeats, warmup);
      const b = await time(() => ours(bwd.dispatches), repeats, warmup);
      rows.push({ op: 'attention fwd', shape: `${name} (${shape})`, oursMs: f.median * 1e3, oursGflops: gflops(flops, f.median),
        oursGbps: gbps(4 * (2 * nx + np), f.median), tfjsMs: tf_.median * 1e3 });
      rows.push({ op: 'attention bwd (dx, dscale)', shape: `${name} (${shape})`, oursMs: b.median * 1e3,
        oursGflops: gflops(2 * flops, b.median), oursGbps: gbps(4 * (3 * nx + np + 1), b.median) });
      tf3.dispose();
      tscale.dispose();
      bwd.scratch.forEach((x) => x.destroy());
      made.forEach((x) => x.destroy());
    }
  } finally {
    gpu.close();
    releaseTfjsWebgpu();
  }
  log(table(['op', 'shape', 'ours ms', 'ours GFLOP/s', 'ours GB/s', 'TF.js ms'],
    rows.map((r) => [r.op, r.shape, r.oursMs, r.oursGflops, r.oursGbps, r.tfjsMs ?? '–'])));
  log(`(medians of ${repeats} runs after ${warmup} warm-up runs; one op per submit, queue idle at the end of each run)`);
  return rows;
}

if (isScript(import.meta.url)) {
  await runAttentionBench();
}
