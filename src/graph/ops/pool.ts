// Global average pooling over H and W: [n, h, w, c] -> [n, c].
import { defineOp } from '../op.js';
import { shapeText, type Tensor } from '../tensor.js';
import type { NHWC } from '../../kernels/pool.js';

const gapOp = defineOp<NHWC>({
  name: 'global_average_pool',
  forward(e, [x], shape) {
    const y = e.empty([shape[0], shape[3]], 'f32', 'gap');
    e.enqueue(e.kernels.pool.globalAverage(shape, x.buffer, y.buffer));
    return y;
  },
  backward(e, dy, _saved, needs, shape) {
    if (!needs[0]) return [undefined];
    const dx = e.empty(shape, 'f32', 'gap/dx');
    e.enqueue(e.kernels.pool.globalAverageDx(shape, dy.buffer, dx.buffer));
    return [dx];
  },
});

export function globalAveragePool(x: Tensor): Tensor {
  if (x.shape.length !== 4) throw new RangeError(`globalAveragePool: expected NHWC, got ${shapeText(x.shape)}`);
  return gapOp([x], x.shape as unknown as NHWC);
}
