// Small dataset files written by the tests themselves: PNGs built byte by byte (every colour
// type, independent of pngjs), tiny greyscale JPEGs built marker by marker (baseline and
// progressive), and temporary folders.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import type { RgbImage } from '../../src/data/image.js';

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  Buffer.from(data).copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

export interface RawPng {
  width: number;
  height: number;
  colorType: 0 | 2 | 3 | 4 | 6;
  bitDepth: 1 | 2 | 4 | 8 | 16;
  /** Unfiltered scanline bytes (without the filter byte), row after row. */
  rows: Uint8Array[];
  palette?: number[];
  /** Dimensions written in IHDR, when they should lie. */
  headerSize?: [number, number];
}

/** A PNG built from raw scanlines (filter 0), with an optional palette. */
export function rawPng(p: RawPng): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(p.headerSize?.[0] ?? p.width, 0);
  ihdr.writeUInt32BE(p.headerSize?.[1] ?? p.height, 4);
  ihdr[8] = p.bitDepth;
  ihdr[9] = p.colorType;
  const raw = Buffer.concat(p.rows.map((r) => Buffer.concat([Buffer.from([0]), Buffer.from(r)])));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    ...(p.palette ? [chunk('PLTE', Uint8Array.from(p.palette))] : []),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', new Uint8Array(0)),
  ]);
}

/**
 * An 8x8 greyscale JPEG of one flat value (128 + 8 * dc / 8 = 128 + dc for q = 8): one DC
 * Huffman symbol (category 6, so dc in 32..63) and, for baseline, an AC end-of-block.
 */
export function greyJpeg(options: { progressive?: boolean; dc?: number; size?: [number, number] } = {}): Uint8Array {
  const dc = options.dc ?? 37;
  const [w, h] = options.size ?? [8, 8];
  const bits = `0${dc.toString(2).padStart(6, '0')}${options.progressive ? '' : '0'}`.padEnd(8, '1');
  return Uint8Array.from([
    0xff, 0xd8,
    0xff, 0xdb, 0, 67, 0, ...new Array(64).fill(8),
    0xff, options.progressive ? 0xc2 : 0xc0, 0, 11, 8, h >> 8, h & 255, w >> 8, w & 255, 1, 1, 0x11, 0,
    0xff, 0xc4, 0, 20, 0x00, 1, ...new Array(15).fill(0), 6,
    0xff, 0xc4, 0, 20, 0x10, 1, ...new Array(15).fill(0), 0,
    0xff, 0xda, 0, 8, 1, 1, 0x00, 0, options.progressive ? 0 : 63, 0,
    parseInt(bits, 2),
    0xff, 0xd9,
  ]);
}

/** A w x h RGB test pattern; `seed` varies it. */
export function pattern(width: number, height: number, seed = 0): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i * 37 + seed * 101) & 255;
  return { width, height, data };
}

/** A fresh temporary folder and a function that removes it. */
export function tempDir(prefix = 'patt-data-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
