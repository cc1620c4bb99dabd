import { expect } from 'chai';
import { Engine } from '../../src/graph/engine.js';
import { PattLite, type PattLiteConfig } from '../../src/model/patt-lite.js';
import { createPredictor, preprocessOnCpu } from '../../src/model/inference.js';
import { packBytes } from '../../src/kernels/input.js';
import type { CallContext } from '../../src/layers/layer.js';
import type { RgbImage } from '../../src/data/image.js';
import { testGpu } from '../helpers/gpu.js';
import { randn, rng, uniform } from '../helpers/random.js';
import { expectClose } from '../helpers/assert.js';
import { Sequential } from '../../src/layers/sequential.js';
import { Adam } from '../../src/train/optimizer.js';
import { TrainStep } from '../../src/train/step.js';
import { Evaluator } from '../../src/train/evaluate.js';

const INFER: CallContext = { training: false, seed: 0, step: 0 };

/** Random RGB bytes. */
function noiseImage(seed: number, width: number, height: number): RgbImage {
  const r = rng(seed);
  return { width, height, data: Uint8Array.from({ length: width * height * 3 }, () => Math.floor(r() * 256)) };
}

/** A smooth random RGB image (gradients plus noise), so resizing has something to interpolate. */
function image(seed: number, width: number, height: number): RgbImage {
  const r = rng(seed);
  const [a, b, c] = [r() * 4, r() * 4, r() * 255];
  const data = new Uint8Array(width * height * 3);
  for (let y = 0, i = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let ch = 0; ch < 3; ch++, i++) {
        data[i] = Math.max(0, Math.min(255, Math.round(c + a * x - b * y + 40 * ch + 30 * (r() - 0.5)))) % 256;
      }
    }
  }
  return { width, height, data };
}

/** The GPU input stage on each image alone (one source size per dispatch), as floats. */
async function preprocessed(e: Engine, images: readonly RgbImage[], size: number): Promise<Float32Array> {
  const per = size * size * 3;
  const out = new Float32Array(images.length * per);
  for (const [i, im] of images.entries()) {
    const words = packBytes(im.data);
    const src = e.tensor(words, [words.length]);
    const y = e.empty([1, size, size, 3]);
    e.binding(() => e.enqueue(e.kernels.input.inference({ n: 1, hin: im.height, win: im.width, hout: size, wout: size }, src.buffer, y.buffer)));
    out.set(await y.readF32(), i * per);
    src.dispose();
    y.dispose();
  }
  return out;
}

/** The unfolded model, inference mode, on one batch of preprocessed images. */
/** The model's forward; `layerByLayer` turns off the graph's own conv + BN folding (src/layers/conv-bn.ts). */
async function modelLogits(e: Engine, m: PattLite, x0: Float32Array, n: number, layerByLayer = false): Promise<Float32Array> {
  const s = m.config.inputSize;
  const x = e.tensor(x0, [n, s, s, 3]);
  const blocks = m.backbone.flat().filter((l): l is Sequential => l instanceof Sequential).concat(m.backbone);
  for (const b of blocks) b.foldBatchNorms = !layerByLayer;
  const logits = e.noGrad(() => e.scope(() => m.forward(x, INFER)));
  for (const b of blocks) b.foldBatchNorms = true;
  const v = await logits.readF32();
  logits.dispose();
  x.dispose();
  return v;
}

function softmaxRows(logits: Float32Array, k: number): Float32Array {
  const out = new Float32Array(logits.length);
  for (let r = 0; r < logits.length / k; r++) {
    const row = logits.subarray(r * k, (r + 1) * k);
    const max = Math.max(...row);
    let sum = 0;
    for (let c = 0; c < k; c++) sum += Math.exp(row[c] - max);
    for (let c = 0; c < k; c++) out[r * k + c] = Math.exp(row[c] - max) / sum;
  }
  return out;
}

const flat = (rows: Float32Array[]) => Float32Array.from(rows.flatMap((r) => Array.from(r)));

/**
 * A random model made non-trivial (as test/model/patt-lite.test.ts prepare()): BN gamma/beta
 * varied, patch kernels scaled to O(1) outputs, BN moving statistics calibrated on `x0`, and a
 * small attention scale so the batch form of attention mixes rows visibly.
 */
function model(e: Engine, config: PattLiteConfig, x0: Float32Array, n: number, seed: number): PattLite {
  const m = new PattLite(e, config, seed);
  let s = 100 + seed;
  for (const p of m.params.all()) {
    if (p.name.endsWith('/gamma')) e.write(p.tensor, uniform(s++, p.tensor.size, 0.8, 1.2));
    if (p.name.endsWith('/beta')) e.write(p.tensor, randn(s++, p.tensor.size, 0.1));
    if (p.name.startsWith('patch_') && p.name.endsWith('kernel')) {
      const fanIn = p.tensor.shape.slice(0, 3).reduce((a, b) => a * b, 1);
      const perOut = p.name.endsWith('depthwise_kernel') ? p.tensor.shape[0] * p.tensor.shape[1] : fanIn;
      e.write(p.tensor, randn(s++, p.tensor.size, Math.sqrt(2 / perOut)));
    }
  }
  const size = m.config.inputSize;
  const x = e.tensor(x0, [n, size, size, 3]);
  m.calibrate(x, INFER);
  x.dispose();
  e.write(m.attention.scale, Float32Array.of(0.05));
  return m;
}

describe('inference: folded BN, one recorded plan per batch size', () => {
  let e: Engine;
  before(async () => {
    e = await Engine.create((await testGpu()).device);
  });

  it('at 224x224 the folded predictor equals the model forward, folded in the graph and layer by layer (GPU input stage)', async () => {
    // Noise images, as in test/model/patt-lite.test.ts: with smooth images the calibrated random
    // backbone has near-constant channels (BN variances ~1e-4), and float32 rounding alone, folded
    // or not, moves the logits by up to ~8e-4 relative (measured; both orders are equally right).
    const images = [noiseImage(1, 240, 200), noiseImage(2, 240, 200)];
    const x0 = await preprocessed(e, images, 224);
    const m = model(e, { classes: 7, classNames: ['a', 'b', 'c', 'd', 'e', 'f', 'g'] }, x0, 2, 3);
    const want = await modelLogits(e, m, x0, 2);
    const p = await createPredictor(m, { batchSize: 2 });
    const got = await p.predict(images);
    expectClose(flat(got.logits), want, 1e-4, 'logits');
    // The graph forward folds conv + BN too (on the GPU, in float32); layer by layer it rounds in
    // another order, and through 30 float32 layers the two differ by 1.1e-4 (measured), hence 2e-4.
    expectClose(flat(got.logits), await modelLogits(e, m, x0, 2, true), 2e-4, 'logits vs layer by layer');
    expectClose(flat(got.probs), softmaxRows(want, 7), 1e-4, 'probabilities');
    expect(p.stats()).to.deep.equal({ compiledBatchSizes: [2], batches: 1, cpuResizedBatches: 0 });
    for (const [i, probs] of got.probs.entries()) {
      const best = probs.indexOf(Math.max(...probs));
      expect(got.indices[i]).to.equal(best);
      expect(got.labels[i]).to.equal('abcdefg'[best]);
      expect(probs.reduce((a, b) => a + b, 0)).to.be.closeTo(1, 1e-5);
    }
    // The logits vary between images (the comparison above is not between constants).
    expect(Math.max(...want.slice(0, 7).map((v, i) => Math.abs(v - want[7 + i])))).to.be.greaterThan(1e-3);
    p.dispose();
    m.dispose();
  });

  it('patch attention at 80x80: a partial last batch is padded; one submission per batch', async () => {
    const images = Array.from({ length: 6 }, (_, i) => image(10 + i, 50, 40));
    const x0 = await preprocessed(e, images, 80);
    const m = model(e, { classes: 4, inputSize: 80 }, x0, 6, 5);
    const want = await modelLogits(e, m, x0, 6);
    const p = await createPredictor(m, { batchSize: 4 });
    const labels: string[] = [];
    const submit = e.submit.bind(e);
    e.submit = (label, work) => {
      labels.push(label);
      submit(label, work);
    };
    let got;
    try {
      got = await p.predict(images);
    } finally {
      e.submit = submit;
    }
    expect(labels.filter((l) => l.startsWith('predict/'))).to.deep.equal(['predict/b4', 'predict/b4']);
    expectClose(flat(got.logits), want, 1e-4, 'logits');
    expect(got.labels).to.have.length(6);
    expect(got.labels[0]).to.match(/^class_\d$/);
    expect(p.stats()).to.deep.equal({ compiledBatchSizes: [4], batches: 2, cpuResizedBatches: 0 });

    // Mixed sizes in one batch: resized on the CPU with the same arithmetic.
    const mixed = [image(30, 50, 40), image(31, 33, 71), image(32, 120, 90)];
    const mx = await preprocessed(e, mixed, 80);
    const cpu = new Float32Array(mx.length);
    mixed.forEach((im, i) => preprocessOnCpu(im, 80, cpu, i * 80 * 80 * 3));
    expectClose(cpu, mx, 1e-6, 'CPU resize vs GPU input stage');
    const r = await p.predict(mixed);
    expectClose(flat(r.logits), await modelLogits(e, m, mx, 3), 1e-4, 'mixed-size logits');
    expect(p.stats().cpuResizedBatches).to.equal(1);
    p.dispose();
    m.dispose();
  });

  it("batch attention runs a partial batch at its exact size (padding would change it)", async () => {
    const images = Array.from({ length: 6 }, (_, i) => image(20 + i, 64, 64));
    const x0 = await preprocessed(e, images, 80);
    const m = model(e, { classes: 3, inputSize: 80, attention: 'batch' }, x0, 6, 7);
    const per = 80 * 80 * 3;
    const first = await modelLogits(e, m, x0.slice(0, 4 * per), 4);
    const last = await modelLogits(e, m, x0.slice(4 * per), 2);
    const p = await createPredictor(m, { batchSize: 4 });
    const got = await p.predict(images);
    expectClose(flat(got.logits), Float32Array.from([...first, ...last]), 1e-4, 'logits by exact batch');
    expect(p.stats().compiledBatchSizes).to.deep.equal([2, 4]);
    // What padding would have done: the last two images next to two blank ones differ.
    const padded = new Float32Array(4 * per);
    padded.set(x0.slice(4 * per));
    const wrong = (await modelLogits(e, m, padded, 4)).slice(0, 6);
    const diff = Math.max(...wrong.map((v, i) => Math.abs(v - last[i])));
    expect(diff, 'batch attention depends on the rest of the batch').to.be.greaterThan(1e-4);
    // The same batch size again reuses its plan.
    await p.predict(images.slice(0, 2));
    expect(p.stats().compiledBatchSizes).to.deep.equal([2, 4]);
    p.dispose();
    m.dispose();
  });

  // A recorded forward (the evaluator's plan) hoists the BN folds and filter transposes out of
  // its replays (Engine.hoist); weights written afterwards, from the CPU or by a training step on
  // the GPU, must still reach its logits.
  it('a recorded forward follows weights changed after it was recorded (CPU writes and GPU training)', async () => {
    const images = Array.from({ length: 2 }, (_, i) => image(40 + i, 64, 64));
    const x0 = await preprocessed(e, images, 80);
    const m = model(e, { classes: 3, inputSize: 80 }, x0, 2, 9);
    const source = { kind: 'pixels', height: 64, width: 64, augment: false } as const;
    const split = { count: 2, labels: Int32Array.of(0, 2), data: Uint8Array.from(images.flatMap((im) => Array.from(im.data))) };
    const ev = new Evaluator(e, m, source);
    // An evaluator recorded now, with the current weights, is the reference.
    const fresh = async () => {
      const other = new Evaluator(e, m, source);
      const v = (await other.evaluate(split, 2)).probs;
      other.dispose();
      return v;
    };
    const before = (await ev.evaluate(split, 2)).probs;
    // CPU writes: a BN's gamma and a pointwise filter of the backbone.
    const entry = (suffix: string) => m.params.all().find((q) => q.name.endsWith(suffix))!;
    for (const [suffix, seed] of [['conv_pw_3_bn/gamma', 1], ['conv_pw_5/kernel', 2]] as const) {
      const t = entry(suffix).tensor;
      e.write(t, Float32Array.from(await t.readF32(), (v, i) => v * (1 + 0.5 * Math.sin(i + seed))));
    }
    const written = (await ev.evaluate(split, 2)).probs;
    expectClose(written, await fresh(), 1e-6, 'after CPU writes');
    expect(Math.max(...written.map((v, i) => Math.abs(v - before[i])))).to.be.greaterThan(1e-4);
    // One training step of the backbone alone updates its filters in place on the GPU (the head
    // stays as it was, so only the backbone can move the probabilities).
    m.setBackboneTrainable(true);
    for (const q of m.params.all()) if (!q.name.startsWith('conv')) q.tensor.requiresGrad = false;
    const step = new TrainStep(e, m, new Adam(e, { learningRate: 0.01 }), 2, { ...source, height: 80, width: 80 }, 3);
    step.run({ data: new Float32Array(x0.length).map((_, i) => (i * 37) % 255), labels: Int32Array.of(0, 2), weights: new Float32Array(2).fill(1) }, 0);
    await e.sync('train');
    const trained = (await ev.evaluate(split, 2)).probs;
    expectClose(trained, await fresh(), 1e-6, 'after a training step');
    expect(Math.max(...trained.map((v, i) => Math.abs(v - written[i])))).to.be.greaterThan(1e-4);
    step.dispose();
    ev.dispose();
    m.dispose();
  });
});
