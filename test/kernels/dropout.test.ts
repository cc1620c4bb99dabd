import { expect } from 'chai';
import { createDropout, type Dropout } from '../../src/kernels/dropout.js';
import { testGpu, run, Buffers } from '../helpers/gpu.js';
import { uniform, product } from '../helpers/random.js';
import { expectClose } from '../helpers/assert.js';
import * as ref from '../reference/dropout.js';

const hex = (w: Uint32Array) => Array.from(w, (v) => v.toString(16).padStart(8, '0'));

describe('dropout', () => {
  let device: GPUDevice;
  let bufs: Buffers;
  let dropout: Dropout;
  before(async () => {
    device = (await testGpu()).device;
    bufs = new Buffers(device);
    dropout = await createDropout(device);
  });
  afterEach(() => bufs.destroy());

  /** Runs forward (and backward on dy) and returns y (and dx). */
  async function apply(shape: number[], x: Float32Array, opts: Parameters<Dropout['bind']>[2], dy?: Float32Array) {
    const n = product(shape);
    const io = { x: bufs.from(x), y: bufs.poisoned(n), dy: dy && bufs.from(dy), dx: dy && bufs.poisoned(n) };
    const b = dropout.bind(shape, io, opts);
    await run(device, b.forward, ...(b.backward ? [b.backward] : []));
    return { y: await bufs.read(io.y, n), dx: io.dx && (await bufs.read(io.dx, n)) };
  }
  const ones = (n: number) => new Float32Array(n).fill(1);

  it('Philox4x32-10 reference matches the Random123 known-answer vectors', () => {
    expect(hex(ref.philox4x32_10([0, 0, 0, 0], [0, 0]))).to.deep.equal(['6627e8d5', 'e169c58d', 'bc57ac4c', '9b00dbd8']);
    const f = 0xffffffff;
    expect(hex(ref.philox4x32_10([f, f, f, f], [f, f]))).to.deep.equal(['408f276d', '41c83b0e', 'a20bc7c6', '6d5451fd']);
    expect(hex(ref.philox4x32_10([0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], [0xa4093822, 0x299f31d0])))
      .to.deep.equal(['d16cfe09', '94fdcceb', '5001e420', '24126ea1']);
  });

  describe('dropout_fwd / dropout_dx', () => {
    const cases: [number[], number, boolean][] = [
      [[1], 0.5, false], [[1001], 0.1, false], [[3, 5, 7, 9], 0.2, false], [[8, 32], 0.1, false],
      [[1, 1, 1, 1], 0.5, true], [[3, 5, 7, 9], 0.3, true], [[8, 2, 2, 256], 0.2, true],
    ];
    for (const [shape, rate, spatial] of cases) {
      it(`${spatial ? 'spatial ' : ''}${shape.join('x')} rate ${rate}: equals the CPU Philox mask, backward agrees`, async () => {
        const n = product(shape);
        const x = uniform(1, n, 0.5, 2);
        const dy = uniform(2, n);
        const opts = { rate, seed: 1234, seedHi: 99, step: 7, spatial };
        const { y, dx } = await apply(shape, x, opts, dy);
        const m = ref.mask(shape, opts);
        expectClose(y, Float64Array.from(x, (v, i) => v * m[i]), 1e-6, 'y');
        expectClose(dx!, Float64Array.from(dy, (v, i) => v * m[i]), 1e-6, 'dx');
      });
    }

    it('keep fraction at 8x14x14x512 rate 0.2 is within 5 sigma of 0.8', async () => {
      const shape = [8, 14, 14, 512];
      const n = product(shape);
      const { y } = await apply(shape, ones(n), { rate: 0.2, seed: 42 });
      const kept = y.reduce((s, v) => s + (v !== 0 ? 1 : 0), 0) / n;
      const bound = 5 * Math.sqrt((0.8 * 0.2) / n); // ~2.2e-3
      expect(Math.abs(kept - 0.8)).to.be.below(bound);
      expect(new Set(y).size).to.equal(2); // 0 and 1 / 0.8
      expect(y.find((v) => v !== 0)).to.equal(Math.fround(1 / 0.8));
    });

    it('spatial 64x4x4x256 rate 0.2: masks constant over H, W; channel keep fraction within 5 sigma', async () => {
      const shape = [64, 4, 4, 256];
      const [nb, h, w, c] = shape;
      const { y } = await apply(shape, ones(product(shape)), { rate: 0.2, seed: 5, spatial: true });
      let kept = 0;
      let varying = 0;
      for (let b = 0; b < nb; b++) for (let k = 0; k < c; k++) {
        const first = y[b * h * w * c + k];
        for (let s = 1; s < h * w; s++) varying += y[(b * h * w + s) * c + k] !== first ? 1 : 0;
        kept += first !== 0 ? 1 : 0;
      }
      expect(varying).to.equal(0);
      const frac = kept / (nb * c);
      expect(Math.abs(frac - 0.8)).to.be.below(5 * Math.sqrt(0.16 / (nb * c)));
    });

    it('same seed and step: same mask; another seed or step: another mask; setStep moves forward and backward', async () => {
      const shape = [4096];
      const x = ones(4096);
      const a = (await apply(shape, x, { rate: 0.5, seed: 1, step: 3 })).y;
      const b = (await apply(shape, x, { rate: 0.5, seed: 1, step: 3 })).y;
      const c = (await apply(shape, x, { rate: 0.5, seed: 2, step: 3 })).y;
      const d = (await apply(shape, x, { rate: 0.5, seed: 1, seedHi: 1, step: 3 })).y;
      expect(Array.from(a)).to.deep.equal(Array.from(b));
      const differ = (u: Float32Array, v: Float32Array) => u.reduce((s, val, i) => s + (val !== v[i] ? 1 : 0), 0) / u.length;
      expect(differ(a, c)).to.be.within(0.4, 0.6); // independent masks differ in half the places
      expect(differ(a, d)).to.be.within(0.4, 0.6);

      const io = { x: bufs.from(x), y: bufs.poisoned(4096), dy: bufs.from(x), dx: bufs.poisoned(4096) };
      const bound = dropout.bind(shape, io, { rate: 0.5, seed: 1, step: 0 });
      bound.setStep(3);
      await run(device, bound.forward, bound.backward!);
      expect(Array.from(await bufs.read(io.y, 4096))).to.deep.equal(Array.from(a));
      expect(Array.from(await bufs.read(io.dx, 4096))).to.deep.equal(Array.from(a));
      bound.setStep(4);
      await run(device, bound.forward);
      expect(differ(await bufs.read(io.y, 4096), a)).to.be.within(0.4, 0.6);
    });

    it('rate 0 is the identity', async () => {
      const x = uniform(3, 999);
      expectClose((await apply([999], x, { rate: 0, seed: 9 })).y, x, 0);
    });
  });

  it('rejects a bad rate or a non-NHWC spatial shape', () => {
    const b = bufs.poisoned(4);
    expect(() => dropout.bind([4], { x: b, y: b }, { rate: 1, seed: 0 })).to.throw(/rate must be in \[0, 1\)/);
    expect(() => dropout.bind([2, 2], { x: b, y: b }, { rate: 0.5, seed: 0, spatial: true })).to.throw(/spatial.*NHWC/);
  });
});
