import { expect } from 'chai';
import { createInput, packBytes, rngState, augmentation, type InputShape } from '../../src/kernels/input.js';
import { testGpu, run, Buffers } from '../helpers/gpu.js';
import { rng } from '../helpers/random.js';
import { expectClose } from '../helpers/assert.js';
import { tfjs } from '../helpers/tf.js';
import * as ref from '../reference/input.js';

const name = (s: InputShape) => `n${s.n} ${s.hin}x${s.win} -> ${s.hout}x${s.wout}`;
// Upscale, downscale, mixed, 1x1 source, odd sizes, batch 1, and PAtt-Lite's real inputs
// (FER2013 48x48 batches of 8; one RAF-DB-like 300x200 image).
const SHAPES: InputShape[] = [
  { n: 1, hin: 1, win: 1, hout: 4, wout: 4 },
  { n: 2, hin: 5, win: 7, hout: 3, wout: 11 },
  { n: 3, hin: 13, win: 9, hout: 13, wout: 9 },
  { n: 8, hin: 48, win: 48, hout: 224, wout: 224 },
  { n: 1, hin: 300, win: 200, hout: 224, wout: 224 },
  // Same size with a multiple of 4 bytes: input_bytes (n3 13x9 above has 1053 bytes: input_resize).
  { n: 2, hin: 6, win: 10, hout: 6, wout: 10 },
  { n: 2, hin: 224, win: 224, hout: 224, wout: 224 },
];
const sameSizeBytes = (s: InputShape) => s.hin === s.hout && s.win === s.wout && (s.n * s.hin * s.win * 3) % 4 === 0;

function bytesFor(seed: number, count: number): Uint8Array {
  const r = rng(seed);
  return Uint8Array.from({ length: count }, () => Math.floor(r() * 256));
}

describe('input', () => {
  let device: GPUDevice;
  let bufs: Buffers;
  before(async () => {
    device = (await testGpu()).device;
    bufs = new Buffers(device);
  });
  afterEach(() => bufs.destroy());

  describe('input_resize (inference: resize + preprocess)', () => {
    for (const s of SHAPES) {
      it(name(s), async () => {
        const k = await createInput(device);
        const bytes = bytesFor(s.n * s.hin, s.n * s.hin * s.win * 3);
        const n = s.n * s.hout * s.wout * 3;
        const y = bufs.poisoned(n);
        const bound = k.inference(s, bufs.from(packBytes(bytes)), y);
        expect(bound.label).to.equal(sameSizeBytes(s) ? 'input/input_bytes' : 'input/input_resize');
        await run(device, bound);
        expectClose(await bufs.read(y, n), ref.preprocess(ref.resize(s, bytes)), 1e-5, 'inference');
      });
    }

    for (const s of [SHAPES[1], SHAPES[4], { ...SHAPES[3], n: 2 }]) {
      it(`matches tf.image.resizeBilinear(halfPixelCenters) ${name(s)}`, async () => {
        const tf = await tfjs();
        const k = await createInput(device);
        const bytes = bytesFor(7 + s.hin, s.n * s.hin * s.win * 3);
        const n = s.n * s.hout * s.wout * 3;
        const y = bufs.poisoned(n);
        await run(device, k.inference(s, bufs.from(packBytes(bytes)), y));
        const t = tf.tidy(() => tf.image
          .resizeBilinear(tf.tensor4d(Float32Array.from(bytes), [s.n, s.hin, s.win, 3]), [s.hout, s.wout], false, true)
          .div(127.5).sub(1));
        expectClose(await bufs.read(y, n), await t.data(), 1e-5, 'vs tfjs');
        t.dispose();
      });
    }
  });

  describe('input_resize + input_stats + input_contrast (training)', () => {
    for (const [i, s] of SHAPES.entries()) {
      it(`${name(s)} seed ${i * 17 + 3}`, async () => {
        const k = await createInput(device);
        const seed = i * 17 + 3;
        const step = 5;
        const bytes = bytesFor(s.n + s.win, s.n * s.hin * s.win * 3);
        const n = s.n * s.hout * s.wout * 3;
        const y = bufs.poisoned(n);
        const plan = k.training(s, bufs.from(packBytes(bytes)), bufs.from(rngState(seed, step)), y);
        await run(device, ...plan.dispatches);
        const stats = await bufs.read(plan.stats, s.n * 4);
        plan.stats.destroy();
        const choices = Array.from({ length: s.n }, (_, b) => augmentation(seed, step, b));
        expectClose(await bufs.read(y, n), ref.training(s, bytes, choices), 1e-4, 'training output');
        expectClose(stats.filter((_, j) => j % 4 === 3), choices.map((c) => c.factor), 1e-6, 'contrast factors');
        const means = ref.channelMeans(s.n, s.hout * s.wout, ref.resize(s, bytes));
        expectClose(stats.filter((_, j) => j % 4 !== 3), means, 1e-5, 'channel means');
      });
    }

    it('input_advance moves to the next step; different steps and images draw differently', async () => {
      const k = await createInput(device);
      const s = { n: 8, hin: 6, win: 6, hout: 5, wout: 8 };
      const bytes = bytesFor(99, s.n * s.hin * s.win * 3);
      const n = s.n * s.hout * s.wout * 3;
      const state = bufs.from(rngState(42, 0));
      const y = bufs.poisoned(n);
      const plan = k.training(s, bufs.from(packBytes(bytes)), state, y);
      const adv = k.advance(state);
      await run(device, adv, ...plan.dispatches, adv, ...plan.dispatches);
      plan.stats.destroy();
      const choices = Array.from({ length: s.n }, (_, b) => augmentation(42, 2, b));
      expectClose(await bufs.read(y, n), ref.training(s, bytes, choices), 1e-4, 'step 2 output');
      expect(Array.from(new Uint32Array((await bufs.read(state, 2)).buffer))).to.deep.equal([42, 2]);
      const flips = choices.map((c) => c.flip);
      expect(flips).to.include(true).and.to.include(false);
      expect(new Set(choices.map((c) => c.factor)).size).to.equal(s.n);
      expect(augmentation(42, 3, 0)).to.not.deep.equal(augmentation(42, 2, 0));
    });

    it('augmentation draws: flip rate ~0.5, factors cover [0.7, 1.3] with mean ~1', () => {
      let flips = 0;
      let sum = 0;
      let [lo, hi] = [Infinity, -Infinity];
      const count = 20000;
      for (let i = 0; i < count; i++) {
        const a = augmentation(7, Math.floor(i / 8), i % 8);
        flips += a.flip ? 1 : 0;
        sum += a.factor;
        lo = Math.min(lo, a.factor);
        hi = Math.max(hi, a.factor);
      }
      expect(flips / count).to.be.closeTo(0.5, 0.02);
      expect(sum / count).to.be.closeTo(1, 0.01);
      expect(lo).to.be.at.least(0.7 - 1e-6).and.below(0.71);
      expect(hi).to.be.below(1.3).and.above(1.29);
    });
  });

  it('rejects a source buffer too small for the shape and a bad contrast', async () => {
    const k = await createInput(device);
    const s = { n: 2, hin: 4, win: 4, hout: 2, wout: 2 };
    const small = bufs.from(new Uint32Array(4));
    const y = bufs.poisoned(24);
    expect(() => k.inference(s, small, y)).to.throw(/src must hold \[2, 4, 4, 3\] = 96 bytes/);
    const src = bufs.from(new Uint32Array(24));
    expect(() => k.training(s, src, src, y, { contrast: 2 })).to.throw(/contrast/);
  });
});
