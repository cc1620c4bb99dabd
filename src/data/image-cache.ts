// Decoded-image cache: each image file is decoded once per process, and optionally once per
// machine through a cache file of raw RGB.
//
// In memory, images are keyed by path and remembered with the file's size and mtime, so loading
// the same dataset again (a second training phase, a re-run in the same process) decodes nothing.
// On disk, one cache file holds every image of one file list; it is valid only for exactly that
// list: its key is a SHA-256 over (path, size, mtime) of every source file in order, so touching,
// adding, removing or reordering a file makes it stale and it is rebuilt.
//
// Cache file layout: "PATTRGB1" | u32 LE header length | header JSON {key, sizes: [[w, h], ...]}
// | the RGB bytes of every image, in order. It is written to a temporary name and renamed, so a
// crash never leaves a half-written cache that looks valid.

import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readFileSync, readSync, renameSync, statSync, writeSync } from 'node:fs';
import { checkBudget, type DataLimits } from './dataset.js';
import { decodeImage, readImageHeader, type RgbImage } from './image.js';

const MAGIC = 'PATTRGB1';
const MAX_HEADER_BYTES = 256 << 20;

interface Fingerprint {
  path: string;
  size: number;
  mtimeMs: number;
}

export interface ImageCacheStats {
  /** Images decoded from PNG/JPEG. */
  decodes: number;
  /** Images served from memory. */
  memoryHits: number;
  /** Images read from a cache file. */
  fileHits: number;
}

export class ImageCache {
  readonly stats: ImageCacheStats = { decodes: 0, memoryHits: 0, fileHits: 0 };
  private readonly memo = new Map<string, Fingerprint & { image: RgbImage }>();

  /**
   * Decoded RGB images for `paths`, in order. `cacheFile`, when given, is read if it matches the
   * file list and (re)written otherwise.
   */
  loadAll(paths: readonly string[], limits: DataLimits, cacheFile?: string): RgbImage[] {
    const prints = paths.map((path): Fingerprint => {
      const st = statSync(path);
      return { path, size: st.size, mtimeMs: st.mtimeMs };
    });
    const fresh = (f: Fingerprint) => {
      const m = this.memo.get(f.path);
      return m && m.size === f.size && m.mtimeMs === f.mtimeMs ? m.image : undefined;
    };
    if (prints.every((f) => fresh(f))) {
      this.stats.memoryHits += prints.length;
      return prints.map((f) => fresh(f)!);
    }
    const key = createHash('sha256').update(JSON.stringify(prints.map((f) => [f.path, f.size, f.mtimeMs]))).digest('hex');
    const fromFile = cacheFile ? readCacheFile(cacheFile, key, prints.length, limits) : undefined;
    if (fromFile) {
      this.stats.fileHits += fromFile.length;
      prints.forEach((f, i) => this.memo.set(f.path, { ...f, image: fromFile[i] }));
      return fromFile;
    }
    let total = 0;
    const images = prints.map((f) => {
      const hit = fresh(f);
      if (hit) {
        this.stats.memoryHits++;
        total += hit.data.length;
        return hit;
      }
      const bytes = readFileSync(f.path);
      const { width, height } = readImageHeader(bytes, f.path, limits);
      total += width * height * 3;
      checkBudget(f.path, total, prints.length, limits);
      const image = decodeImage(bytes, f.path, limits);
      this.stats.decodes++;
      this.memo.set(f.path, { ...f, image });
      return image;
    });
    if (cacheFile) writeCacheFile(cacheFile, key, images);
    return images;
  }

  /** Forgets every image held in memory. */
  clear(): void {
    this.memo.clear();
  }
}

/** The images of a cache file whose key matches, or undefined (missing, stale or damaged). */
function readCacheFile(path: string, key: string, count: number, limits: DataLimits): RgbImage[] | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return undefined;
  }
  try {
    const fileSize = fstatSync(fd).size;
    const head = Buffer.alloc(12);
    if (readSync(fd, head, 0, 12, 0) !== 12 || head.toString('latin1', 0, 8) !== MAGIC) return undefined;
    const headerBytes = head.readUInt32LE(8);
    if (headerBytes > MAX_HEADER_BYTES || 12 + headerBytes > fileSize) return undefined;
    const json = Buffer.alloc(headerBytes);
    readSync(fd, json, 0, headerBytes, 12);
    let header: { key?: unknown; sizes?: unknown };
    try {
      header = JSON.parse(json.toString('utf8'));
    } catch {
      return undefined;
    }
    const sizes = header.sizes;
    if (header.key !== key || !Array.isArray(sizes) || sizes.length !== count) return undefined;
    let total = 0;
    for (const s of sizes) {
      const ok = Array.isArray(s) && s.length === 2 && s.every((v) => Number.isInteger(v) && v > 0);
      if (!ok || s[0] > limits.maxWidth || s[1] > limits.maxHeight || s[0] * s[1] > limits.maxPixels) return undefined;
      total += s[0] * s[1] * 3;
    }
    if (12 + headerBytes + total !== fileSize) return undefined;
    checkBudget(path, total, count, limits);
    let at = 12 + headerBytes;
    return (sizes as [number, number][]).map(([width, height]) => {
      const data = new Uint8Array(width * height * 3);
      let got = 0;
      while (got < data.length) {
        const n = readSync(fd, data, got, data.length - got, at + got);
        if (n === 0) throw new Error(`${path}: cache file shrank while being read`);
        got += n;
      }
      at += data.length;
      return { width, height, data };
    });
  } finally {
    closeSync(fd);
  }
}

function writeCacheFile(path: string, key: string, images: readonly RgbImage[]): void {
  const tmp = `${path}.tmp-${process.pid}`;
  const json = Buffer.from(JSON.stringify({ key, sizes: images.map((im) => [im.width, im.height]) }), 'utf8');
  const head = Buffer.alloc(12);
  head.write(MAGIC, 0, 'latin1');
  head.writeUInt32LE(json.length, 8);
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, head);
    writeSync(fd, json);
    for (const im of images) {
      let done = 0;
      while (done < im.data.length) done += writeSync(fd, im.data, done, im.data.length - done);
    }
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}
