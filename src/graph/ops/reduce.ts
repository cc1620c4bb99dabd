// Reductions to a scalar: sum and mean. Backward broadcasts the scalar gradient (on the GPU).
import { defineOp } from '../op.js';
import type { Shape, Tensor } from '../tensor.js';

const sumOp = defineOp<{ alpha: number; shape: Shape }>({
  name: 'sum',
  forward(e, [x], { alpha }) {
    const total = e.empty([1], 'f32', 'sum/total');
    const y = e.empty([1], 'f32', 'sum');
    const r = e.kernels.reduce.sum(x.size, x.buffer, total.buffer);
    e.enqueue(...r.dispatches, e.kernels.elementwise.scale(1, total.buffer, y.buffer, alpha));
    total.dispose();
    return y;
  },
  backward(e, dy, _saved, needs, { alpha, shape }) {
    if (!needs[0]) return [undefined];
    const dx = e.empty(shape, 'f32', 'sum/dx');
    e.enqueue(e.kernels.elementwise.broadcast(dx.size, dy.buffer, dx.buffer, alpha));
    return [dx];
  },
});

/** alpha * sum(x) as a one-element tensor. */
export const sum = (x: Tensor, alpha = 1): Tensor => sumOp([x], { alpha, shape: x.shape });
export const mean = (x: Tensor): Tensor => sumOp([x], { alpha: 1 / x.size, shape: x.shape });
