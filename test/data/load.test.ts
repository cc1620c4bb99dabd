import { expect } from 'chai';
import h5wasm from 'h5wasm/node';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describeDataset } from '../../src/data/dataset.js';
import { encodePng } from '../../src/data/image.js';
import { detectDatasetKind, loadDataset, parseDatasetKind } from '../../src/data/load.js';
import { greyJpeg, pattern, tempDir } from './fixtures.js';

function put(path: string, bytes: Uint8Array | string): string {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, bytes);
  return path;
}

const px = (v: number) => Array.from({ length: 4 }, () => v).join(' ');

describe('loadDataset', () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => ({ dir, cleanup } = tempDir()));
  afterEach(() => cleanup());

  it('detects every kind from the path', async () => {
    put(join(dir, 'tree/a/1.png'), encodePng(pattern(2, 2)));
    put(join(dir, 'raf/EmoLabel/list_patition_label.txt'), 'train_1.jpg 1\n');
    const fer = put(join(dir, 'fer/fer2013.csv'), `emotion,pixels,Usage\n0,${px(1)},Training\n`);
    put(join(dir, 'ferplus/fer2013.csv'), `emotion,pixels,Usage\n0,${px(1)},Training\n`);
    const plus = put(join(dir, 'ferplus/fer2013new.csv'), 'Usage,Image name,neutral,happiness,surprise,sadness,anger,disgust,fear,contempt,unknown,NF\n');
    await h5wasm.ready;
    const f = new h5wasm.File(join(dir, 'data.hdf'), 'w');
    f.create_dataset({ name: 'X_train', data: new Uint8Array(3), shape: [1, 1, 1, 3] });
    f.close();
    expect(await detectDatasetKind(join(dir, 'tree'))).to.equal('folder');
    expect(await detectDatasetKind(join(dir, 'raf'))).to.equal('rafdb');
    expect(await detectDatasetKind(join(dir, 'fer'))).to.equal('fer2013');
    expect(await detectDatasetKind(fer)).to.equal('fer2013');
    expect(await detectDatasetKind(join(dir, 'ferplus'))).to.equal('ferplus');
    expect(await detectDatasetKind(plus)).to.equal('ferplus');
    expect(await detectDatasetKind(join(dir, 'data.hdf'))).to.equal('hdf5');
    const odd = put(join(dir, 'x.bin'), 'nothing');
    const err = await detectDatasetKind(odd).then(() => '', (e: Error) => e.message);
    expect(err).to.match(/x\.bin: cannot tell the dataset kind; pass --dataset-kind/);
  });

  it('--dataset-kind values are validated', () => {
    expect(parseDatasetKind('HDF5')).to.equal('hdf5');
    expect(parseDatasetKind('raf-db')).to.equal('rafdb');
    expect(parseDatasetKind('FER_Plus')).to.equal('ferplus');
    expect(() => parseDatasetKind('imagenet')).to.throw(/"imagenet" is not one of folder, fer2013, ferplus, rafdb, hdf5/);
  });

  it('carves a stratified val split from train when there is none, and reorders classes', async () => {
    for (let i = 0; i < 10; i++) {
      put(join(dir, `tree/train/b/${i}.png`), encodePng(pattern(2, 2, i)));
      put(join(dir, `tree/train/a/${i}.jpg`), greyJpeg({ dc: 32 + i }));
    }
    put(join(dir, 'tree/dataset.json'), JSON.stringify({ classNames: ['b', 'a'] }));
    const ds = await loadDataset({ path: join(dir, 'tree'), classOrder: 'alphabetical', valFraction: 0.2, seed: 5 });
    expect(ds.kind).to.equal('folder');
    expect(ds.classNames).to.deep.equal(['a', 'b']);
    expect(ds.splits.val!.map((s) => s.label).sort()).to.deep.equal([0, 0, 1, 1]);
    expect(ds.splits.train!.length).to.equal(16);
    expect(describeDataset(ds)).to.match(/train: 16 images .*\[8 8\]\n {2}val: 4 images/);
    const noVal = await loadDataset({ path: join(dir, 'tree'), valFraction: 0 });
    expect(noVal.splits.val).to.equal(undefined);
  });

  it('FERPlus from the labels file finds fer2013.csv beside it; the kind override wins', async () => {
    put(join(dir, 'fer2013.csv'), `emotion,pixels,Usage\n0,${px(1)},Training\n1,${px(2)},PublicTest\n`);
    const labels = put(join(dir, 'fer2013new.csv'), [
      'Usage,Image name,neutral,happiness,surprise,sadness,anger,disgust,fear,contempt,unknown,NF',
      'Training,a,0,9,1,0,0,0,0,0,0,0',
      'PublicTest,b,0,0,0,8,0,0,0,0,0,0',
    ].join('\n'));
    const ds = await loadDataset({ path: labels });
    expect(ds.kind).to.equal('ferplus');
    expect(ds.splits.train!.map((s) => ds.classNames[s.label])).to.deep.equal(['happiness']);
    expect(ds.splits.val!.map((s) => ds.classNames[s.label])).to.deep.equal(['sadness']);
    const asFer = await loadDataset({ path: join(dir, 'fer2013.csv'), kind: 'fer2013' });
    expect(asFer.classNames.length).to.equal(7);
  });
});
