// Dropout and SpatialDropout2D. The mask comes from a counter-based generator keyed by a seed and
// advanced by a step counter, so backward recomputes it instead of storing it. In a compiled plan
// call the returned handle's setStep before each replay (see DropoutHandle).
import { defineOp } from '../op.js';
import type { Tensor } from '../tensor.js';
import type { DropoutBinding, DropoutOptions } from '../../kernels/dropout.js';

export interface DropoutAttrs extends DropoutOptions {
  /** Receives the binding so a training loop can advance its step counter per replay. */
  onBind?: (binding: DropoutBinding) => void;
}

const dropoutOp = defineOp<DropoutAttrs>({
  name: 'dropout',
  forward(e, [x], attrs) {
    const y = e.empty(x.shape, 'f32', attrs.spatial ? 'spatial_dropout' : 'dropout');
    // The backward buffers are unknown here: bind forward now, backward on its own binding with
    // the same seed and step (the mask is a pure function of them).
    const b = e.kernels.dropout.bind(x.shape, { x: x.buffer, y: y.buffer }, attrs);
    attrs.onBind?.(b);
    e.enqueue(b.forward);
    return y;
  },
  backward(e, dy, _saved, needs, attrs) {
    if (!needs[0]) return [undefined];
    const dx = e.empty(dy.shape, 'f32', 'dropout/dx');
    const b = e.kernels.dropout.bind(dy.shape, { x: dy.buffer, y: dx.buffer, dy: dy.buffer, dx: dx.buffer }, attrs);
    attrs.onBind?.(b);
    e.enqueue(b.backward!);
    return [dx];
  },
});

/** Applies dropout when `training`; identity (the same tensor) otherwise or at rate 0. */
export function dropout(x: Tensor, attrs: DropoutAttrs & { training: boolean }): Tensor {
  if (!attrs.training || attrs.rate === 0) return x;
  return dropoutOp([x], attrs);
}
