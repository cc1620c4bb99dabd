// safetensors: our checkpoint format. Layout: 8-byte little-endian header length N, N bytes of
// JSON {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {string: string}},
// then the tensor bytes, little-endian and tightly packed, offsets relative to the end of the
// header. The reader trusts nothing: header length limit, JSON shape, known dtypes, sizes
// matching dtype x shape, offsets in bounds, no overlaps and no holes.
// Writes are atomic: a temp file in the same folder, fsync, rename.

import {
  closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { DTYPE_BYTES, decodeSafetensors, type SafeTensor, type SafetensorsContent } from './safetensors-decode.js';

// The decoder is browser-safe and lives in safetensors-decode.ts; this module adds files.
export {
  DTYPE_BYTES, MAX_HEADER_BYTES, decodeSafetensors, toFloat32,
  type SafeDtype, type SafeTensor, type SafetensorsContent,
} from './safetensors-decode.js';

export function f32Tensor(data: Float32Array, shape: readonly number[]): SafeTensor {
  const n = shape.reduce((a, b) => a * b, 1);
  if (n !== data.length) throw new Error(`tensor of shape [${shape}] needs ${n} values, got ${data.length}`);
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return { dtype: 'F32', shape: [...shape], bytes };
}

/** Serialises tensors (in insertion order) and string metadata. */
export function encodeSafetensors(
  tensors: ReadonlyMap<string, SafeTensor>,
  metadata: Record<string, string> = {},
): Buffer {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new Error(`safetensors metadata ${k} must be a string`);
    }
    header.__metadata__ = metadata;
  }
  let offset = 0;
  for (const [name, t] of tensors) {
    if (name === '__metadata__') throw new Error('a tensor cannot be named __metadata__');
    const need = t.shape.reduce((a, b) => a * b, 1) * DTYPE_BYTES[t.dtype];
    if (need !== t.bytes.byteLength) {
      throw new Error(`tensor ${name}: ${t.bytes.byteLength} bytes for ${t.dtype}[${t.shape}]`);
    }
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + need] };
    offset += need;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((Buffer.byteLength(json) + 8) % 8)) % 8);
  const head = Buffer.from(json, 'utf8');
  const out = Buffer.alloc(8 + head.length + offset);
  out.writeBigUInt64LE(BigInt(head.length), 0);
  head.copy(out, 8);
  let p = 8 + head.length;
  for (const t of tensors.values()) {
    out.set(t.bytes, p);
    p += t.bytes.byteLength;
  }
  return out;
}

export function readSafetensors(path: string): SafetensorsContent {
  let buf: Buffer;
  try {
    const size = statSync(path).size;
    if (size > 2 ** 31 - 1) throw new Error(`${size} bytes is larger than we read at once`);
    buf = readFileSync(path);
  } catch (e) {
    throw new Error(`${path}: cannot read (${(e as Error).message})`);
  }
  return decodeSafetensors(buf, path);
}

/** Writes bytes to `path` atomically: temp file in the same folder, fsync, rename. */
export function writeFileAtomic(path: string, data: Uint8Array): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  const fd = openSync(tmp, 'wx');
  try {
    let off = 0;
    while (off < data.byteLength) off += writeSync(fd, data, off, data.byteLength - off);
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, path);
  } catch (e) {
    try {
      closeSync(fd);
    } catch {
      /* already closed */
    }
    rmSync(tmp, { force: true });
    throw e;
  }
  try {
    const dfd = openSync(dirname(path), 'r');
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  } catch {
    /* directory fsync is best effort (not supported everywhere) */
  }
}

export function writeSafetensors(
  path: string,
  tensors: ReadonlyMap<string, SafeTensor>,
  metadata: Record<string, string> = {},
): void {
  writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}
