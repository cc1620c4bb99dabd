import { expect } from 'chai';
import { createLoss, type Loss } from '../../src/kernels/loss.js';
import { testGpu, run, Buffers } from '../helpers/gpu.js';
import { randn, randint, uniform } from '../helpers/random.js';
import { expectClose } from '../helpers/assert.js';
import { tfjs } from '../helpers/tf.js';
import * as ref from '../reference/loss.js';

/** Labels: random, with every third row set to its argmax so some predictions are correct. */
function labelsFor(logits: Float32Array, b: number, k: number, seed: number): Int32Array {
  const labels = randint(seed, b, k);
  for (let r = 0; r < b; r += 3) {
    const row = Array.from(logits.subarray(r * k, (r + 1) * k));
    labels[r] = row.indexOf(Math.max(...row));
  }
  return labels;
}

// [b, k, logit scale, weighted, unsigned labels]: batch 1, one class, PAtt-Lite's 8 x 7 / 8 x 8,
// more rows than a workgroup, more rows than the reduce workgroup's threads, huge logits.
const CASES: [number, number, number, boolean, boolean][] = [
  [1, 1, 1, false, false], [1, 7, 2, true, false], [8, 7, 2, true, false], [8, 8, 2, false, true],
  [257, 10, 3, true, true], [1000, 8, 2, true, false], [9, 5, 300, true, false],
];

describe('loss', () => {
  let device: GPUDevice;
  let bufs: Buffers;
  let loss: Loss;
  before(async () => {
    device = (await testGpu()).device;
    bufs = new Buffers(device);
    loss = await createLoss(device);
  });
  afterEach(() => bufs.destroy());

  async function gpu(b: number, k: number, logits: Float32Array, labels: Int32Array | Uint32Array, weights?: Float32Array) {
    const io = {
      logits: bufs.from(logits), labels: bufs.from(labels), weights: weights && bufs.from(weights),
      dlogits: bufs.poisoned(b * k), out: bufs.poisoned(2), perSample: bufs.poisoned(2 * b),
    };
    await run(device, ...loss.softmaxCrossEntropy(b, k, io));
    const out = await bufs.read(io.out, 2);
    const perSample = await bufs.read(io.perSample, 2 * b);
    return { loss: out[0], correct: out[1], dlogits: await bufs.read(io.dlogits, b * k), perSample: perSample.subarray(0, b) };
  }

  describe('loss_fwd_dx / loss_reduce', () => {
    for (const [b, k, scale, weighted, unsigned] of CASES) {
      it(`b${b} k${k} scale${scale}${weighted ? ' weighted' : ''}${unsigned ? ' u32 labels' : ''}`, async () => {
        const logits = randn(b * k, b * k, scale);
        const labels = labelsFor(logits, b, k, b + k);
        const weights = weighted ? uniform(3, b, 0.2, 3) : undefined;
        const got = await gpu(b, k, logits, unsigned ? Uint32Array.from(labels) : labels, weights);
        const e = ref.softmaxCrossEntropy(logits, labels, b, k, weights);
        expectClose([got.loss], [e.loss], 1e-5, 'loss');
        expectClose(got.perSample, e.perSample, 1e-5, 'per-sample');
        expectClose(got.dlogits, e.dlogits, 1e-4, 'dlogits');
        expect(got.correct).to.equal(e.correct);
      });
    }

    it('b8 k7 weighted: loss and gradient match TF.js softmaxCrossEntropy (SUM) / b', async () => {
      const tf = await tfjs();
      const [b, k] = [8, 7];
      const logits = randn(4, b * k, 2);
      const labels = labelsFor(logits, b, k, 5);
      const weights = uniform(6, b, 0.5, 2);
      const got = await gpu(b, k, logits, labels, weights);
      const onehot = tf.oneHot(tf.tensor1d(labels, 'int32'), k);
      const f = (z: any) => tf.div(tf.losses.softmaxCrossEntropy(onehot, z, tf.tensor1d(weights), 0, tf.Reduction.SUM), b);
      const { value, grad } = tf.valueAndGrad(f)(tf.tensor(logits, [b, k]));
      expectClose([got.loss], value.dataSync(), 1e-5, 'loss vs tfjs');
      expectClose(got.dlogits, grad.dataSync(), 1e-4, 'dlogits vs tfjs');
    });

    it('reference gradient matches central finite differences (b3 k4 weighted)', () => {
      const [b, k] = [3, 4];
      const z = Float64Array.from(randn(7, b * k));
      const labels = [2, 0, 3];
      const w = [0.5, 2, 1.25];
      const e = ref.softmaxCrossEntropy(z, labels, b, k, w);
      const fd = z.map((_, i) => {
        const p = z.slice(); p[i] += 1e-6;
        const m = z.slice(); m[i] -= 1e-6;
        return (ref.softmaxCrossEntropy(p, labels, b, k, w).loss - ref.softmaxCrossEntropy(m, labels, b, k, w).loss) / 2e-6;
      });
      expectClose(e.dlogits, fd, 1e-7);
    });

    it('divides by the batch size, not the sum of weights (Keras sum_over_batch_size)', async () => {
      const logits = new Float32Array([0, 0, 0, 0]); // two rows, two classes: loss_i = ln 2
      const got = await gpu(2, 2, logits, new Int32Array([0, 1]), new Float32Array([3, 0]));
      expect(got.loss).to.be.closeTo((3 * Math.LN2) / 2, 1e-6);
    });

    it('an out-of-range label gives a NaN loss', async () => {
      const got = await gpu(2, 3, randn(8, 6), new Int32Array([1, 3]));
      expect(Number.isNaN(got.loss)).to.equal(true);
      expect(Array.from(got.dlogits.subarray(3)).every((v) => v === 0)).to.equal(true); // ±0
    });
  });

  it('rejects an empty batch with the kernel name', () => {
    const x = bufs.poisoned(2);
    expect(() => loss.softmaxCrossEntropy(0, 3, { logits: x, labels: x, dlogits: x, out: x })).to.throw(/loss\/softmaxCrossEntropy/);
  });
});
