// Softmax over the last axis.
import { defineOp } from '../op.js';
import type { Tensor } from '../tensor.js';

const softmaxOp = defineOp({
  name: 'softmax',
  forward(e, [x]) {
    const cols = x.shape[x.shape.length - 1];
    const y = e.empty(x.shape, 'f32', 'softmax');
    e.enqueue(e.kernels.softmax.forward(x.size / cols, cols, x.buffer, y.buffer));
    return y;
  },
  saves: (_x, y) => [y],
  backward(e, dy, [y], needs) {
    if (!needs[0]) return [undefined];
    const cols = y.shape[y.shape.length - 1];
    const dx = e.empty(y.shape, 'f32', 'softmax/dx');
    e.enqueue(e.kernels.softmax.backward(y.size / cols, cols, y.buffer, dy.buffer, dx.buffer));
    return [dx];
  },
});

export const softmax = (x: Tensor): Tensor => softmaxOp([x], undefined);
