import { expect } from 'chai';
import { createDepthwise, type Depthwise, type DepthwiseShape } from '../../src/kernels/depthwise.js';
import type { Padding } from '../../src/kernels/padding.js';
import { testGpu, run, Buffers } from '../helpers/gpu.js';
import { uniform } from '../helpers/random.js';
import { expectClose } from '../helpers/assert.js';
import { tfjs } from '../helpers/tf.js';
import * as ref from '../reference/depthwise.js';

type Case = DepthwiseShape & { bias?: boolean; tf?: boolean };
// MobileNet's stride-2 blocks: ZeroPadding2D(((0,1),(0,1))) then `valid`.
const MOBILENET_PAD: Padding = { top: 0, bottom: 1, left: 0, right: 1 };

const CASES: Case[] = [
  { n: 2, h: 7, w: 7, c: 8, kh: 3, kw: 3, stride: 2, padding: 'same', bias: true, activation: 'relu6', tf: true },
  { n: 1, h: 5, w: 6, c: 5, kh: 3, kw: 3, stride: 1, padding: 'same', tf: true },
  { n: 1, h: 9, w: 11, c: 3, kh: 3, kw: 3, stride: 2, padding: MOBILENET_PAD, tf: true },
  { n: 2, h: 8, w: 8, c: 6, kh: 2, kw: 2, stride: 2, padding: 'valid', bias: true, activation: 'relu', tf: true },
  { n: 1, h: 6, w: 7, c: 1, kh: 1, kw: 1, stride: 1, padding: 'valid', tf: true },
  { n: 1, h: 9, w: 9, c: 7, kh: 4, kw: 4, stride: 4, padding: 'same', tf: true },
  { n: 3, h: 6, w: 5, c: 9, kh: 3, kw: 2, stride: [2, 1], padding: { top: 1, bottom: 2, left: 0, right: 1 }, bias: true, tf: true },
  { n: 1, h: 13, w: 10, c: 12, kh: 4, kw: 3, stride: 1, padding: 'same', tf: true },
  // PAtt-Lite: patch extraction (4x4 s4 same on 14x14x512, then 2x2 s2 valid on 4x4x256),
  // MobileNet block 2's stride-2 depthwise (112x112x64 padded (0,1),(0,1)), block 1's 3x3 same.
  { n: 2, h: 14, w: 14, c: 512, kh: 4, kw: 4, stride: 4, padding: 'same', tf: true },
  { n: 2, h: 4, w: 4, c: 256, kh: 2, kw: 2, stride: 2, padding: 'valid', tf: true },
  // Windows that do not overlap along x with c % 4 == 0 (one column per invocation): odd sizes
  // with padded taps on both sides, bias + relu6; stride 3 over a 3x2 window.
  { n: 2, h: 9, w: 11, c: 8, kh: 4, kw: 4, stride: 4, padding: 'same', bias: true, activation: 'relu6', tf: true },
  { n: 1, h: 7, w: 8, c: 4, kh: 3, kw: 2, stride: 3, padding: { top: 1, bottom: 1, left: 0, right: 1 } },
  // Stride equal to the window on both axes, 2x3 / (2, 3) (depthwise_patch_dw), odd sizes.
  { n: 2, h: 5, w: 10, c: 8, kh: 2, kw: 3, stride: [2, 3], padding: 'same', tf: true },
  { n: 1, h: 112, w: 112, c: 64, kh: 3, kw: 3, stride: 2, padding: MOBILENET_PAD },
  { n: 1, h: 112, w: 112, c: 32, kh: 3, kw: 3, stride: 1, padding: 'same', tf: true },
  // The 3x3 stride-1 rolling-rows kernels (c % 4 == 0; forward, input and filter gradient): heights
  // that are not a multiple of their 8 or 16 rows, widths not a multiple of their 4 columns, valid (full-correlation dx), asymmetric
  // padding, bias + activation, one channel group and many.
  { n: 2, h: 11, w: 7, c: 4, kh: 3, kw: 3, stride: 1, padding: 'same', bias: true, activation: 'relu6', tf: true },
  { n: 1, h: 19, w: 6, c: 8, kh: 3, kw: 3, stride: 1, padding: 'valid', tf: true },
  { n: 3, h: 9, w: 10, c: 12, kh: 3, kw: 3, stride: 1, padding: { top: 2, bottom: 0, left: 0, right: 1 }, bias: true, activation: 'relu', tf: true },
  { n: 2, h: 14, w: 14, c: 512, kh: 3, kw: 3, stride: 1, padding: 'same', tf: true },
  { n: 1, h: 57, w: 58, c: 16, kh: 3, kw: 3, stride: 1, padding: 'same', bias: true },
  // ... and its stride-2 form: odd sizes, MobileNet's (0,1),(0,1) padding, 'valid', 'same'.
  { n: 2, h: 9, w: 13, c: 12, kh: 3, kw: 3, stride: 2, padding: MOBILENET_PAD, bias: true, activation: 'relu6', tf: true },
  { n: 1, h: 20, w: 11, c: 4, kh: 3, kw: 3, stride: 2, padding: 'valid', tf: true },
  { n: 3, h: 36, w: 35, c: 8, kh: 3, kw: 3, stride: 2, padding: 'same', tf: true },
  // More output rows (68) than one block of the stride-2 filter gradient (64) and of the forward
  // (16), with padding on top and left.
  { n: 2, h: 135, w: 6, c: 8, kh: 3, kw: 3, stride: 2, padding: { top: 1, bottom: 1, left: 1, right: 0 }, tf: true },
];

function name(c: Case): string {
  const s = typeof c.stride === 'object' ? c.stride.join('x') : c.stride ?? 1;
  const pad = typeof c.padding === 'object' ? `pad${Object.values(c.padding).join('')}` : c.padding;
  return `n${c.n} h${c.h} w${c.w} c${c.c} k${c.kh}x${c.kw} s${s} ${pad}` +
    `${c.bias ? ' bias' : ''}${c.activation && c.activation !== 'none' ? ' ' + c.activation : ''}`;
}

function tfPad(p: Padding | undefined): 'same' | 'valid' | [[0, 0], [number, number], [number, number], [0, 0]] {
  if (p === undefined || typeof p === 'string') return p ?? 'valid';
  return [[0, 0], [p.top, p.bottom], [p.left, p.right], [0, 0]];
}

interface Data { x: Float32Array; w: Float32Array; b: Float32Array; dy: Float32Array; oh: number; ow: number }
function data(c: Case, seed: number): Data {
  const [oh, ow] = ref.outputSize(c);
  return {
    x: uniform(seed, c.n * c.h * c.w * c.c, -1, 1),
    w: uniform(seed + 1, c.kh * c.kw * c.c, -0.5, 0.5),
    b: uniform(seed + 2, c.c, -0.5, 0.5),
    dy: uniform(seed + 3, c.n * oh * ow * c.c, -1, 1),
    oh, ow,
  };
}

describe('depthwise', () => {
  let device: GPUDevice;
  let k: Depthwise;
  let bufs: Buffers;
  before(async () => {
    device = (await testGpu()).device;
    k = await createDepthwise(device);
    bufs = new Buffers(device);
  });
  afterEach(() => bufs.destroy());

  describe('depthwise_fwd', () => {
    CASES.forEach((c, i) => it(name(c), async () => {
      const d = data(c, 300 + i);
      const n = c.n * d.oh * d.ow * c.c;
      const y = bufs.poisoned(n);
      const bias = c.bias ? bufs.from(d.b) : undefined;
      await run(device, k.forward(c, { x: bufs.from(d.x), w: bufs.from(d.w), bias, y }));
      expectClose(await bufs.read(y, n), ref.depthwise(c, d.x, d.w, c.bias ? d.b : undefined), 1e-5, 'y');
    }));
  });

  describe('depthwise_dx / depthwise_dw / depthwise_db', () => {
    CASES.forEach((c, i) => it(name(c), async () => {
      const d = data(c, 400 + i);
      const dx = bufs.poisoned(d.x.length);
      const dw = bufs.poisoned(d.w.length);
      const db = bufs.poisoned(c.c);
      const [xb, wb, dyb] = [bufs.from(d.x), bufs.from(d.w), bufs.from(d.dy)];
      const rw = k.dw(c, { x: xb, dy: dyb, dw });
      const rb = k.db(c, { dy: dyb, db });
      await run(device, k.dx(c, { dy: dyb, w: wb, dx }), ...rw.dispatches, ...rb.dispatches);
      rw.destroy();
      rb.destroy();
      const got = { dx: await bufs.read(dx, d.x.length), dw: await bufs.read(dw, d.w.length), db: await bufs.read(db, c.c) };
      expectClose(got.dx, ref.depthwiseDx(c, d.dy, d.w), 1e-5, 'dx vs float64');
      expectClose(got.dw, ref.depthwiseDw(c, d.x, d.dy), 1e-5, 'dw vs float64');
      expectClose(got.db, ref.depthwiseDb(c, d.dy), 1e-5, 'db vs float64');
      if (!c.tf) return;
      // TensorFlow.js (CPU): y and the gradients of sum(dy * (depthwise(x, w) + b)).
      const tf = await tfjs();
      const [X, W, B, DY] = [
        tf.tensor4d(d.x, [c.n, c.h, c.w, c.c]), tf.tensor4d(d.w, [c.kh, c.kw, c.c, 1]),
        tf.tensor1d(d.b), tf.tensor4d(d.dy, [c.n, d.oh, d.ow, c.c]),
      ];
      const stride = (c.stride ?? 1) as number | [number, number];
      const f = (x: typeof X, w: typeof W, b: typeof B) => tf.add(tf.depthwiseConv2d(x, w, stride, tfPad(c.padding) as 'same'), b);
      const [gx, gw, gb] = tf.grads((x, w, b) => tf.sum(tf.mul(f(x as typeof X, w as typeof W, b as typeof B), DY)))([X, W, B]);
      expectClose(got.dx, await gx.data(), 1e-4, 'dx vs TF.js');
      expectClose(got.dw, await gw.data(), 1e-4, 'dw vs TF.js');
      expectClose(got.db, await gb.data(), 1e-4, 'db vs TF.js');
      const yt = await f(X, W, B).data();
      expectClose(ref.depthwise({ ...c, activation: 'none' }, d.x, d.w, d.b), yt, 1e-5, 'reference y vs TF.js');
      tf.dispose([X, W, B, DY, gx, gw, gb]);
    }));
  });

  it('finite differences: the float64 reference gradients of L = sum(dy * depthwise(x, w) + b)', () => {
    const c: Case = { n: 1, h: 5, w: 4, c: 3, kh: 3, kw: 2, stride: 2, padding: MOBILENET_PAD };
    const d = data(c, 11);
    const loss = (x: ArrayLike<number>, w: ArrayLike<number>, b: ArrayLike<number>) =>
      ref.depthwise(c, x, w, b).reduce((s, v, i) => s + v * d.dy[i], 0);
    const fd = (v: Float32Array, f: (p: Float64Array) => number) => Float64Array.from(v, (_, i) => {
      const e = 1e-4;
      const plus = Float64Array.from(v); plus[i] += e;
      const minus = Float64Array.from(v); minus[i] -= e;
      return (f(plus) - f(minus)) / (2 * e);
    });
    expectClose(ref.depthwiseDx(c, d.dy, d.w), fd(d.x, (x) => loss(x, d.w, d.b)), 1e-7, 'dx');
    expectClose(ref.depthwiseDw(c, d.x, d.dy), fd(d.w, (w) => loss(d.x, w, d.b)), 1e-7, 'dw');
    expectClose(ref.depthwiseDb(c, d.dy), fd(d.b, (b) => loss(d.x, d.w, b)), 1e-7, 'db');
  });

  it('finite differences on the GPU forward: (y(w+e) - y(w-e)) / 2e matches depthwise_dw (float32, tol 2e-2)', async () => {
    const c: Case = { n: 1, h: 4, w: 5, c: 4, kh: 3, kw: 3, stride: 1, padding: 'same' };
    const d = data(c, 12);
    const ny = c.n * d.oh * d.ow * c.c;
    const e = 1e-2; // the loss is linear in w, so a large step only fights float32 rounding
    const picked = [0, 5, 13, 22, 35]; // filter elements checked (all bound and run in one submit)
    const xb = bufs.from(d.x);
    const runs = picked.flatMap((i) => [e, -e].map((step) => {
      const w = d.w.slice();
      w[i] += step;
      return { y: bufs.poisoned(ny), w: bufs.from(w) };
    }));
    await run(device, ...runs.map((r) => k.forward(c, { x: xb, w: r.w, y: r.y })));
    const loss = async (y: GPUBuffer) => (await bufs.read(y, ny)).reduce((s, v, i) => s + v * d.dy[i], 0);
    const fd: number[] = [];
    for (let j = 0; j < picked.length; j++) {
      fd.push(((await loss(runs[2 * j].y)) - (await loss(runs[2 * j + 1].y))) / (2 * e));
    }
    const dw = bufs.poisoned(d.w.length);
    const red = k.dw(c, { x: bufs.from(d.x), dy: bufs.from(d.dy), dw });
    await run(device, ...red.dispatches);
    red.destroy();
    const got = await bufs.read(dw, d.w.length);
    expectClose(picked.map((i) => got[i]), fd, 2e-2, 'dw vs GPU finite differences');
  });

  it('the 3x3 filter gradient with c % 4 == 0 takes the rolling-rows kernels (strides 1 and 2), c % 4 != 0 the generic one', () => {
    const label = (c: Case) => {
      const [oh, ow] = ref.outputSize(c);
      const r = k.dw(c, { x: bufs.poisoned(c.n * c.h * c.w * c.c), dy: bufs.poisoned(c.n * oh * ow * c.c), dw: bufs.poisoned(9 * c.c) });
      r.destroy();
      return r.dispatches[0].label;
    };
    expect(label({ n: 1, h: 9, w: 7, c: 8, kh: 3, kw: 3, padding: 'same' })).to.equal('depthwise/depthwise_3x3_dw');
    expect(label({ n: 1, h: 9, w: 7, c: 8, kh: 3, kw: 3, stride: 2, padding: 'same' })).to.equal('depthwise/depthwise_3x3s2_dw');
    expect(label({ n: 1, h: 9, w: 7, c: 8, kh: 3, kw: 3, stride: [2, 1], padding: 'same' })).to.equal('depthwise/depthwise_dw');
    expect(label({ n: 1, h: 9, w: 7, c: 6, kh: 3, kw: 3, padding: 'same' })).to.equal('depthwise/depthwise_dw');
  });

  it('rejects buffers smaller than the shape, naming the kernel and the shape', () => {
    const c: Case = { n: 1, h: 4, w: 4, c: 8, kh: 3, kw: 3, padding: 'same' };
    const small = bufs.poisoned(4);
    expect(() => k.forward(c, { x: small, w: small, y: small })).to.throw(RangeError, /depthwise\/depthwise_fwd: x must hold \[1, 4, 4, 8\]/);
    expect(() => k.dx(c, { dy: small, w: small, dx: small })).to.throw(RangeError, /depthwise\/depthwise_dx: dy must hold \[1, 4, 4, 8\]/);
  });
});
