import { expect } from 'chai';
import jpeg from 'jpeg-js';
import { decodeImage, encodePng, readImageHeader, sniffImageFormat } from '../../src/data/image.js';
import { greyJpeg, pattern, rawPng, type RawPng } from './fixtures.js';

const u8 = (...v: number[]) => Uint8Array.from(v);
const be16 = (...v: number[]) => Uint8Array.from(v.flatMap((x) => [x >> 8, x & 255]));

describe('decodeImage png', () => {
  const cases: { name: string; png: Omit<RawPng, 'width' | 'height'>; rgb: number[] }[] = [
    { name: 'grey 8-bit', png: { colorType: 0, bitDepth: 8, rows: [u8(0, 128, 255)] }, rgb: [0, 0, 0, 128, 128, 128, 255, 255, 255] },
    { name: 'grey 1-bit', png: { colorType: 0, bitDepth: 1, rows: [u8(0b10100000)] }, rgb: [255, 255, 255, 0, 0, 0, 255, 255, 255] },
    { name: 'grey 16-bit', png: { colorType: 0, bitDepth: 16, rows: [be16(0, 0x8080, 0xffff)] }, rgb: [0, 0, 0, 128, 128, 128, 255, 255, 255] },
    { name: 'grey+alpha', png: { colorType: 4, bitDepth: 8, rows: [u8(10, 0, 200, 255, 7, 9)] }, rgb: [10, 10, 10, 200, 200, 200, 7, 7, 7] },
    { name: 'rgb 8-bit', png: { colorType: 2, bitDepth: 8, rows: [u8(1, 2, 3, 4, 5, 6, 7, 8, 9)] }, rgb: [1, 2, 3, 4, 5, 6, 7, 8, 9] },
    { name: 'rgb 16-bit', png: { colorType: 2, bitDepth: 16, rows: [be16(0xffff, 0, 0x8080, 0, 0, 0, 0x0101, 0x0202, 0x0303)] }, rgb: [255, 0, 128, 0, 0, 0, 1, 2, 3] },
    { name: 'rgba drops alpha', png: { colorType: 6, bitDepth: 8, rows: [u8(1, 2, 3, 0, 4, 5, 6, 128, 7, 8, 9, 255)] }, rgb: [1, 2, 3, 4, 5, 6, 7, 8, 9] },
    { name: 'palette 8-bit', png: { colorType: 3, bitDepth: 8, rows: [u8(2, 0, 1)], palette: [255, 0, 0, 0, 255, 0, 0, 0, 255] }, rgb: [0, 0, 255, 255, 0, 0, 0, 255, 0] },
    { name: 'palette 4-bit', png: { colorType: 3, bitDepth: 4, rows: [u8(0x20, 0x10)], palette: [255, 0, 0, 0, 255, 0, 0, 0, 255] }, rgb: [0, 0, 255, 255, 0, 0, 0, 255, 0] },
  ];
  for (const c of cases) {
    it(`3x1 ${c.name}`, () => {
      const im = decodeImage(rawPng({ width: 3, height: 1, ...c.png }), 'a.png');
      expect([im.width, im.height]).to.deep.equal([3, 1]);
      expect(Array.from(im.data)).to.deep.equal(c.rgb);
    });
  }

  it('encodePng round-trips an RGB image', () => {
    const im = pattern(5, 4, 3);
    const back = decodeImage(encodePng(im), 'round.png');
    expect(back).to.deep.include({ width: 5, height: 4 });
    expect(Buffer.from(back.data).equals(Buffer.from(im.data))).to.equal(true);
  });

  it('format comes from the magic bytes, not the extension', () => {
    const bytes = encodePng(pattern(2, 2));
    expect(sniffImageFormat(bytes)).to.equal('png');
    expect(decodeImage(bytes, 'photo.jpg').width).to.equal(2);
    expect(sniffImageFormat(greyJpeg())).to.equal('jpeg');
  });
});

describe('decodeImage jpeg', () => {
  it('baseline RGB (jpeg-js encoded) decodes close to the source', () => {
    const rgba = Buffer.alloc(16 * 8 * 4, 255);
    for (let i = 0; i < 16 * 8; i++) for (let k = 0; k < 3; k++) rgba[i * 4 + k] = (i % 16) * 16 + k * 8;
    const im = decodeImage(jpeg.encode({ width: 16, height: 8, data: rgba }, 100).data, 'x.jpeg');
    expect([im.width, im.height, im.data.length]).to.deep.equal([16, 8, 16 * 8 * 3]);
    let maxErr = 0;
    for (let i = 0; i < 16 * 8; i++) for (let k = 0; k < 3; k++) maxErr = Math.max(maxErr, Math.abs(im.data[i * 3 + k] - rgba[i * 4 + k]));
    expect(maxErr).to.be.below(12);
  });

  for (const progressive of [false, true]) {
    it(`greyscale ${progressive ? 'progressive' : 'baseline'} expands to RGB`, () => {
      const im = decodeImage(greyJpeg({ progressive, dc: 37 }), 'grey.jpg');
      expect([im.width, im.height]).to.deep.equal([8, 8]);
      expect(new Set(im.data)).to.deep.equal(new Set([165]));
    });
  }
});

describe('decodeImage errors', () => {
  it('unknown format names the file and its first bytes', () => {
    expect(() => decodeImage(Buffer.from('GIF89a....'), 'photo.jpg')).to.throw(/^photo\.jpg: not a PNG or JPEG \(starts with 47 49 46 38/);
    expect(() => decodeImage(new Uint8Array(0), 'empty.png')).to.throw(/empty\.png: not a PNG or JPEG \(the file is empty\)/);
  });

  it('truncated PNG and JPEG are reported as truncated', () => {
    const png = encodePng(pattern(8, 8));
    expect(() => decodeImage(png.subarray(0, png.length - 20), 'cut.png')).to.throw(/cut\.png: truncated PNG/);
    expect(() => decodeImage(png.subarray(0, 20), 'cut2.png')).to.throw(/cut2\.png: truncated PNG/);
    const jpg = greyJpeg();
    expect(() => decodeImage(jpg.subarray(0, jpg.length - 3), 'cut.jpg')).to.throw(/cut\.jpg: truncated JPEG/);
    expect(() => decodeImage(jpg.subarray(0, 30), 'cut2.jpg')).to.throw(/cut2\.jpg: truncated JPEG/);
  });

  it('corrupt compressed PNG data names the file', () => {
    const png = Buffer.from(encodePng(pattern(8, 8)));
    const idat = png.indexOf('IDAT');
    png.fill(0x55, idat + 4, idat + 14);
    expect(() => decodeImage(png, 'bad.png')).to.throw(/^bad\.png: corrupt PNG data/);
  });

  it('oversized headers are rejected before decoding', () => {
    const huge = rawPng({ width: 1, height: 1, colorType: 0, bitDepth: 8, rows: [u8(0)], headerSize: [20000, 20000] });
    expect(() => decodeImage(huge, 'huge.png')).to.throw(/huge\.png: 20000x20000 exceeds the image limit/);
    const wide = greyJpeg({ size: [40000, 8] });
    expect(() => decodeImage(wide, 'wide.jpg')).to.throw(/wide\.jpg: 40000x8 exceeds/);
    const limits = { maxWidth: 100, maxHeight: 100, maxPixels: 50 };
    expect(() => decodeImage(greyJpeg(), 'mp.jpg', limits)).to.throw(/mp\.jpg: 8x8 exceeds/);
    expect(readImageHeader(greyJpeg(), 'ok.jpg')).to.deep.equal({ format: 'jpeg', width: 8, height: 8 });
  });

  it('invalid PNG colour type / depth pair', () => {
    const bad = rawPng({ width: 1, height: 1, colorType: 2, bitDepth: 4, rows: [u8(0)] });
    expect(() => decodeImage(bad, 'bad.png')).to.throw(/bad\.png: PNG has an invalid colour type 2 \/ bit depth 4/);
  });
});
