import { expect } from 'chai';
import { createOptimizer, adamState, ADAM_DEFAULTS, type AdamConfig } from '../../src/kernels/optimizer.js';
import { createReduce } from '../../src/kernels/reduce.js';
import { testGpu, run, Buffers } from '../helpers/gpu.js';
import { uniform, randn } from '../helpers/random.js';
import { expectClose } from '../helpers/assert.js';
import { tfjs } from '../helpers/tf.js';
import * as ref from '../reference/optimizer.js';

// Parameter lists: sizes of a small head (odd sizes, a scalar like the attention scale) and one
// PAtt-Lite pointwise weight. Steps run on the GPU with new gradients every step, the state and
// global norm never read back; updates (p - p0) are compared norm-wise.
interface Case { name: string; sizes: number[]; clipnorm?: number; gradStd: number; steps: number }
const CASES: Case[] = [
  { name: 'n1 no clip', sizes: [1], gradStd: 1, steps: 3 },
  { name: 'sizes 1,7,1000 no clip (norm below 3)', sizes: [1, 7, 1000], clipnorm: 3, gradStd: 0.01, steps: 4 },
  { name: 'sizes 1,7,1000 clip 3 active', sizes: [1, 7, 1000], clipnorm: 3, gradStd: 1, steps: 4 },
  { name: 'head 32x8,8,1 + pw 256x256 clip 3 active', sizes: [256, 8, 1, 256 * 256], clipnorm: 3, gradStd: 0.5, steps: 3 },
];
const LR = 0.01;

describe('adam_step', () => {
  let device: GPUDevice;
  let bufs: Buffers;
  before(async () => {
    device = (await testGpu()).device;
    bufs = new Buffers(device);
  });
  afterEach(() => bufs.destroy());

  for (const c of CASES) {
    it(`${c.name}, ${c.steps} steps`, async () => {
      const [opt, red] = await Promise.all([createOptimizer(device), createReduce(device)]);
      const cfg: Partial<AdamConfig> = { clipnorm: c.clipnorm };
      const p0 = c.sizes.map((n, i) => uniform(10 + i, n, -0.1, 0.1));
      const grads = c.sizes.map((n) => bufs.from(new Float32Array(n)));
      const params = p0.map((p) => bufs.from(p.slice()));
      const ms = c.sizes.map((n) => bufs.from(new Float32Array(n)));
      const vs = c.sizes.map((n) => bufs.from(new Float32Array(n)));
      const state = bufs.from(adamState(LR));
      const norm = bufs.poisoned(1);
      // Bound once, encoded every step.
      const reduce = red.globalNorm(c.sizes.map((n, i) => ({ n, buffer: grads[i] })), norm);
      const step = [
        ...(c.clipnorm !== undefined ? reduce.dispatches : []),
        opt.adamAdvance(state, cfg),
        ...c.sizes.map((n, i) => opt.adamStep(n, { param: params[i], grad: grads[i], m: ms[i], v: vs[i], state, norm }, cfg)),
      ];
      const rp = p0.map((p) => Float64Array.from(p));
      const rm = c.sizes.map((n) => new Float64Array(n));
      const rv = c.sizes.map((n) => new Float64Array(n));
      let lr = LR;
      for (let t = 1; t <= c.steps; t++) {
        if (t === 3) { // a schedule changes the rate: one small write, nothing rebuilt
          lr = LR / 4;
          device.queue.writeBuffer(state, 0, Float32Array.of(lr));
        }
        const g = c.sizes.map((n, i) => randn(1000 * t + i, n, c.gradStd));
        g.forEach((gi, i) => device.queue.writeBuffer(grads[i], 0, gi as Float32Array<ArrayBuffer>));
        await run(device, ...step);
        ref.adamStep(rp, g, rm, rv, t, { ...ADAM_DEFAULTS, clipnorm: c.clipnorm, lr });
      }
      reduce.scratch.destroy();
      for (let i = 0; i < c.sizes.length; i++) {
        const got = await bufs.read(params[i], c.sizes[i]);
        const du = got.map((v, j) => v - p0[i][j]);
        const want = rp[i].map((v, j) => v - p0[i][j]);
        expectClose(du, want, 1e-4, `param ${i} update`);
        // 1 - beta2 in float32 (as Keras computes it) is 1.3e-5 off 0.001: v carries that error.
        expectClose(await bufs.read(ms[i], c.sizes[i]), rm[i], 1e-5, `m ${i}`);
        expectClose(await bufs.read(vs[i], c.sizes[i]), rv[i], 3e-5, `v ${i}`);
      }
      const st = await bufs.read(state, 4);
      expect(st[1]).to.equal(c.steps);
      expectClose([st[2], st[3]], [0.9 ** c.steps, 0.999 ** c.steps], 1e-6, 'beta powers');
      if (c.clipnorm !== undefined) {
        const n = (await bufs.read(norm, 1))[0];
        const active = n > c.clipnorm;
        expect(active, `clipping ${active ? '' : 'in'}active: norm ${n}`).to.equal(c.name.includes('active') && !c.name.includes('no clip'));
      }
    });
  }

  it('matches tf.train.adam (TF.js, no clipping) over 3 steps', async () => {
    // TF.js adds epsilon to sqrt(v / (1 - beta2^t)), Keras to sqrt(v): the same update only with
    // eps_tfjs = eps_keras / sqrt(1 - beta2^t), which changes with t. With eps 1e-7 the two differ
    // by 1.2e-4 here (an element with |g| ~ 1e-3), so both run with eps 1e-10, where they agree.
    const tf = await tfjs();
    const opt = await createOptimizer(device);
    const n = 37;
    const p0 = uniform(5, n, -1, 1);
    const param = bufs.from(p0.slice());
    const grad = bufs.from(new Float32Array(n));
    const [m, v] = [bufs.from(new Float32Array(n)), bufs.from(new Float32Array(n))];
    const state = bufs.from(adamState(LR));
    const cfg = { epsilon: 1e-10 };
    const step = [opt.adamAdvance(state, cfg), opt.adamStep(n, { param, grad, m, v, state }, cfg)];
    const tv = tf.variable(tf.tensor1d(p0), true, 'p');
    const tOpt = tf.train.adam(LR, 0.9, 0.999, 1e-10);
    for (let t = 1; t <= 3; t++) {
      const g = randn(77 + t, n);
      device.queue.writeBuffer(grad, 0, g as Float32Array<ArrayBuffer>);
      await run(device, ...step);
      tOpt.applyGradients([{ name: 'p', tensor: tf.tensor1d(g) }]);
    }
    const got = await bufs.read(param, n);
    const want = await tv.data();
    expectClose(got.map((x, i) => x - p0[i]), want.map((x, i) => x - p0[i]), 1e-4, 'vs tf.train.adam');
    tOpt.dispose();
    tv.dispose();
  });

  it('refuses clipping without a norm buffer and a bad clipnorm', async () => {
    const opt = await createOptimizer(device);
    const b = bufs.from(new Float32Array(4));
    const bb = { param: b, grad: b, m: b, v: b, state: b };
    expect(() => opt.adamStep(4, bb, { clipnorm: 3 })).to.throw(/global-norm buffer/);
    expect(() => opt.adamStep(4, { ...bb, norm: b }, { clipnorm: -1 })).to.throw(/clipnorm/);
    expect(() => opt.adamStep(5, bb)).to.throw(/expected 5/);
  });
});
