// Fuzz: the readers on top of h5wasm (the HDF5 C library in WebAssembly): the authors' HDF5
// datasets (src/data/hdf5.ts), Keras legacy / Keras 3 weight files (src/io/keras-h5.ts,
// keras3-weights.ts) and `.keras` zip archives (src/io/zip.ts).
//
// Seeds are written both as h5py writes them by default (libver 'earliest': superblock v0, no
// metadata checksums, so mutants get deep into the library) and with h5wasm's default (v2
// superblock, checksummed metadata). HDF5 prints an HDF5-DIAG trace for every failure; those
// lines are counted and kept out of the test log. The library runs in this process, so a mutant
// that aborted the WebAssembly module would leave every later read failing with some error and
// the fuzz loop passing; a health check reads a valid seed every 100 cases and at the end.

import { expect } from 'chai';
import h5wasm from 'h5wasm/node';
import fs, { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readHdf5 } from '../../src/data/hdf5.js';
import { readKerasWeights, type KerasImport } from '../../src/io/keras-h5.js';
import { tempDir } from '../data/fixtures.js';
import { makeZip, strAttr, writeLegacyLayers, type LegacyLayer } from '../helpers/keras-fixtures.js';
import { uniform } from '../helpers/random.js';
import { checkDataset, expectResult, FUZZ_CASES, fuzzAndReport, type FuzzCase } from './harness.js';
import { choose, mutate, type Rng } from './mutate.js';

type H5Group = InstanceType<typeof h5wasm.Group>;
const LIBVERS = [['earliest', 'v108'], undefined] as const;

function newFile(path: string, libver: (typeof LIBVERS)[number]): InstanceType<typeof h5wasm.File> {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  return new h5wasm.File(path, 'w', libver ? { libver: libver as any } : undefined);
}

function writeDatasetFile(path: string, libver: (typeof LIBVERS)[number]): void {
  const f = newFile(path, libver);
  f.create_dataset({ name: 'X_train', data: Uint8Array.from({ length: 3 * 2 * 2 * 3 }, (_, i) => i * 7), shape: [3, 2, 2, 3] });
  f.create_dataset({ name: 'y_train', data: Int32Array.from([0, 1, 2]), shape: [3] });
  f.create_dataset({ name: 'X_valid', data: Uint8Array.from({ length: 2 * 2 * 3 }, (_, i) => i), shape: [2, 2, 3], chunks: [1, 2, 3], compression: 'gzip' } as Parameters<typeof f.create_dataset>[0]);
  f.create_dataset({ name: 'y_valid', data: Float32Array.from([1, 0, 0, 0, 0, 1]), shape: [2, 3] });
  f.close();
}

const LAYERS: LegacyLayer[] = [
  { name: 'input_1', weights: [] },
  { name: 'conv1', weights: [{ name: 'conv1/kernel:0', shape: [3, 3, 3, 4], data: uniform(1, 108) }] },
  { name: 'conv1_bn', weights: [
    { name: 'conv1_bn/gamma:0', shape: [4], data: uniform(2, 4) },
    { name: 'conv1_bn/moving_mean:0', shape: [4], data: Float64Array.from(uniform(3, 4)) },
  ] },
];

function writeLegacyWeights(path: string, libver: (typeof LIBVERS)[number]): void {
  const f = newFile(path, libver);
  writeLegacyLayers(f, LAYERS);
  f.close();
}

function writeLegacyModel(path: string, libver: (typeof LIBVERS)[number]): void {
  const f = newFile(path, libver);
  const config = { class_name: 'Functional', config: { name: 'm', layers: [
    { class_name: 'InputLayer', config: { name: 'input_1', batch_input_shape: [null, 8, 8, 3] } },
    { class_name: 'Conv2D', config: { name: 'conv1', filters: 4 } },
    { class_name: 'Dense', config: { name: 'head', units: 7, activation: 'softmax' } },
  ] } };
  const text = JSON.stringify(config);
  f.create_attribute('model_config', text, [], `A${text.length}`);
  strAttr(f, 'keras_version', ['2.10.0']);
  writeLegacyLayers(f.create_group('model_weights') as H5Group, LAYERS);
  f.close();
}

function writeKeras3(path: string, libver: (typeof LIBVERS)[number]): void {
  const f = newFile(path, libver);
  for (const p of ['vars', 'layers', 'layers/conv2d', 'layers/conv2d/vars', 'layers/functional', 'layers/functional/layers',
    'layers/functional/layers/dense', 'layers/functional/layers/dense/vars']) f.create_group(p);
  (f.get('layers/conv2d/vars') as H5Group).create_dataset({ name: '0', data: uniform(4, 2 * 2 * 3 * 2), shape: [2, 2, 3, 2] });
  (f.get('layers/functional/layers/dense/vars') as H5Group).create_dataset({ name: '0', data: uniform(5, 6), shape: [3, 2] });
  (f.get('layers/functional/layers/dense/vars') as H5Group).create_dataset({ name: '1', data: uniform(6, 2), shape: [2] });
  f.close();
}

function checkWeights(r: KerasImport): void {
  for (const [k, w] of r.weights) {
    expectResult(w.shape.every((d) => Number.isSafeInteger(d) && d >= 0), `${k}: shape ${w.shape}`);
    if (w.data) expectResult(w.data.length === w.shape.reduce((a, b) => a * b, 1), `${k}: ${w.data.length} values for [${w.shape}]`);
  }
}

/**
 * Keeps HDF5-DIAG traces out of the log while `fn` runs; returns how many lines were dropped.
 * The library writes them to fd 2 with fs.writeSync, in pieces (emscripten's NODERAWFS), not
 * through process.stderr, so every fs.writeSync to fd 2 in that time is dropped.
 */
async function quietHdf5<T>(fn: () => Promise<T>): Promise<{ value: T; dropped: number }> {
  const writeSync = fs.writeSync;
  let dropped = 0;
  fs.writeSync = ((fd: number, buffer: string | Uint8Array, ...rest: unknown[]) => {
    if (fd !== 2) return (writeSync as (...a: unknown[]) => number)(fd, buffer, ...rest);
    const [offset = 0, length] = typeof buffer === 'string' ? [] : (rest as [number?, number?]);
    const bytes = typeof buffer === 'string' ? Buffer.from(buffer) : buffer.subarray(offset, offset + (length ?? buffer.length - offset));
    for (const b of bytes) if (b === 10) dropped++;
    return bytes.length;
  }) as typeof fs.writeSync;
  // And emscripten's "warning: Invalid UTF-8 ..." when a mutated name is decoded.
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    if (String(args[0]).startsWith('warning: Invalid UTF-8')) dropped++;
    else warn(...args);
  };
  try {
    return { value: await fn(), dropped };
  } finally {
    fs.writeSync = writeSync;
    console.warn = warn;
  }
}

describe('fuzz: HDF5 readers (h5wasm)', function () {
  this.timeout(0);
  let dir: string;
  let cleanup: () => void;
  const seeds: Record<string, Uint8Array[]> = { dataset: [], keras: [], archive: [] };
  before(async () => {
    await h5wasm.ready;
    ({ dir, cleanup } = tempDir('fuzz-hdf5-'));
    for (const libver of LIBVERS) {
      const tag = libver ? 'v0' : 'v2';
      writeDatasetFile(join(dir, `ds-${tag}.h5`), libver);
      seeds.dataset.push(readFileSync(join(dir, `ds-${tag}.h5`)));
      for (const [name, write] of [['lw', writeLegacyWeights], ['lm', writeLegacyModel], ['k3', writeKeras3]] as const) {
        write(join(dir, `${name}-${tag}.h5`), libver);
        seeds.keras.push(readFileSync(join(dir, `${name}-${tag}.h5`)));
      }
    }
    const config = Buffer.from(JSON.stringify({ class_name: 'Functional', config: { name: 'x', layers: [] } }));
    seeds.archive.push(makeZip([
      { name: 'metadata.json', data: Buffer.from('{"keras_version": "3.4.1"}') },
      { name: 'config.json', data: config, deflate: true },
      { name: 'model.weights.h5', data: seeds.keras[2], deflate: true },
    ]));
    seeds.archive.push(makeZip([{ name: 'model.weights.h5', data: seeds.keras[5] }]));
  });
  after(() => cleanup());

  /** Runs the fuzz loop with DIAG lines muted and a health check on a valid seed. */
  async function run<T>(label: string, count: number, healthy: () => Promise<unknown>, make: (r: Rng, i: number) => FuzzCase<T>): Promise<void> {
    const { dropped } = await quietHdf5(() =>
      fuzzAndReport(label, count, async (r, i) => {
        if (i % 100 === 0) await healthy().catch((e: Error) => { throw new Error(`health check before case ${i}: ${e.message}`); });
        return make(r, i);
      }),
    );
    await healthy();
    console.log(`        (${dropped} HDF5-DIAG and UTF-8 warning lines muted)`);
  }

  it(`readHdf5: ${FUZZ_CASES} mutants of dataset files`, async () => {
    const path = join(dir, 'fuzz-ds.h5');
    await run('hdf5 dataset', FUZZ_CASES, () => readHdf5(join(dir, 'ds-v0.h5')), (r) => {
      const { bytes, ops } = mutate(choose(r, seeds.dataset), r, { donors: seeds.dataset });
      writeFileSync(path, bytes);
      return { file: path, ops, run: () => readHdf5(path), check: checkDataset };
    });
  });

  it(`readKerasWeights: ${FUZZ_CASES} mutants of legacy and Keras 3 weight files`, async () => {
    const path = join(dir, 'fuzz-weights.h5');
    await run('keras h5', FUZZ_CASES, () => readKerasWeights(join(dir, 'lw-v0.h5')), (r) => {
      const { bytes, ops } = mutate(choose(r, seeds.keras), r, { donors: seeds.keras });
      writeFileSync(path, bytes);
      return { file: path, ops, run: () => readKerasWeights(path, { maxElements: 1 << 16 }), check: checkWeights };
    });
  });

  it(`.keras archives: ${Math.ceil(FUZZ_CASES / 2)} mutants (zip bytes, or the inner HDF5 file)`, async () => {
    const path = join(dir, 'fuzz.keras');
    await run('keras archive', Math.ceil(FUZZ_CASES / 2), () => readKerasWeights(join(dir, 'k3-v0.h5')), (r) => {
      let bytes: Uint8Array;
      let ops: string[];
      if (r() < 0.5) {
        ({ bytes, ops } = mutate(choose(r, seeds.archive), r, { donors: seeds.archive }));
      } else {
        const inner = mutate(choose(r, [seeds.keras[2], seeds.keras[5]]), r);
        bytes = makeZip([{ name: 'model.weights.h5', data: inner.bytes, deflate: r() < 0.5 }]);
        ops = ['inner', ...inner.ops];
      }
      writeFileSync(path, bytes);
      return { file: path, ops, run: () => readKerasWeights(path, { maxElements: 1 << 16 }), check: checkWeights };
    });
  });
});

describe('fuzz: hostile HDF5 headers', function () {
  this.timeout(0);
  let dir: string;
  let cleanup: () => void;
  before(async () => {
    await h5wasm.ready;
    ({ dir, cleanup } = tempDir('fuzz-hdf5-hostile-'));
  });
  after(() => cleanup());

  // Regression: chunks that were never written read back as zeros, so this 37 KB file made
  // readHdf5 return 20000 blank 100x100 images (600 MB; rss past 1.3 GB).
  it('a dataset claiming (20000, 100, 100, 3) in a 37 KB file is refused before reading', async () => {
    const path = join(dir, 'claim.h5');
    const f = new h5wasm.File(path, 'w');
    const X = f.create_dataset({ name: 'X_train', data: new Uint8Array(3), shape: [1, 1, 1, 3], maxshape: [null, 100, 100, 3], chunks: [1, 100, 100, 3] });
    X.resize([20000, 100, 100, 3]);
    const y = f.create_dataset({ name: 'y_train', data: new Uint8Array(1), shape: [1], maxshape: [null], chunks: [1024] });
    y.resize([20000]);
    f.close();
    const before = process.memoryUsage().arrayBuffers;
    const err = await readHdf5(path).then(() => '', (e: Error) => e.message);
    expect(err).to.match(/claim\.h5: X_train: claims 600000000 bytes, more than a \d+-byte file can hold/);
    expect(process.memoryUsage().arrayBuffers - before).to.be.below(16 << 20);
  });

  it('images claiming (1, 2^31, 2^31, 3) are refused by the image limit', async () => {
    const path = join(dir, 'wide.h5');
    const f = new h5wasm.File(path, 'w');
    const X = f.create_dataset({ name: 'X_train', data: new Uint8Array(3), shape: [1, 1, 1, 3], maxshape: [null, null, null, 3], chunks: [1, 1, 1, 3] });
    X.resize([1, 2 ** 31, 2 ** 31, 3]);
    f.create_dataset({ name: 'y_train', data: Int32Array.from([0]), shape: [1] });
    f.close();
    const err = await readHdf5(path).then(() => '', (e: Error) => e.message);
    expect(err).to.equal(`${path}: X_train images are 2147483648x2147483648, over the image limit`);
  });

  // Regression: the one-hot labels (2^17, 1000) float64 of this 890 KB file were read as 1 GB of
  // zeros (WebAssembly memory grown past 1 GiB for good, 8 s) before "row 0 is not one-hot".
  it('labels claiming (2^17, 1000) float64 in an 890 KB file are refused before reading', async () => {
    const path = join(dir, 'labels.h5');
    const f = new h5wasm.File(path, 'w');
    const X = f.create_dataset({ name: 'X_train', data: new Uint8Array(1), shape: [1, 1, 1, 1], maxshape: [null, 1, 1, 1], chunks: [65536, 1, 1, 1] });
    X.resize([1 << 17, 1, 1, 1]);
    const y = f.create_dataset({ name: 'y_train', data: new Float64Array(1), shape: [1, 1], maxshape: [null, 1000], chunks: [1024, 100] });
    y.resize([1 << 17, 1000]);
    f.close();
    const before = process.memoryUsage().arrayBuffers;
    const t0 = performance.now();
    const err = await readHdf5(path).then(() => '', (e: Error) => e.message);
    expect(err).to.match(/labels\.h5: y_train: claims 1048576000 bytes, more than a \d+-byte file can hold/);
    expect(performance.now() - t0).to.be.below(1000);
    expect(process.memoryUsage().arrayBuffers - before).to.be.below(64 << 20);
  });

  // Regression: a file HDF5 could not open gave "error - name not defined!" with no file name.
  it('a truncated dataset file: the error names the file', async () => {
    const path = join(dir, 'cut.h5');
    writeDatasetFile(path, undefined);
    writeFileSync(path, readFileSync(path).subarray(0, 1000));
    const { value: err } = await quietHdf5(() => readHdf5(path).then(() => '', (e: Error) => e.message));
    expect(err).to.equal(`${path}: cannot open as HDF5 (truncated or corrupt?)`);
  });

  // Regression: this file opens, but listing its root failed with h5wasm's bare
  // "error - name not defined!".
  it('a v0 superblock with byte 24 set to 0xff: the error names the file', async () => {
    const path = join(dir, 'sb.h5');
    const f = newFile(path, ['earliest', 'v108']);
    f.create_dataset({ name: 'X_train', data: new Uint8Array(12), shape: [1, 2, 2, 3] });
    f.create_dataset({ name: 'y_train', data: Int32Array.from([0]), shape: [1] });
    f.close();
    const bytes = readFileSync(path);
    bytes[24] = 0xff;
    writeFileSync(path, bytes);
    const { value: err } = await quietHdf5(() => readHdf5(path).then(() => '', (e: Error) => e.message));
    expect(err).to.match(new RegExp(`^${path}: (cannot read the file \\(error - name not defined!\\); it may be corrupt|cannot open as HDF5)`));
  });
});
