// Dense (Keras semantics: kernel [in, out], bias [out], glorot_uniform / zeros). Applied to the
// last axis, so [b, in] and per-token [b, t, in] inputs both work.
import type { Shape, Tensor } from '../graph/tensor.js';
import { dense } from '../graph/ops/matmul.js';
import type { Activation } from '../kernels/matmul.js';
import { Layer, addParam, filled, glorotUniform, initRng, type BuildContext, type CallContext } from './layer.js';

export class Dense extends Layer {
  kernel!: Tensor;
  bias: Tensor | undefined;
  constructor(name: string, readonly units: number, readonly config: { activation?: Activation; useBias?: boolean } = {}) {
    super(name);
  }
  build(b: BuildContext, inputShape: Shape): Shape {
    const k = inputShape[inputShape.length - 1];
    const shape = [k, this.units];
    this.kernel = addParam(b, this.name, 'kernel', shape, glorotUniform(shape, k, this.units, initRng(b.seed, `${this.name}/kernel`)));
    if (this.config.useBias ?? true) this.bias = addParam(b, this.name, 'bias', [this.units], filled([this.units], 0));
    return [...inputShape.slice(0, -1), this.units];
  }
  call(x: Tensor, _ctx: CallContext): Tensor {
    return dense(x, this.kernel, this.bias, this.config.activation ?? 'none');
  }
}
