import { expect } from 'chai';
import jpeg from 'jpeg-js';
import { mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { dataLimits } from '../../src/data/dataset.js';
import { readFolder } from '../../src/data/folder.js';
import { ImageCache } from '../../src/data/image-cache.js';
import { encodePng, type RgbImage } from '../../src/data/image.js';
import { pattern, tempDir } from './fixtures.js';

function put(path: string, bytes: Uint8Array | string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, bytes);
}

function jpegOf(im: RgbImage): Buffer {
  const rgba = Buffer.alloc(im.width * im.height * 4, 255);
  for (let i = 0; i < im.width * im.height; i++) im.data.subarray(i * 3, i * 3 + 3).forEach((v, k) => (rgba[i * 4 + k] = v));
  return jpeg.encode({ width: im.width, height: im.height, data: rgba }, 90).data;
}

describe('readFolder', () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => ({ dir, cleanup } = tempDir()));
  afterEach(() => cleanup());

  it('split/class/image tree: case-insensitive split names, sorted classes, PNG and JPEG', async () => {
    put(join(dir, 'Train/sad/b.png'), encodePng(pattern(4, 3, 1)));
    put(join(dir, 'Train/sad/a.PNG'), encodePng(pattern(2, 2, 2)));
    put(join(dir, 'Train/angry/x.jpg'), jpegOf(pattern(8, 8, 3)));
    put(join(dir, 'Train/angry/notes.txt'), 'ignored');
    put(join(dir, 'Validation/happy/c.jpeg'), encodePng(pattern(3, 3, 4))); // a PNG named .jpeg
    put(join(dir, 'test/sad/d.png'), encodePng(pattern(5, 5, 5)));
    put(join(dir, 'extras/whatever.png'), encodePng(pattern(1, 1)));
    const ds = await readFolder(dir);
    expect(ds.classNames).to.deep.equal(['angry', 'happy', 'sad']);
    expect(ds.splits.train!.map((s) => [s.label, s.image.width, s.image.height])).to.deep.equal([[0, 8, 8], [2, 2, 2], [2, 4, 3]]);
    expect(ds.splits.val!.map((s) => s.label)).to.deep.equal([1]);
    expect(ds.splits.test!.map((s) => s.label)).to.deep.equal([2]);
    expect(Buffer.from(ds.splits.test![0].image.data).equals(Buffer.from(pattern(5, 5, 5).data))).to.equal(true);
    expect(ds.notes.join('\n')).to.match(/ignored folders that are not splits: extras/);
  });

  it('plain class/image tree is all train; dataset.json fixes the class order', async () => {
    put(join(dir, 'zeta/a.png'), encodePng(pattern(2, 2)));
    put(join(dir, 'alpha/b.png'), encodePng(pattern(2, 2)));
    put(join(dir, 'dataset.json'), JSON.stringify({ classNames: ['zeta', 'mid', 'alpha'], other: 1 }));
    const ds = await readFolder(dir);
    expect(Object.keys(ds.splits)).to.deep.equal(['train']);
    expect(ds.classNames).to.deep.equal(['zeta', 'mid', 'alpha']);
    expect(ds.splits.train!.map((s) => s.label)).to.deep.equal([2, 0]);
    // The synthetic-faces generator's summary names the list `classes`.
    put(join(dir, 'dataset.json'), JSON.stringify({ generator: 'synthetic-faces', classes: ['alpha', 'zeta'], total: 2 }));
    expect((await readFolder(dir)).classNames).to.deep.equal(['alpha', 'zeta']);
  });

  it('rejects: class folder not in dataset.json, two val folders, no images, bad image', async () => {
    const fail = (p: Promise<unknown>) => p.then(() => '', (e: Error) => e.message);
    put(join(dir, 'a/x/1.png'), encodePng(pattern(2, 2)));
    put(join(dir, 'a/dataset.json'), JSON.stringify({ classNames: ['y'] }));
    expect(await fail(readFolder(join(dir, 'a')))).to.match(/class folders x are not in dataset\.json classNames \(y\)/);
    put(join(dir, 'b/val/x/1.png'), encodePng(pattern(2, 2)));
    put(join(dir, 'b/valid/x/1.png'), encodePng(pattern(2, 2)));
    expect(await fail(readFolder(join(dir, 'b')))).to.match(/both "val" and "valid" name the val split/);
    put(join(dir, 'c/train/x/readme.md'), 'no images');
    expect(await fail(readFolder(join(dir, 'c')))).to.match(/c: no \.png\/\.jpg\/\.jpeg images/);
    put(join(dir, 'd/x/broken.jpg'), 'not really');
    expect(await fail(readFolder(join(dir, 'd')))).to.match(/broken\.jpg: not a PNG or JPEG \(starts with 6e 6f 74/);
    put(join(dir, 'e/dataset.json'), '{"classNames": [1]}');
    put(join(dir, 'e/x/1.png'), encodePng(pattern(2, 2)));
    expect(await fail(readFolder(join(dir, 'e')))).to.match(/dataset\.json: "classNames" must be a non-empty array/);
  });

  it('rejects a dataset whose decoded size passes maxTotalBytes, before decoding it', async () => {
    put(join(dir, 'x/1.png'), encodePng(pattern(20, 20)));
    put(join(dir, 'x/2.png'), encodePng(pattern(20, 20)));
    const cache = new ImageCache();
    const err = await readFolder(dir, { cache, limits: { maxTotalBytes: 2000 } }).catch((e: Error) => e.message);
    expect(err).to.match(/2\.png: the decoded images need more than .* GiB/);
    expect(cache.stats.decodes).to.equal(1);
  });
});

describe('ImageCache', () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => ({ dir, cleanup } = tempDir()));
  afterEach(() => cleanup());
  const limits = dataLimits();

  function files(n: number): string[] {
    return Array.from({ length: n }, (_, i) => {
      const p = join(dir, `img${i}.png`);
      put(p, i % 2 ? encodePng(pattern(3 + i, 2, i)) : jpegOf(pattern(8, 8, i)));
      return p;
    });
  }

  it('in memory: a second load decodes nothing and returns the same data', () => {
    const paths = files(4);
    const cache = new ImageCache();
    const first = cache.loadAll(paths, limits);
    expect(cache.stats.decodes).to.equal(4);
    const second = cache.loadAll(paths, limits);
    expect(cache.stats).to.deep.equal({ decodes: 4, memoryHits: 4, fileHits: 0 });
    second.forEach((im, i) => expect(im).to.equal(first[i]));
  });

  it('on disk: a new process (fresh cache) reads the cache file without decoding', () => {
    const paths = files(5);
    const cacheFile = join(dir, 'images.rgbcache');
    const a = new ImageCache();
    const first = a.loadAll(paths, limits, cacheFile);
    expect(a.stats.decodes).to.equal(5);
    const b = new ImageCache();
    const again = b.loadAll(paths, limits, cacheFile);
    expect(b.stats).to.deep.equal({ decodes: 0, memoryHits: 0, fileHits: 5 });
    again.forEach((im, i) => {
      expect([im.width, im.height]).to.deep.equal([first[i].width, first[i].height]);
      expect(Buffer.from(im.data).equals(Buffer.from(first[i].data))).to.equal(true);
    });
  });

  it('a touched source file or a different file list makes the cache file stale', () => {
    const paths = files(3);
    const cacheFile = join(dir, 'images.rgbcache');
    new ImageCache().loadAll(paths, limits, cacheFile);
    utimesSync(paths[1], new Date(2001, 1, 1), new Date(2001, 1, 1));
    const b = new ImageCache();
    b.loadAll(paths, limits, cacheFile);
    expect(b.stats.decodes).to.equal(3);
    const c = new ImageCache();
    c.loadAll(paths.slice(0, 2), limits, cacheFile);
    expect(c.stats.decodes).to.equal(2);
    const d = new ImageCache();
    d.loadAll(paths.slice(0, 2), limits, cacheFile); // rewritten for the new list
    expect(d.stats).to.deep.equal({ decodes: 0, memoryHits: 0, fileHits: 2 });
  });

  it('a damaged cache file is ignored and rebuilt', () => {
    const paths = files(2);
    const cacheFile = join(dir, 'images.rgbcache');
    writeFileSync(cacheFile, 'PATTRGB1\xff\xff\xff\x7f garbage');
    const a = new ImageCache();
    a.loadAll(paths, limits, cacheFile);
    expect(a.stats.decodes).to.equal(2);
    const b = new ImageCache();
    b.loadAll(paths, limits, cacheFile);
    expect(b.stats.fileHits).to.equal(2);
  });

  it('readFolder shares a cache across loads: the second load decodes nothing', async () => {
    put(join(dir, 'tree/train/a/1.png'), encodePng(pattern(2, 2)));
    put(join(dir, 'tree/train/b/2.png'), encodePng(pattern(3, 2)));
    const cache = new ImageCache();
    const one = await readFolder(join(dir, 'tree'), { cache });
    const two = await readFolder(join(dir, 'tree'), { cache });
    expect(cache.stats.decodes).to.equal(2);
    expect(two.splits.train![1].image).to.equal(one.splits.train![1].image);
  });
});
