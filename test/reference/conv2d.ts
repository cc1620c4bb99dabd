// float64 CPU references for src/wgsl/conv2d.wgsl. The gradients are written as the adjoint of
// the forward loop (scatter), independently of the GPU kernels' gather formulation.
import { convGeometry, type Padding, type Activation } from '../../src/kernels/padding.js';

export interface Conv2dRefShape {
  n: number; h: number; w: number; cin: number; cout: number; kh: number; kw: number;
  stride?: number | readonly [number, number];
  padding?: Padding;
  activation?: Activation;
}

type Nums = ArrayLike<number>;

/** Calls fn(yi, xi, wi) for every (output, input, filter) triple that meets inside the input. */
function forEachTap(s: Conv2dRefShape, fn: (yi: number, xi: number, wi: number, co: number) => void): void {
  const g = convGeometry('conv2d reference', s.h, s.w, s.kh, s.kw, s.stride ?? 1, s.padding ?? 'valid');
  for (let n = 0; n < s.n; n++) {
    for (let oy = 0; oy < g.oh; oy++) {
      for (let ox = 0; ox < g.ow; ox++) {
        const yb = ((n * g.oh + oy) * g.ow + ox) * s.cout;
        for (let ky = 0; ky < s.kh; ky++) {
          const iy = oy * g.sh + ky - g.top;
          if (iy < 0 || iy >= s.h) continue;
          for (let kx = 0; kx < s.kw; kx++) {
            const ix = ox * g.sw + kx - g.left;
            if (ix < 0 || ix >= s.w) continue;
            for (let ci = 0; ci < s.cin; ci++) {
              const xi = ((n * s.h + iy) * s.w + ix) * s.cin + ci;
              const wb = ((ky * s.kw + kx) * s.cin + ci) * s.cout;
              for (let co = 0; co < s.cout; co++) fn(yb + co, xi, wb + co, co);
            }
          }
        }
      }
    }
  }
}

export function outputSize(s: Conv2dRefShape): [oh: number, ow: number] {
  const g = convGeometry('conv2d reference', s.h, s.w, s.kh, s.kw, s.stride ?? 1, s.padding ?? 'valid');
  return [g.oh, g.ow];
}

export function activate(y: Float64Array, act: Activation = 'none'): Float64Array {
  if (act === 'relu') return y.map((v) => Math.max(v, 0));
  if (act === 'relu6') return y.map((v) => Math.min(Math.max(v, 0), 6));
  return y;
}

/** y = act(conv(x, w) + bias), [n, oh, ow, cout]. */
export function conv2d(s: Conv2dRefShape, x: Nums, w: Nums, bias?: Nums): Float64Array {
  const [oh, ow] = outputSize(s);
  const y = new Float64Array(s.n * oh * ow * s.cout);
  if (bias) for (let i = 0; i < y.length; i++) y[i] = bias[i % s.cout];
  forEachTap(s, (yi, xi, wi) => { y[yi] += x[xi] * w[wi]; });
  return activate(y, s.activation);
}

/** dL/dx for dy = dL/d(pre-activation y), [n, h, w, cin]. */
export function conv2dDx(s: Conv2dRefShape, dy: Nums, w: Nums): Float64Array {
  const dx = new Float64Array(s.n * s.h * s.w * s.cin);
  forEachTap(s, (yi, xi, wi) => { dx[xi] += dy[yi] * w[wi]; });
  return dx;
}

/** dL/dw, [kh, kw, cin, cout]. */
export function conv2dDw(s: Conv2dRefShape, x: Nums, dy: Nums): Float64Array {
  const dw = new Float64Array(s.kh * s.kw * s.cin * s.cout);
  forEachTap(s, (yi, xi, wi) => { dw[wi] += x[xi] * dy[yi]; });
  return dw;
}

/** dL/dbias, [cout]. */
export function conv2dDb(s: Conv2dRefShape, dy: Nums): Float64Array {
  const db = new Float64Array(s.cout);
  for (let i = 0; i < dy.length; i++) db[i % s.cout] += dy[i];
  return db;
}
