// Thin, defensive helpers over h5wasm (the HDF5 C library compiled to WASM): open a file with a
// clear error, read string-list attributes with size limits, and read float datasets as
// float32 only after their header (dtype, shape) has been checked.

import h5wasm, { Module, Dataset, Group, type Attribute, type File } from 'h5wasm/node';
import { openSync, readSync, closeSync, fstatSync } from 'node:fs';
import { halfToFloat32 } from './float16.js';

export type H5File = File;
export type H5Group = Group;

/** Attribute limits: Keras keeps each attribute under 64 KiB (HDF5_OBJECT_HEADER_LIMIT). */
const MAX_ATTR_ITEMS = 100_000;
const MAX_ATTR_STRING_BYTES = 1 << 20;
const MAX_RANK = 8;
const HDF5_SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

let ready: Promise<unknown> | undefined;

export async function h5Ready(): Promise<typeof h5wasm> {
  ready ??= h5wasm.ready;
  await ready;
  return h5wasm;
}

/** True when the HDF5 signature sits at 0, 512, 1024, … (HDF5 allows a user block). */
export function hasHdf5Signature(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const buf = Buffer.alloc(8);
    for (let off = 0; off + 8 <= size; off = off === 0 ? 512 : off * 2) {
      readSync(fd, buf, 0, 8, off);
      if (HDF5_SIGNATURE.every((b, i) => buf[i] === b)) return true;
    }
    return false;
  } finally {
    closeSync(fd);
  }
}

/** Opens an HDF5 file for reading; throws an error naming the file if it is not one. */
export async function openH5(path: string): Promise<H5File> {
  const h5 = await h5Ready();
  let ok: boolean;
  try {
    ok = hasHdf5Signature(path);
  } catch (e) {
    throw new Error(`${path}: cannot read the file (${(e as Error).message})`);
  }
  if (!ok) throw new Error(`${path}: not an HDF5 file (no HDF5 signature found)`);
  const f = new h5.File(path, 'r');
  if (f.file_id < 0n) {
    throw new Error(`${path}: HDF5 library could not open the file (truncated or corrupt?)`);
  }
  return f;
}

export function closeH5(f: H5File): void {
  try {
    f.close();
  } catch {
    /* already closed */
  }
}

/** Wraps a call into the HDF5 library so that its failures name the file and the object. */
export function h5Try<T>(file: string, what: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    throw new Error(`${file}: cannot read ${what} (${msg.split('\n')[0]}); the file may be corrupt`);
  }
}

function attrStrings(file: string, where: string, a: Attribute): string[] {
  const m = a.metadata;
  const shape = a.shape ?? [];
  const n = shape.reduce((x, y) => x * y, 1);
  // h5py stores an empty Python list (a layer without weights) as an empty float64 array.
  if (n === 0) return [];
  if (m.type !== Module.H5T_class_t.H5T_STRING.value) {
    throw new Error(`${file}: attribute ${where} is not a string list`);
  }
  if (n > MAX_ATTR_ITEMS || (!m.vlen && m.size * n > MAX_ATTR_STRING_BYTES * 16)) {
    throw new Error(`${file}: attribute ${where} is implausibly large (${n} items)`);
  }
  const v = h5Try(file, `attribute ${where}`, () => a.value);
  const list = Array.isArray(v) ? v : [v];
  return list.map((s) => (typeof s === 'string' ? s.replace(/\0+$/, '') : String(s)));
}

/**
 * Reads a string-list attribute as Keras writes it, including the chunked form
 * (`name0`, `name1`, …) that Keras uses past 64 KiB. Returns undefined when absent.
 */
export function readStringList(file: string, obj: Group, name: string): string[] | undefined {
  const attrs = h5Try(file, `attributes of ${obj.path}`, () => obj.attrs);
  if (name in attrs) return attrStrings(file, `${obj.path}@${name}`, attrs[name]);
  if (!(`${name}0` in attrs)) return undefined;
  const out: string[] = [];
  for (let i = 0; `${name}${i}` in attrs; i++) {
    out.push(...attrStrings(file, `${obj.path}@${name}${i}`, attrs[`${name}${i}`]));
    if (out.length > MAX_ATTR_ITEMS) throw new Error(`${file}: attribute ${name} too large`);
  }
  return out;
}

/** Reads a scalar string attribute (model_config, keras_version, …). */
export function readStringAttr(file: string, obj: Group, name: string): string | undefined {
  const attrs = h5Try(file, `attributes of ${obj.path}`, () => obj.attrs);
  if (!(name in attrs)) return undefined;
  const list = attrStrings(file, `${obj.path}@${name}`, attrs[name]);
  return list.join('');
}

export interface DatasetHeader {
  path: string;
  shape: number[];
  /** numpy-style: '<f4', '<f2', '<f8', or a description of an unsupported type. */
  dtype: string;
  /** Set when the values cannot be converted to float32. */
  unsupported?: string;
}

/** Reads the header (shape, type) of a dataset without touching its values. */
export function datasetHeader(file: string, ds: Dataset): DatasetHeader {
  const m = h5Try(file, `dataset ${ds.path}`, () => ds.metadata);
  const shape = (m.shape ?? []).map(Number);
  const float = m.type === Module.H5T_class_t.H5T_FLOAT.value;
  const dtype = float ? `${m.littleEndian ? '<' : '>'}f${m.size}` : `type class ${m.type}, ${m.size} bytes`;
  const h: DatasetHeader = { path: ds.path, shape, dtype };
  if (!float || ![2, 4, 8].includes(m.size)) h.unsupported = `not a float16/32/64 dataset (${dtype})`;
  else if (!m.littleEndian) h.unsupported = `big-endian floats are not supported (${dtype})`;
  if (m.shape === null) h.unsupported = 'dataset has no dataspace (null)';
  if (shape.length > MAX_RANK || shape.some((d) => !Number.isSafeInteger(d) || d < 0)) {
    h.unsupported = `implausible shape [${shape.join(', ')}]`;
  }
  return h;
}

/** Reads a checked float dataset as float32 (float16 and float64 converted). */
export function readFloat32(file: string, ds: Dataset, h: DatasetHeader): Float32Array {
  if (h.unsupported) throw new Error(`${file}: ${h.path}: ${h.unsupported}`);
  const n = h.shape.reduce((a, b) => a * b, 1);
  if (h.dtype === '<f2') return halfToFloat32(readRaw(file, ds, n * 2));
  const v = h5Try(file, `dataset ${h.path}`, () => ds.value);
  let out: Float32Array;
  if (typeof v === 'number') out = Float32Array.of(v);
  else if (v instanceof Float32Array) out = v;
  else if (v instanceof Float64Array) out = Float32Array.from(v);
  else throw new Error(`${file}: ${h.path}: unexpected value type`);
  if (out.length !== n) throw new Error(`${file}: ${h.path}: read ${out.length} values, expected ${n}`);
  return out;
}

/** Raw bytes of a dataset in its stored type (h5wasm cannot convert float16). */
function readRaw(file: string, ds: Dataset, nbytes: number): Uint8Array {
  const M = Module as unknown as {
    _malloc(n: number): number;
    _free(p: number): void;
    HEAPU8: Uint8Array;
  };
  const ptr = M._malloc(Math.max(nbytes, 1));
  if (!ptr) throw new Error(`${file}: out of memory reading ${ds.path}`);
  try {
    h5Try(file, `dataset ${ds.path}`, () =>
      Module.get_dataset_data(ds.file_id, ds.path, null, null, null, BigInt(ptr)),
    );
    return M.HEAPU8.slice(ptr, ptr + nbytes);
  } finally {
    M._free(ptr);
  }
}

/** Children of a group, with a guard against absurd fan-out. */
export function groupKeys(file: string, g: Group): string[] {
  const keys = h5Try(file, `group ${g.path}`, () => g.keys());
  if (keys.length > MAX_ATTR_ITEMS) throw new Error(`${file}: group ${g.path} has ${keys.length} children`);
  return keys;
}

export function getGroup(file: string, f: H5File, path: string): Group | undefined {
  const e = h5Try(file, path, () => f.get(path));
  return e instanceof Group ? e : undefined;
}

export function getDataset(file: string, f: H5File, path: string): Dataset | undefined {
  const e = h5Try(file, path, () => f.get(path));
  return e instanceof Dataset ? e : undefined;
}
