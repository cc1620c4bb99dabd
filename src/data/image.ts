// Image decoding for datasets: PNG (pngjs) and JPEG (jpeg-js) bytes -> RGB uint8 (h, w, 3).
//
// The format comes from the magic bytes, never the file extension. Before any pixel buffer is
// allocated, the header is parsed here (PNG: IHDR plus a walk over the chunk list; JPEG: the
// marker list up to EOI) so that a hostile or damaged header cannot make a decoder allocate
// without bound, and a truncated file is reported as truncated rather than as a decoder riddle.
// The claimed size must also fit the compressed data: deflate expands at most 1032:1, and a
// Huffman-coded JPEG spends at least one bit on every 8x8 block, so a few bytes claiming a
// 10000x10000 image are refused instead of decoded into a gigabyte of zeros.
// Alpha is dropped (not composited); grey is replicated to three channels; 16-bit PNG samples
// are rescaled to 8 bits by pngjs.

import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { inflateSync } from 'node:zlib';

/** An RGB image, row-major, 3 bytes per pixel: `data.length === width * height * 3`. */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/** Bounds checked against the header before decoding. */
export interface ImageLimits {
  maxWidth: number;
  maxHeight: number;
  /** Upper bound on width * height. */
  maxPixels: number;
}

export const DEFAULT_IMAGE_LIMITS: Readonly<ImageLimits> = {
  maxWidth: 16384,
  maxHeight: 16384,
  maxPixels: 100_000_000,
};

export type ImageFormat = 'png' | 'jpeg';

export interface ImageHeader {
  format: ImageFormat;
  width: number;
  height: number;
}

const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** PNG or JPEG by magic bytes; undefined for anything else. */
export function sniffImageFormat(bytes: Uint8Array): ImageFormat | undefined {
  if (bytes.length >= 8 && PNG_MAGIC.every((b, i) => bytes[i] === b)) return 'png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  return undefined;
}

function describeStart(bytes: Uint8Array): string {
  if (bytes.length === 0) return 'the file is empty';
  const head = Array.from(bytes.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ');
  return `starts with ${head}`;
}

/**
 * Parses and validates the header without decoding pixels. Throws `name: ...` for an unknown
 * format, a truncated or structurally broken file, or dimensions over `limits`.
 */
export function readImageHeader(
  bytes: Uint8Array,
  name: string,
  limits: ImageLimits = DEFAULT_IMAGE_LIMITS,
): ImageHeader {
  const format = sniffImageFormat(bytes);
  if (!format) throw new Error(`${name}: not a PNG or JPEG (${describeStart(bytes)})`);
  const { width, height, tooShort } = format === 'png' ? pngHeader(bytes, name) : jpegHeader(bytes, name);
  if (width <= 0 || height <= 0) throw new Error(`${name}: image has zero size (${width}x${height})`);
  if (width > limits.maxWidth || height > limits.maxHeight || width * height > limits.maxPixels) {
    throw new Error(
      `${name}: ${width}x${height} exceeds the image limit (${limits.maxWidth}x${limits.maxHeight}, ` +
        `${limits.maxPixels / 1e6} megapixels)`,
    );
  }
  if (tooShort) throw new Error(`${name}: ${tooShort}`);
  return { format, width, height };
}

const PNG_DEPTHS: Record<number, number[]> = { 0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16] };

interface SizedHeader {
  width: number;
  height: number;
  /** Set when the file is too short to hold the claimed size (checked after the limits). */
  tooShort?: string;
}

function pngHeader(b: Uint8Array, name: string): SizedHeader & { raw: number } {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const type = (at: number) => String.fromCharCode(b[at], b[at + 1], b[at + 2], b[at + 3]);
  if (b.length < 33) throw new Error(`${name}: truncated PNG (${b.length} bytes, no complete IHDR)`);
  if (type(12) !== 'IHDR' || view.getUint32(8) !== 13) throw new Error(`${name}: PNG does not start with an IHDR chunk`);
  const width = view.getUint32(16);
  const height = view.getUint32(20);
  const depth = b[24];
  const colorType = b[25];
  if (!(PNG_DEPTHS[colorType] ?? []).includes(depth)) {
    throw new Error(`${name}: PNG has an invalid colour type ${colorType} / bit depth ${depth}`);
  }
  // Walk the chunk list: every chunk must fit in the file and the list must reach IEND.
  let at = 8;
  let idat = 0;
  for (;;) {
    if (at + 12 > b.length) throw new Error(`${name}: truncated PNG (chunk list ends at byte ${at} without IEND)`);
    const len = view.getUint32(at);
    const t = type(at + 4);
    if (len > 0x7fffffff || at + 12 + len > b.length) {
      throw new Error(`${name}: truncated PNG (chunk ${t} at byte ${at} needs ${len} bytes, ${b.length - at - 12} remain)`);
    }
    if (t === 'IDAT') idat += len;
    if (t === 'IEND') break;
    at += 12 + len;
  }
  if (!idat) throw new Error(`${name}: PNG has no image data (no IDAT chunk)`);
  const raw = pngRawBytes(width, height, PNG_CHANNELS[colorType] * depth, b[28] === 1);
  const tooShort = raw > idat * 1032 ? `truncated PNG (${idat} bytes of image data cannot hold ${width}x${height})` : undefined;
  return { width, height, raw, tooShort };
}

const PNG_CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
const ADAM7 = [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2]];

/** Bytes the IDAT stream inflates to: a filter byte plus packed samples per row of each pass. */
function pngRawBytes(width: number, height: number, bitsPerPixel: number, interlaced: boolean): number {
  const rows = (w: number, h: number) => (w > 0 && h > 0 ? h * (1 + Math.ceil((w * bitsPerPixel) / 8)) : 0);
  if (!interlaced) return rows(width, height);
  return ADAM7.reduce((sum, [x0, y0, dx, dy]) => sum + rows(Math.ceil((width - x0) / dx), Math.ceil((height - y0) / dy)), 0);
}

/** The concatenated IDAT payload (of a chunk list that pngHeader has already walked). */
function pngIdat(b: Uint8Array): Buffer {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const parts: Uint8Array[] = [];
  for (let at = 8; ; ) {
    const len = view.getUint32(at);
    const t = String.fromCharCode(b[at + 4], b[at + 5], b[at + 6], b[at + 7]);
    if (t === 'IEND') return Buffer.concat(parts);
    if (t === 'IDAT') parts.push(b.subarray(at + 8, at + 8 + len));
    at += 12 + len;
  }
}

function jpegHeader(b: Uint8Array, name: string): SizedHeader {
  let size: { width: number; height: number } | undefined;
  let at = 2;
  const truncated = () => new Error(`${name}: truncated JPEG (no end-of-image marker; ${b.length} bytes)`);
  for (;;) {
    if (at + 1 >= b.length) throw truncated();
    if (b[at] !== 0xff) { at++; continue; } // stray bytes before a marker: skip them, as libjpeg does
    const marker = b[at + 1];
    if (marker === 0xff) { at += 1; continue; } // fill byte
    if (marker === 0xd9) break; // EOI
    if ((marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) { at += 2; continue; }
    if (at + 4 > b.length) throw truncated();
    const len = (b[at + 2] << 8) | b[at + 3];
    if (len < 2 || at + 2 + len > b.length) throw truncated();
    const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isSof && !size) {
      if (len < 8) throw new Error(`${name}: corrupt JPEG (short frame header)`);
      const height = (b[at + 5] << 8) | b[at + 6];
      const width = (b[at + 7] << 8) | b[at + 8];
      const comps = b[at + 9];
      if (height === 0) throw new Error(`${name}: JPEG with the height in a DNL marker is not supported`);
      if (![1, 3, 4].includes(comps)) throw new Error(`${name}: JPEG with ${comps} colour components is not supported`);
      if (![0xc0, 0xc1, 0xc2].includes(marker)) {
        throw new Error(`${name}: JPEG coding process SOF${marker - 0xc0} is not supported (baseline and progressive are)`);
      }
      size = { width, height };
    }
    at += 2 + len;
    if (marker === 0xda) {
      // Entropy-coded data: runs to the next marker that is not a stuffed 0xff00 or a restart.
      while (at + 1 < b.length && !(b[at] === 0xff && b[at + 1] !== 0 && (b[at + 1] < 0xd0 || b[at + 1] > 0xd7))) at++;
    }
  }
  if (!size) throw new Error(`${name}: JPEG has no frame header (SOF marker)`);
  const blocks = Math.ceil(size.width / 8) * Math.ceil(size.height / 8);
  const tooShort = blocks > b.length * 8 ? `truncated JPEG (${b.length} bytes cannot hold ${size.width}x${size.height})` : undefined;
  return { ...size, tooShort };
}

/** Decodes PNG or JPEG bytes to RGB after checking the header against `limits`. */
export function decodeImage(
  bytes: Uint8Array,
  name: string,
  limits: ImageLimits = DEFAULT_IMAGE_LIMITS,
): RgbImage {
  const header = readImageHeader(bytes, name, limits);
  const { width, height } = header;
  let rgba: Uint8Array;
  let channels: number;
  try {
    if (header.format === 'png') {
      // Inflate once, capped at the exact size: pngjs zero-fills missing rows and does not cap
      // the output of interlaced images, so short or oversized image data is caught here.
      const raw = pngHeader(bytes, name).raw;
      let got: number | string;
      try {
        got = inflateSync(pngIdat(bytes), { maxOutputLength: Math.max(raw, 1) }).length;
      } catch (err) {
        if ((err as { code?: string }).code !== 'ERR_BUFFER_TOO_LARGE') throw err;
        got = `more than ${raw}`;
      }
      if (got !== raw) throw new Error(`image data inflates to ${got} bytes, ${width}x${height} needs ${raw}`);
      const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      rgba = PNG.sync.read(buf).data;
      channels = 4;
    } else {
      const megapixels = (header.width * header.height) / 1e6;
      rgba = jpeg.decode(bytes, {
        useTArray: true,
        formatAsRGBA: false,
        tolerantDecoding: false,
        maxResolutionInMP: Math.max(1, Math.ceil(megapixels)),
        // Component planes plus output: well under 16 bytes per pixel.
        maxMemoryUsageInMB: Math.max(64, Math.ceil(megapixels * 16)),
      }).data;
      channels = 3;
    }
  } catch (err) {
    const what = header.format === 'png' ? 'PNG' : 'JPEG';
    throw new Error(`${name}: corrupt ${what} data (${(err as Error).message})`);
  }
  if (rgba.length !== width * height * channels) {
    throw new Error(`${name}: decoder returned ${rgba.length} bytes for ${width}x${height}`);
  }
  if (channels === 3) return { width, height, data: rgba };
  const data = new Uint8Array(width * height * 3);
  for (let i = 0, j = 0; j < data.length; i += 4, j += 3) {
    data[j] = rgba[i];
    data[j + 1] = rgba[i + 1];
    data[j + 2] = rgba[i + 2];
  }
  return { width, height, data };
}

/** Replicates one grey channel into RGB. */
export function greyToRgb(grey: Uint8Array, width: number, height: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0, j = 0; i < grey.length; i++, j += 3) {
    data[j] = data[j + 1] = data[j + 2] = grey[i];
  }
  return { width, height, data };
}

/** Encodes an RGB image as an 8-bit RGB PNG. */
export function encodePng(image: RgbImage): Buffer {
  const { width, height, data } = image;
  if (data.length !== width * height * 3) {
    throw new Error(`encodePng: ${data.length} bytes do not hold a ${width}x${height} RGB image`);
  }
  const png = new PNG({ width, height });
  for (let i = 0, j = 0; i < data.length; i += 3, j += 4) {
    png.data[j] = data[i];
    png.data[j + 1] = data[i + 1];
    png.data[j + 2] = data[i + 2];
    png.data[j + 3] = 255;
  }
  return PNG.sync.write(png, { colorType: 2, inputColorType: 6, inputHasAlpha: true });
}
