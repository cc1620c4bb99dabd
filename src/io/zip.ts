// A minimal ZIP reader for Keras `.keras` archives: central directory (with Zip64), stored and
// deflated entries (node:zlib inflateRaw), CRC-32 check. No encryption, no multi-disk.
// Every size comes from the file, so each is bounded before anything is allocated.

import { inflateRawSync } from 'node:zlib';
import * as zlib from 'node:zlib';

export interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  crc32: number;
  localOffset: number;
}

const EOCD_SIG = 0x06054b50;
const EOCD64_LOCATOR_SIG = 0x07064b50;
const EOCD64_SIG = 0x06064b50;
const CEN_SIG = 0x02014b50;
const LOC_SIG = 0x04034b50;
const MAX_ENTRIES = 100_000;

function u64(b: Buffer, off: number): number {
  const v = b.readBigUInt64LE(off);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error('zip: 64-bit field out of range');
  return Number(v);
}

/** Lists the entries of a zip held in `buf`; `file` names the archive in errors. */
export function zipEntries(buf: Buffer, file: string): ZipEntry[] {
  const bad = (why: string): Error => new Error(`${file}: not a valid zip archive (${why})`);
  if (buf.length < 22) throw bad('too short');
  let eocd = -1;
  const stop = Math.max(0, buf.length - 22 - 0xffff);
  for (let i = buf.length - 22; i >= stop; i--) {
    if (buf.readUInt32LE(i) === EOCD_SIG) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw bad('end of central directory not found');
  let count = buf.readUInt16LE(eocd + 10);
  let cdSize = buf.readUInt32LE(eocd + 12);
  let cdOffset = buf.readUInt32LE(eocd + 16);
  const loc = eocd - 20;
  if (loc >= 0 && buf.readUInt32LE(loc) === EOCD64_LOCATOR_SIG) {
    const e64 = u64(buf, loc + 8);
    if (e64 + 56 > buf.length || buf.readUInt32LE(e64) !== EOCD64_SIG) throw bad('bad Zip64 record');
    count = u64(buf, e64 + 32);
    cdSize = u64(buf, e64 + 40);
    cdOffset = u64(buf, e64 + 48);
  }
  if (count > MAX_ENTRIES) throw bad(`${count} entries`);
  if (cdOffset + cdSize > buf.length) throw bad('central directory past the end of the file');
  const out: ZipEntry[] = [];
  let p = cdOffset;
  for (let i = 0; i < count; i++) {
    if (p + 46 > buf.length || buf.readUInt32LE(p) !== CEN_SIG) throw bad(`entry ${i} header`);
    const flags = buf.readUInt16LE(p + 8);
    const method = buf.readUInt16LE(p + 10);
    const crc32 = buf.readUInt32LE(p + 16);
    let compressedSize = buf.readUInt32LE(p + 20);
    let size = buf.readUInt32LE(p + 24);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    let localOffset = buf.readUInt32LE(p + 42);
    if (p + 46 + nameLen + extraLen > buf.length) throw bad(`entry ${i} name`);
    const name = buf.toString('utf8', p + 46, p + 46 + nameLen);
    // Zip64 extended information: only the fields whose 32-bit value is 0xFFFFFFFF.
    let x = p + 46 + nameLen;
    const xEnd = x + extraLen;
    while (x + 4 <= xEnd) {
      const id = buf.readUInt16LE(x);
      const len = buf.readUInt16LE(x + 2);
      if (id === 0x0001) {
        let q = x + 4;
        const take = (): number => {
          if (q + 8 > x + 4 + len) throw bad(`entry ${name} Zip64 field`);
          const v = u64(buf, q);
          q += 8;
          return v;
        };
        if (size === 0xffffffff) size = take();
        if (compressedSize === 0xffffffff) compressedSize = take();
        if (localOffset === 0xffffffff) localOffset = take();
      }
      x += 4 + len;
    }
    if (flags & 1) throw bad(`entry ${name} is encrypted`);
    out.push({ name, method, compressedSize, size, crc32, localOffset });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return out;
}

/** Extracts one entry; refuses entries larger than `maxBytes` before inflating. */
export function zipRead(buf: Buffer, e: ZipEntry, file: string, maxBytes: number): Buffer {
  const bad = (why: string): Error => new Error(`${file}: zip entry ${e.name}: ${why}`);
  if (e.size > maxBytes) throw bad(`${e.size} bytes exceeds the limit of ${maxBytes}`);
  const p = e.localOffset;
  if (p + 30 > buf.length || buf.readUInt32LE(p) !== LOC_SIG) throw bad('bad local header');
  const start = p + 30 + buf.readUInt16LE(p + 26) + buf.readUInt16LE(p + 28);
  const end = start + e.compressedSize;
  if (end > buf.length) throw bad('data past the end of the archive (truncated?)');
  const raw = buf.subarray(start, end);
  let data: Buffer;
  if (e.method === 0) {
    data = raw;
  } else if (e.method === 8) {
    try {
      data = inflateRawSync(raw, { maxOutputLength: Math.max(e.size, 1) });
    } catch (err) {
      throw bad(`cannot inflate (${(err as Error).message})`);
    }
  } else {
    throw bad(`compression method ${e.method} is not supported (only stored and deflate)`);
  }
  if (data.length !== e.size) throw bad(`size ${data.length} differs from the header's ${e.size}`);
  const crc = (zlib as { crc32?: (d: Uint8Array) => number }).crc32;
  if (crc && crc(data) >>> 0 !== e.crc32 >>> 0) throw bad('CRC-32 mismatch (corrupt archive)');
  return data;
}
