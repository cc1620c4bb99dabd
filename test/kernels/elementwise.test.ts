import { expect } from 'chai';
import { createElementwise } from '../../src/kernels/elementwise.js';
import { dispatch1d } from '../../src/kernels/dispatch.js';
import { testGpu, run, Buffers } from '../helpers/gpu.js';
import { uniform } from '../helpers/random.js';
import { expectClose } from '../helpers/assert.js';
import * as ref from '../reference/elementwise.js';

// Sizes: one element, not a multiple of the workgroup, and large enough to fold into y.
// 1000 and 4 * 257 * 256 take the vec4 kernels (n % 4 == 0), the others the scalar ones.
const SIZES = [1, 1000, 257 * 256 + 3, 4 * 257 * 256];

describe('elementwise', () => {
  let device: GPUDevice;
  let bufs: Buffers;
  before(async () => {
    device = (await testGpu()).device;
    bufs = new Buffers(device);
  });
  afterEach(() => bufs.destroy());

  for (const n of SIZES) {
    it(`relu_fwd / relu6_fwd n${n}`, async () => {
      const k = await createElementwise(device);
      const x = uniform(n, n, -3, 9);
      const xb = bufs.from(x);
      const y = bufs.poisoned(n);
      const y6 = bufs.poisoned(n);
      await run(device, k.activation('relu', n, xb, y), k.activation('relu6', n, xb, y6));
      expectClose(await bufs.read(y, n), ref.relu(x), 0, 'relu');
      expectClose(await bufs.read(y6, n), ref.relu6(x), 0, 'relu6');
    });

    it(`relu_dx / relu6_dx n${n}`, async () => {
      const k = await createElementwise(device);
      const x = uniform(n + 1, n, -3, 9);
      const dy = uniform(n + 2, n);
      const [xb, dyb] = [bufs.from(x), bufs.from(dy)];
      const dx = bufs.poisoned(n);
      const dx6 = bufs.poisoned(n);
      await run(device, k.activationDx('relu', n, xb, dyb, dx), k.activationDx('relu6', n, xb, dyb, dx6));
      expectClose(await bufs.read(dx, n), ref.reluDx(x, dy), 0, 'relu dx');
      expectClose(await bufs.read(dx6, n), ref.relu6Dx(x, dy), 0, 'relu6 dx');
    });

    it(`add / axpy / scale / fill n${n}`, async () => {
      const k = await createElementwise(device);
      const a = uniform(n + 3, n);
      const b = uniform(n + 4, n);
      const [ab, bb] = [bufs.from(a), bufs.from(b)];
      const y = bufs.poisoned(n);
      const acc = bufs.from(b.slice());
      const s = bufs.poisoned(n);
      const f = bufs.poisoned(n);
      await run(device, k.add(n, ab, bb, y, 0.5, -2), k.axpy(n, ab, acc, 3), k.scale(n, ab, s, -0.25), k.fill(n, f, 7.5));
      expectClose(await bufs.read(y, n), ref.add(a, b, 0.5, -2), 1e-6, 'add');
      expectClose(await bufs.read(acc, n), ref.add(a, b, 3, 1), 1e-6, 'axpy');
      expectClose(await bufs.read(s, n), ref.add(a, a, -0.25, 0), 1e-6, 'scale');
      expectClose(await bufs.read(f, n), new Float64Array(n).fill(7.5), 0, 'fill');
    });

    it(`scale_by / broadcast n${n}`, async () => {
      const k = await createElementwise(device);
      const x = uniform(n + 5, n);
      const [xb, sb] = [bufs.from(x), bufs.from(Float32Array.of(-1.5))];
      const y = bufs.poisoned(n);
      const b = bufs.poisoned(n);
      await run(device, k.scaleBy(n, xb, sb, y, 2), k.broadcast(n, sb, b, 0.5));
      expectClose(await bufs.read(y, n), ref.add(x, x, -3, 0), 1e-6, 'scale_by');
      expectClose(await bufs.read(b, n), new Float64Array(n).fill(-0.75), 0, 'broadcast');
    });
  }
});

describe('elementwise large', () => {
  it('fill past 65535 workgroups folds into y and writes every element', async () => {
    const { device } = await testGpu();
    const bufs = new Buffers(device);

    const k = await createElementwise(device);
    const n = 65536 * 256 + 5;
    const out = bufs.poisoned(n);
    const bound = k.fill(n, out, 2);
    expect(bound.workgroups[1]).to.be.greaterThan(1);
    await run(device, bound);
    const got = await bufs.read(out, n);
    expect(got.every((v) => v === 2)).to.equal(true);
    bufs.destroy();
  });
});

describe('dispatch1d', () => {
  it('covers every item and respects the per-dimension limit', () => {
    for (const [items, wg, max] of [[1, 64, 65535], [65535 * 64 + 1, 64, 65535], [999_999, 1, 100], [7, 4, 2], [9, 1, 3]]) {
      const [x, y, z] = dispatch1d(items, wg, max);
      expect(x * y * z * wg).to.be.at.least(items);
      expect(Math.max(x, y, z)).to.be.at.most(max);
      expect(x * y * z).to.be.at.most(2 * Math.ceil(items / wg)); // not grossly oversized
    }
  });
  it('rejects a range too large to dispatch', () => {
    expect(() => dispatch1d(2 ** 40, 1, 100)).to.throw(/too many/);
  });
});
