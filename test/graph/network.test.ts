// A small network built from the Keras layers (Resizing, Conv2D, BatchNormalization in training
// mode, ReLU6, ZeroPadding2D, DepthwiseConv2D, SeparableConv2D, SpatialDropout2D, GAP, Dropout,
// Dense, Attention): finite differences of the whole network's loss agree with backward.
import { expect } from 'chai';
import { Engine } from '../../src/graph/engine.js';
import { ParamRegistry } from '../../src/graph/params.js';
import { backward } from '../../src/graph/tape.js';
import { softmaxCrossEntropy } from '../../src/graph/ops/loss.js';
import { reshape } from '../../src/graph/ops/elementwise.js';
import { Sequential } from '../../src/layers/sequential.js';
import { Conv2D, DepthwiseConv2D, SeparableConv2D } from '../../src/layers/conv.js';
import { BatchNormalization } from '../../src/layers/norm.js';
import { ReLU, ZeroPadding2D, GlobalAveragePooling2D, Dropout, SpatialDropout2D, Resizing } from '../../src/layers/basic.js';
import { Dense } from '../../src/layers/dense.js';
import { Attention } from '../../src/layers/attention.js';
import { packBytes } from '../../src/kernels/input.js';
import { testGpu } from '../helpers/gpu.js';
import { rng } from '../helpers/random.js';

describe('a network of every layer type', () => {
  it('finite differences of the loss agree with backward for every parameter tensor', async () => {
    const e = await Engine.create((await testGpu()).device);
    const params = new ParamRegistry();
    const net = new Sequential('net', [
      new Conv2D('conv', 6, { kernelSize: 3, strides: 2, padding: 'same', useBias: false }),
      new BatchNormalization('conv_bn'),
      new ReLU('relu'),
      new ZeroPadding2D('pad', [[0, 1], [0, 1]]),
      new DepthwiseConv2D('dw', { kernelSize: 3, strides: 2, padding: 'valid' }),
      new ReLU('relu6', 6),
      new SeparableConv2D('sep', 8, { kernelSize: 2, padding: 'same', activation: 'relu' }),
      new SpatialDropout2D('sdrop', 0.25),
      new GlobalAveragePooling2D('gap'),
      new Dropout('drop', 0.2),
      new Dense('dense', 5, { activation: 'relu' }),
      new Attention('att'),
      new Dense('head', 3),
    ]);
    const resize = new Resizing('resize', 12, 12, [10, 9]);
    net.build({ engine: e, params, seed: 3 }, [12, 12, 3]);
    const r = rng(5);
    const n = 4;
    const pixels = Uint8Array.from({ length: n * 10 * 9 * 3 }, () => Math.floor(r() * 256));
    const src = e.keep(e.tensor(packBytes(pixels), [Math.ceil(pixels.length / 4)]));
    const labels = e.keep(e.tensor(Int32Array.of(0, 2, 1, 2), [n]));
    // Dropout masks depend only on (seed, step), so every evaluation sees the same masks.
    const ctx = { training: true, seed: 9, step: 1 };
    const lossOf = () => e.scope(() => {
      const x = resize.call(src);
      return softmaxCrossEntropy(net.call(reshape(x, [n, 12, 12, 3]), ctx), labels).loss;
    });
    // BN moving statistics change on every training-mode forward; the loss does not depend on them.
    const loss = e.scope(() => {
      const l = lossOf();
      backward(l);
      return l;
    });
    loss.dispose();
    const f = async () => {
      const l = lossOf();
      const v = (await l.readF32())[0];
      l.dispose();
      return v;
    };
    // float32 central differences with eps 2e-3: rounding of a ~1 loss (~1e-7) over 2*eps is
    // ~3e-5 absolute noise, so bound |fd - grad| by 5% of |grad| plus 3e-4. ReLU / ReLU6 are
    // piecewise linear: a step can straddle a kink and then differs for a real reason, so up to
    // one coordinate in ten may miss; the rest must agree.
    const eps = 2e-3;
    let checked = 0;
    const misses: string[] = [];
    for (const p of params.trainable()) {
      const w = await p.tensor.readF32();
      const g = await p.tensor.grad!.readF32();
      const picks = [0, Math.floor(w.length / 2), w.length - 1];
      for (const i of new Set(picks)) {
        const orig = w[i];
        w[i] = orig + eps;
        e.write(p.tensor, w);
        const up = await f();
        w[i] = orig - eps;
        e.write(p.tensor, w);
        const down = await f();
        w[i] = orig;
        e.write(p.tensor, w);
        const fd = (up - down) / (2 * eps);
        if (!(Math.abs(fd - g[i]) <= 5e-2 * Math.abs(g[i]) + 3e-4)) misses.push(`${p.name}[${i}]: fd ${fd}, backward ${g[i]}`);
        checked++;
      }
    }
    expect(checked).to.be.greaterThan(20);
    expect(misses.length, misses.join('\n')).to.be.at.most(Math.floor(checked / 10));
    src.dispose();
    labels.dispose();
    params.dispose();
  });
});
