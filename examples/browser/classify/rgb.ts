// The page's own image helpers, shared with test/browser/classify.test.ts: RGBA pixels (canvas
// getImageData) to packed RGB, and a fingerprint of RGB bytes so a test can confirm the browser
// decoded exactly the bytes the Node decoder did. No DOM or Node APIs here.

/** Drops the alpha channel of RGBA pixels (not composited: the Node decoder does the same). */
export function rgbaToRgb(rgba: Uint8Array | Uint8ClampedArray, width: number, height: number): Uint8Array {
  const n = width * height;
  if (rgba.length !== n * 4) throw new RangeError(`rgbaToRgb: ${rgba.length} bytes for ${width}x${height} RGBA`);
  const out = new Uint8Array(n * 3);
  for (let i = 0, j = 0; i < n * 4; i += 4, j += 3) {
    out[j] = rgba[i];
    out[j + 1] = rgba[i + 1];
    out[j + 2] = rgba[i + 2];
  }
  return out;
}

/** FNV-1a (32-bit) of the bytes, as 8 hex digits: equal bytes give equal text. */
export function rgbChecksum(bytes: ArrayLike<number>): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) {
    h ^= bytes[i];
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}
