import { createReduce, partialGroups, MAX_PARTIALS } from '../../src/kernels/reduce.js';
import { testGpu, run, Buffers } from '../helpers/gpu.js';
import { uniform, randn } from '../helpers/random.js';
import { expectClose } from '../helpers/assert.js';
import * as ref from '../reference/reduce.js';
import { expect } from 'chai';

// Sizes: one element, below / above one workgroup, not a multiple of it, more than
// MAX_PARTIALS workgroups' worth (grid stride), and PAtt-Lite's largest weight (1x1 512x512).
const SIZES = [1, 7, 256, 1000, 257 * 256 + 3, 512 * 512];

describe('reduce', () => {
  let device: GPUDevice;
  let bufs: Buffers;
  before(async () => {
    device = (await testGpu()).device;
    bufs = new Buffers(device);
  });
  afterEach(() => bufs.destroy());

  for (const n of SIZES) {
    it(`reduce_partial + reduce_final sum / sum of squares / norm n${n}`, async () => {
      const k = await createReduce(device);
      const x = uniform(n, n, -1, 2);
      const xb = bufs.from(x);
      const out = bufs.poisoned(3);
      const plans = [
        k.sum(n, xb, out), k.sum(n, xb, out, { square: true, outIndex: 1 }),
        k.sum(n, xb, out, { square: true, sqrt: true, outIndex: 2 }),
      ];
      await run(device, ...plans.flatMap((p) => p.dispatches));
      plans.forEach((p) => p.scratch.destroy());
      const got = await bufs.read(out, 3);
      const s2 = ref.sum(x, true);
      expectClose([got[0]], [ref.sum(x)], 1e-5, 'sum');
      expectClose([got[1]], [s2], 1e-5, 'sum of squares');
      expectClose([got[2]], [Math.sqrt(s2)], 1e-5, 'norm');
    });
  }

  it('partials: at most MAX_PARTIALS workgroups, at least one', () => {
    expect(partialGroups(0)).to.equal(1);
    expect(partialGroups(1)).to.equal(1);
    expect(partialGroups(10 ** 8)).to.equal(MAX_PARTIALS);
  });

  it('globalNorm over PAtt-Lite-like gradient list (bias 32, dense 32x8, conv 1x1x256x256, scale 1)', async () => {
    const k = await createReduce(device);
    const sizes = [32, 32 * 8, 256 * 256, 1, 8, 3 * 3 * 3 * 32, 1000];
    const arrays = sizes.map((n, i) => randn(100 + i, n, 0.1 * (i + 1)));
    const items = arrays.map((a, i) => ({ n: sizes[i], buffer: bufs.from(a) }));
    const out = bufs.poisoned(2);
    const norm = k.globalNorm(items, out);
    const sq = k.globalNorm(items, out, { squared: true, outIndex: 1 });
    await run(device, ...norm.dispatches, ...sq.dispatches);
    norm.scratch.destroy();
    sq.scratch.destroy();
    const got = await bufs.read(out, 2);
    const want = ref.globalNorm(arrays);
    expectClose([got[0]], [want], 1e-5, 'global norm');
    expectClose([got[1]], [want * want], 1e-5, 'global sum of squares');
  });

  it('rejects an array larger than its buffer and an output index past the end', async () => {
    const k = await createReduce(device);
    const x = bufs.from(new Float32Array(4));
    const out = bufs.poisoned(1);
    expect(() => k.sum(8, x, out)).to.throw(/does not fit/);
    expect(() => k.sum(4, x, out, { outIndex: 1 })).to.throw(/out index/);
  });
});
