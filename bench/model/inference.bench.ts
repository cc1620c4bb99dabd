// PAtt-Lite inference, images/s: our predictor (src/model/inference.ts) next to TensorFlow.js WebGPU
// running the same network (test/reference/patt-lite-tf.ts) with the same weights, on the same
// adapter, in the same process.
//
//   npx tsx bench/model/inference.bench.ts          (or import { runInferenceBench } from a suite)
//   env: BATCHES=1,8,32,128  BUDGET_S=270 (soft wall-clock budget for the timed part)
//
// What one timed run is, both sides: 224x224 uint8 RGB images on the CPU -> upload -> resize to
// 224 (bilinear, half-pixel centres) -> x / 127.5 - 1 -> PAtt-Lite (attention 'patch') -> softmax
// -> probabilities read back to the CPU.
//   ours:  predictor.predict(images): one upload, one submission (input stage + recorded plan with
//          BN folded into the convolutions), one read-back.
//   TF.js: tf.tensor4d(bytes) -> tf.image.resizeBilinear(halfPixelCenters) -> div/sub ->
//          pattLiteTf -> softmax -> await data(); weights uploaded once before timing.
// Both read-backs are awaited through settle() (src/kernels/wait.ts; our readBuffer uses it), so
// neither side's wait spins Node's main thread while the adapter works.
// Medians of interleaved runs (ours, TF.js, ours, …) after one warm-up run per side and batch size;
// the warm-up is reported as "first batch" (ours: plan recording; TF.js: shader compilation for
// new shapes). Repeats shrink on a slow adapter so the whole bench stays within BUDGET_S; the
// table says how many runs each median has. Time to first result: from nothing to the first batch-1
// probabilities (ours: engine with every pipeline compiled + model + BN folding + first batch;
// TF.js: backend start + weight upload + first batch). Mesa's on-disk shader cache makes a first
// run on a machine much slower than later ones (DESIGN §5).

import { createGpu, describeGpu } from '../../src/gpu/device.js';
import { fileAutotuneCache } from '../../src/gpu/autotune-cache.js';
import { Engine } from '../../src/graph/engine.js';
import { PattLite } from '../../src/model/patt-lite.js';
import { createPredictor, preprocessOnCpu, type Predictor } from '../../src/model/inference.js';
import { modelWeights } from '../../src/model/weights.js';
import type { RgbImage } from '../../src/data/image.js';
import { pattLiteTf } from '../../test/reference/patt-lite-tf.js';
import { tfjsWebgpu, releaseTfjsWebgpu } from '../lib/tfjs-webgpu.js';
import { median, table } from '../lib/timing.js';
import { settle } from '../../src/kernels/wait.js';
import { isScript } from '../lib/script.js';

type Tf = typeof import('@tensorflow/tfjs');

export interface InferenceBenchRow {
  batch: number;
  oursImagesPerS: number;
  tfjsImagesPerS: number;
  /** ours / TF.js throughput. */
  ratio: number;
  oursFirstBatchS: number;
  tfjsFirstBatchS: number;
  runs: number;
}

export interface InferenceBenchResult {
  adapter: string;
  rows: InferenceBenchRow[];
  skipped: { batch: number; why: string }[];
  firstResult: { oursS: number; oursParts: Record<string, number>; tfjsS: number; tfjsParts: Record<string, number> };
  /** Largest |p_ours - p_tfjs| over the batch-1 check. */
  maxProbDiff: number;
}

const SIZE = 224;

function noiseImage(seed: number): RgbImage {
  let a = seed >>> 0;
  const data = new Uint8Array(SIZE * SIZE * 3);
  for (let i = 0; i < data.length; i++) {
    a = (Math.imul(a, 1664525) + 1013904223) >>> 0;
    data[i] = a >>> 24;
  }
  return { width: SIZE, height: SIZE, data };
}


const seconds = async (fn: () => Promise<unknown>): Promise<number> => {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
};

export async function runInferenceBench(opts: {
  batches?: number[];
  budgetS?: number;
  maxRepeats?: number;
  log?: (s: string) => void;
} = {}): Promise<InferenceBenchResult> {
  const log = opts.log ?? console.log;
  const batches = opts.batches ?? [1, 8, 32, 128];
  const budget = opts.budgetS ?? 270;
  const maxRepeats = opts.maxRepeats ?? 5;
  const start = performance.now();
  const elapsed = () => (performance.now() - start) / 1000;

  // ---- ours, from nothing to the first result ----
  const tGpu = performance.now();
  const gpu = await createGpu();
  const oursParts: Record<string, number> = {};
  oursParts.device = (performance.now() - tGpu) / 1000;
  let engine!: Engine;
  oursParts['engine + pipelines'] = await seconds(async () => {
    engine = await Engine.create(gpu.device, { autotuneCache: fileAutotuneCache() });
  });
  const model = new PattLite(engine, { classes: 7, attention: 'patch' }, 1);
  // Calibrated moving statistics, so both engines see the activations of a working network.
  const calib = [noiseImage(101), noiseImage(102)];
  const cx = new Float32Array(2 * SIZE * SIZE * 3);
  calib.forEach((im, i) => preprocessOnCpu(im, SIZE, cx, i * SIZE * SIZE * 3));
  const cxT = engine.tensor(cx, [2, SIZE, SIZE, 3]);
  model.calibrate(cxT, { training: false, seed: 0, step: 0 });
  cxT.dispose();
  // A random head gives near-uniform probabilities; spread it so the cross-check below means something.
  let seed = 12345;
  engine.write(model.head.kernel, Float32Array.from({ length: model.head.kernel.size }, () => {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    return (seed / 2 ** 32 - 0.5) * 6;
  }));
  await engine.sync();
  const predictors = new Map<number, Predictor>();
  let first!: Predictor;
  oursParts['fold BN'] = await seconds(async () => {
    first = await createPredictor(model, { batchSize: 1 });
  });
  predictors.set(1, first);
  const probe = noiseImage(7);
  let oursProbe!: Float32Array;
  oursParts['first batch'] = await seconds(async () => {
    oursProbe = (await first.predict([probe])).probs[0];
  });
  const oursFirst = Object.values(oursParts).reduce((a, b) => a + b, 0);
  log(`adapter: ${describeGpu(gpu)}`);
  log(`ours: first result after ${oursFirst.toFixed(2)} s (${Object.entries(oursParts).map(([k, v]) => `${k} ${v.toFixed(2)} s`).join(', ')})`);

  // ---- TF.js WebGPU, same weights ----
  const tfParts: Record<string, number> = {};
  let tf!: Tf;
  tfParts['backend start'] = await seconds(async () => {
    tf = await tfjsWebgpu();
  });
  const weights = new Map<string, import('@tensorflow/tfjs').Tensor>();
  tfParts['weight upload'] = await seconds(async () => {
    for (const [name, data] of await modelWeights(model)) weights.set(name, tf.tensor(data, model.params.get(name).shape as number[]));
  });
  const w = (name: string) => {
    const t = weights.get(name);
    if (!t) throw new Error(`TF.js peer wants ${name}`);
    return t;
  };
  const tfPredict = async (images: readonly RgbImage[]): Promise<Float32Array> => {
    const n = images.length;
    const bytes = new Uint8Array(n * SIZE * SIZE * 3);
    images.forEach((im, i) => bytes.set(im.data, i * SIZE * SIZE * 3));
    const probs = tf.tidy(() => {
      const x = tf.tensor4d(bytes, [n, images[0].height, images[0].width, 3], 'int32');
      const resized = tf.image.resizeBilinear(x, [SIZE, SIZE], false, true);
      const pre = tf.sub(tf.div(resized, 127.5), 1);
      return tf.softmax(pattLiteTf(tf, w, pre, { attention: 'patch', training: false }));
    });
    const v = (await settle(probs.data())) as Float32Array;
    probs.dispose();
    return v;
  };
  let tfProbe!: Float32Array;
  tfParts['first batch'] = await seconds(async () => {
    tfProbe = await tfPredict([probe]);
  });
  const tfFirst = Object.values(tfParts).reduce((a, b) => a + b, 0);
  log(`TF.js: first result after ${tfFirst.toFixed(2)} s (${Object.entries(tfParts).map(([k, v]) => `${k} ${v.toFixed(2)} s`).join(', ')})`);
  const maxProbDiff = Math.max(...Array.from(oursProbe, (p, i) => Math.abs(p - tfProbe[i])));
  log(`same network check (batch 1): max |p_ours - p_tfjs| = ${maxProbDiff.toExponential(2)}; ours ${Array.from(oursProbe, (p) => p.toFixed(3)).join(' ')}`);

  // ---- throughput ----
  const rows: InferenceBenchRow[] = [];
  const skipped: { batch: number; why: string }[] = [];
  let lastRound: { batch: number; s: number } | undefined;
  for (const [bi, batch] of batches.entries()) {
    const left = budget - elapsed();
    const casesLeft = batches.length - bi;
    // A warm-up and one timed run per side at least: project from the previous batch size.
    const projected = lastRound ? 2 * lastRound.s * (batch / lastRound.batch) : 0;
    if (projected > left) {
      skipped.push({ batch, why: `projected ${projected.toFixed(0)} s for one warm-up and one timed round, ${Math.max(0, left).toFixed(0)} s of the budget left` });
      log(`  batch ${batch}: skipped (${skipped[skipped.length - 1].why})`);
      continue;
    }
    const images = Array.from({ length: batch }, (_, i) => noiseImage(1000 + i));
    let p = predictors.get(batch);
    if (!p) {
      p = await createPredictor(model, { batchSize: batch });
      predictors.set(batch, p);
    }
    const pred = p;
    let oursFirstBatch: number;
    let tfFirstBatch: number;
    try {
      oursFirstBatch = batch === 1 ? oursParts['first batch'] : await seconds(() => pred.predict(images));
      tfFirstBatch = batch === 1 ? tfParts['first batch'] : await seconds(() => tfPredict(images));
    } catch (err) {
      skipped.push({ batch, why: `failed: ${(err as Error).message.split('\n')[0]}` });
      log(`  batch ${batch}: ${skipped[skipped.length - 1].why}`);
      break;
    }
    // One more round to measure a warm round, then as many as the budget share allows.
    const so: number[] = [await seconds(() => pred.predict(images))];
    const st: number[] = [await seconds(() => tfPredict(images))];
    const round = so[0] + st[0];
    lastRound = { batch, s: round };
    const share = (budget - elapsed()) / casesLeft;
    const runs = Math.max(1, Math.min(maxRepeats, 1 + Math.floor(share / round)));
    for (let r = 1; r < runs; r++) {
      so.push(await seconds(() => pred.predict(images)));
      st.push(await seconds(() => tfPredict(images)));
    }
    const row: InferenceBenchRow = {
      batch,
      oursImagesPerS: batch / median(so),
      tfjsImagesPerS: batch / median(st),
      ratio: median(st) / median(so),
      oursFirstBatchS: oursFirstBatch,
      tfjsFirstBatchS: tfFirstBatch,
      runs,
    };
    rows.push(row);
    log(`  batch ${batch}: ours ${row.oursImagesPerS.toFixed(2)} images/s, TF.js ${row.tfjsImagesPerS.toFixed(2)} images/s (${runs} runs each)`);
    if (batch !== 1) {
      p.dispose();
      predictors.delete(batch);
    }
  }

  log('');
  log(table(
    ['batch', 'ours img/s', 'TF.js img/s', 'ours/TF.js', 'ours 1st batch s', 'TF.js 1st batch s', 'runs'],
    rows.map((r) => [String(r.batch), r.oursImagesPerS, r.tfjsImagesPerS, `${r.ratio.toFixed(2)}x`, r.oursFirstBatchS, r.tfjsFirstBatchS, String(r.runs)]),
  ));
  for (const s of skipped) log(`batch ${s.batch}: not measured (${s.why})`);
  log(`time to first result (batch 1, from nothing): ours ${oursFirst.toFixed(2)} s, TF.js ${tfFirst.toFixed(2)} s`);
  log(`(224x224 uint8 in, probabilities out, attention 'patch'; medians of interleaved runs after one warm-up; total ${elapsed().toFixed(0)} s)`);

  for (const p of predictors.values()) p.dispose();
  for (const t of weights.values()) t.dispose();
  model.dispose();
  gpu.close();
  releaseTfjsWebgpu();
  return {
    adapter: describeGpu(gpu),
    rows,
    skipped,
    firstResult: { oursS: oursFirst, oursParts, tfjsS: tfFirst, tfjsParts: tfParts },
    maxProbDiff,
  };
}

if (isScript(import.meta.url)) {
  const batches = process.env.BATCHES?.split(',').map(Number);
  const budgetS = process.env.BUDGET_S ? Number(process.env.BUDGET_S) : undefined;
  runInferenceBench({ batches, budgetS }).catch((err) => {
    console.error(err);
    process.exitCode = 1;
  });
}
