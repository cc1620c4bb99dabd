import { expect } from 'chai';
import { createMatmul, MATMUL_VARIANTS, matmulGrid, matmulSg8Supported, tnGroups, type Matmul, type MatmulShape, type MatmulVariant } from '../../src/kernels/matmul.js';
import { adapterKey, autotuneMatmul, AUTOTUNE_SHAPE, type AutotuneCache } from '../../src/kernels/matmul-autotune.js';
import { fileAutotuneCache } from '../../src/gpu/autotune-cache.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testGpu, run, Buffers } from '../helpers/gpu.js';
import { uniform } from '../helpers/random.js';
import { expectClose } from '../helpers/assert.js';
import { tfjs } from '../helpers/tf.js';
import * as ref from '../reference/matmul.js';

type Case = MatmulShape & { c0?: boolean };
const name = (s: Case) =>
  `m${s.m} k${s.k} n${s.n}${s.transA ? ' At' : ''}${s.transB ? ' Bt' : ''}${s.bias ? ' bias' : ''}` +
  `${s.act && s.act !== 'none' ? ` ${s.act}` : ''}${s.accumulate ? ' accumulate' : ''}`;

// Odd sizes, 1x1x1, batch-like M=1, non-multiples of both variants' tiles (8 x 8*WG, 64 x 64),
// several column tiles (n530 > 256 columns of the widest reg workgroup).
const CASES: Case[] = [
  { m: 1, k: 1, n: 1 },
  { m: 1, k: 37, n: 10 },
  { m: 3, k: 5, n: 7 },
  { m: 17, k: 33, n: 29, bias: true },
  { m: 65, k: 19, n: 130 },
  { m: 9, k: 13, n: 530, bias: true, act: 'relu' },
  { m: 70, k: 70, n: 66, transA: true },
  { m: 37, k: 23, n: 41, transB: true },
  { m: 37, k: 23, n: 41, transA: true, transB: true },
  { m: 33, k: 16, n: 24, bias: true, act: 'relu6' },
  { m: 33, k: 16, n: 24, act: 'relu' },
  { m: 20, k: 9, n: 12, bias: true, accumulate: true },
];

/** B in a buffer without UNIFORM usage, so sg8 cannot read it through a uniform binding. */
function storageOnly(bufs: Buffers, data: Float32Array): GPUBuffer {
  const b = bufs.device.createBuffer({ label: 'test/b-storage', size: data.byteLength, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
  bufs.device.queue.writeBuffer(b, 0, data.buffer, data.byteOffset, data.byteLength);
  return b;
}

/**
 * Runs one case against the float64 reference. `bJunkRows`: B's buffer holds that many more rows
 * of large values past K, which a kernel that reads rows past K would add in (a buffer that ends at
 * K would read as zeros there under the driver's robustness).
 */
async function check(mm: Matmul, bufs: Buffers, s: Case, seed: number, rows?: number[], bStorageOnly = false, bJunkRows = 0): Promise<string> {
  const a = uniform(seed, s.m * s.k, -1, 1);
  const b = uniform(seed + 1, s.k * s.n, -1, 1);
  const bData = bJunkRows ? Float32Array.from([...b, ...uniform(seed + 4, bJunkRows * s.n, 100, 1000)]) : b;
  const bias = uniform(seed + 2, s.n, -1, 1);
  // Scaled so relu6 clips at both ends.
  if (s.act === 'relu6') for (let i = 0; i < a.length; i++) a[i] *= 4;
  const c0 = uniform(seed + 3, s.m * s.n, -1, 1);
  const c = s.accumulate ? bufs.from(c0.slice()) : bufs.poisoned(s.m * s.n);
  const bb = bStorageOnly ? storageOnly(bufs, bData) : bufs.from(bData);
  const bound = await mm.matmul(s, { a: bufs.from(a), b: bb, bias: bufs.from(bias), c });
  await run(bufs.device, bound);
  const got = await bufs.read(c, s.m * s.n);
  const want = ref.matmul(s, a, b, s.bias ? bias : undefined, s.accumulate ? c0 : undefined, rows);
  if (rows) expectClose(ref.pickRows(got, s.n, rows), ref.pickRows(want, s.n, rows), 1e-4, name(s));
  else expectClose(got, want, 1e-4, name(s));
  if (bStorageOnly) bb.destroy();
  return bound.label;
}

for (const variant of MATMUL_VARIANTS) {
  describe(`matmul_${variant}`, () => {
    let mm: Matmul;
    let bufs: Buffers;
    before(async function () {
      const { device } = await testGpu();
      if (variant === 'sg8' && !(await matmulSg8Supported(device))) {
        console.log('    (skipped: sg8 needs 8-lane subgroups; this adapter has none or another size)');
        this.skip();
      }
      mm = await createMatmul(device, { variant });
      bufs = new Buffers(device);
    });
    afterEach(() => bufs.destroy());

    CASES.forEach((s, i) => it(name(s), () => check(mm, bufs, s, 100 + i)));

    // PAtt-Lite shapes: conv_pw at 14x14x512 (batch 8) and conv_pw_1 at 112x112 (32 -> 64).
    // Only some rows are compared on the CPU (first, last, and a stride through the middle).
    it('m1568 k512 n512 pointwise 14x14 (rows subset)', () =>
      check(mm, bufs, { m: 1568, k: 512, n: 512, bias: true, act: 'relu6' }, 7, [0, 1, 7, 8, 500, 1001, 1566, 1567]));
    it('m100352 k32 n64 pointwise 112x112 (rows subset)', async () => {
      const m = 8 * 112 * 112;
      const rows = [0, 9, 63, 64, 65_535, 65_536, 77_777, m - 8, m - 1];
      await check(mm, bufs, { m, k: 32, n: 64 }, 8, rows);
    });

    // B stored [N,K] with K % 4 == 0 and N % 4 == 0: sg8 reads both operands and writes C as vec4s
    // (matmul_sg8_v4); N = 12 and 20 leave a half-wide last tile, M = 45 and 17 a partial one.
    // With B in a buffer that allows UNIFORM usage and N > 8, sg8 reads B^T through 64 KiB uniform
    // windows with 16 x 16 tiles (label matmul_sg8_v4wu, src/kernels/matmul-windows.ts): each case
    // runs both ways. The windows: one (the backbone's first pointwise layer; 64 KiB exactly), three
    // with a last one 4 rows wide (k128 n260), five (k256 n260), and more than a stage can bind
    // (k1024 n200: 11 windows of 16 rows, the last 24 rows from storage); none when a window would
    // hold under 16 rows (k2048). Without windows, 16 x 16 tiles with B from storage when K and
    // N >= 256.
    const v4Cases: Case[] = [
      { m: 45, k: 36, n: 20, transB: true, bias: true, act: 'relu6' },
      { m: 17, k: 8, n: 12, transB: true, accumulate: true },
      { m: 33, k: 4, n: 8, transB: true, bias: true, act: 'relu', accumulate: true },
      { m: 100, k: 32, n: 64, transB: true, bias: true, act: 'relu6' },
      { m: 37, k: 128, n: 128, transB: true, bias: true, accumulate: true },
      { m: 37, k: 128, n: 260, transB: true, bias: true, act: 'relu6' },
      { m: 37, k: 256, n: 260, transB: true, bias: true, act: 'relu6' },
      { m: 21, k: 1024, n: 200, transB: true, bias: true, accumulate: true },
      { m: 19, k: 2048, n: 12, transB: true, bias: true },
    ];
    const wideStorage = (s: Case) => s.k >= 256 && s.n >= 256;
    const windowed = (s: Case) => s.n > 8 && s.k * 4 * 16 <= 65536;
    v4Cases.forEach((s, i) => {
      it(`${name(s)} (vec4 operands in sg8, B in storage)`, async () => {
        const label = await check(mm, bufs, s, 31 + i, undefined, true);
        if (variant === 'sg8') expect(label).to.equal(wideStorage(s) ? 'matmul/matmul_sg8_v4w' : 'matmul/matmul_sg8_v4');
      });
      it(`${name(s)} (vec4 operands in sg8, B through uniform windows when N > 8)`, async () => {
        const label = await check(mm, bufs, s, 41 + i);
        const want = windowed(s) ? 'matmul_sg8_v4wu' : wideStorage(s) ? 'matmul_sg8_v4w' : 'matmul_sg8_v4';
        if (variant === 'sg8') expect(label).to.equal(`matmul/${want}`);
      });
    });
    // A stored [K,M], B [K,N] with M % 4 == 0 and N % 4 == 0 (the weight gradient): sg8 reads both
    // as vec4s along M and N with 32 x 8G tiles (matmul_sg8_tn, G = tnGroups(m, n) = 1, 2 or 4).
    // K = 1 and K % 4 == 3 leave a tail of rows; M = 36 and 68 a partial row tile; N = 20 (G = 2)
    // and N = 44 (G = 4) a last tile with a half-wide group and groups wholly past N; N = 8 with
    // many rows G = 1. Then PAtt-Lite's pointwise weight gradients: conv_pw_1 (K = 8x112x112
    // pixels, G = 2) and conv_pw at 14x14x512 (G = 4).
    const tnCases: [Case, 1 | 2 | 4, number[]?][] = [
      [{ m: 4, k: 1, n: 4, transA: true }, 1],
      [{ m: 200, k: 9, n: 8, transA: true, bias: true }, 1],
      [{ m: 36, k: 23, n: 20, transA: true, bias: true, act: 'relu6' }, 2],
      [{ m: 36, k: 27, n: 44, transA: true, bias: true, act: 'relu' }, 4],
      [{ m: 68, k: 102, n: 64, transA: true, accumulate: true }, 4],
      [{ m: 32, k: 8 * 112 * 112, n: 64, transA: true }, 2],
      [{ m: 512, k: 1568, n: 512, transA: true }, 4, [0, 3, 4, 31, 32, 257, 510, 511]],
    ];
    tnCases.forEach(([s, groups, rows], i) => it(`${name(s)} (vec4 rows of A and B in sg8, 32 x ${8 * groups} tiles)${rows ? ' (rows subset)' : ''}`, async () => {
      expect(tnGroups(s.m, s.n)).to.equal(groups);
      const label = await check(mm, bufs, s, 51 + i, rows, false, 4);
      if (variant === 'sg8') expect(label).to.equal('matmul/matmul_sg8_tn');
    }));
    // K % 4 == 0 but N % 4 != 0: the scalar-store entry point.
    it('m45 k36 n19 Bt bias relu6', () => check(mm, bufs, { m: 45, k: 36, n: 19, transB: true, bias: true, act: 'relu6' }, 34));
    it('m17 k8 n9 Bt accumulate', () => check(mm, bufs, { m: 17, k: 8, n: 9, transB: true, accumulate: true }, 35));

    it('transpose [rows, cols] -> [cols, rows], and prefersTransposedB says when sg8 wants it', async () => {
      const [rows, cols] = [37, 300];
      const x = uniform(41, rows * cols);
      const y = bufs.poisoned(rows * cols);
      await run(bufs.device, mm.transpose({ rows, cols }, { x: bufs.from(x), y }));
      const want = new Float32Array(rows * cols);
      for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) want[c * rows + r] = x[r * cols + c];
      expectClose(await bufs.read(y, rows * cols), want, 0, 'transpose');
      expect(mm.prefersTransposedB(100, 64)).to.equal(variant === 'sg8');
      expect(mm.prefersTransposedB(100, 63), 'K % 4 != 0').to.equal(false);
      expect(mm.prefersTransposedB(32, 64), 'M < K: the transpose would not pay').to.equal(false);
    });

    it('dA = dC·B^T and dB = A^T·dC of a dense layer m13 k10 n7', async () => {
      const [m, k, n] = [13, 10, 7];
      const a = uniform(1, m * k);
      const b = uniform(2, k * n);
      const dc = uniform(3, m * n);
      const da = bufs.poisoned(m * k);
      const dbw = bufs.poisoned(k * n);
      const [ab, bb, dcb] = [bufs.from(a), bufs.from(b), bufs.from(dc)];
      await run(bufs.device, await mm.dA({ m, k, n }, { dc: dcb, b: bb, da }), await mm.dB({ m, k, n }, { a: ab, dc: dcb, db: dbw }));
      expectClose(await bufs.read(da, m * k), ref.matmul({ m, k: n, n: k, transB: true }, dc, b), 1e-4, 'dA');
      expectClose(await bufs.read(dbw, k * n), ref.matmul({ m: k, k: m, n, transA: true }, a, dc), 1e-4, 'dB');
    });
  });
}

describe('matmul gradients', () => {
  let bufs: Buffers;
  before(async () => { bufs = new Buffers((await testGpu()).device); });
  afterEach(() => bufs.destroy());

  // loss = sum(W ⊙ (A·B + bias)), so dC = W; compare every variant with tf.grads. With K and N
  // multiples of 4, sg8 takes its vec4 paths (dA: matmul_sg8_v4, dB: matmul_sg8_tn).
  for (const [m, k, n] of [[19, 11, 6], [19, 12, 8]]) it(`dA, dB, db match TensorFlow.js tf.grads (m${m} k${k} n${n})`, async () => {
    const tf = await tfjs();
    const [a, b, bias, w] = [uniform(11, m * k), uniform(12, k * n), uniform(13, n), uniform(14, m * n)];
    const f = (x: import('@tensorflow/tfjs').Tensor, y: import('@tensorflow/tfjs').Tensor, z: import('@tensorflow/tfjs').Tensor) =>
      tf.sum(tf.mul(tf.add(tf.matMul(x as never, y as never), z), tf.tensor2d(w, [m, n])));
    const [ga, gb, gz] = tf.grads(f)([tf.tensor2d(a, [m, k]), tf.tensor2d(b, [k, n]), tf.tensor1d(bias)]);
    const [ta, tb, tz] = [ga.dataSync(), gb.dataSync(), gz.dataSync()];
    for (const variant of MATMUL_VARIANTS) {
      if (variant === 'sg8' && !(await matmulSg8Supported(bufs.device))) continue;
      const mm = await createMatmul(bufs.device, { variant });
      const [da, dbw, db] = [bufs.poisoned(m * k), bufs.poisoned(k * n), bufs.poisoned(n)];
      const wb = bufs.from(w);
      const dB = await mm.dB({ m, k, n }, { a: bufs.from(a), dc: wb, db: dbw });
      if (variant === 'sg8') expect(dB.label).to.equal(k % 4 === 0 && n % 4 === 0 ? 'matmul/matmul_sg8_tn' : 'matmul/matmul_sg8');
      await run(bufs.device,
        await mm.dA({ m, k, n }, { dc: wb, b: bufs.from(b), da }),
        dB,
        ...(await mm.biasGrad({ m, n }, { dc: wb, db })));
      expectClose(await bufs.read(da, m * k), ta, 1e-5, `${variant} dA`);
      expectClose(await bufs.read(dbw, k * n), tb, 1e-5, `${variant} dB`);
      expectClose(await bufs.read(db, n), tz, 1e-5, `${variant} db`);
    }
  });

  // Central differences of the float64 reference loss, against the reference and GPU gradients.
  it('finite differences of sum(W ⊙ relu(A·B + bias)) (m3 k4 n2)', async () => {
    const [m, k, n] = [3, 4, 2];
    const [a, b, bias, w] = [uniform(21, m * k), uniform(22, k * n), uniform(23, n), uniform(24, m * n)];
    const loss = (x: ArrayLike<number>, y: ArrayLike<number>, z: ArrayLike<number>) =>
      ref.matmul({ m, k, n, act: 'relu' }, x, y, z).reduce((s, v, i) => s + v * w[i], 0);
    const fd = (x: Float32Array, f: (x: Float64Array) => number) => Float64Array.from(x, (_, i) => {
      const h = 1e-6;
      const p = Float64Array.from(x); p[i] += h;
      const q = Float64Array.from(x); q[i] -= h;
      return (f(p) - f(q)) / (2 * h);
    });
    // dZ = W ⊙ relu'(Z), the upstream gradient the elementwise family computes.
    const z = ref.matmul({ m, k, n }, a, b, bias);
    const dz = Float32Array.from(w, (v, i) => (z[i] > 0 ? v : 0));
    const mm = await createMatmul(bufs.device, { variant: 'reg' });
    const [da, dbw, db] = [bufs.poisoned(m * k), bufs.poisoned(k * n), bufs.poisoned(n)];
    const dzb = bufs.from(dz);
    await run(bufs.device,
      await mm.dA({ m, k, n }, { dc: dzb, b: bufs.from(b), da }),
      await mm.dB({ m, k, n }, { a: bufs.from(a), dc: dzb, db: dbw }),
      ...(await mm.biasGrad({ m, n }, { dc: dzb, db })));
    expectClose(await bufs.read(da, m * k), fd(a, (x) => loss(x, b, bias)), 1e-6, 'dA');
    expectClose(await bufs.read(dbw, k * n), fd(b, (y) => loss(a, y, bias)), 1e-6, 'dB');
    expectClose(await bufs.read(db, n), fd(Float32Array.from(bias), (s) => loss(a, b, s)), 1e-6, 'db');
  });
});

describe('matmul_db', () => {
  let mm: Matmul;
  let bufs: Buffers;
  before(async () => {
    const { device } = await testGpu();
    mm = await createMatmul(device, { variant: 'reg' });
    bufs = new Buffers(device);
  });
  afterEach(() => bufs.destroy());

  for (const [m, n, accumulate] of [[1, 1, false], [64, 3, false], [65, 7, false], [1568, 512, true], [100_352, 64, false]] as const) {
    it(`m${m} n${n}${accumulate ? ' accumulate' : ''}`, async () => {
      const dc = uniform(m + n, m * n);
      const db0 = uniform(5, n);
      const db = accumulate ? bufs.from(db0.slice()) : bufs.poisoned(n);
      const bound = await mm.biasGrad({ m, n, accumulate }, { dc: bufs.from(dc), db });
      expect(bound.length).to.equal(m > 64 ? 2 : 1);
      await run(bufs.device, ...bound);
      const want = ref.biasGrad(m, n, dc);
      if (accumulate) want.forEach((v, j) => (want[j] = v + db0[j]));
      expectClose(await bufs.read(db, n), want, 1e-5, 'db');
    });
  }
});

describe('matmul setup', () => {
  it('folds the tile grid past 65535 workgroups per dimension', () => {
    const { workgroups } = matmulGrid('reg', 8 * 112 * 112 * 8, 64, 65535);
    expect(workgroups[1]).to.be.greaterThan(1);
    expect(Math.max(...workgroups)).to.be.at.most(65535);
  });

  it('autotunes once, stores the choice in the cache and reuses a cached one', async () => {
    const { device } = await testGpu();
    const store = new Map<string, string>();
    const cache: AutotuneCache = { get: (k) => store.get(k), set: (k, v) => void store.set(k, v) };
    const mm = await createMatmul(device, { cache });
    expect(MATMUL_VARIANTS).to.include(mm.variant);
    // The per-device memo may predate this cache (another test); then it holds nothing new.
    if (store.size) expect(store.get(adapterKey(device))).to.equal(mm.variant);
    const again = await createMatmul(device);
    expect(again.variant).to.equal(mm.variant);
  });

  it('autotune times each variant in the layout the engine gives it (sg8: B transposed first)', async () => {
    const { device } = await testGpu();
    const seen: { variant: MatmulVariant; transB: boolean }[] = [];
    const wrap = async (variant: MatmulVariant): Promise<Matmul> => {
      const mm = await createMatmul(device, { variant });
      return { ...mm, matmul: (s, b) => { seen.push({ variant, transB: !!s.transB }); return mm.matmul(s, b); } };
    };
    const variants: MatmulVariant[] = (await matmulSg8Supported(device)) ? ['reg', 'sg8'] : ['reg'];
    const { variant, ms } = await autotuneMatmul(device, wrap, variants);
    expect(variants).to.include(variant);
    for (const v of variants) {
      const mm = await createMatmul(device, { variant: v });
      const expected = mm.prefersTransposedB(AUTOTUNE_SHAPE.m, AUTOTUNE_SHAPE.k);
      expect(seen.filter((x) => x.variant === v).map((x) => x.transB)).to.deep.equal([expected], v);
      expect(ms[v]).to.be.greaterThan(0);
    }
    if (variants.includes('sg8')) expect(seen.find((x) => x.variant === 'sg8')!.transB).to.equal(true);
  });

  it('file autotune cache: round trip, corrupt file reads as empty', () => {
    const dir = mkdtempSync(join(tmpdir(), 'patt-autotune-'));
    try {
      const path = join(dir, 'sub', 'autotune.json');
      const cache = fileAutotuneCache(path);
      expect(cache.get('x')).to.equal(undefined);
      cache.set('x', 'reg');
      expect(fileAutotuneCache(path).get('x')).to.equal('reg');
      writeFileSync(path, '{not json');
      expect(cache.get('x')).to.equal(undefined);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names the kernel and the shapes when a buffer is too small', async () => {
    const { device } = await testGpu();
    const bufs = new Buffers(device);
    const mm = await createMatmul(device, { variant: 'reg' });
    const small = bufs.poisoned(4);
    try {
      await mm.matmul({ m: 3, k: 2, n: 2 }, { a: small, b: small, c: small });
      expect.fail('no error');
    } catch (err) {
      expect((err as Error).message).to.match(/matmul\/matmul_reg: A must hold 6 floats \(A \[M,K\]=\[3,2\]/);
    } finally {
      bufs.destroy();
    }
  });
});
