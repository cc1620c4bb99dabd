// The authors' compiled HDF5 datasets: `X_train`, `y_train`, `X_val` (or `X_valid`,
// `X_validation`) with `y_val`…, `X_test`, `y_test`. X is uint8 NHWC (N, H, W, 3) or grey
// (N, H, W, 1) / (N, H, W); y is integer class indices (N) or (N, 1), or one-hot rows (N, K),
// integer or float. Read with h5wasm (the HDF5 C library compiled to WebAssembly).
//
// Every shape is checked against the limits, and against the file size (a chunked dataset whose
// chunks were never written reads back as zeros, so a few KiB could claim gigabytes), before a
// byte of pixels is read, and X is read in slices of about 64 MiB, so neither the WebAssembly heap
// nor the JS heap ever holds a whole multi-gigabyte dataset twice. The file stores no class names
// (unless a `class_names` attribute or dataset is present): pass `classNames`, or the DESIGN.md
// defaults for 7 and 8 classes are assumed and a note says so.

import { closeSync, openSync, readSync, fstatSync, statSync } from 'node:fs';
import type { Dataset as H5Dataset, File as H5File } from 'h5wasm';
import { checkBudget, dataLimits, type Dataset, type DataLimits, type Sample, type SplitName } from './dataset.js';

/** DESIGN.md §2: the notebook's classes (alphabetical); 8 adds contempt after anger. */
export const HDF5_DEFAULT_CLASSES: Record<number, string[]> = {
  7: ['anger', 'disgust', 'fear', 'happiness', 'neutral', 'sadness', 'surprise'],
  8: ['anger', 'contempt', 'disgust', 'fear', 'happiness', 'neutral', 'sadness', 'surprise'],
};

const NAMES: Record<SplitName, string[]> = {
  train: ['train'],
  val: ['val', 'valid', 'validation'],
  test: ['test'],
};
const SLICE_BYTES = 64 << 20;
const MAX_CLASSES = 1000;
/** Most bytes a stored byte can expand to: deflate's limit, 1032:1. */
const MAX_EXPANSION = 1032;

export interface Hdf5Options {
  limits?: Partial<DataLimits>;
  classNames?: string[];
}

/** True when the file carries the HDF5 signature (at 0 or a power-of-two user-block offset). */
export function isHdf5File(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const sig = Buffer.alloc(8);
    for (let at = 0; at + 8 <= size; at = at === 0 ? 512 : at * 2) {
      readSync(fd, sig, 0, 8, at);
      if (sig.equals(Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]))) return true;
    }
    return false;
  } finally {
    closeSync(fd);
  }
}

function dtypeName(d: H5Dataset): string {
  const m = d.metadata;
  const kind = m.type === 0 ? (m.signed ? 'int' : 'uint') : m.type === 1 ? 'float' : `HDF5 class ${m.type}`;
  return m.type === 0 || m.type === 1 ? `${kind}${m.size * 8}` : kind;
}

function getDataset(file: H5File, name: string, path: string): H5Dataset {
  const entity = file.get(name);
  if (!entity || !('shape' in entity) || !('slice' in entity)) throw new Error(`${path}: ${name} is not a dataset`);
  return entity as H5Dataset;
}

interface Labels {
  values: number[];
  /** One-hot width, when y is one-hot. */
  oneHot?: number;
}

/** Throws when a dataset claims more bytes than a file of `fileBytes` can hold. */
function checkStored(where: string, claimed: number, fileBytes: number): void {
  if (claimed > fileBytes * MAX_EXPANSION) {
    throw new Error(`${where}: claims ${claimed} bytes, more than a ${fileBytes}-byte file can hold (unwritten or corrupt?)`);
  }
}

function readLabels(y: H5Dataset, n: number, where: string, fileBytes: number): Labels {
  const shape = y.shape ?? [];
  const m = y.metadata;
  if (m.type !== 0 && m.type !== 1) throw new Error(`${where}: dtype ${dtypeName(y)} is not numeric`);
  if (shape[0] !== n) throw new Error(`${where}: ${shape[0]} labels for ${n} images`);
  const width = shape.length === 1 ? 1 : shape.length === 2 ? shape[1] : -1;
  if (width < 1 || width > MAX_CLASSES) {
    throw new Error(`${where}: shape (${shape.join(', ')}) is neither (N), (N, 1) nor one-hot (N, K<=${MAX_CLASSES})`);
  }
  checkStored(where, n * width * m.size, fileBytes);
  const raw = y.value as ArrayLike<number | bigint>;
  const at = (i: number) => Number(raw[i]);
  if (width === 1) {
    const values = Array.from({ length: n }, (_, i) => at(i));
    const bad = values.findIndex((v) => !Number.isInteger(v) || v < 0);
    if (bad >= 0) throw new Error(`${where}: label ${bad} is ${values[bad]}, not a class index`);
    return { values };
  }
  const values = new Array<number>(n);
  for (let r = 0; r < n; r++) {
    let hot = -1;
    for (let k = 0; k < width; k++) {
      const v = at(r * width + k);
      if (v === 1 && hot < 0) hot = k;
      else if (v !== 0) hot = -2;
    }
    if (hot < 0) {
      const row = Array.from({ length: Math.min(width, 10) }, (_, k) => at(r * width + k));
      throw new Error(`${where}: row ${r} is not one-hot ([${row.join(', ')}${width > 10 ? ', …' : ''}])`);
    }
    values[r] = hot;
  }
  return { values, oneHot: width };
}

function fileClassNames(file: H5File): string[] | undefined {
  const fromAttr = file.attrs['class_names']?.value;
  const entity = file.keys().includes('class_names') ? file.get('class_names') : null;
  const v = fromAttr ?? (entity && 'value' in entity ? (entity as H5Dataset).value : undefined);
  return Array.isArray(v) && v.every((s) => typeof s === 'string') ? (v as string[]) : undefined;
}

export async function readHdf5(path: string, options: Hdf5Options = {}): Promise<Dataset> {
  const limits = dataLimits(options.limits);
  if (!isHdf5File(path)) throw new Error(`${path}: not an HDF5 file (no HDF5 signature)`);
  const h5wasm = (await import('h5wasm/node')).default;
  await h5wasm.ready;
  let file: H5File;
  try {
    file = new h5wasm.File(path, 'r');
  } catch (err) {
    throw new Error(`${path}: cannot open as HDF5 (${(err as Error).message})`);
  }
  // A file the library cannot open gives a negative id, not an exception.
  if (file.file_id < 0n) throw new Error(`${path}: cannot open as HDF5 (truncated or corrupt?)`);
  try {
    return readOpenFile(file, path, statSync(path).size, limits, options);
  } catch (err) {
    // h5wasm's own errors ("error - name not defined!") do not say which file.
    const msg = err instanceof Error ? err.message : String(err);
    if (msg.startsWith(path)) throw err;
    throw new Error(`${path}: cannot read the file (${msg.split('\n')[0]}); it may be corrupt`);
  } finally {
    file.close();
  }
}

function readOpenFile(file: H5File, path: string, fileBytes: number, limits: DataLimits, options: Hdf5Options): Dataset {
  const keys = file.keys();
  const pairs: { split: SplitName; x: string; y: string }[] = [];
  for (const split of ['train', 'val', 'test'] as SplitName[]) {
    const suffix = NAMES[split].find((s) => keys.includes(`X_${s}`) || keys.includes(`y_${s}`));
    if (!suffix) continue;
    const x = `X_${suffix}`;
    const y = `y_${suffix}`;
    if (!keys.includes(x) || !keys.includes(y)) throw new Error(`${path}: has ${keys.includes(x) ? x : y} but not ${keys.includes(x) ? y : x}`);
    pairs.push({ split, x, y });
  }
  if (pairs.length === 0) throw new Error(`${path}: no X_train/y_train, X_val/y_val or X_test/y_test datasets (found: ${keys.join(', ') || 'nothing'})`);

  // Check every shape and dtype, and the total size, before reading pixels.
  let totalBytes = 0;
  let totalSamples = 0;
  const plans = pairs.map(({ split, x, y }) => {
    const X = getDataset(file, x, path);
    const shape = X.shape ?? [];
    const m = X.metadata;
    if (m.type !== 0 || m.size !== 1 || m.signed) throw new Error(`${path}: ${x} has dtype ${dtypeName(X)}; expected uint8 images`);
    if (shape.length !== 3 && shape.length !== 4) throw new Error(`${path}: ${x} has shape (${shape.join(', ')}); expected (N, H, W, C)`);
    const [n, h, w, c = 1] = shape;
    if (c !== 1 && c !== 3) throw new Error(`${path}: ${x} has ${c} channels; expected 3 (RGB) or 1 (grey)`);
    if (w > limits.maxWidth || h > limits.maxHeight || w * h > limits.maxPixels) {
      throw new Error(`${path}: ${x} images are ${w}x${h}, over the image limit`);
    }
    checkStored(`${path}: ${x}`, n * h * w * c, fileBytes);
    totalBytes += n * h * w * 3;
    totalSamples += n;
    checkBudget(`${path}: ${x}`, totalBytes, totalSamples, limits);
    const labels = readLabels(getDataset(file, y, path), n, `${path}: ${y}`, fileBytes);
    return { split, x, X, n, h, w, c, labels };
  });

  const widths = new Set(plans.flatMap((p) => (p.labels.oneHot ? [p.labels.oneHot] : [])));
  if (widths.size > 1) throw new Error(`${path}: one-hot labels of different widths (${[...widths].join(', ')})`);
  const maxLabel = Math.max(...plans.flatMap((p) => p.labels.values), 0);
  const given = options.classNames ?? fileClassNames(file);
  const k = given?.length ?? [...widths][0] ?? maxLabel + 1;
  if ((widths.size && [...widths][0] !== k) || maxLabel >= k) {
    throw new Error(`${path}: labels need ${Math.max(maxLabel + 1, [...widths][0] ?? 0)} classes but ${k} class names were given`);
  }
  const notes: string[] = [];
  let classNames = given;
  if (!classNames) {
    classNames = HDF5_DEFAULT_CLASSES[k] ?? Array.from({ length: k }, (_, i) => `class_${i}`);
    notes.push(`${path}: no class names in the file; assumed ${classNames.join(', ')}`);
  }

  const splits: Dataset['splits'] = {};
  for (const { split, x, X, n, h, w, c, labels } of plans) {
    const samples: Sample[] = [];
    const perImage = h * w * c;
    const step = Math.max(1, Math.floor(SLICE_BYTES / perImage));
    for (let start = 0; start < n; start += step) {
      const end = Math.min(n, start + step);
      const raw = X.slice([[start, end]]) as Uint8Array;
      if (!(raw instanceof Uint8Array) || raw.length !== (end - start) * perImage) {
        throw new Error(`${path}: ${x}[${start}:${end}] read back ${raw?.length} bytes, expected ${(end - start) * perImage}`);
      }
      const rgb = c === 3 ? raw : new Uint8Array(raw.length * 3);
      if (c === 1) for (let i = 0, j = 0; i < raw.length; i++, j += 3) rgb[j] = rgb[j + 1] = rgb[j + 2] = raw[i];
      for (let i = start; i < end; i++) {
        const off = (i - start) * h * w * 3;
        const data = rgb.subarray(off, off + h * w * 3);
        samples.push({ image: { width: w, height: h, data }, label: labels.values[i], source: `${path}:${x}[${i}]` });
      }
    }
    splits[split] = samples;
  }
  return { kind: 'hdf5', source: path, classNames, splits, notes };
}
