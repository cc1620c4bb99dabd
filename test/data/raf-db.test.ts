import { expect } from 'chai';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { reorderClasses } from '../../src/data/dataset.js';
import { encodePng } from '../../src/data/image.js';
import { RAFDB_CLASSES, readRafDb } from '../../src/data/raf-db.js';
import { greyJpeg, pattern, tempDir } from './fixtures.js';

describe('readRafDb', () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => ({ dir, cleanup } = tempDir()));
  afterEach(() => cleanup());

  function tree(lines: string[], images = ['train_00001', 'train_00002', 'test_0001']): string {
    const root = join(dir, 'basic');
    mkdirSync(join(root, 'EmoLabel'), { recursive: true });
    mkdirSync(join(root, 'Image/aligned'), { recursive: true });
    writeFileSync(join(root, 'EmoLabel/list_patition_label.txt'), lines.join('\n'));
    images.forEach((name, i) => {
      // JPEG bytes for two, a PNG under a .jpg name for the third (format by magic bytes).
      writeFileSync(join(root, `Image/aligned/${name}_aligned.jpg`), i < 2 ? greyJpeg({ dc: 32 + i }) : encodePng(pattern(4, 4)));
    });
    return root;
  }

  it('labels 1..7 become surprise..neutral, split by name prefix, aligned image names', async () => {
    const root = tree(['train_00001.jpg 5', 'train_00002.jpg 1', '', 'test_0001.jpg 7', '']);
    const ds = await readRafDb(root);
    expect(ds.classNames).to.deep.equal(['surprise', 'fear', 'disgust', 'happiness', 'sadness', 'anger', 'neutral']);
    expect(ds.splits.train!.map((s) => ds.classNames[s.label])).to.deep.equal(['sadness', 'surprise']);
    expect(ds.splits.test!.map((s) => ds.classNames[s.label])).to.deep.equal(['neutral']);
    expect(ds.splits.val).to.equal(undefined);
    expect(ds.splits.train![0].source).to.match(/Image\/aligned\/train_00001_aligned\.jpg$/);
    expect(ds.splits.train![1].image.data[0]).to.equal(161);
    // Also reachable from the label file itself.
    const again = await readRafDb(join(root, 'EmoLabel/list_patition_label.txt'));
    expect(again.splits.train!.length).to.equal(2);
  });

  it('alphabetical reordering gives the DESIGN.md training order', async () => {
    const ds = reorderClasses(await readRafDb(tree(['train_00001.jpg 5', 'train_00002.jpg 1', 'test_0001.jpg 7'])), 'alphabetical');
    expect(ds.classNames).to.deep.equal(['anger', 'disgust', 'fear', 'happiness', 'neutral', 'sadness', 'surprise']);
    expect(ds.splits.train!.map((s) => ds.classNames[s.label])).to.deep.equal(['sadness', 'surprise']);
    expect(RAFDB_CLASSES[0]).to.equal('surprise');
  });

  const bad: [string, string[], RegExp][] = [
    ['label out of range', ['train_00001.jpg 8'], /list_patition_label\.txt:1: label 8 is out of range 1\.\.7/],
    ['label zero', ['train_00001.jpg 0'], /:1: label 0 is out of range/],
    ['bad prefix', ['train_00001.jpg 1', 'val_0001.jpg 2'], /:2: image name "val_0001\.jpg" starts with neither train_ nor test_/],
    ['three tokens', ['train_00001.jpg 1 2'], /:1: expected "<image name> <label>"/],
    ['missing image', ['train_00009.jpg 1'], /:1: image .*train_00009_aligned\.jpg does not exist/],
    ['duplicate', ['train_00001.jpg 1', 'train_00001.jpg 2'], /:2: image "train_00001\.jpg" is listed twice/],
    ['empty list', [''], /no images listed/],
  ];
  for (const [name, lines, re] of bad) {
    it(`rejects: ${name}`, async () => {
      const err = await readRafDb(tree(lines)).then(() => '', (e: Error) => e.message);
      expect(err).to.match(re);
    });
  }

  it('rejects a folder without a label list', async () => {
    const err = await readRafDb(dir).then(() => '', (e: Error) => e.message);
    expect(err).to.match(/no EmoLabel\/list_patition_label\.txt or list_patition_label\.txt/);
  });
});
