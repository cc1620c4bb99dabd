// Conv2D and depthwise Conv2D (NHWC, Keras filter axes) with optional bias and fused activation.
// The kernels' gradients take dy with respect to the pre-activation output, so when an
// activation is fused, backward first applies its derivative using the saved output
// (relu: y > 0, relu6: 0 < y < 6 — the same sets as for the pre-activation value).
import { defineOp } from '../op.js';
import { preActivationGrad } from './activation-grad.js';
import type { Engine } from '../engine.js';
import { shapeText, type Tensor } from '../tensor.js';
import type { Activation, Padding } from '../../kernels/padding.js';
import type { BoundReduction } from '../../kernels/conv2d.js';

export interface ConvAttrs {
  stride?: number | readonly [number, number];
  padding?: Padding;
  activation?: Activation;
}

interface ConvKernelAttrs extends ConvAttrs {
  kind: 'conv2d' | 'depthwise';
  hasBias: boolean;
}

function kernelShape(x: Tensor, w: Tensor, a: ConvKernelAttrs) {
  const [n, h, wd, c] = x.shape;
  const [kh, kw, cin, cout] = w.shape;
  const base = { n, h, w: wd, kh, kw, stride: a.stride, padding: a.padding, activation: a.activation };
  return a.kind === 'conv2d' ? { ...base, cin, cout } : { ...base, c };
}

/** The reduction's scratch was made inside the op's binding, so the engine already owns it. */
function runReduction(e: Engine, r: BoundReduction): void {
  e.enqueue(...r.dispatches);
}

const convOp = defineOp<ConvKernelAttrs>({
  name: 'conv',
  forward(e, [x, w, bias], a) {
    const k = a.kind === 'conv2d' ? e.kernels.conv2d : e.kernels.depthwise;
    const shape = kernelShape(x, w, a);
    const g = a.kind === 'conv2d' ? e.kernels.conv2d.geometry(shape as never) : e.kernels.depthwise.geometry(shape as never);
    const cout = a.kind === 'conv2d' ? w.shape[3] : x.shape[3];
    const y = e.empty([x.shape[0], g.oh, g.ow, cout], 'f32', a.kind);
    e.enqueue(k.forward(shape as never, { x: x.buffer, w: w.buffer, bias: a.hasBias ? bias.buffer : undefined, y: y.buffer }));
    return y;
  },
  saves: ([x, w], y, a) => (a.activation && a.activation !== 'none' ? [x, w, y] : [x, w]),
  backward(e, dy, [x, w, y], needs, a) {
    const k = a.kind === 'conv2d' ? e.kernels.conv2d : e.kernels.depthwise;
    const shape = kernelShape(x, w, a) as never;
    const dz = preActivationGrad(e, dy, y, a.activation ?? 'none');
    let dx: Tensor | undefined;
    let dw: Tensor | undefined;
    let db: Tensor | undefined;
    if (needs[0]) {
      dx = e.empty(x.shape, 'f32', `${a.kind}/dx`);
      e.enqueue(k.dx(shape, { dy: dz.buffer, w: w.buffer, dx: dx.buffer }));
    }
    if (needs[1]) {
      dw = e.empty(w.shape, 'f32', `${a.kind}/dw`);
      runReduction(e, k.dw(shape, { x: x.buffer, dy: dz.buffer, dw: dw.buffer }));
    }
    if (a.hasBias && needs[2]) {
      db = e.empty([w.shape[a.kind === 'conv2d' ? 3 : 2]], 'f32', `${a.kind}/db`);
      runReduction(e, k.db(shape, { dy: dz.buffer, db: db.buffer }));
    }
    dz.dispose();
    return [dx, dw, db];
  },
});

function check(kind: string, x: Tensor, w: Tensor, bias: Tensor | undefined, cin: number, cout: number): void {
  if (x.shape.length !== 4) throw new RangeError(`${kind}: input must be NHWC, got ${shapeText(x.shape)}`);
  if (w.shape.length !== 4 || cin !== x.shape[3]) {
    throw new RangeError(`${kind}: filter ${shapeText(w.shape)} does not fit input ${shapeText(x.shape)}`);
  }
  if (bias && bias.size !== cout) throw new RangeError(`${kind}: bias ${shapeText(bias.shape)}, expected [${cout}]`);
}

/** x [n,h,w,cin], w [kh,kw,cin,cout], bias [cout]. */
export function conv2d(x: Tensor, w: Tensor, bias: Tensor | undefined, attrs: ConvAttrs = {}): Tensor {
  check('conv2d', x, w, bias, w.shape[2], w.shape[3]);
  return convOp(bias ? [x, w, bias] : [x, w], { ...attrs, kind: 'conv2d', hasBias: !!bias });
}

/** x [n,h,w,c], w [kh,kw,c,1], bias [c]. */
export function depthwiseConv2d(x: Tensor, w: Tensor, bias: Tensor | undefined, attrs: ConvAttrs = {}): Tensor {
  check('depthwise', x, w, bias, w.shape[2], w.shape[2]);
  if (w.shape[3] !== 1) throw new RangeError(`depthwise: only depth multiplier 1 is supported, got ${shapeText(w.shape)}`);
  return convOp(bias ? [x, w, bias] : [x, w], { ...attrs, kind: 'depthwise', hasBias: !!bias });
}
