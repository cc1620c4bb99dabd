import { expect } from 'chai';
import { createSoftmax, type Softmax } from '../../src/kernels/softmax.js';
import { testGpu, run, Buffers } from '../helpers/gpu.js';
import { uniform, randn } from '../helpers/random.js';
import { expectClose } from '../helpers/assert.js';
import { tfjs } from '../helpers/tf.js';
import * as ref from '../reference/softmax.js';

// [rows, cols, logit scale]: one element, odd sizes, PAtt-Lite's class scores (batch 8 x 7 / 8),
// patch attention (8 images x 4 x 4 tokens), batch attention (8 x 8), a long row, and logits
// large enough to overflow exp() without the max shift.
const CASES: [number, number, number][] = [
  [1, 1, 1], [1, 7, 3], [8, 8, 3], [32, 4, 3], [8, 7, 3], [257, 13, 5], [3, 1000, 4], [5, 9, 200],
];

describe('softmax', () => {
  let device: GPUDevice;
  let bufs: Buffers;
  let sm: Softmax;
  before(async () => {
    device = (await testGpu()).device;
    bufs = new Buffers(device);
    sm = await createSoftmax(device);
  });
  afterEach(() => bufs.destroy());

  describe('softmax_fwd', () => {
    for (const [rows, cols, scale] of CASES) {
      it(`rows${rows} cols${cols} scale${scale}`, async () => {
        const x = randn(rows * cols, rows * cols, scale);
        const y = bufs.poisoned(rows * cols);
        await run(device, sm.forward(rows, cols, bufs.from(x), y));
        expectClose(await bufs.read(y, rows * cols), ref.softmax(x, rows, cols), 1e-5);
      });
    }
  });

  describe('softmax_dx', () => {
    for (const [rows, cols, scale] of CASES) {
      it(`rows${rows} cols${cols} scale${scale}`, async () => {
        const y = Float32Array.from(ref.softmax(randn(1, rows * cols, scale), rows, cols));
        const dy = uniform(2, rows * cols);
        const dx = bufs.poisoned(rows * cols);
        await run(device, sm.backward(rows, cols, bufs.from(y), bufs.from(dy), dx));
        expectClose(await bufs.read(dx, rows * cols), ref.softmaxDx(y, dy, rows, cols), 1e-4);
      });
    }

    it('rows4 cols7: forward + backward match TF.js tf.softmax and its gradient', async () => {
      const tf = await tfjs();
      const [rows, cols] = [4, 7];
      const x = randn(3, rows * cols, 2);
      const dy = uniform(4, rows * cols);
      const y = bufs.poisoned(rows * cols);
      const dx = bufs.poisoned(rows * cols);
      const dyb = bufs.from(dy);
      await run(device, sm.forward(rows, cols, bufs.from(x), y), sm.backward(rows, cols, y, dyb, dx));
      const dyT = tf.tensor(dy, [rows, cols]);
      const xT = tf.tensor(x, [rows, cols]);
      const g = tf.grad((t: any) => tf.sum(tf.mul(dyT, tf.softmax(t))))(xT);
      expectClose(await bufs.read(y, rows * cols), tf.softmax(xT).dataSync(), 1e-5, 'y vs tfjs');
      expectClose(await bufs.read(dx, rows * cols), g.dataSync(), 1e-4, 'dx vs tfjs');
    });

    it('reference matches central finite differences (rows2 cols5)', () => {
      const x = Float64Array.from(randn(5, 10));
      const dy = Float64Array.from(uniform(6, 10));
      const loss = (v: Float64Array) => ref.softmax(v, 2, 5).reduce((s, y, i) => s + y * dy[i], 0);
      const fd = x.map((_, i) => {
        const p = x.slice(); p[i] += 1e-6;
        const m = x.slice(); m[i] -= 1e-6;
        return (loss(p) - loss(m)) / 2e-6;
      });
      expectClose(ref.softmaxDx(ref.softmax(x, 2, 5), dy, 2, 5), fd, 1e-7);
    });
  });

  it('rejects an empty shape with the kernel name', () => {
    const b = bufs.poisoned(1);
    expect(() => sm.forward(0, 3, b, b)).to.throw(/softmax\/softmax_fwd: expected rows, cols > 0/);
  });
});
