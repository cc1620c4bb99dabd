// float64 reference for zero padding (NHWC) and its gradient.
export function pad(x: ArrayLike<number>, [n, h, w, c]: number[], top: number, bottom: number, left: number, right: number): Float64Array {
  const oh = h + top + bottom;
  const ow = w + left + right;
  const y = new Float64Array(n * oh * ow * c);
  for (let b = 0; b < n; b++) for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) for (let ch = 0; ch < c; ch++) {
    y[((b * oh + i + top) * ow + j + left) * c + ch] = x[((b * h + i) * w + j) * c + ch];
  }
  return y;
}
export function padDx(dy: ArrayLike<number>, [n, h, w, c]: number[], top: number, bottom: number, left: number, right: number): Float64Array {
  const oh = h + top + bottom;
  const ow = w + left + right;
  const dx = new Float64Array(n * h * w * c);
  for (let b = 0; b < n; b++) for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) for (let ch = 0; ch < c; ch++) {
    dx[((b * h + i) * w + j) * c + ch] = dy[((b * oh + i + top) * ow + j + left) * c + ch];
  }
  return dx;
}
