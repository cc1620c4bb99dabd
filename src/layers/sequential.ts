// A named block of layers applied in order (Keras Sequential / a functional chain).
import type { Shape, Tensor } from '../graph/tensor.js';
import { Layer, type BuildContext, type CallContext } from './layer.js';
import { matchConvBn } from './conv-bn.js';

export class Sequential extends Layer {
  /** Fold inference-mode BatchNormalization into the convolution before it (./conv-bn.ts). */
  foldBatchNorms = true;
  constructor(name: string, readonly layers: Layer[]) {
    super(name);
  }
  build(b: BuildContext, s: Shape): Shape {
    let shape = s;
    for (const l of this.layers) shape = l.build(b, shape);
    return shape;
  }
  call(x: Tensor, ctx: CallContext): Tensor {
    let y = x;
    for (let i = 0; i < this.layers.length; i++) {
      // Conv + inference-mode BN (with a ZeroPadding2D before) runs as one folded convolution.
      const fused = this.foldBatchNorms ? matchConvBn(this.layers, i, ctx) : undefined;
      if (fused) {
        y = fused.call(y);
        i += fused.count - 1;
      } else {
        y = this.layers[i].call(y, ctx);
      }
    }
    return y;
  }
  /** The layer named `name` at any depth. */
  find(name: string): Layer | undefined {
    for (const l of this.layers) {
      if (l.name === name) return l;
      if (l instanceof Sequential) {
        const inner = l.find(name);
        if (inner) return inner;
      }
    }
    return undefined;
  }
  /** Every layer, depth first. */
  flat(): Layer[] {
    return this.layers.flatMap((l) => (l instanceof Sequential ? [l, ...l.flat()] : [l]));
  }
}
