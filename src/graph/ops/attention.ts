// Dot-product self-attention with a learned scalar scale (Keras Attention(use_scale=True) with
// Q = K = V = x): softmax(scale * x x^T) x.
//   batch form: x [b, d], one b x b score matrix across the batch (the published PAtt-Lite).
//   token form: x [B, T, D], a T x T score matrix per image (the corrected classifier).
import { defineOp } from '../op.js';
import { shapeText, type Tensor } from '../tensor.js';
import { batchShape, tokenShape, type AttentionShape } from '../../kernels/attention.js';

const attentionOp = defineOp<AttentionShape>({
  name: 'attention',
  forward(e, [x, scale], s) {
    const y = e.empty(x.shape, 'f32', 'attention');
    const probs = e.empty([s.batch, s.tq, s.tv], 'f32', 'attention/probs');
    e.enqueue(...e.kernels.attention.forward(s, {
      q: x.buffer, k: x.buffer, v: x.buffer, scale: scale.buffer, probs: probs.buffer, out: y.buffer,
    }));
    return { y, extra: [probs] };
  },
  saves: ([x, scale]) => [x, scale],
  backward(e, dy, [x, scale, probs], needs, s) {
    const dx = needs[0] ? e.empty(x.shape, 'f32', 'attention/dx') : undefined;
    const dscale = needs[1] ? e.empty([1], 'f32', 'attention/dscale') : undefined;
    const b = e.kernels.attention.backwardSelf(s, {
      x: x.buffer, scale: scale.buffer, probs: probs.buffer, dout: dy.buffer, dx: dx?.buffer, dscale: dscale?.buffer,
    });
    e.adopt(b.scratch);
    e.enqueue(...b.dispatches);
    return [dx, dscale];
  },
});

/** x [b, d] (batch form) or [B, T, D] (token form); scale is a one-element tensor. */
export function selfAttention(x: Tensor, scale: Tensor): Tensor {
  if (scale.size !== 1) throw new RangeError(`attention: scale must have one element, got ${shapeText(scale.shape)}`);
  let s: AttentionShape;
  if (x.shape.length === 2) s = batchShape(x.shape[0], x.shape[1]);
  else if (x.shape.length === 3) s = tokenShape(x.shape[0], x.shape[1], x.shape[2]);
  else throw new RangeError(`attention: expected [b, d] or [B, T, D], got ${shapeText(x.shape)}`);
  return attentionOp([x, scale], s);
}
