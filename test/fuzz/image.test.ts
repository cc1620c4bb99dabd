// Fuzz: PNG and JPEG decoding (src/data/image.ts) on mutated valid images, plus hand-made
// hostile headers (2^31 x 2^31 images, dimensions inside the limits on a few bytes of data).

import { expect } from 'chai';
import jpeg from 'jpeg-js';
import { deflateSync, inflateSync } from 'node:zlib';
import { DEFAULT_IMAGE_LIMITS, decodeImage, encodePng, type RgbImage } from '../../src/data/image.js';
import { greyJpeg, pattern, rawPng } from '../data/fixtures.js';
import { expectResult, FUZZ_CASES, fuzzAndReport } from './harness.js';
import { choose, mutate } from './mutate.js';

const u8 = (...v: number[]) => Uint8Array.from(v);

function checkImage(im: RgbImage): void {
  const { width, height, data } = im;
  expectResult(Number.isInteger(width) && width > 0 && width <= DEFAULT_IMAGE_LIMITS.maxWidth, `width ${width}`);
  expectResult(Number.isInteger(height) && height > 0 && height <= DEFAULT_IMAGE_LIMITS.maxHeight, `height ${height}`);
  expectResult(data instanceof Uint8Array && data.length === width * height * 3, `${data.length} bytes for ${width}x${height}`);
}

/** Offsets of every PNG chunk length field, and IHDR's width and height. */
function pngFields(b: Uint8Array): number[] {
  const out = [16, 20];
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  for (let at = 8; at + 12 <= b.length; at += 12 + dv.getUint32(at)) out.push(at);
  return out;
}

/** Offsets of every JPEG segment length, and the frame header's height and width. */
function jpegFields(b: Uint8Array): number[] {
  const out: number[] = [];
  for (let at = 2; at + 4 <= b.length && b[at] === 0xff && b[at + 1] !== 0xda; at += 2 + ((b[at + 2] << 8) | b[at + 3])) {
    out.push(at + 2);
    if (b[at + 1] >= 0xc0 && b[at + 1] <= 0xc2) out.push(at + 5, at + 7);
  }
  return out;
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

/** Rewrites every chunk's CRC, so a mutant gets past pngjs's CRC check into the decoder. */
function fixPngCrcs(b: Uint8Array): Uint8Array {
  const out = b.slice();
  const dv = new DataView(out.buffer);
  for (let at = 8; at + 12 <= out.length; ) {
    const len = dv.getUint32(at);
    if (at + 12 + len > out.length) break;
    let c = 0xffffffff;
    for (let i = at + 4; i < at + 8 + len; i++) c = CRC_TABLE[(c ^ out[i]) & 0xff] ^ (c >>> 8);
    dv.setUint32(at + 8 + len, (c ^ 0xffffffff) >>> 0);
    at += 12 + len;
  }
  return out;
}

/** The seed with its IDAT payload replaced by the deflated mutant of its inflated payload. */
function mutateScanlines(seed: Uint8Array, r: () => number): { bytes: Uint8Array; ops: string[] } {
  const dv = new DataView(seed.buffer, seed.byteOffset, seed.byteLength);
  let at = 8;
  while (String.fromCharCode(...seed.subarray(at + 4, at + 8)) !== 'IDAT') at += 12 + dv.getUint32(at);
  const len = dv.getUint32(at);
  const raw = inflateSync(seed.subarray(at + 8, at + 8 + len));
  const m = mutate(raw, r);
  const idat = deflateSync(m.bytes);
  const out = new Uint8Array(seed.length - len + idat.length);
  out.set(seed.subarray(0, at));
  new DataView(out.buffer).setUint32(at, idat.length);
  out.set(seed.subarray(at + 4, at + 8), at + 4);
  out.set(idat, at + 8);
  out.set(seed.subarray(at + 12 + len), at + 12 + idat.length);
  return { bytes: fixPngCrcs(out), ops: ['scanlines', ...m.ops] };
}

const pngSeeds = [
  Uint8Array.from(encodePng(pattern(7, 5, 1))),
  Uint8Array.from(rawPng({ width: 3, height: 2, colorType: 0, bitDepth: 8, rows: [u8(0, 128, 255), u8(1, 2, 3)] })),
  Uint8Array.from(rawPng({ width: 3, height: 1, colorType: 3, bitDepth: 4, rows: [u8(0x20, 0x10)], palette: [255, 0, 0, 0, 255, 0, 0, 0, 255] })),
  Uint8Array.from(rawPng({ width: 2, height: 2, colorType: 6, bitDepth: 16, rows: [new Uint8Array(16).fill(9), new Uint8Array(16).fill(200)] })),
  Uint8Array.from(rawPng({ width: 4, height: 1, colorType: 4, bitDepth: 8, rows: [u8(1, 2, 3, 4, 5, 6, 7, 8)] })),
];

function rgbJpeg(w: number, h: number): Uint8Array {
  const rgba = Buffer.alloc(w * h * 4, 255);
  for (let i = 0; i < w * h; i++) for (let k = 0; k < 3; k++) rgba[i * 4 + k] = (i * 7 + k * 50) & 255;
  return Uint8Array.from(jpeg.encode({ width: w, height: h, data: rgba }, 75).data);
}

const jpegSeeds = [greyJpeg(), greyJpeg({ progressive: true }), greyJpeg({ size: [16, 8] }), rgbJpeg(16, 16), rgbJpeg(9, 5)];

describe('fuzz: images', function () {
  this.timeout(0);

  it(`PNG: ${3 * FUZZ_CASES} mutants of 5 seed files`, async () => {
    await fuzzAndReport('png', 3 * FUZZ_CASES, (r) => {
      const seed = choose(r, pngSeeds);
      const how = r();
      let { bytes, ops } = how < 1 / 3 ? mutateScanlines(seed, r) : mutate(seed, r, { fields: pngFields(seed), donors: pngSeeds });
      if (how > 2 / 3) {
        bytes = fixPngCrcs(bytes);
        ops = [...ops, 'crc'];
      }
      return { file: 'fuzz.png', ops, run: () => decodeImage(bytes, 'fuzz.png'), check: checkImage };
    });
  });

  it(`JPEG: ${3 * FUZZ_CASES} mutants of 5 seed files`, async () => {
    await fuzzAndReport('jpeg', 3 * FUZZ_CASES, (r) => {
      const seed = choose(r, jpegSeeds);
      const { bytes, ops } = mutate(seed, r, { fields: jpegFields(seed), donors: jpegSeeds });
      return { file: 'fuzz.jpg', ops, run: () => decodeImage(bytes, 'fuzz.jpg'), check: checkImage };
    });
  });
});

/** A PNG from IHDR fields and an IDAT payload, CRCs filled in. */
function pngOf(width: number, height: number, depth: number, colorType: number, interlace: number, idat: Uint8Array): Uint8Array {
  const chunk = (type: string, data: Uint8Array) => {
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    out.write(type, 4, 'latin1');
    out.set(data, 8);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([depth, colorType, 0, 0, interlace], 8);
  const sig = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return fixPngCrcs(Buffer.concat([sig, chunk('IHDR', ihdr), chunk('IDAT', idat), chunk('IEND', new Uint8Array(0))]));
}

describe('fuzz: hostile image headers', () => {
  const timed = (f: () => unknown): number => {
    const t0 = performance.now();
    try {
      f();
    } catch {
      /* the caller checks the error separately */
    }
    return performance.now() - t0;
  };

  it('PNG IHDR claiming 2^31 x 2^31 and 2^32-1 x 1 is refused before decoding', () => {
    for (const [w, h] of [[2 ** 31, 2 ** 31], [2 ** 32 - 1, 1], [1, 2 ** 32 - 1], [16384, 16384]]) {
      const png = rawPng({ width: 1, height: 1, colorType: 2, bitDepth: 8, rows: [u8(1, 2, 3)], headerSize: [w, h] });
      expect(() => decodeImage(png, 'huge.png')).to.throw(/^huge\.png: .*exceeds the image limit/);
      expect(timed(() => decodeImage(png, 'huge.png'))).to.be.below(50);
    }
  });

  // Regression: 69 bytes claiming 10000x10000 (inside the limits) were decoded into 1.2 GB of
  // zeros in 4 s (16000x6000 RGBA16: 25 s); now refused from the header.
  it('PNG: a few bytes of image data claiming 10000x10000 are refused before inflating', () => {
    const png = rawPng({ width: 1, height: 1, colorType: 2, bitDepth: 8, rows: [u8(1, 2, 3)], headerSize: [10000, 10000] });
    expect(() => decodeImage(png, 'tiny.png')).to.throw(/^tiny\.png: truncated PNG \(12 bytes of image data cannot hold 10000x10000\)/);
    expect(timed(() => decodeImage(png, 'tiny.png'))).to.be.below(50);
  });

  // Regression: pngjs zero-filled the 49 missing rows and the image was accepted.
  it('PNG: image data shorter than the claimed rows is refused, not zero-filled', () => {
    const png = rawPng({ width: 4, height: 1, colorType: 0, bitDepth: 8, rows: [u8(1, 2, 3, 4)], headerSize: [4, 50] });
    expect(() => decodeImage(png, 'short.png')).to.throw(/^short\.png: corrupt PNG data \(image data inflates to 5 bytes, 4x50 needs 250\)/);
  });

  // Regression: pngjs inflates interlaced images without an output cap, so this 1x1 image of
  // 300 KB made it inflate 64 MiB before failing (deflate reaches 1032:1: a 1 MB file, 1 GiB).
  it('PNG: an interlaced 1x1 image whose data inflates to 64 MiB is refused without inflating it', () => {
    const idat = deflateSync(Buffer.concat([u8(0, 1, 2, 3), Buffer.alloc(64 << 20)]), { level: 1 });
    const png = pngOf(1, 1, 8, 2, 1, idat);
    expect(() => decodeImage(png, 'bomb.png')).to.throw(/^bomb\.png: corrupt PNG data \(image data inflates to more than 4 bytes/);
    expect(timed(() => decodeImage(png, 'bomb.png'))).to.be.below(100); // inflating it all: 250 ms
  });

  // Regression: 141 bytes claiming 10000x10000 made jpeg-js allocate about 1 GB for 5 s.
  it('JPEG: 141 bytes claiming 10000x10000 are refused from the header', () => {
    for (const progressive of [false, true]) {
      const jpg = greyJpeg({ size: [10000, 10000], progressive });
      expect(() => decodeImage(jpg, 'tiny.jpg')).to.throw(/^tiny\.jpg: truncated JPEG \(141 bytes cannot hold 10000x10000\)/);
      expect(timed(() => decodeImage(jpg, 'tiny.jpg'))).to.be.below(50);
    }
  });

  it('JPEG frame header claiming 65535 x 65535 is refused before decoding', () => {
    expect(() => decodeImage(greyJpeg({ size: [65535, 65535] }), 'huge.jpg')).to.throw(/^huge\.jpg: .*exceeds the image limit/);
  });
});
