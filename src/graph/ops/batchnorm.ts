// Batch normalisation over the last axis, with an optional fused ReLU / ReLU6.
//   training mode: normalise with batch statistics, update the moving averages in place.
//   inference mode: normalise with the moving statistics (also when fine-tuning with frozen BN).
// Whether gamma and beta get gradients is up to their requiresGrad, independent of the mode.
import { defineOp } from '../op.js';
import { shapeText, type Tensor } from '../tensor.js';
import type { BatchnormActivation } from '../../kernels/batchnorm.js';

export interface BatchnormAttrs {
  movingMean: Tensor;
  movingVariance: Tensor;
  eps: number;
  momentum: number;
  act: BatchnormActivation;
  movingVarianceKind?: 'biased' | 'unbiased';
}

const trainOp = defineOp<BatchnormAttrs>({
  name: 'batchnorm_train',
  forward(e, [x, gamma, beta], a) {
    const c = x.shape[x.shape.length - 1];
    const y = e.empty(x.shape, 'f32', 'batchnorm');
    const mean = e.empty([c], 'f32', 'batchnorm/mean');
    const invstd = e.empty([c], 'f32', 'batchnorm/invstd');
    e.enqueue(...e.kernels.batchnorm.train(x.shape, {
      x: x.buffer, gamma: gamma.buffer, beta: beta.buffer, movingMean: a.movingMean.buffer,
      movingVariance: a.movingVariance.buffer, y: y.buffer, mean: mean.buffer, invstd: invstd.buffer,
    }, { eps: a.eps, momentum: a.momentum, act: a.act, movingVariance: a.movingVarianceKind }));
    e.updatesInPlace(a.movingMean, a.movingVariance);
    return { y, extra: [mean, invstd] };
  },
  saves: ([x, gamma, beta]) => [x, gamma, beta],
  backward(e, dy, [x, gamma, beta, mean, invstd], needs, a) {
    const c = x.shape[x.shape.length - 1];
    const dx = e.empty(x.shape, 'f32', 'batchnorm/dx');
    const dgamma = e.empty([c], 'f32', 'batchnorm/dgamma');
    const dbeta = e.empty([c], 'f32', 'batchnorm/dbeta');
    e.enqueue(...e.kernels.batchnorm.trainBackward(x.shape, {
      x: x.buffer, dy: dy.buffer, gamma: gamma.buffer, beta: beta.buffer, mean: mean.buffer, invstd: invstd.buffer,
      dx: dx.buffer, dgamma: dgamma.buffer, dbeta: dbeta.buffer,
    }, { eps: a.eps, act: a.act }));
    return [keepIf(needs[0], dx), keepIf(needs[1], dgamma), keepIf(needs[2], dbeta)];
  },
});

const inferenceOp = defineOp<BatchnormAttrs>({
  name: 'batchnorm_inference',
  forward(e, [x, gamma, beta], a) {
    const y = e.empty(x.shape, 'f32', 'batchnorm');
    e.enqueue(e.kernels.batchnorm.inference(x.shape, {
      x: x.buffer, gamma: gamma.buffer, beta: beta.buffer, mean: a.movingMean.buffer,
      variance: a.movingVariance.buffer, y: y.buffer,
    }, { eps: a.eps, act: a.act }));
    return y;
  },
  saves: ([x, gamma, beta]) => [x, gamma, beta],
  backward(e, dy, [x, gamma, beta], needs, a) {
    const c = x.shape[x.shape.length - 1];
    const params = needs[1] || needs[2];
    const dx = e.empty(x.shape, 'f32', 'batchnorm/dx');
    const dgamma = params ? e.empty([c], 'f32', 'batchnorm/dgamma') : undefined;
    const dbeta = params ? e.empty([c], 'f32', 'batchnorm/dbeta') : undefined;
    e.enqueue(...e.kernels.batchnorm.inferenceBackward(x.shape, {
      x: x.buffer, dy: dy.buffer, gamma: gamma.buffer, beta: beta.buffer, mean: a.movingMean.buffer,
      variance: a.movingVariance.buffer, dx: dx.buffer, dgamma: dgamma?.buffer, dbeta: dbeta?.buffer,
    }, { eps: a.eps, act: a.act }));
    return [keepIf(needs[0], dx), dgamma && keepIf(needs[1], dgamma), dbeta && keepIf(needs[2], dbeta)];
  },
});

function keepIf(need: boolean, t: Tensor): Tensor | undefined {
  if (need) return t;
  t.dispose();
  return undefined;
}

/** x [..., c]; gamma, beta, moving statistics [c]. */
export function batchnorm(x: Tensor, gamma: Tensor, beta: Tensor, attrs: BatchnormAttrs & { training: boolean }): Tensor {
  const c = x.shape[x.shape.length - 1];
  for (const [name, t] of [['gamma', gamma], ['beta', beta], ['moving_mean', attrs.movingMean], ['moving_variance', attrs.movingVariance]] as const) {
    if (t.size !== c) throw new RangeError(`batchnorm: ${name} has ${shapeText(t.shape)}, expected [${c}] for input ${shapeText(x.shape)}`);
  }
  return (attrs.training ? trainOp : inferenceOp)([x, gamma, beta], attrs);
}
