// A named block of layers applied in order (Keras Sequential / a functional chain).
import type { Shape, Tensor } from '../graph/tensor.js';
import { Layer, type BuildContext, type CallContext } from './layer.js';

export class Sequential extends Layer {
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
    for (const l of this.layers) y = l.call(y, ctx);
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
