// Conv2D and depthwise Conv2D: our kernels next to TensorFlow.js WebGPU on the same adapter,
// same shapes, same process (PAtt-Lite's hot convolutions at batch 8).
//
//   npx tsx bench/kernels/conv.bench.ts            (or import { runConvBench } from a suite)
//
// Synchronisation, both sides: a timed run is `perSubmit` ops and ends when the GPU queue is idle.
//   ours:   bind once (pipelines, bind groups, scratch), then per run encode the op `perSubmit`
//           times in one compute pass, submit, await device.queue.onSubmittedWorkDone(). Nothing
//           is read back.
//   TF.js:  inputs are GPU tensors made before timing; per run call the op/kernel `perSubmit`
//           times, flush TF.js's batched commands (backend.endComputePassEncoder() + submitQueue(),
//           what its own readback does first) and await its device's onSubmittedWorkDone(),
//           then dispose the outputs. Nothing is read back. TF.js's per-call bind groups and
//           uniform buffers are part of its cost, as in real use.
// perSubmit is the same for both sides: 1 for ops that take 20 ms or more, else enough ops to
// fill about 20 ms (at most 16), judged from our warm-up run. A submit and its wait cost ~0.3 ms
// here, which would otherwise be most of a 1-4 ms op (the patch extraction) and compress the
// ratio towards 1; in a network the ops of a step share one submit (as in the matmul bench).
// Both sides await the queue through settle() (src/kernels/wait.ts), which sleeps Node's main thread
// between polls instead of letting Dawn's bindings spin it, so that neither side's wait takes a
// core from the driver's threads.
// Times are per op: medians of `repeats` runs after `warmup` untimed runs, divided by perSubmit,
// ours and TF.js interleaved run by run. An op whose round (ours + TF.js, perSubmit each) is cheap
// gets more rounds, up to 4x `repeats`, about ROUND_BUDGET_S of them: the small ops' medians
// swung most between bench runs (the patch kernels 1.05-3.1x over 20 runs).
// GFLOP/s counts 2 * MACs over every window tap (padding taps included, the same for both).
// GB/s counts the bytes of the op's inputs and outputs once (a lower bound on real traffic).

import { createGpu } from '../../src/gpu/device.js';
import { createConv2d, type Conv2dShape } from '../../src/kernels/conv2d.js';
import { createDepthwise, type DepthwiseShape } from '../../src/kernels/depthwise.js';
import { encode, upload, createStorage, type BoundDispatch } from '../../src/kernels/runtime.js';
import { time, gflops, gbps, median, table } from '../lib/timing.js';

import { tfjsWebgpu, releaseTfjsWebgpu } from '../lib/tfjs-webgpu.js';
import { settle } from '../../src/kernels/wait.js';
import { isScript } from '../lib/script.js';

export interface ConvBenchRow {
  op: string;
  shape: string;
  oursMs: number;
  tfjsMs: number;
  oursGflops: number;
  oursGbps: number;
  tfjsGflops: number;
  speedup: number;
}

interface Spec {
  op: string;
  shape: string;
  flops: number;
  bytes: number;
  ours: BoundDispatch[];
  tf: () => { dispose(): void };
}

/** Seconds of timed rounds an op gets at most when `repeats` rounds would take less. */
const ROUND_BUDGET_S = 1.5;

export async function runConvBench(opts: { repeats?: number; warmup?: number; log?: (s: string) => void } = {}): Promise<ConvBenchRow[]> {
  const log = opts.log ?? console.log;
  const repeats = opts.repeats ?? 5;
  const warmup = opts.warmup ?? 2;
  const gpu = await createGpu();
  const { device } = gpu;
  const tf = await tfjsWebgpu();
  const backend = tf.backend() as unknown as {
    ensureCommandEncoderReady(): void; endComputePassEncoder(): void; submitQueue(): void; device: GPUDevice;
  };
  const conv = await createConv2d(device);
  const dw = await createDepthwise(device);
  const made: GPUBuffer[] = [];
  const rand = (n: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898) * 0.5);
  const buf = (n: number) => { const b = upload(device, rand(n), 'bench'); made.push(b); return b; };
  const out = (n: number) => { const b = createStorage(device, n * 4, 'bench/out'); made.push(b); return b; };
  const scratch: { destroy(): void }[] = [];
  const specs: Spec[] = [];
  const tfTensors: { dispose(): void }[] = [];
  const t4 = (shape: [number, number, number, number]) => {
    const t = tf.tensor4d(rand(shape.reduce((a, b) => a * b)), shape);
    tfTensors.push(t);
    return t;
  };

  const depthwiseCase = (label: string, s: DepthwiseShape, ops: ('fwd' | 'dx' | 'dw')[]) => {
    const g = dw.geometry(s);
    const [nx, nw, ny] = [s.n * s.h * s.w * s.c, s.kh * s.kw * s.c, s.n * g.oh * g.ow * s.c];
    const flops = 2 * ny * s.kh * s.kw;
    const [x, w, y, dyb, dxb, dwb] = [buf(nx), buf(nw), out(ny), buf(ny), out(nx), out(nw)];
    const X = t4([s.n, s.h, s.w, s.c]);
    const W = t4([s.kh, s.kw, s.c, 1]);
    const DY = t4([s.n, g.oh, g.ow, s.c]);
    const pad = typeof s.padding === 'string' ? s.padding : 'valid';
    const stride = s.stride as number;
    const shape = `${s.n}x${s.h}x${s.w}x${s.c} k${s.kh} s${stride} ${pad}`;
    const attrs = { strides: stride, pad, dilations: 1, dimRoundingMode: undefined };
    for (const op of ops) {
      if (op === 'fwd') {
        specs.push({ op: `${label} fwd`, shape, flops, bytes: 4 * (nx + nw + ny), ours: [dw.forward(s, { x, w, y })],
          tf: () => tf.depthwiseConv2d(X, W, stride, pad as 'same') });
      } else if (op === 'dx') {
        specs.push({ op: `${label} dx`, shape, flops, bytes: 4 * (ny + nw + nx), ours: [dw.dx(s, { dy: dyb, w, dx: dxb })],
          tf: () => tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput', { dy: DY, filter: W },
            { ...attrs, inputShape: [s.n, s.h, s.w, s.c] } as never) as never });
      } else {
        const red = dw.dw(s, { x, dy: dyb, dw: dwb });
        scratch.push(red);
        specs.push({ op: `${label} dw`, shape, flops, bytes: 4 * (nx + ny + nw), ours: [...red.dispatches],
          tf: () => tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x: X, dy: DY },
            { ...attrs, filterShape: [s.kh, s.kw, s.c, 1] } as never) as never });
      }
    }
  };

  const convCase = (label: string, s: Conv2dShape, ops: ('fwd' | 'dx' | 'dw')[]) => {
    const g = conv.geometry(s);
    const [nx, nw, ny] = [s.n * s.h * s.w * s.cin, s.kh * s.kw * s.cin * s.cout, s.n * g.oh * g.ow * s.cout];
    const flops = 2 * ny * s.kh * s.kw * s.cin;
    const [x, w, y, dyb, dxb, dwb] = [buf(nx), buf(nw), out(ny), buf(ny), out(nx), out(nw)];
    const X = t4([s.n, s.h, s.w, s.cin]);
    const W = t4([s.kh, s.kw, s.cin, s.cout]);
    const DY = t4([s.n, g.oh, g.ow, s.cout]);
    const pad = typeof s.padding === 'string' ? s.padding : 'valid';
    const stride = s.stride as number;
    const shape = `${s.n}x${s.h}x${s.w}x${s.cin}->${s.cout} k${s.kh} s${stride} ${pad}`;
    const attrs = { strides: stride, pad, dataFormat: 'NHWC', dimRoundingMode: undefined };
    for (const op of ops) {
      if (op === 'fwd') {
        specs.push({ op: `${label} fwd`, shape, flops, bytes: 4 * (nx + nw + ny), ours: [conv.forward(s, { x, w, y })],
          tf: () => tf.conv2d(X, W, stride, pad as 'same') });
      } else if (op === 'dx') {
        specs.push({ op: `${label} dx`, shape, flops, bytes: 4 * (ny + nw + nx), ours: [conv.dx(s, { dy: dyb, w, dx: dxb })],
          tf: () => tf.engine().runKernel('Conv2DBackpropInput', { dy: DY, filter: W },
            { ...attrs, inputShape: [s.n, s.h, s.w, s.cin] } as never) as never });
      } else {
        const red = conv.dw(s, { x, dy: dyb, dw: dwb });
        scratch.push(red);
        specs.push({ op: `${label} dw`, shape, flops, bytes: 4 * (nx + ny + nw), ours: [...red.dispatches],
          tf: () => tf.engine().runKernel('Conv2DBackpropFilter', { x: X, dy: DY },
            { ...attrs, filterShape: [s.kh, s.kw, s.cin, s.cout] } as never) as never });
      }
    }
  };

  depthwiseCase('depthwise 3x3', { n: 8, h: 112, w: 112, c: 32, kh: 3, kw: 3, stride: 1, padding: 'same' }, ['fwd', 'dx', 'dw']);
  // MobileNet's first stride-2 depthwise block (its ZeroPadding2D((0,1),(0,1)) + valid is 'same' here).
  depthwiseCase('depthwise 3x3 s2', { n: 8, h: 112, w: 112, c: 64, kh: 3, kw: 3, stride: 2, padding: 'same' }, ['fwd', 'dx', 'dw']);
  convCase('conv1 3x3', { n: 8, h: 224, w: 224, cin: 3, cout: 32, kh: 3, kw: 3, stride: 2, padding: 'same' }, ['fwd', 'dx', 'dw']);
  depthwiseCase('patch dw 4x4', { n: 8, h: 14, w: 14, c: 512, kh: 4, kw: 4, stride: 4, padding: 'same' }, ['fwd', 'dw']);

  const ours = async (bound: BoundDispatch[], perSubmit = 1) => {
    const enc = device.createCommandEncoder();
    const pass = enc.beginComputePass();
    for (let i = 0; i < perSubmit; i++) encode(pass, ...bound);
    pass.end();
    device.queue.submit([enc.finish()]);
    await settle(device.queue.onSubmittedWorkDone());
  };
  const theirs = async (f: () => { dispose(): void }, perSubmit = 1) => {
    const ys = Array.from({ length: perSubmit }, f);
    backend.ensureCommandEncoderReady();
    backend.endComputePassEncoder();
    backend.submitQueue();
    await settle(backend.device.queue.onSubmittedWorkDone());
    for (const y of ys) y.dispose();
  };

  const rows: ConvBenchRow[] = [];
  for (const s of specs) {
    // Interleaved rounds (ours, then TF.js) so that load from other processes hits both sides.
    const [sa, sb]: number[][] = [[], []];
    await time(() => ours(s.ours), 0, warmup);
    await time(() => theirs(s.tf), 0, warmup);
    const single = (await time(() => ours(s.ours), 1, 0)).median;
    const perSubmit = Math.max(1, Math.min(16, Math.round(0.02 / single)));
    // Cheap ops get more rounds (up to 4x `repeats`, about ROUND_BUDGET_S of rounds per row): their
    // medians swing most from run to run, and more samples cost little.
    const singleTf = (await time(() => theirs(s.tf), 1, 0)).median;
    const rounds = Math.max(repeats, Math.min(4 * repeats, Math.ceil(ROUND_BUDGET_S / ((single + singleTf) * perSubmit))));
    for (let r = 0; r < rounds; r++) {
      sa.push((await time(() => ours(s.ours, perSubmit), 1, 0)).median / perSubmit);
      sb.push((await time(() => theirs(s.tf, perSubmit), 1, 0)).median / perSubmit);
    }
    const a = { median: median(sa) };
    const b = { median: median(sb) };
    rows.push({
      op: s.op, shape: s.shape, oursMs: a.median * 1e3, tfjsMs: b.median * 1e3,
      oursGflops: gflops(s.flops, a.median), oursGbps: gbps(s.bytes, a.median),
      tfjsGflops: gflops(s.flops, b.median), speedup: b.median / a.median,
    });
    log(`  ${s.op}: ours ${(a.median * 1e3).toFixed(1)} ms, TF.js ${(b.median * 1e3).toFixed(1)} ms (${perSubmit} per submit, ${rounds} rounds)`);
  }
  log(table(
    ['op', 'shape', 'ours ms', 'ours GFLOP/s', 'ours GB/s', 'TF.js ms', 'TF.js GFLOP/s', 'TF.js/ours'],
    rows.map((r) => [r.op, r.shape, r.oursMs, r.oursGflops, r.oursGbps, r.tfjsMs, r.tfjsGflops, `${r.speedup.toFixed(2)}x`]),
  ));
  log(`(medians of ${repeats}-${4 * repeats} interleaved runs after ${warmup} warm-up runs, more for cheaper ops; per op; ops taking under 20 ms run several per submit, the same count on both sides)`);

  for (const r of scratch) r.destroy();
  for (const b of made) b.destroy();
  for (const t of tfTensors) t.dispose();
  gpu.close();
  releaseTfjsWebgpu();
  return rows;
}

if (isScript(import.meta.url)) {
  const repeats = Number(process.env.REPEATS ?? 5);
  runConvBench({ repeats }).catch((err) => {
    console.error(err);
    process.exitCode = 1;
  });
}
