// float64 CPU reference for src/wgsl/input.wgsl: TF resize_bilinear with half_pixel_centers
// (Keras Resizing), RandomFlip / RandomContrast with given choices, MobileNet preprocess_input.
import type { InputShape } from '../../src/kernels/input.js';

/** Bilinear resize, half-pixel centres, no antialias. bytes [n, hin, win, 3] -> [n, hout, wout, 3]. */
export function resize(s: InputShape, bytes: ArrayLike<number>): Float64Array {
  const out = new Float64Array(s.n * s.hout * s.wout * 3);
  const axis = (o: number, insz: number, outsz: number): [number, number, number] => {
    const src = ((o + 0.5) * insz) / outsz - 0.5;
    const fl = Math.floor(src);
    return [Math.max(fl, 0), Math.min(Math.ceil(src), insz - 1), src - fl];
  };
  for (let b = 0; b < s.n; b++) {
    for (let oy = 0; oy < s.hout; oy++) {
      const [y0, y1, fy] = axis(oy, s.hin, s.hout);
      for (let ox = 0; ox < s.wout; ox++) {
        const [x0, x1, fx] = axis(ox, s.win, s.wout);
        for (let c = 0; c < 3; c++) {
          const at = (y: number, x: number) => bytes[((b * s.hin + y) * s.win + x) * 3 + c];
          const top = at(y0, x0) + (at(y0, x1) - at(y0, x0)) * fx;
          const bottom = at(y1, x0) + (at(y1, x1) - at(y1, x0)) * fx;
          out[((b * s.hout + oy) * s.wout + ox) * 3 + c] = top + (bottom - top) * fy;
        }
      }
    }
  }
  return out;
}

export const preprocess = (x: Float64Array): Float64Array => x.map((v) => v / 127.5 - 1);

/** Per image and channel means over the spatial axes: [n, 3]. */
export function channelMeans(n: number, hw: number, x: Float64Array): Float64Array {
  const m = new Float64Array(n * 3);
  for (let i = 0; i < x.length; i++) m[Math.floor(i / (hw * 3)) * 3 + (i % 3)] += x[i] / hw;
  return m;
}

/** Resize -> flip -> RandomContrast (clip [0, 255]) -> preprocess, with the given choices. */
export function training(s: InputShape, bytes: ArrayLike<number>, choices: { flip: boolean; factor: number }[]): Float64Array {
  const r = resize(s, bytes);
  const hw = s.hout * s.wout;
  const flipped = new Float64Array(r.length);
  for (let b = 0; b < s.n; b++) {
    for (let y = 0; y < s.hout; y++) {
      for (let x = 0; x < s.wout; x++) {
        const sx = choices[b].flip ? s.wout - 1 - x : x;
        for (let c = 0; c < 3; c++) flipped[((b * s.hout + y) * s.wout + x) * 3 + c] = r[((b * s.hout + y) * s.wout + sx) * 3 + c];
      }
    }
  }
  const m = channelMeans(s.n, hw, flipped);
  return preprocess(flipped.map((v, i) => {
    const b = Math.floor(i / (hw * 3));
    const mean = m[b * 3 + (i % 3)];
    return Math.min(255, Math.max(0, (v - mean) * choices[b].factor + mean));
  }));
}
