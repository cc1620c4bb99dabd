// Browser-safe safetensors decoding: bytes in memory (a fetch()'s ArrayBuffer, a File) to tensors
// and string metadata, with no Node built-ins, so the browser bundle can read checkpoints.
//
// src/io/safetensors.ts re-exports these and adds the file I/O (reading, atomic writes).

import { halfBitsToNumber } from './float16.js';

export const DTYPE_BYTES = {
  F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1,
  U64: 8, U32: 4, U16: 2, U8: 1, BOOL: 1,
} as const;
export type SafeDtype = keyof typeof DTYPE_BYTES;

export interface SafeTensor {
  dtype: SafeDtype;
  shape: number[];
  /** Raw little-endian bytes, exactly elements x dtype size. */
  bytes: Uint8Array;
}

export interface SafetensorsContent {
  tensors: Map<string, SafeTensor>;
  metadata: Record<string, string>;
}

/** Largest JSON header we accept (the reference implementation's limit is 100 MB). */
export const MAX_HEADER_BYTES = 100_000_000;

/** The tensor's values as float32 (F32 copied, F16/BF16/F64/integers converted). */
export function toFloat32(t: SafeTensor): Float32Array {
  const b = t.bytes;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const n = b.byteLength / DTYPE_BYTES[t.dtype];
  const out = new Float32Array(n);
  const read: Record<SafeDtype, (i: number) => number> = {
    F64: (i) => dv.getFloat64(i * 8, true),
    F32: (i) => dv.getFloat32(i * 4, true),
    F16: (i) => halfBitsToNumber(dv.getUint16(i * 2, true)),
    BF16: (i) => new Float32Array(new Uint32Array([dv.getUint16(i * 2, true) << 16]).buffer)[0],
    I64: (i) => Number(dv.getBigInt64(i * 8, true)),
    I32: (i) => dv.getInt32(i * 4, true),
    I16: (i) => dv.getInt16(i * 2, true),
    I8: (i) => dv.getInt8(i),
    U64: (i) => Number(dv.getBigUint64(i * 8, true)),
    U32: (i) => dv.getUint32(i * 4, true),
    U16: (i) => dv.getUint16(i * 2, true),
    U8: (i) => dv.getUint8(i),
    BOOL: (i) => dv.getUint8(i),
  };
  const f = read[t.dtype];
  for (let i = 0; i < n; i++) out[i] = f(i);
  return out;
}

function isNonNegInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/** Parses and validates a safetensors buffer; errors name `file` and the problem. */
export function decodeSafetensors(buf: Uint8Array, file = '<buffer>'): SafetensorsContent {
  const bad = (why: string): Error => new Error(`${file}: invalid safetensors file: ${why}`);
  if (buf.byteLength < 8) throw bad(`only ${buf.byteLength} bytes, too short for the header length`);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const n64 = dv.getBigUint64(0, true);
  if (n64 > BigInt(MAX_HEADER_BYTES)) {
    throw bad(`header length ${n64} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  }
  const n = Number(n64);
  if (8 + n > buf.byteLength) {
    throw bad(`header length ${n} runs past the end of the file (${buf.byteLength} bytes; truncated?)`);
  }
  const text = new TextDecoder('utf-8', { fatal: false }).decode(buf.subarray(8, 8 + n));
  if (!text.startsWith('{')) throw bad('header is not a JSON object');
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    throw bad(`header is not valid JSON (${(e as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw bad('header is not a JSON object');
  }
  const dataStart = 8 + n;
  const dataLen = buf.byteLength - dataStart;
  const metadata: Record<string, string> = {};
  const spans: [number, number, string][] = [];
  const tensors = new Map<string, SafeTensor>();
  for (const [name, v] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) {
        throw bad('__metadata__ is not an object');
      }
      for (const [k, s] of Object.entries(v)) {
        if (typeof s !== 'string') throw bad(`__metadata__.${k} is not a string`);
        metadata[k] = s;
      }
      continue;
    }
    const t = v as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof t !== 'object' || t === null) throw bad(`tensor ${name}: entry is not an object`);
    if (typeof t.dtype !== 'string' || !(t.dtype in DTYPE_BYTES)) {
      throw bad(`tensor ${name}: unknown dtype ${JSON.stringify(t.dtype)}`);
    }
    const dtype = t.dtype as SafeDtype;
    if (!Array.isArray(t.shape) || t.shape.length > 16 || !t.shape.every(isNonNegInt)) {
      throw bad(`tensor ${name}: shape ${JSON.stringify(t.shape)} is not a list of integers >= 0`);
    }
    const shape = t.shape as number[];
    const o = t.data_offsets;
    if (!Array.isArray(o) || o.length !== 2 || !o.every(isNonNegInt) || o[0] > o[1]) {
      throw bad(`tensor ${name}: data_offsets ${JSON.stringify(o)} is not [begin, end], begin <= end`);
    }
    const [b, e] = o as [number, number];
    if (e > dataLen) {
      throw bad(`tensor ${name}: data_offsets [${b}, ${e}] past the end of the data ` +
        `(${dataLen} bytes; truncated?)`);
    }
    let elems = 1;
    for (const d of shape) elems *= d;
    const need = elems * DTYPE_BYTES[dtype];
    if (need !== e - b) {
      throw bad(`tensor ${name}: ${dtype}[${shape}] needs ${need} bytes but data_offsets span ${e - b}`);
    }
    spans.push([b, e, name]);
    // Copy: the data region need not be aligned for typed-array views.
    tensors.set(name, { dtype, shape, bytes: buf.slice(dataStart + b, dataStart + e) });
  }
  spans.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  let end = 0;
  for (const [b, e, name] of spans) {
    if (b < end) throw bad(`tensor ${name}: data_offsets [${b}, ${e}] overlap the previous tensor`);
    if (b > end) throw bad(`a gap of ${b - end} bytes before tensor ${name} (data must be packed)`);
    end = e;
  }
  if (end !== dataLen) throw bad(`${dataLen - end} trailing bytes after the last tensor`);
  return { tensors, metadata };
}
