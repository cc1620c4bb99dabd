import { expect } from 'chai';
import { createBatchnorm, batchnormDims, type Batchnorm } from '../../src/kernels/batchnorm.js';
import { foldBatchnorm } from '../../src/kernels/batchnorm-fold.js';
import { testGpu, run, Buffers } from '../helpers/gpu.js';
import { randn, uniform, product } from '../helpers/random.js';
import { expectClose } from '../helpers/assert.js';
import { tfjs } from '../helpers/tf.js';
import * as ref from '../reference/batchnorm.js';

type Act = ref.Act;
const EPS = 1e-3;
const TOL = 1e-4;

/** Per-channel parameters: gamma around 1, beta, moving mean / variance (positive). */
function channelParams(seed: number, c: number) {
  return {
    gamma: uniform(seed, c, 0.5, 1.5),
    beta: uniform(seed + 1, c, -0.5, 0.5),
    mean: uniform(seed + 2, c, -1, 1),
    variance: uniform(seed + 3, c, 0.2, 2),
  };
}

/** Input with a per-channel offset and scale so statistics differ by channel. */
function input(seed: number, shape: readonly number[], offset = 0.7): Float32Array {
  const c = shape[shape.length - 1];
  const x = randn(seed, product(shape));
  for (let i = 0; i < x.length; i++) x[i] = x[i] * (1 + (i % c) / c) + offset * (((i % c) % 5) - 2);
  return x;
}

const name = (shape: readonly number[], act: Act) => `${shape.join('x')} ${act}`;

describe('batchnorm', () => {
  let device: GPUDevice;
  let bufs: Buffers;
  let bn: Batchnorm;
  before(async () => {
    device = (await testGpu()).device;
    bufs = new Buffers(device);
    bn = await createBatchnorm(device);
  });
  afterEach(() => bufs.destroy());

  describe('batchnorm_fwd (inference)', () => {
    const cases: [number[], Act][] = [
      [[1, 1, 1, 1], 'none'], [[2, 5, 7, 3], 'relu'], [[1, 9, 9, 70], 'relu6'], [[8, 32], 'none'],
      [[8, 14, 14, 512], 'relu6'],
    ];
    for (const [shape, act] of cases) {
      it(name(shape, act), async () => {
        const c = shape[shape.length - 1];
        const x = input(1, shape);
        const p = channelParams(2, c);
        const y = bufs.poisoned(x.length);
        await run(device, bn.inference(shape, {
          x: bufs.from(x), gamma: bufs.from(p.gamma), beta: bufs.from(p.beta), mean: bufs.from(p.mean),
          variance: bufs.from(p.variance), y,
        }, { act }));
        expectClose(await bufs.read(y, x.length), ref.normalize(x, c, p.gamma, p.beta, p.mean, p.variance, EPS, act), TOL);
      });
    }
  });

  describe('batchnorm_stats / batchnorm_stats_final / batchnorm_fwd (training)', () => {
    const cases: [number[], Act, boolean][] = [
      [[1, 1, 1, 3], 'none', false], [[2, 5, 7, 3], 'relu', true], [[3, 3, 3, 65], 'relu6', false],
      [[8, 32], 'none', false], [[8, 4, 32], 'relu', false], [[8, 112, 112, 64], 'relu6', true],
    ];
    for (const [shape, act, unbiased] of cases) {
      it(`${name(shape, act)} ${unbiased ? 'unbiased' : 'biased'} moving variance`, async () => {
        const c = shape[shape.length - 1];
        const x = input(3, shape);
        const p = channelParams(4, c);
        const io = {
          x: bufs.from(x), gamma: bufs.from(p.gamma), beta: bufs.from(p.beta),
          movingMean: bufs.from(p.mean), movingVariance: bufs.from(p.variance),
          y: bufs.poisoned(x.length), mean: bufs.poisoned(c), invstd: bufs.poisoned(c),
        };
        await run(device, ...bn.train(shape, io, { act, movingVariance: unbiased ? 'unbiased' : 'biased' }));
        const e = ref.train(x, c, p.gamma, p.beta, p.mean, p.variance, { eps: EPS, momentum: 0.99, act, unbiased });
        expectClose(await bufs.read(io.y, x.length), e.y, TOL, 'y');
        expectClose(await bufs.read(io.mean, c), e.mean, TOL, 'mean');
        expectClose(await bufs.read(io.invstd, c), e.invstd, TOL, 'invstd');
        expectClose(await bufs.read(io.movingMean, c), e.movingMean, TOL, 'moving mean');
        expectClose(await bufs.read(io.movingVariance, c), e.movingVariance, TOL, 'moving variance');
      });
    }

    it('8x56x56x128 mean 100 std 0.05 (shifted sums do not cancel)', async () => {
      const shape = [8, 56, 56, 128];
      const c = 128;
      const x = randn(5, product(shape), 0.05).map((v, i) => v + 100 + (i % c) * 0.01);
      const p = channelParams(6, c);
      const io = {
        x: bufs.from(x), gamma: bufs.from(p.gamma), beta: bufs.from(p.beta),
        movingMean: bufs.from(p.mean), movingVariance: bufs.from(p.variance),
        y: bufs.poisoned(x.length), mean: bufs.poisoned(c), invstd: bufs.poisoned(c),
      };
      await run(device, ...bn.train(shape, io));
      const e = ref.train(x, c, p.gamma, p.beta, p.mean, p.variance, { eps: EPS, momentum: 0.99 });
      expectClose(await bufs.read(io.invstd, c), e.invstd, TOL, 'invstd');
      // y = gamma * (x - mean) * invstd: x - mean loses ~1e-5 absolute at |x| = 100 in float32
      // (ulp 7.6e-6), i.e. ~2e-4 of std 0.05; the same holds for any float32 implementation.
      expectClose(await bufs.read(io.y, x.length), e.y, 1e-3, 'y');
    });

    it('uses a reduction grid, not one thread per channel, at 8x112x112x64', () => {
      const { chunks, chunkRows } = batchnormDims([8, 112, 112, 64]);
      expect(chunks).to.be.at.least(256);
      expect(chunkRows).to.be.at.most(256);
    });
  });

  async function gpuTrainBackward(shape: number[], x: Float32Array, dy: Float32Array, g: Float32Array, b: Float32Array, act: Act) {
    const c = shape[shape.length - 1];
    const e = ref.train(x, c, g, b, new Float32Array(c), new Float32Array(c), { eps: EPS, momentum: 0.99 });
    const io = {
      x: bufs.from(x), dy: bufs.from(dy), gamma: bufs.from(g), beta: bufs.from(b),
      mean: bufs.from(Float32Array.from(e.mean)), invstd: bufs.from(Float32Array.from(e.invstd)),
      dx: bufs.poisoned(x.length), dgamma: bufs.poisoned(c), dbeta: bufs.poisoned(c),
    };
    await run(device, ...bn.trainBackward(shape, io, { act }));
    return { dx: await bufs.read(io.dx, x.length), dgamma: await bufs.read(io.dgamma, c), dbeta: await bufs.read(io.dbeta, c) };
  }

  describe('batchnorm_dstats / batchnorm_dstats_final / batchnorm_dx (training)', () => {
    const cases: [number[], Act][] = [
      [[1, 1, 2, 3], 'none'], [[2, 5, 7, 3], 'relu'], [[3, 3, 3, 65], 'relu6'], [[8, 4, 32], 'none'],
      [[8, 14, 14, 512], 'relu6'], [[8, 112, 112, 64], 'relu'],
    ];
    for (const [shape, act] of cases) {
      it(name(shape, act), async () => {
        const c = shape[shape.length - 1];
        const x = input(7, shape);
        const dy = randn(8, x.length);
        const p = channelParams(9, c);
        const got = await gpuTrainBackward(shape, x, dy, p.gamma, p.beta, act);
        const e = ref.trainBackward(x, dy, c, p.gamma, p.beta, EPS, act);
        expectClose(got.dx, e.dx, TOL, 'dx');
        expectClose(got.dgamma, e.dgamma, TOL, 'dgamma');
        expectClose(got.dbeta, e.dbeta, TOL, 'dbeta');
      });
    }

    it('2x3x4x5 relu6 matches TF.js gradients of tf.moments + tf.batchNorm', async () => {
      const tf = await tfjs();
      const shape = [2, 3, 4, 5];
      const c = 5;
      const x = input(10, shape, 1.5);
      const dy = randn(11, x.length);
      const p = channelParams(12, c);
      const got = await gpuTrainBackward(shape, x, dy, p.gamma, p.beta, 'relu6');
      const dyT = tf.tensor(dy, shape);
      const f = (xt: any, gt: any, bt: any) => {
        const m = tf.moments(xt, [0, 1, 2]);
        return tf.sum(tf.mul(dyT, tf.relu6(tf.batchNorm(xt, m.mean, m.variance, bt, gt, EPS))));
      };
      const [dx, dg, db] = tf.grads(f)([tf.tensor(x, shape), tf.tensor(p.gamma), tf.tensor(p.beta)]);
      expectClose(got.dx, dx.dataSync(), TOL, 'dx vs tfjs');
      expectClose(got.dgamma, dg.dataSync(), TOL, 'dgamma vs tfjs');
      expectClose(got.dbeta, db.dataSync(), TOL, 'dbeta vs tfjs');
    });

    it('reference matches central finite differences (float64, 2x2x3x2)', () => {
      const shape = [2, 2, 3, 2];
      const c = 2;
      const x = Float64Array.from(input(13, shape));
      const dy = Float64Array.from(randn(14, x.length));
      const g = [1.2, 0.7];
      const b = [0.1, -0.3];
      const loss = (xv: ArrayLike<number>, gv: number[], bv: number[]) => {
        const { mean, variance } = ref.moments(xv, c);
        return ref.normalize(xv, c, gv, bv, mean, variance, EPS).reduce((s, v, i) => s + v * dy[i], 0);
      };
      const e = ref.trainBackward(x, dy, c, g, b, EPS);
      const h = 1e-6;
      const fdx = Float64Array.from(x, (_, i) => {
        const xp = x.slice(); xp[i] += h;
        const xm = x.slice(); xm[i] -= h;
        return (loss(xp, g, b) - loss(xm, g, b)) / (2 * h);
      });
      const fdg = g.map((_, k) => {
        const gp = g.slice(); gp[k] += h;
        const gm = g.slice(); gm[k] -= h;
        return (loss(x, gp, b) - loss(x, gm, b)) / (2 * h);
      });
      expectClose(e.dx, fdx, 1e-6, 'dx vs FD');
      expectClose(e.dgamma, fdg, 1e-6, 'dgamma vs FD');
    });
  });

  describe('batchnorm_dx_inference / inference dgamma, dbeta', () => {
    const cases: [number[], Act][] = [[[1, 1, 1, 1], 'none'], [[2, 5, 7, 3], 'relu6'], [[3, 3, 3, 65], 'relu'], [[8, 14, 14, 512], 'relu6']];
    for (const [shape, act] of cases) {
      it(name(shape, act), async () => {
        const c = shape[shape.length - 1];
        const x = input(15, shape);
        const dy = randn(16, x.length);
        const p = channelParams(17, c);
        const common = {
          x: bufs.from(x), dy: bufs.from(dy), gamma: bufs.from(p.gamma), beta: bufs.from(p.beta),
          mean: bufs.from(p.mean), variance: bufs.from(p.variance),
        };
        const full = { ...common, dx: bufs.poisoned(x.length), dgamma: bufs.poisoned(c), dbeta: bufs.poisoned(c) };
        const only = { ...common, dx: bufs.poisoned(x.length) };
        const dxOnly = bn.inferenceBackward(shape, only, { act });
        expect(dxOnly).to.have.length(1);
        await run(device, ...bn.inferenceBackward(shape, full, { act }), ...dxOnly);
        const e = ref.inferenceBackward(x, dy, c, p.gamma, p.beta, p.mean, p.variance, EPS, act);
        expectClose(await bufs.read(full.dx, x.length), e.dx, TOL, 'dx');
        expectClose(await bufs.read(only.dx, x.length), e.dx, TOL, 'dx only');
        expectClose(await bufs.read(full.dgamma, c), e.dgamma, TOL, 'dgamma');
        expectClose(await bufs.read(full.dbeta, c), e.dbeta, TOL, 'dbeta');
      });
    }

    it('2x3x3x4 relu matches TF.js gradients of tf.batchNorm with constant statistics', async () => {
      const tf = await tfjs();
      const shape = [2, 3, 3, 4];
      const c = 4;
      const x = input(18, shape);
      const dy = randn(19, x.length);
      const p = channelParams(20, c);
      const io = {
        x: bufs.from(x), dy: bufs.from(dy), gamma: bufs.from(p.gamma), beta: bufs.from(p.beta),
        mean: bufs.from(p.mean), variance: bufs.from(p.variance),
        dx: bufs.poisoned(x.length), dgamma: bufs.poisoned(c), dbeta: bufs.poisoned(c),
      };
      await run(device, ...bn.inferenceBackward(shape, io, { act: 'relu' }));
      const dyT = tf.tensor(dy, shape);
      const f = (xt: any, gt: any, bt: any) =>
        tf.sum(tf.mul(dyT, tf.relu(tf.batchNorm(xt, tf.tensor(p.mean), tf.tensor(p.variance), bt, gt, EPS))));
      const [dx, dg, db] = tf.grads(f)([tf.tensor(x, shape), tf.tensor(p.gamma), tf.tensor(p.beta)]);
      expectClose(await bufs.read(io.dx, x.length), dx.dataSync(), TOL, 'dx vs tfjs');
      expectClose(await bufs.read(io.dgamma, c), dg.dataSync(), TOL, 'dgamma vs tfjs');
      expectClose(await bufs.read(io.dbeta, c), db.dataSync(), TOL, 'dbeta vs tfjs');
    });
  });

  it('rejects a bad shape with the kernel name', () => {
    expect(() => batchnormDims([0, 3])).to.throw(/batchnorm.*\[0, 3\]/);
    expect(() => batchnormDims([5])).to.throw(/batchnorm/);
  });
});

describe('foldBatchnorm', () => {
  const cases: { kind: 'conv' | 'depthwise'; x: number[]; f: [number, number, number, number]; pad: 'same' | 'valid'; bias: boolean }[] = [
    { kind: 'conv', x: [2, 5, 6, 3], f: [3, 3, 3, 4], pad: 'same', bias: false },
    { kind: 'conv', x: [1, 4, 4, 5], f: [1, 1, 5, 7], pad: 'valid', bias: true },
    { kind: 'depthwise', x: [2, 6, 5, 4], f: [3, 3, 4, 1], pad: 'same', bias: false },
    { kind: 'depthwise', x: [1, 5, 5, 3], f: [3, 3, 3, 2], pad: 'valid', bias: true },
  ];
  for (const t of cases) {
    it(`${t.kind} x${t.x.join('x')} f${t.f.join('x')} ${t.pad}${t.bias ? ' bias' : ''}: conv+BN == folded conv`, () => {
      const outC = t.kind === 'conv' ? t.f[3] : t.f[2] * t.f[3];
      const x = randn(21, product(t.x));
      const w = randn(22, product(t.f), 0.3);
      const bias = t.bias ? uniform(23, outC) : undefined;
      const p = channelParams(24, outC);
      const dw = t.kind === 'depthwise';
      const conv = ref.conv2d(x, t.x, w, t.f, { depthwise: dw, padding: t.pad, bias });
      const expected = ref.normalize(conv.y, outC, p.gamma, p.beta, p.mean, p.variance, EPS);
      const folded = foldBatchnorm(t.kind, t.f, w, p, bias);
      const got = ref.conv2d(x, t.x, folded.weights, t.f, { depthwise: dw, padding: t.pad, bias: folded.bias });
      expectClose(got.y, expected, 1e-6);
    });
  }
  it('rejects mismatched sizes', () => {
    const p = channelParams(25, 4);
    expect(() => foldBatchnorm('conv', [1, 1, 2, 3], new Float32Array(6), p)).to.throw(/gamma needs 3/);
    expect(() => foldBatchnorm('conv', [1, 1, 2, 4], new Float32Array(5), p)).to.throw(/needs 8 weights/);
  });
});
