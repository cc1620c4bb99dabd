import { expect } from 'chai';
import { createConv2d, type Conv2d, type Conv2dShape } from '../../src/kernels/conv2d.js';
import { convOutputSize, samePadding, type Padding } from '../../src/kernels/padding.js';
import { testGpu, run, Buffers } from '../helpers/gpu.js';
import { uniform, product } from '../helpers/random.js';
import { expectClose } from '../helpers/assert.js';
import { tfjs } from '../helpers/tf.js';
import * as ref from '../reference/conv2d.js';

type Case = Conv2dShape & { bias?: boolean; tf?: boolean };
const EXPLICIT_MOBILENET: Padding = { top: 0, bottom: 1, left: 0, right: 1 };

// Odd sizes, batch 1, stride 1/2/4, k 1/2/3/4, same/valid/explicit, channel counts that are not
// multiples of the 4/8-wide tiles, and PAtt-Lite's shapes.
const CASES: Case[] = [
  { n: 2, h: 7, w: 7, cin: 3, cout: 8, kh: 3, kw: 3, stride: 2, padding: 'same', bias: true, activation: 'relu6', tf: true },
  { n: 1, h: 5, w: 6, cin: 5, cout: 6, kh: 3, kw: 3, stride: 1, padding: 'same', bias: true, activation: 'relu', tf: true },
  { n: 1, h: 9, w: 9, cin: 4, cout: 12, kh: 4, kw: 4, stride: 4, padding: 'same', tf: true },
  { n: 2, h: 8, w: 8, cin: 3, cout: 5, kh: 2, kw: 2, stride: 2, padding: 'valid', bias: true, tf: true },
  { n: 1, h: 6, w: 7, cin: 2, cout: 3, kh: 1, kw: 1, stride: 1, padding: 'valid', tf: true },
  { n: 1, h: 7, w: 6, cin: 3, cout: 8, kh: 3, kw: 3, stride: 2, padding: EXPLICIT_MOBILENET, tf: true },
  { n: 3, h: 6, w: 5, cin: 7, cout: 9, kh: 3, kw: 2, stride: [2, 1], padding: { top: 1, bottom: 2, left: 0, right: 1 }, tf: true },
  { n: 1, h: 11, w: 13, cin: 1, cout: 17, kh: 4, kw: 4, stride: 2, padding: 'same', bias: true, activation: 'relu', tf: true },
  // PAtt-Lite: patch-extraction 1x1 conv on 2x2x256 (batch 2), and conv1 on one 224x224 image.
  { n: 2, h: 2, w: 2, cin: 256, cout: 256, kh: 1, kw: 1, stride: 1, padding: 'valid', bias: true, activation: 'relu', tf: true },
  { n: 1, h: 224, w: 224, cin: 3, cout: 32, kh: 3, kw: 3, stride: 2, padding: 'same', tf: true },
  // The RGB 3x3 kernel (cin 3, cout a multiple of 4 up to 32): stride 1, 'valid', 3 channel groups;
  // odd sizes with bias + ReLU at 32 channels.
  { n: 2, h: 9, w: 11, cin: 3, cout: 12, kh: 3, kw: 3, stride: 1, padding: 'valid', bias: true, activation: 'relu', tf: true },
  { n: 3, h: 13, w: 10, cin: 3, cout: 32, kh: 3, kw: 3, stride: 2, padding: 'same', bias: true, activation: 'relu', tf: true },
  // Stride 3 (three x classes per row in conv_rgb3x3_dx) with 4 output channels.
  { n: 1, h: 10, w: 11, cin: 3, cout: 4, kh: 3, kw: 3, stride: 3, padding: 'same', tf: true },
];

function name(c: Case): string {
  const s = typeof c.stride === 'object' ? c.stride.join('x') : c.stride ?? 1;
  const pad = typeof c.padding === 'object' ? `pad${Object.values(c.padding).join('')}` : c.padding;
  return `n${c.n} h${c.h} w${c.w} cin${c.cin} cout${c.cout} k${c.kh}x${c.kw} s${s} ${pad}` +
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
    x: uniform(seed, c.n * c.h * c.w * c.cin, -1, 1),
    w: uniform(seed + 1, c.kh * c.kw * c.cin * c.cout, -0.5, 0.5),
    b: uniform(seed + 2, c.cout, -0.5, 0.5),
    dy: uniform(seed + 3, c.n * oh * ow * c.cout, -1, 1),
    oh, ow,
  };
}

describe('conv2d', () => {
  let device: GPUDevice;
  let k: Conv2d;
  let bufs: Buffers;
  before(async () => {
    device = (await testGpu()).device;
    k = await createConv2d(device);
    bufs = new Buffers(device);
  });
  afterEach(() => bufs.destroy());

  describe('conv2d_fwd', () => {
    CASES.forEach((c, i) => it(name(c), async () => {
      const d = data(c, 100 + i);
      const y = bufs.poisoned(c.n * d.oh * d.ow * c.cout);
      const bias = c.bias ? bufs.from(d.b) : undefined;
      await run(device, k.forward(c, { x: bufs.from(d.x), w: bufs.from(d.w), bias, y }));
      expectClose(await bufs.read(y, c.n * d.oh * d.ow * c.cout), ref.conv2d(c, d.x, d.w, c.bias ? d.b : undefined), 1e-5, 'y');
    }));
  });

  describe('conv2d_dx / conv2d_dw / conv2d_db', () => {
    CASES.forEach((c, i) => it(name(c), async () => {
      const d = data(c, 200 + i);
      const dx = bufs.poisoned(d.x.length);
      const dw = bufs.poisoned(d.w.length);
      const db = bufs.poisoned(c.cout);
      const [xb, wb, dyb] = [bufs.from(d.x), bufs.from(d.w), bufs.from(d.dy)];
      const rw = k.dw(c, { x: xb, dy: dyb, dw });
      const rb = k.db(c, { dy: dyb, db });
      await run(device, k.dx(c, { dy: dyb, w: wb, dx }), ...rw.dispatches, ...rb.dispatches);
      rw.destroy();
      rb.destroy();
      const got = { dx: await bufs.read(dx, d.x.length), dw: await bufs.read(dw, d.w.length), db: await bufs.read(db, c.cout) };
      expectClose(got.dx, ref.conv2dDx(c, d.dy, d.w), 1e-5, 'dx vs float64');
      expectClose(got.dw, ref.conv2dDw(c, d.x, d.dy), 1e-5, 'dw vs float64');
      expectClose(got.db, ref.conv2dDb(c, d.dy), 1e-5, 'db vs float64');
      if (!c.tf) return;
      // TensorFlow.js (CPU): y and the gradients of sum(dy * (conv(x, w) + b)) on the same inputs.
      const tf = await tfjs();
      const [X, W, B, DY] = [
        tf.tensor4d(d.x, [c.n, c.h, c.w, c.cin]), tf.tensor4d(d.w, [c.kh, c.kw, c.cin, c.cout]),
        tf.tensor1d(d.b), tf.tensor4d(d.dy, [c.n, d.oh, d.ow, c.cout]),
      ];
      const stride = (c.stride ?? 1) as number | [number, number];
      const f = (x: typeof X, w: typeof W, b: typeof B) => tf.add(tf.conv2d(x, w, stride, tfPad(c.padding) as 'same'), b);
      const [gx, gw, gb] = tf.grads((x, w, b) => tf.sum(tf.mul(f(x as typeof X, w as typeof W, b as typeof B), DY)))([X, W, B]);
      expectClose(got.dx, await gx.data(), 1e-4, 'dx vs TF.js');
      expectClose(got.dw, await gw.data(), 1e-4, 'dw vs TF.js');
      expectClose(got.db, await gb.data(), 1e-4, 'db vs TF.js');
      const yt = await f(X, W, B).data();
      expectClose(ref.conv2d({ ...c, activation: 'none' }, d.x, d.w, d.b), yt, 1e-5, 'reference y vs TF.js');
      tf.dispose([X, W, B, DY, gx, gw, gb]);
    }));
  });

  it('RGB 3x3 shapes run the conv_rgb3x3 kernels (forward and dx), others the generic ones', () => {
    const rgb: Conv2dShape = { n: 1, h: 8, w: 8, cin: 3, cout: 8, kh: 3, kw: 3, stride: 2, padding: 'same' };
    const other: Conv2dShape = { ...rgb, cin: 4 };
    const b = (c: Conv2dShape) => {
      const [oh, ow] = ref.outputSize(c);
      return { x: bufs.poisoned(c.n * c.h * c.w * c.cin), w: bufs.poisoned(9 * c.cin * c.cout), y: bufs.poisoned(c.n * oh * ow * c.cout), dy: bufs.poisoned(c.n * oh * ow * c.cout) };
    };
    const [r, o] = [b(rgb), b(other)];
    expect(k.forward(rgb, r).label).to.equal('conv2d/conv_rgb3x3');
    expect(k.dx(rgb, { dy: r.dy, w: r.w, dx: r.x }).label).to.equal('conv2d/conv_rgb3x3_dx');
    expect(k.forward(other, o).label).to.equal('conv2d/conv2d_fwd');
    expect(k.dx(other, { dy: o.dy, w: o.w, dx: o.x }).label).to.equal('conv2d/conv2d_dx');
  });

  it('finite differences: the float64 reference gradients of L = sum(dy * conv(x, w) + b)', () => {
    const c: Case = { n: 1, h: 5, w: 4, cin: 2, cout: 3, kh: 3, kw: 2, stride: 2, padding: 'same' };
    const d = data(c, 7);
    const loss = (x: ArrayLike<number>, w: ArrayLike<number>, b: ArrayLike<number>) =>
      ref.conv2d(c, x, w, b).reduce((s, v, i) => s + v * d.dy[i], 0);
    const fd = (v: Float32Array, f: (p: Float64Array) => number) => Float64Array.from(v, (_, i) => {
      const e = 1e-4;
      const plus = Float64Array.from(v); plus[i] += e;
      const minus = Float64Array.from(v); minus[i] -= e;
      return (f(plus) - f(minus)) / (2 * e);
    });
    expectClose(ref.conv2dDx(c, d.dy, d.w), fd(d.x, (x) => loss(x, d.w, d.b)), 1e-7, 'dx');
    expectClose(ref.conv2dDw(c, d.x, d.dy), fd(d.w, (w) => loss(d.x, w, d.b)), 1e-7, 'dw');
    expectClose(ref.conv2dDb(c, d.dy), fd(d.b, (b) => loss(d.x, d.w, b)), 1e-7, 'db');
  });

  it('dw reduction with a caller-owned scratch buffer, bound once and run twice', async () => {
    const c: Case = { n: 2, h: 10, w: 9, cin: 3, cout: 8, kh: 3, kw: 3, stride: 1, padding: 'same' };
    const d = data(c, 9);
    const dw = bufs.poisoned(d.w.length);
    const probe = k.dw(c, { x: bufs.from(d.x), dy: bufs.from(d.dy), dw });
    probe.destroy();
    const scratch = bufs.poisoned(probe.scratchFloats);
    const red = k.dw(c, { x: bufs.from(d.x), dy: bufs.from(d.dy), dw, scratch });
    await run(device, ...red.dispatches);
    await run(device, ...red.dispatches);
    red.destroy(); // must not destroy the caller's scratch
    expect(scratch.size).to.equal(probe.scratchFloats * 4);
    expectClose(await bufs.read(dw, d.w.length), ref.conv2dDw(c, d.x, d.dy), 1e-5, 'dw');
  });

  it('rejects buffers smaller than the shape, naming the kernel and the shape', () => {
    const c: Case = { n: 1, h: 4, w: 4, cin: 3, cout: 8, kh: 3, kw: 3, padding: 'same' };
    const small = bufs.poisoned(4);
    expect(() => k.forward(c, { x: small, w: small, y: small })).to.throw(RangeError, /conv2d\/conv2d_fwd: x must hold \[1, 4, 4, 3\]/);
    expect(() => k.forward({ ...c, padding: 'valid', h: 2 }, { x: small, w: small, y: small })).to.throw(RangeError, /does not fit/);
  });
});

describe('padding', () => {
  it('Keras same: total max((ceil(H/s)-1)*s + k - H, 0), smaller half before', () => {
    expect(samePadding(224, 3, 2)).to.deep.equal([0, 1]);
    expect(samePadding(112, 3, 1)).to.deep.equal([1, 1]);
    expect(samePadding(14, 4, 4)).to.deep.equal([1, 1]);
    expect(samePadding(5, 4, 1)).to.deep.equal([1, 2]);
    expect(samePadding(7, 1, 1)).to.deep.equal([0, 0]);
    expect(samePadding(9, 4, 4)).to.deep.equal([1, 2]);
    expect(convOutputSize(224, 3, 2, 0, 1)).to.equal(112);
    expect(convOutputSize(14, 4, 4, 1, 1)).to.equal(4);
    expect(convOutputSize(4, 2, 2)).to.equal(2);
    expect(product([2, 3])).to.equal(6);
  });
});
