// Softmax cross-entropy from logits with integer labels and per-sample weights (Keras
// sum_over_batch_size). Forward and the logits gradient come from one fused kernel; backward only
// scales that saved gradient by the incoming scalar gradient.
import { defineOp } from '../op.js';
import { shapeText, type Tensor } from '../tensor.js';

export interface LossResult {
  /** One element: the mean weighted loss. */
  loss: Tensor;
  /** [loss, correct]: correct counts rows whose argmax is the label (accuracy without reading logits). */
  stats: Tensor;
}

const lossOp = defineOp<{ b: number; k: number; weights?: Tensor; labels: Tensor; onStats?: (out: Tensor) => void }>({
  name: 'softmax_cross_entropy',
  forward(e, [logits], a) {
    const out = e.empty([2], 'f32', 'loss/out');
    const dlogits = e.empty(logits.shape, 'f32', 'loss/dlogits');
    const perSample = e.empty([2, a.b], 'f32', 'loss/per-sample');
    e.enqueue(...e.kernels.loss.softmaxCrossEntropy(a.b, a.k, {
      logits: logits.buffer, labels: a.labels.buffer, weights: a.weights?.buffer, dlogits: dlogits.buffer,
      out: out.buffer, perSample: perSample.buffer,
    }));
    perSample.dispose();
    const loss = e.empty([1], 'f32', 'loss');
    e.enqueue(e.kernels.elementwise.scale(1, out.buffer, loss.buffer, 1));
    a.onStats?.(out);
    return { y: loss, extra: [dlogits] };
  },
  backward(e, dy, [dlogits], needs) {
    if (!needs[0]) return [undefined];
    const dx = e.empty(dlogits.shape, 'f32', 'loss/dlogits-scaled');
    e.enqueue(e.kernels.elementwise.scaleBy(dx.size, dlogits.buffer, dy.buffer, dx.buffer, 1));
    return [dx];
  },
});

/** logits [b, k]; labels [b] i32; weights [b] f32 (optional). */
export function softmaxCrossEntropy(logits: Tensor, labels: Tensor, weights?: Tensor): LossResult {
  if (logits.shape.length !== 2) throw new RangeError(`softmaxCrossEntropy: logits must be [b, k], got ${shapeText(logits.shape)}`);
  const [b, k] = logits.shape;
  if (labels.size !== b) throw new RangeError(`softmaxCrossEntropy: ${labels.size} labels for ${b} rows`);
  if (weights && weights.size !== b) throw new RangeError(`softmaxCrossEntropy: ${weights.size} weights for ${b} rows`);
  let stats: Tensor | undefined;
  const loss = lossOp([logits], { b, k, labels, weights, onStats: (out) => { stats = out; } });
  return { loss, stats: stats! };
}
