// BatchNormalization (Keras: axis -1, epsilon 1e-3, momentum 0.99). Whether it normalises with
// batch statistics (training mode) is decided by the call context and can be pinned to inference
// with `frozen` (Keras' trainable = False on BN also forces inference mode); whether gamma and
// beta receive gradients is the parameter registry's business. The two are independent.
import type { Shape, Tensor } from '../graph/tensor.js';
import { batchnorm } from '../graph/ops/batchnorm.js';
import type { BatchnormActivation } from '../kernels/batchnorm.js';
import { Layer, addParam, filled, type BuildContext, type CallContext } from './layer.js';

export interface BatchNormConfig {
  epsilon?: number;
  momentum?: number;
  /** Activation fused after the normalisation (a following ReLU / ReLU6 layer). */
  activation?: BatchnormActivation;
}

export class BatchNormalization extends Layer {
  gamma!: Tensor;
  beta!: Tensor;
  movingMean!: Tensor;
  movingVariance!: Tensor;
  /** Always inference mode (moving statistics), whatever the call context says. */
  frozen = false;
  /** Set by calibrateBatchNorms: training mode with momentum 0 (moving stats := batch stats). */
  calibrating = false;
  constructor(name: string, readonly config: BatchNormConfig = {}) {
    super(name);
  }
  build(b: BuildContext, inputShape: Shape): Shape {
    const c = inputShape[inputShape.length - 1];
    this.gamma = addParam(b, this.name, 'gamma', [c], filled([c], 1));
    this.beta = addParam(b, this.name, 'beta', [c], filled([c], 0));
    this.movingMean = addParam(b, this.name, 'moving_mean', [c], filled([c], 0), false);
    this.movingVariance = addParam(b, this.name, 'moving_variance', [c], filled([c], 1), false);
    return inputShape;
  }
  call(x: Tensor, ctx: CallContext): Tensor {
    return batchnorm(x, this.gamma, this.beta, {
      movingMean: this.movingMean, movingVariance: this.movingVariance,
      eps: this.config.epsilon ?? 1e-3, momentum: this.calibrating ? 0 : this.config.momentum ?? 0.99,
      act: this.config.activation ?? 'none', training: this.usesBatchStatistics(ctx),
    });
  }
  /** Training mode (batch statistics) in this call; otherwise the moving statistics are used. */
  usesBatchStatistics(ctx: CallContext): boolean {
    return this.calibrating || (ctx.training && !this.frozen);
  }
}

/**
 * Sets the moving statistics of `layers` to the batch statistics that `run` produces (one pass,
 * training-mode normalisation with momentum 0). A randomly initialised network whose BatchNorms
 * are frozen (as PAtt-Lite's backbone is) otherwise shrinks its activations towards zero layer
 * after layer; calibrating on real images gives every layer unit-variance outputs.
 */
export function calibrateBatchNorms<T>(layers: readonly BatchNormalization[], run: () => T): T {
  for (const l of layers) l.calibrating = true;
  try {
    return run();
  } finally {
    for (const l of layers) l.calibrating = false;
  }
}
