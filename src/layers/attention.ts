// Keras Attention(use_scale=True) applied as self-attention (query = value = key = x):
// softmax(scale * x x^T) x, with `scale` a learned scalar initialised to 1.
//   x [b, d]: the published PAtt-Lite wiring (scores across the batch);
//   x [B, T, d]: per image, across its T tokens.
import type { Shape, Tensor } from '../graph/tensor.js';
import { selfAttention } from '../graph/ops/attention.js';
import { Layer, addParam, filled, type BuildContext, type CallContext } from './layer.js';

export class Attention extends Layer {
  scale!: Tensor;
  build(b: BuildContext, s: Shape): Shape {
    this.scale = addParam(b, this.name, 'scale', [], filled([], 1));
    return s;
  }
  call(x: Tensor, _ctx: CallContext): Tensor {
    return selfAttention(x, this.scale);
  }
}
