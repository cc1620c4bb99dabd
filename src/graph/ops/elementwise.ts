// Element-wise ops: add, scale, ReLU, ReLU6, reshape (a view) and copy.
import { defineOp } from '../op.js';
import type { Engine } from '../engine.js';
import { Tensor, shapeText, type Shape } from '../tensor.js';

function sameShape(op: string, a: Tensor, b: Tensor): void {
  if (a.size !== b.size || a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) {
    throw new RangeError(`${op}: shapes differ: ${shapeText(a.shape)} and ${shapeText(b.shape)}`);
  }
}

function scaled(e: Engine, x: Tensor, alpha: number, label: string): Tensor {
  const y = e.empty(x.shape, 'f32', label);
  e.enqueue(e.kernels.elementwise.scale(x.size, x.buffer, y.buffer, alpha));
  return y;
}

/** alpha * a + beta * b */
const addOp = defineOp<{ alpha: number; beta: number }>({
  name: 'add',
  forward(e, [a, b], { alpha, beta }) {
    sameShape('add', a, b);
    const y = e.empty(a.shape, 'f32', 'add');
    e.enqueue(e.kernels.elementwise.add(a.size, a.buffer, b.buffer, y.buffer, alpha, beta));
    return y;
  },
  backward(e, dy, _saved, needs, { alpha, beta }) {
    return [needs[0] ? scaled(e, dy, alpha, 'add/da') : undefined, needs[1] ? scaled(e, dy, beta, 'add/db') : undefined];
  },
});

export const add = (a: Tensor, b: Tensor, alpha = 1, beta = 1): Tensor => addOp([a, b], { alpha, beta });
export const sub = (a: Tensor, b: Tensor): Tensor => addOp([a, b], { alpha: 1, beta: -1 });

const scaleOp = defineOp<number>({
  name: 'scale',
  forward: (e, [x], alpha) => scaled(e, x, alpha, 'scale'),
  backward: (e, dy, _s, needs, alpha) => [needs[0] ? scaled(e, dy, alpha, 'scale/dx') : undefined],
});
export const scale = (x: Tensor, alpha: number): Tensor => scaleOp([x], alpha);

const activationOp = defineOp<'relu' | 'relu6'>({
  name: 'activation',
  forward(e, [x], kind) {
    const y = e.empty(x.shape, 'f32', kind);
    e.enqueue(e.kernels.elementwise.activation(kind, x.size, x.buffer, y.buffer));
    return y;
  },
  saves: ([x]) => [x],
  backward(e, dy, [x], needs, kind) {
    if (!needs[0]) return [undefined];
    const dx = e.empty(x.shape, 'f32', `${kind}/dx`);
    e.enqueue(e.kernels.elementwise.activationDx(kind, x.size, x.buffer, dy.buffer, dx.buffer));
    return [dx];
  },
});
export const relu = (x: Tensor): Tensor => activationOp([x], 'relu');
export const relu6 = (x: Tensor): Tensor => activationOp([x], 'relu6');

const reshapeOp = defineOp<{ from: Shape; to: Shape }>({
  name: 'reshape',
  forward: (e, [x], { to }) => e.view(x, to, false),
  backward: (e, dy, _s, needs, { from }) => [needs[0] ? e.view(dy, from, false) : undefined],
});
/** A differentiable view with another shape. */
export function reshape(x: Tensor, shape: Shape): Tensor {
  const known = shape.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
  const full = shape.map((d) => (d === -1 ? x.size / known : d));
  if (full.reduce((a, b) => a * b, 1) !== x.size || full.some((d) => !Number.isInteger(d))) {
    throw new RangeError(`reshape: cannot view ${shapeText(x.shape)} as ${shapeText(shape)}`);
  }
  return reshapeOp([x], { from: x.shape, to: full });
}
