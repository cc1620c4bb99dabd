// Fuzz: the text-driven dataset readers (FER2013 and FERPlus CSVs, the RAF-DB label list) and
// the folder-tree reader with its dataset.json and its images. Each case writes the mutant to a
// temporary folder and runs the reader; errors must name the mutated file.

import { expect } from 'chai';
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Dataset } from '../../src/data/dataset.js';
import { readFer2013, readFerPlus } from '../../src/data/fer2013.js';
import { readFolder } from '../../src/data/folder.js';
import { encodePng } from '../../src/data/image.js';
import { readRafDb } from '../../src/data/raf-db.js';
import { greyJpeg, pattern, tempDir } from '../data/fixtures.js';
import { checkDataset, expectResult, FUZZ_CASES, fuzzAndReport } from './harness.js';
import { choose, mutate, mutateJson, pick } from './mutate.js';

const px = (v: number, n = 4) => Array.from({ length: n }, (_, i) => (v * 7 + i * 13) % 256).join(' ');

const FER = [
  'emotion,pixels,Usage',
  `0,${px(1)},Training`,
  `6,"${px(2)}",PublicTest`,
  `3,${px(3)},PrivateTest`,
  `5,${px(4)},Training`,
  '',
].join('\r\n');
const FER_KAGGLE = `emotion, pixels\n2, ${px(5, 9)}\n4, ${px(6, 9)}\n`;
const FERPLUS = [
  'Usage,Image name,neutral,happiness,surprise,sadness,anger,disgust,fear,contempt,unknown,NF',
  'Training,fer0000000.png,4,0,0,1,3,2,0,0,0,0',
  'PublicTest,fer0000001.png,6,0,1,1,0,0,0,0,2,0',
  'PrivateTest,fer0000002.png,5,0,0,3,1,0,0,0,1,0',
  'Training,,0,0,0,0,0,0,0,0,0,10',
  '',
].join('\n');
const RAF = 'train_00001.jpg 5\ntrain_00002.jpg 1\n\ntest_0001.jpg 7\n';
const enc = (s: string) => new TextEncoder().encode(s);

describe('fuzz: dataset readers', function () {
  this.timeout(0);
  let dir: string;
  let cleanup: () => void;
  before(() => ({ dir, cleanup } = tempDir('fuzz-datasets-')));
  after(() => cleanup());

  it(`FER2013 CSV: ${FUZZ_CASES} mutants`, async () => {
    const path = join(dir, 'fer2013.csv');
    const seeds = [enc(FER), enc(FER_KAGGLE)];
    await fuzzAndReport('fer2013', FUZZ_CASES, (r) => {
      const { bytes, ops } = mutate(choose(r, seeds), r, { text: true, donors: seeds });
      writeFileSync(path, bytes);
      return { file: path, ops, run: () => readFer2013(path), check: checkDataset };
    });
  });

  it(`FERPlus: ${FUZZ_CASES} mutants of either CSV`, async () => {
    const images = join(dir, 'fer2013.csv');
    const labels = join(dir, 'fer2013new.csv');
    await fuzzAndReport('ferplus', FUZZ_CASES, (r) => {
      const which = r() < 0.5;
      const { bytes, ops } = mutate(enc(which ? FER : FERPLUS), r, { text: true });
      writeFileSync(images, which ? bytes : FER);
      writeFileSync(labels, which ? FERPLUS : bytes);
      const vote = r() < 0.5 ? 'plurality' : 'majority';
      return {
        file: which ? images : labels,
        ops: [which ? 'images' : 'labels', vote, ...ops],
        run: () => readFerPlus(images, labels, { vote }),
        check: checkDataset,
      };
    });
  });

  it(`RAF-DB: ${FUZZ_CASES} mutants of the label list or an image`, async () => {
    const root = join(dir, 'raf');
    const aligned = join(root, 'Image/aligned');
    mkdirSync(join(root, 'EmoLabel'), { recursive: true });
    mkdirSync(aligned, { recursive: true });
    const list = join(root, 'EmoLabel/list_patition_label.txt');
    const images: [string, Uint8Array][] = [
      [join(aligned, 'train_00001_aligned.jpg'), greyJpeg({ dc: 33 })],
      [join(aligned, 'train_00002_aligned.jpg'), greyJpeg({ progressive: true })],
      [join(aligned, 'test_0001_aligned.jpg'), Uint8Array.from(encodePng(pattern(4, 4)))],
    ];
    for (const [p, b] of images) writeFileSync(p, b);
    let last = 3; // the file the previous case mutated, restored first
    await fuzzAndReport('raf-db', FUZZ_CASES, (r) => {
      if (last < 3) writeFileSync(...images[last]);
      const target = (last = pick(r, 4));
      const [file, seed] = target === 3 ? [list, enc(RAF)] : images[target];
      const { bytes, ops } = mutate(seed, r, { text: target === 3 });
      writeFileSync(list, target === 3 ? bytes : enc(RAF));
      if (target < 3) writeFileSync(file, bytes);
      return { file, ops, run: () => readRafDb(root), check: checkDataset };
    });
  });

  it(`folder tree: ${FUZZ_CASES} mutants of dataset.json or an image`, async () => {
    const root = join(dir, 'folder');
    const files: [string, Uint8Array][] = [
      ['train/happy/a.png', Uint8Array.from(encodePng(pattern(3, 2, 1)))],
      ['train/sad/b.jpg', greyJpeg()],
      ['val/happy/c.jpeg', greyJpeg({ dc: 40, progressive: true })],
      ['test/angry/d.PNG', Uint8Array.from(encodePng(pattern(2, 2, 2)))],
    ];
    const json = { classNames: ['angry', 'happy', 'sad', 'surprise'], generator: 'test' };
    const jsonPath = join(root, 'dataset.json');
    for (const [p, b] of files) {
      mkdirSync(join(root, p, '..'), { recursive: true });
      writeFileSync(join(root, p), b);
    }
    let last = files.length; // the file the previous case mutated, restored first
    await fuzzAndReport('folder', FUZZ_CASES, (r) => {
      if (last < files.length) writeFileSync(join(root, files[last][0]), files[last][1]);
      const target = (last = pick(r, files.length + 2));
      let file: string;
      let ops: string[];
      if (target >= files.length) {
        file = jsonPath;
        const m = target === files.length ? mutateJson(json, r) : undefined;
        const t = m ?? mutate(enc(JSON.stringify(json)), r, { text: true });
        writeFileSync(jsonPath, m ? m.text : (t as { bytes: Uint8Array }).bytes);
        ops = m ? [m.op] : (t as { ops: string[] }).ops;
      } else {
        writeFileSync(jsonPath, JSON.stringify(json));
        file = join(root, files[target][0]);
        const m = mutate(files[target][1], r);
        writeFileSync(file, m.bytes);
        ops = m.ops;
      }
      return { file, ops, run: () => readFolder(root), check: checkDataset };
    });
  });

  it(`image cache file: ${Math.ceil(FUZZ_CASES / 3)} mutants of a valid cache`, async () => {
    const root = join(dir, 'cached');
    for (const [p, b] of [['happy/a.png', encodePng(pattern(3, 2, 1))], ['sad/b.jpg', greyJpeg()]] as const) {
      mkdirSync(join(root, p, '..'), { recursive: true });
      writeFileSync(join(root, p), b);
    }
    const cacheFile = join(dir, 'images.rgbcache');
    await readFolder(root, { cacheFile });
    const seed = readFileSync(cacheFile);
    await fuzzAndReport<Dataset>('image cache', Math.ceil(FUZZ_CASES / 3), (r) => {
      const { bytes, ops } = mutate(seed, r, { fields: [8], text: true });
      writeFileSync(cacheFile, bytes);
      return {
        file: cacheFile,
        ops,
        run: () => readFolder(root, { cacheFile }),
        check: (ds) => {
          checkDataset(ds);
          const sizes = ds.splits.train!.map((x) => `${x.image.width}x${x.image.height}`);
          expectResult(sizes.join() === '3x2,8x8', `sizes ${sizes}`);
        },
      };
    });
  });
});

describe('fuzz: hostile text files', function () {
  this.timeout(0);
  let dir: string;
  let cleanup: () => void;
  before(() => ({ dir, cleanup } = tempDir('fuzz-text-')));
  after(() => cleanup());

  it('a 64 MiB CSV line without a newline stops at limits.maxLineBytes, with bounded memory', async () => {
    const path = join(dir, 'oneline.csv');
    writeFileSync(path, Buffer.alloc(64 << 20, 0x31));
    const before = process.memoryUsage();
    const t0 = performance.now();
    const err = await readFer2013(path).then(() => '', (e: Error) => e.message);
    expect(err).to.equal(`${path}:1: line longer than ${1 << 20} bytes (limits.maxLineBytes)`);
    expect(performance.now() - t0).to.be.below(1000);
    expect(process.memoryUsage().arrayBuffers - before.arrayBuffers).to.be.below(16 << 20);
  });

  it('a RAF-DB label list of 64 MiB without a newline likewise', async () => {
    const root = join(dir, 'raf');
    mkdirSync(join(root, 'aligned'), { recursive: true });
    writeFileSync(join(root, 'list_patition_label.txt'), Buffer.alloc(64 << 20, 0x20));
    const err = await readRafDb(root).then(() => '', (e: Error) => e.message);
    expect(err).to.match(/list_patition_label\.txt:1: line longer than/);
    rmSync(root, { recursive: true });
  });

  // Regression: the block allocator reserved 1024 images per block, so this 980 KB file (one
  // 700x700 face) made the dataset hold a 1.4 GiB buffer.
  it('FER2013: one large row reserves about one image, not a thousand', async () => {
    const path = join(dir, 'big-row.csv');
    writeFileSync(path, `emotion,pixels\n0,${new Array(700 * 700).fill('0').join(' ')}\n`);
    const ds = await readFer2013(path);
    const data = ds.splits.train![0].image.data;
    expect(data.length).to.equal(700 * 700 * 3);
    expect(data.buffer.byteLength).to.be.at.most(16 << 20);
  });

  // Regression: the error named the folder, not the dataset.json that lacked the class.
  it('a class folder missing from dataset.json: the error names dataset.json', async () => {
    const root = join(dir, 'missing-class');
    mkdirSync(join(root, 'x'), { recursive: true });
    writeFileSync(join(root, 'x', '1.png'), encodePng(pattern(2, 2)));
    writeFileSync(join(root, 'dataset.json'), '{"classNames": ["y"]}');
    const err = await readFolder(root).then(() => '', (e: Error) => e.message);
    expect(err).to.equal(`${join(root, 'dataset.json')}: class folders x are not in dataset.json classNames (y)`);
  });

  it('a 2 GB dataset.json is refused by its size', async () => {
    const root = join(dir, 'folder');
    cpSync(dir, root, { recursive: true, filter: () => false });
    mkdirSync(join(root, 'happy'), { recursive: true });
    writeFileSync(join(root, 'happy', 'a.png'), encodePng(pattern(2, 2)));
    const { truncateSync } = await import('node:fs');
    writeFileSync(join(root, 'dataset.json'), '{}');
    truncateSync(join(root, 'dataset.json'), 2 ** 31);
    const err = await readFolder(root).then(() => '', (e: Error) => e.message);
    expect(err).to.equal(`${join(root, 'dataset.json')}: larger than ${1 << 20} bytes`);
  });
});
