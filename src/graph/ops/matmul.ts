// Dense layers and pointwise (1x1, stride 1) convolutions as one matrix multiply:
// y = act(x · w + bias), x [m, k] (a pointwise conv's NHWC input viewed as [n*h*w, cin]),
// w [k, n] (Keras Dense kernel, or a [1, 1, cin, cout] conv kernel viewed flat).
// Backward: dz = dy * act'(y); dx = dz · w^T; dw = x^T · dz; db = column sums of dz.
import { defineOp } from '../op.js';
import { preActivationGrad } from './activation-grad.js';
import { shapeText, type Shape, type Tensor } from '../tensor.js';
import type { Activation } from '../../kernels/matmul.js';

interface MatmulAttrs {
  m: number;
  k: number;
  n: number;
  hasBias: boolean;
  act: Activation;
  outShape: Shape;
}

const matmulOp = defineOp<MatmulAttrs>({
  name: 'matmul',
  forward(e, [x, w, bias], a) {
    const y = e.empty(a.outShape, 'f32', 'matmul');
    const mm = e.kernels.matmul;
    // Some variants (sg8) are faster reading the filter transposed (1.1-1.2x for a whole inference
    // batch); the filter is small, so transpose it first. A recorded plan hoists the transpose of a
    // filter that only changes through versioned writes (frozen or folded weights, inference) and
    // replays it for one it rewrites (trained weights): see Engine.hoist.
    const wt = mm.prefersTransposedB(a.m, a.k)
      ? e.hoist([w], () => {
        const t = e.empty([a.n, a.k], 'f32', 'matmul/w^T');
        e.enqueue(mm.transpose({ rows: a.k, cols: a.n }, { x: w.buffer, y: t.buffer }));
        return t;
      })
      : undefined;
    e.enqueue(mm.matmul(
      { m: a.m, k: a.k, n: a.n, bias: a.hasBias, act: a.act, transB: !!wt },
      { a: x.buffer, b: (wt ?? w).buffer, bias: a.hasBias ? bias.buffer : undefined, c: y.buffer },
    ));
    wt?.dispose();
    return y;
  },
  saves: ([x, w], y, a) => (a.act !== 'none' ? [x, w, y] : [x, w]),
  backward(e, dy, [x, w, y], needs, a) {
    const { m, k, n } = a;
    const dz = preActivationGrad(e, dy, y, a.act);
    let dx: Tensor | undefined;
    let dw: Tensor | undefined;
    let db: Tensor | undefined;
    if (needs[0]) {
      dx = e.empty(x.shape, 'f32', 'matmul/dx');
      e.enqueue(e.kernels.matmul.dA({ m, k, n }, { dc: dz.buffer, b: w.buffer, da: dx.buffer }));
    }
    if (needs[1]) {
      dw = e.empty(w.shape, 'f32', 'matmul/dw');
      e.enqueue(e.kernels.matmul.dB({ m, k, n }, { a: x.buffer, dc: dz.buffer, db: dw.buffer }));
    }
    if (a.hasBias && needs[2]) {
      db = e.empty([n], 'f32', 'matmul/db');
      e.enqueue(...e.kernels.matmul.biasGrad({ m, n }, { dc: dz.buffer, db: db.buffer }));
    }
    dz.dispose();
    return [dx, dw, db];
  },
});

/** x [..., k] · w [k, n] (+ bias [n]) -> [..., n]. */
export function dense(x: Tensor, w: Tensor, bias?: Tensor, act: Activation = 'none'): Tensor {
  const k = x.shape[x.shape.length - 1];
  const n = w.shape[w.shape.length - 1];
  if (w.size !== k * n) throw new RangeError(`dense: kernel ${shapeText(w.shape)} does not fit input ${shapeText(x.shape)}`);
  if (bias && bias.size !== n) throw new RangeError(`dense: bias ${shapeText(bias.shape)}, expected [${n}]`);
  const m = x.size / k;
  return matmulOp(bias ? [x, w, bias] : [x, w], {
    m, k, n, hasBias: !!bias, act, outShape: [...x.shape.slice(0, -1), n],
  });
}

/** A 1x1 stride-1 convolution over NHWC, w [1, 1, cin, cout]. */
export function pointwiseConv2d(x: Tensor, w: Tensor, bias?: Tensor, act: Activation = 'none'): Tensor {
  if (x.shape.length !== 4 || w.shape.length !== 4 || w.shape[0] !== 1 || w.shape[1] !== 1 || w.shape[2] !== x.shape[3]) {
    throw new RangeError(`pointwiseConv2d: filter ${shapeText(w.shape)} does not fit input ${shapeText(x.shape)}`);
  }
  return dense(x, w, bias, act);
}
