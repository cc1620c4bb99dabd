// Parameter-free layers: ReLU, ReLU6, ZeroPadding2D, GlobalAveragePooling2D, Dropout,
// SpatialDropout2D, Reshape.
import type { Shape, Tensor } from '../graph/tensor.js';
import { relu, relu6, reshape } from '../graph/ops/elementwise.js';
import { zeroPad } from '../graph/ops/pad.js';
import { globalAveragePool } from '../graph/ops/pool.js';
import { dropout } from '../graph/ops/dropout.js';
import type { ExplicitPadding } from '../kernels/padding.js';
import { Layer, type BuildContext, type CallContext } from './layer.js';

export class ReLU extends Layer {
  /** Keras ReLU(max_value=6.0) is ReLU6. */
  constructor(name: string, readonly maxValue?: 6) {
    super(name);
  }
  build(_b: BuildContext, s: Shape): Shape {
    return s;
  }
  call(x: Tensor): Tensor {
    return this.maxValue === 6 ? relu6(x) : relu(x);
  }
}

export class ZeroPadding2D extends Layer {
  constructor(name: string, readonly pad: readonly [readonly [number, number], readonly [number, number]]) {
    super(name);
  }
  build(_b: BuildContext, [h, w, c]: Shape): Shape {
    return [h + this.pad[0][0] + this.pad[0][1], w + this.pad[1][0] + this.pad[1][1], c];
  }
  call(x: Tensor): Tensor {
    return zeroPad(x, this.pad[0], this.pad[1]);
  }
  /** The padding as a convolution's explicit padding (for folding it into the next convolution). */
  get explicit(): ExplicitPadding {
    return { top: this.pad[0][0], bottom: this.pad[0][1], left: this.pad[1][0], right: this.pad[1][1] };
  }
}

export class GlobalAveragePooling2D extends Layer {
  build(_b: BuildContext, s: Shape): Shape {
    return [s[2]];
  }
  call(x: Tensor): Tensor {
    return globalAveragePool(x);
  }
}

/** Keras-style seed per layer: the layer name salts the context seed. */
function layerSeed(name: string, seed: number): number {
  let h = seed >>> 0;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

export class Dropout extends Layer {
  constructor(name: string, public rate: number, readonly spatial = false) {
    super(name);
  }
  build(_b: BuildContext, s: Shape): Shape {
    return s;
  }
  call(x: Tensor, ctx: CallContext): Tensor {
    return dropout(x, {
      rate: this.rate, seed: layerSeed(this.name, ctx.seed), step: ctx.step, spatial: this.spatial,
      training: ctx.training, onBind: ctx.onDropout,
    });
  }
}

/** SpatialDropout2D: drops whole channels of an NHWC map. */
export class SpatialDropout2D extends Dropout {
  constructor(name: string, rate: number) {
    super(name, rate, true);
  }
}

export class Reshape extends Layer {
  constructor(name: string, readonly target: Shape) {
    super(name);
  }
  build(_b: BuildContext, s: Shape): Shape {
    const n = s.reduce((a, b) => a * b, 1);
    const known = this.target.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
    return this.target.map((d) => (d === -1 ? n / known : d));
  }
  call(x: Tensor): Tensor {
    return reshape(x, [x.shape[0], ...this.target]);
  }
}

/**
 * Keras Resizing (bilinear, half-pixel centres, no antialias) for uint8 RGB images packed four
 * bytes per u32, fused with MobileNet's preprocessing (x / 127.5 - 1): the GPU input stage.
 * Not differentiable (its input is raw pixels). Call with the source size.
 */
export class Resizing extends Layer {
  constructor(name: string, readonly height: number, readonly width: number, readonly source: readonly [number, number]) {
    super(name);
  }
  build(_b: BuildContext, _s: Shape): Shape {
    return [this.height, this.width, 3];
  }
  call(x: Tensor): Tensor {
    const e = x.engine;
    const [hin, win] = this.source;
    const n = Math.round((x.size * 4) / (hin * win * 3));
    if (x.dtype !== 'u32' || n < 1 || Math.ceil((n * hin * win * 3) / 4) !== x.size) {
      throw new RangeError(`${this.name}: expected packed uint8 RGB images of ${hin}x${win}, got ${x.dtype} with ${x.size} words`);
    }
    const y = e.empty([n, this.height, this.width, 3], 'f32', this.name);
    e.binding(() => e.enqueue(e.kernels.input.inference({ n, hin, win, hout: this.height, wout: this.width }, x.buffer, y.buffer)));
    return y;
  }
}
