// float64 CPU references for src/wgsl/depthwise.wgsl (channel multiplier 1). The gradients are
// the adjoint of the forward loop (scatter), independent of the GPU kernels' gather form.
import { convGeometry, type Padding, type Activation } from '../../src/kernels/padding.js';
import { activate } from './conv2d.js';

export interface DepthwiseRefShape {
  n: number; h: number; w: number; c: number; kh: number; kw: number;
  stride?: number | readonly [number, number];
  padding?: Padding;
  activation?: Activation;
}

type Nums = ArrayLike<number>;

export function outputSize(s: DepthwiseRefShape): [oh: number, ow: number] {
  const g = convGeometry('depthwise reference', s.h, s.w, s.kh, s.kw, s.stride ?? 1, s.padding ?? 'valid');
  return [g.oh, g.ow];
}

/** Calls fn(yi, xi, wi) for every (output, input, filter) element triple that meets. */
function forEachTap(s: DepthwiseRefShape, fn: (yi: number, xi: number, wi: number) => void): void {
  const g = convGeometry('depthwise reference', s.h, s.w, s.kh, s.kw, s.stride ?? 1, s.padding ?? 'valid');
  for (let n = 0; n < s.n; n++) {
    for (let oy = 0; oy < g.oh; oy++) {
      for (let ox = 0; ox < g.ow; ox++) {
        const yb = ((n * g.oh + oy) * g.ow + ox) * s.c;
        for (let ky = 0; ky < s.kh; ky++) {
          const iy = oy * g.sh + ky - g.top;
          if (iy < 0 || iy >= s.h) continue;
          for (let kx = 0; kx < s.kw; kx++) {
            const ix = ox * g.sw + kx - g.left;
            if (ix < 0 || ix >= s.w) continue;
            const xb = ((n * s.h + iy) * s.w + ix) * s.c;
            const wb = (ky * s.kw + kx) * s.c;
            for (let ch = 0; ch < s.c; ch++) fn(yb + ch, xb + ch, wb + ch);
          }
        }
      }
    }
  }
}

/** y = act(depthwise(x, w) + bias), [n, oh, ow, c]. */
export function depthwise(s: DepthwiseRefShape, x: Nums, w: Nums, bias?: Nums): Float64Array {
  const [oh, ow] = outputSize(s);
  const y = new Float64Array(s.n * oh * ow * s.c);
  if (bias) for (let i = 0; i < y.length; i++) y[i] = bias[i % s.c];
  forEachTap(s, (yi, xi, wi) => { y[yi] += x[xi] * w[wi]; });
  return activate(y, s.activation);
}

/** dL/dx for dy = dL/d(pre-activation y), [n, h, w, c]. */
export function depthwiseDx(s: DepthwiseRefShape, dy: Nums, w: Nums): Float64Array {
  const dx = new Float64Array(s.n * s.h * s.w * s.c);
  forEachTap(s, (yi, xi, wi) => { dx[xi] += dy[yi] * w[wi]; });
  return dx;
}

/** dL/dw, [kh, kw, c, 1]. */
export function depthwiseDw(s: DepthwiseRefShape, x: Nums, dy: Nums): Float64Array {
  const dw = new Float64Array(s.kh * s.kw * s.c);
  forEachTap(s, (yi, xi, wi) => { dw[wi] += x[xi] * dy[yi]; });
  return dw;
}

/** dL/dbias, [c]. */
export function depthwiseDb(s: DepthwiseRefShape, dy: Nums): Float64Array {
  const db = new Float64Array(s.c);
  for (let i = 0; i < dy.length; i++) db[i % s.c] += dy[i];
  return db;
}
