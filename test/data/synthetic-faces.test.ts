import { expect } from 'chai';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import {
  FER7_CLASSES, FER8_CLASSES, classNames, generateFace, writeSyntheticDataset,
} from '../../src/data/synthetic-faces.js';

/** Grey level pooled over `k`x`k` blocks of the face's middle (brows to chin), standardised
 * per image so that skin tone, brightness and contrast drop out. */
function features(img: { width: number; data: Uint8Array }, k: number): number[] {
  const n = img.width, out: number[] = [];
  for (let by = Math.floor(0.3 * n); by + k <= 0.85 * n; by += k) {
    for (let bx = Math.floor(0.2 * n); bx + k <= 0.8 * n; bx += k) {
      let s = 0;
      for (let y = by; y < by + k; y++) {
        for (let x = bx; x < bx + k; x++) s += img.data[(y * n + x) * 3] + img.data[(y * n + x) * 3 + 1] + img.data[(y * n + x) * 3 + 2];
      }
      out.push(s);
    }
  }
  const mean = out.reduce((a, b) => a + b, 0) / out.length;
  const sd = Math.sqrt(out.reduce((a, b) => a + (b - mean) ** 2, 0) / out.length) || 1;
  return out.map((v) => (v - mean) / sd);
}

/** Accuracy of a nearest-class-mean classifier on 8 classes, trained and tested on fresh people. */
function nearestMeanAccuracy(o: { train: number; test: number; size: number; k: number; clean: boolean }): number {
  const f = (c: number, seed: number) => features(generateFace(c, seed, { size: o.size, clean: o.clean }), o.k);
  const means = FER8_CLASSES.map((_, c) => {
    const m = f(c, 0).fill(0);
    for (let i = 0; i < o.train; i++) f(c, 1000 + 100 * c + i).forEach((v, j) => (m[j] += v / o.train));
    return m;
  });
  let right = 0;
  for (let c = 0; c < FER8_CLASSES.length; c++) {
    for (let i = 0; i < o.test; i++) {
      const v = f(c, 90000 + 100 * c + i);
      const d = means.map((m) => m.reduce((a, x, j) => a + (x - v[j]) ** 2, 0));
      if (d.indexOf(Math.min(...d)) === c) right++;
    }
  }
  return right / (FER8_CLASSES.length * o.test);
}

describe('synthetic-faces generateFace', () => {
  it('is deterministic: same seed -> identical bytes, another seed -> different', () => {
    const a = generateFace(4, 123);
    const b = generateFace(4, 123);
    const c = generateFace(4, 124);
    expect(Buffer.from(a.data).equals(Buffer.from(b.data))).to.equal(true);
    expect(Buffer.from(a.data).equals(Buffer.from(c.data))).to.equal(false);
  });

  it('renders every class of both variants with varied pixels', () => {
    for (const classes of [7, 8] as const) {
      classNames(classes).forEach((name, c) => {
        const img = generateFace(c, 7, { size: 48, classes });
        expect(img.className).to.equal(name);
        expect(img.data.length).to.equal(48 * 48 * 3);
        const lo = Math.min(...img.data), hi = Math.max(...img.data);
        expect(hi - lo, name).to.be.greaterThan(60);
      });
    }
    expect(FER7_CLASSES).to.not.include('contempt');
    expect(FER8_CLASSES[1]).to.equal('contempt');
  });

  it('sizes 48, 96 (default) and 224', () => {
    expect(generateFace(0, 1).width).to.equal(96);
    for (const size of [48, 224]) {
      const img = generateFace(0, 1, { size });
      expect([img.width, img.height, img.data.length]).to.deep.equal([size, size, size * size * 3]);
    }
  });

  it('the same class and seed differ between clean and augmented renders', () => {
    const a = generateFace(2, 5, { clean: true }), b = generateFace(2, 5);
    expect(Buffer.from(a.data).equals(Buffer.from(b.data))).to.equal(false);
  });

  it('rejects a bad class index and size', () => {
    expect(() => generateFace(7, 1, { classes: 7 })).to.throw(/outside 0..6/);
    expect(() => generateFace(0, 1, { size: 2 })).to.throw(/size/);
  });

  it('classes are separable by a nearest-class-mean on pooled pixels (chance = 12.5%)', () => {
    // Guards against degenerate rendering; a CNN does far better than this pixel template.
    const clean = nearestMeanAccuracy({ train: 30, test: 15, size: 64, k: 2, clean: true });
    const augmented = nearestMeanAccuracy({ train: 30, test: 15, size: 48, k: 4, clean: false });
    console.log(`      nearest-class-mean accuracy: clean ${(clean * 100).toFixed(1)}%, ` +
      `augmented ${(augmented * 100).toFixed(1)}% (chance 12.5%)`);
    expect(clean).to.be.greaterThan(0.3);
    expect(augmented).to.be.greaterThan(0.16);
  });
});

describe('synthetic-faces writeSyntheticDataset', () => {
  let dir = '';
  before(async () => { dir = await mkdtemp(join(tmpdir(), 'synth-faces-')); });
  after(async () => { await rm(dir, { recursive: true, force: true }); });

  it('writes split/class/NNNNNN.png and a matching dataset.json, reproducibly', async () => {
    const perClass = { train: 3, val: 1, test: 2 };
    let last = 0;
    const s = await writeSyntheticDataset(join(dir, 'a'), { classes: 7, perClass, size: 48, seed: 9, onProgress: (d) => (last = d) });
    expect(s.total).to.equal(7 * 6);
    expect(last).to.equal(s.total);
    const json = JSON.parse(await readFile(join(dir, 'a', 'dataset.json'), 'utf8'));
    expect(json).to.deep.equal(JSON.parse(JSON.stringify(s)));
    expect(json.classes).to.deep.equal([...FER7_CLASSES]);
    expect(json.counts.train.happiness).to.equal(3);
    for (const split of ['train', 'val', 'test'] as const) {
      expect((await readdir(join(dir, 'a', split))).sort()).to.deep.equal([...FER7_CLASSES].sort());
      for (const c of FER7_CLASSES) {
        const files = (await readdir(join(dir, 'a', split, c))).sort();
        expect(files.length).to.equal(perClass[split]);
        expect(files[0]).to.equal('000000.png');
      }
    }
    const png = PNG.sync.read(await readFile(join(dir, 'a', 'train', 'happiness', '000002.png')));
    expect([png.width, png.height]).to.deep.equal([48, 48]);
    // Same seed -> byte-identical files; the 7-class set shares images with the 8-class set.
    await writeSyntheticDataset(join(dir, 'b'), { classes: 8, perClass, size: 48, seed: 9 });
    const f = (d: string) => readFile(join(dir, d, 'val', 'sadness', '000000.png'));
    expect((await f('a')).equals(await f('b'))).to.equal(true);
    expect((await readdir(join(dir, 'b', 'test'))).length).to.equal(8);
  });
});
