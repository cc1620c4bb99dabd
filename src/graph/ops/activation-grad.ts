// Shared by ops with a fused activation (conv, depthwise, dense): their kernels' gradients take
// dy with respect to the pre-activation output, so backward first applies the activation's
// derivative from the saved output (relu: y > 0; relu6: 0 < y < 6, the same sets as for the
// pre-activation value).
import type { Engine } from '../engine.js';
import type { Tensor } from '../tensor.js';

export type FusedActivation = 'none' | 'relu' | 'relu6';

export function preActivationGrad(e: Engine, dy: Tensor, y: Tensor | undefined, act: FusedActivation): Tensor {
  if (act === 'none' || !y) return e.view(dy, dy.shape, false);
  const dz = e.empty(dy.shape, 'f32', `${act}/dx`);
  e.enqueue(e.kernels.elementwise.activationDx(act, dy.size, y.buffer, dy.buffer, dz.buffer));
  return dz;
}
