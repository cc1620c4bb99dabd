// Zero padding of NHWC tensors (Keras ZeroPadding2D); backward crops.
import { defineOp } from '../op.js';
import { shapeText, type Tensor } from '../tensor.js';
import type { PadShape } from '../../kernels/pad.js';

const padOp = defineOp<PadShape>({
  name: 'zero_pad',
  forward(e, [x], s) {
    const y = e.empty([s.n, s.h + s.top + s.bottom, s.w + s.left + s.right, s.c], 'f32', 'zero_pad');
    e.enqueue(e.kernels.pad.forward(s, x.buffer, y.buffer));
    return y;
  },
  backward(e, dy, _saved, needs, s) {
    if (!needs[0]) return [undefined];
    const dx = e.empty([s.n, s.h, s.w, s.c], 'f32', 'zero_pad/dx');
    e.enqueue(e.kernels.pad.dx(s, dy.buffer, dx.buffer));
    return [dx];
  },
});

/** Pads H by [top, bottom] and W by [left, right] with zeros. */
export function zeroPad(x: Tensor, [top, bottom]: readonly [number, number], [left, right]: readonly [number, number]): Tensor {
  if (x.shape.length !== 4) throw new RangeError(`zeroPad: expected NHWC, got ${shapeText(x.shape)}`);
  const [n, h, w, c] = x.shape;
  return padOp([x], { n, h, w, c, top, bottom, left, right });
}
