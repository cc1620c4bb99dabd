import { expect } from 'chai';
import h5wasm from 'h5wasm/node';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readHdf5 } from '../../src/data/hdf5.js';
import { tempDir } from './fixtures.js';

type Data = Record<string, { data: Uint8Array | Float32Array | Int32Array | BigInt64Array | Float64Array; shape: number[] }>;

describe('readHdf5', () => {
  let dir: string;
  let cleanup: () => void;
  before(async () => {
    await h5wasm.ready;
  });
  beforeEach(() => ({ dir, cleanup } = tempDir()));
  afterEach(() => cleanup());

  function h5(name: string, datasets: Data): string {
    const path = join(dir, name);
    const f = new h5wasm.File(path, 'w');
    for (const [key, { data, shape }] of Object.entries(datasets)) f.create_dataset({ name: key, data, shape });
    f.close();
    return path;
  }
  const images = (n: number, h: number, w: number, c: number, base = 0) =>
    ({ data: Uint8Array.from({ length: n * h * w * c }, (_, i) => (i + base) & 255), shape: [n, h, w, c] });

  it('integer, one-hot (float) and int64 labels; RGB and grey images; X_valid alias', async () => {
    const path = h5('data.h5', {
      X_train: images(3, 2, 2, 3),
      y_train: { data: Int32Array.from([0, 6, 3]), shape: [3] },
      X_valid: images(2, 2, 2, 3, 100),
      y_valid: { data: Float32Array.from([0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]), shape: [2, 7] },
      X_test: images(2, 2, 3, 1, 50),
      y_test: { data: BigInt64Array.from([1n, 2n]), shape: [2, 1] },
    });
    const ds = await readHdf5(path);
    expect(ds.classNames).to.deep.equal(['anger', 'disgust', 'fear', 'happiness', 'neutral', 'sadness', 'surprise']);
    expect(ds.notes[0]).to.match(/no class names in the file; assumed anger, disgust/);
    expect(ds.splits.train!.map((s) => s.label)).to.deep.equal([0, 6, 3]);
    expect(ds.splits.val!.map((s) => s.label)).to.deep.equal([2, 6]);
    expect(ds.splits.test!.map((s) => s.label)).to.deep.equal([1, 2]);
    const tr = ds.splits.train![1].image;
    expect([tr.width, tr.height]).to.deep.equal([2, 2]);
    expect(Array.from(tr.data)).to.deep.equal(Array.from({ length: 12 }, (_, i) => 12 + i));
    const te = ds.splits.test![1].image;
    expect([te.width, te.height]).to.deep.equal([3, 2]);
    expect(Array.from(te.data.subarray(0, 6))).to.deep.equal([56, 56, 56, 57, 57, 57]);
    expect(ds.splits.test![1].source).to.match(/data\.h5:X_test\[1\]$/);
  });

  it('class names from the caller; unknown counts get generic names', async () => {
    const path = h5('names.h5', { X_train: images(2, 1, 1, 3), y_train: { data: Int32Array.from([0, 2]), shape: [2] } });
    expect((await readHdf5(path, { classNames: ['a', 'b', 'c'] })).classNames).to.deep.equal(['a', 'b', 'c']);
    expect((await readHdf5(path)).classNames).to.deep.equal(['class_0', 'class_1', 'class_2']);
    const err = await readHdf5(path, { classNames: ['a', 'b'] }).then(() => '', (e: Error) => e.message);
    expect(err).to.match(/labels need 3 classes but 2 class names were given/);
  });

  const bad: [string, () => Data, RegExp][] = [
    ['float images', () => ({ X_train: { data: new Float32Array(4 * 3), shape: [1, 2, 2, 3] }, y_train: { data: Int32Array.from([0]), shape: [1] } }), /X_train has dtype float32; expected uint8 images/],
    ['label count', () => ({ X_train: images(2, 1, 1, 3), y_train: { data: Int32Array.from([0]), shape: [1] } }), /y_train: 1 labels for 2 images/],
    ['not one-hot', () => ({ X_train: images(2, 1, 1, 3), y_train: { data: Float32Array.from([1, 0, 0.5, 0.5]), shape: [2, 2] } }), /y_train: row 1 is not one-hot \(\[0\.5, 0\.5\]\)/],
    ['negative label', () => ({ X_train: images(2, 1, 1, 3), y_train: { data: Int32Array.from([0, -1]), shape: [2] } }), /y_train: label 1 is -1, not a class index/],
    ['X without y', () => ({ X_train: images(1, 1, 1, 3), X_test: images(1, 1, 1, 3), y_test: { data: Int32Array.from([0]), shape: [1] } }), /has X_train but not y_train/],
    ['4 channels', () => ({ X_train: images(1, 1, 1, 4), y_train: { data: Int32Array.from([0]), shape: [1] } }), /X_train has 4 channels/],
    ['no datasets', () => ({ images: images(1, 1, 1, 3) }), /no X_train\/y_train, X_val\/y_val or X_test\/y_test datasets \(found: images\)/],
  ];
  for (const [name, data, re] of bad) {
    it(`rejects: ${name}`, async () => {
      const err = await readHdf5(h5('bad.h5', data())).then(() => '', (e: Error) => e.message);
      expect(err).to.match(re);
    });
  }

  it('guards sizes from the shapes before reading pixels', async () => {
    const path = h5('big.h5', { X_train: images(4, 8, 8, 3), y_train: { data: Int32Array.from([0, 1, 0, 1]), shape: [4] } });
    const total = await readHdf5(path, { limits: { maxTotalBytes: 500 } }).then(() => '', (e: Error) => e.message);
    expect(total).to.match(/big\.h5: X_train: the decoded images need more than/);
    const dims = await readHdf5(path, { limits: { maxWidth: 4 } }).then(() => '', (e: Error) => e.message);
    expect(dims).to.match(/X_train images are 8x8, over the image limit/);
    const count = await readHdf5(path, { limits: { maxSamples: 3 } }).then(() => '', (e: Error) => e.message);
    expect(count).to.match(/more than 3 samples/);
  });

  it('rejects a file that is not HDF5', async () => {
    const path = join(dir, 'fake.h5');
    writeFileSync(path, 'not hdf5 at all, just text');
    const err = await readHdf5(path).then(() => '', (e: Error) => e.message);
    expect(err).to.match(/fake\.h5: not an HDF5 file/);
  });
});
