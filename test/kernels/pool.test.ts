import { expect } from 'chai';
import { createPool, type NHWC, type Pool } from '../../src/kernels/pool.js';
import { testGpu, run, Buffers } from '../helpers/gpu.js';
import { randn, product } from '../helpers/random.js';
import { expectClose } from '../helpers/assert.js';
import { tfjs } from '../helpers/tf.js';
import * as ref from '../reference/pool.js';

// Odd sizes, channels past one block of 64, batch 1, and PAtt-Lite's shapes (the 2x2x256 patch
// map, the 14x14x512 backbone output).
const SHAPES: NHWC[] = [[1, 1, 1, 1], [3, 5, 7, 3], [2, 3, 3, 65], [1, 2, 2, 256], [8, 2, 2, 256], [8, 14, 14, 512], [2, 56, 56, 70]];

describe('pool', () => {
  let device: GPUDevice;
  let bufs: Buffers;
  let pool: Pool;
  before(async () => {
    device = (await testGpu()).device;
    bufs = new Buffers(device);
    pool = await createPool(device);
  });
  afterEach(() => bufs.destroy());

  describe('pool_fwd', () => {
    for (const shape of SHAPES) {
      it(`n${shape[0]} h${shape[1]} w${shape[2]} c${shape[3]}`, async () => {
        const x = randn(1, product(shape));
        const y = bufs.poisoned(shape[0] * shape[3]);
        await run(device, pool.globalAverage(shape, bufs.from(x), y));
        expectClose(await bufs.read(y, shape[0] * shape[3]), ref.globalAverage(x, shape), 1e-5);
      });
    }
  });

  describe('pool_dx', () => {
    for (const shape of SHAPES) {
      it(`n${shape[0]} h${shape[1]} w${shape[2]} c${shape[3]}`, async () => {
        const dy = randn(2, shape[0] * shape[3]);
        const dx = bufs.poisoned(product(shape));
        await run(device, pool.globalAverageDx(shape, bufs.from(dy), dx));
        expectClose(await bufs.read(dx, product(shape)), ref.globalAverageDx(dy, shape), 1e-6);
      });
    }

    it('n2 h3 w4 c5 matches TF.js gradient of tf.mean over H, W', async () => {
      const tf = await tfjs();
      const shape: NHWC = [2, 3, 4, 5];
      const x = randn(3, product(shape));
      const dy = randn(4, 10);
      const dyT = tf.tensor(dy, [2, 5]);
      const g = tf.grad((xt: any) => tf.sum(tf.mul(dyT, tf.mean(xt, [1, 2]))))(tf.tensor(x, [...shape]));
      const dx = bufs.poisoned(x.length);
      await run(device, pool.globalAverageDx(shape, bufs.from(dy), dx));
      expectClose(await bufs.read(dx, x.length), g.dataSync(), 1e-6);
    });

    it('reference matches central finite differences (n1 h2 w3 c2)', () => {
      const shape = [1, 2, 3, 2];
      const x = Float64Array.from(randn(5, 12));
      const dy = [0.7, -1.3];
      const loss = (v: Float64Array) => ref.globalAverage(v, shape).reduce((s, y, i) => s + y * dy[i], 0);
      const fd = x.map((_, i) => {
        const p = x.slice(); p[i] += 1e-6;
        const m = x.slice(); m[i] -= 1e-6;
        return (loss(p) - loss(m)) / 2e-6;
      });
      expectClose(ref.globalAverageDx(dy, shape), fd, 1e-7);
    });
  });

  it('rejects a bad shape with the kernel name', () => {
    expect(() => pool.globalAverage([2, 3, 4] as unknown as NHWC, bufs.poisoned(1), bufs.poisoned(1))).to.throw(/pool: expected an NHWC/);
  });
});
