// Conv + inference-mode BatchNormalization folded into one convolution (src/layers/conv-bn.ts):
// the folded chain must give the outputs and the gradients of the plain layer-by-layer chain
// (whose ops are each checked against float64 references and TensorFlow.js elsewhere), for
// every parameter that trains, and must leave training-mode BN alone.
import { expect } from 'chai';
import { Engine } from '../../src/graph/engine.js';
import { ParamRegistry } from '../../src/graph/params.js';
import { backward } from '../../src/graph/tape.js';
import { softmaxCrossEntropy } from '../../src/graph/ops/loss.js';
import { Sequential } from '../../src/layers/sequential.js';
import { Conv2D, DepthwiseConv2D } from '../../src/layers/conv.js';
import { BatchNormalization } from '../../src/layers/norm.js';
import { GlobalAveragePooling2D, ZeroPadding2D } from '../../src/layers/basic.js';
import { Dense } from '../../src/layers/dense.js';
import { matchConvBn } from '../../src/layers/conv-bn.js';
import { testGpu } from '../helpers/gpu.js';
import { uniform } from '../helpers/random.js';
import { expectClose } from '../helpers/assert.js';

describe('conv + BatchNormalization folding (layers/conv-bn)', () => {
  let e: Engine;
  let params: ParamRegistry;
  let net: Sequential;
  const n = 3;

  before(async () => {
    e = await Engine.create((await testGpu()).device);
    params = new ParamRegistry();
    // MobileNet's block shapes: a strided conv, a padded strided depthwise, a pointwise with bias.
    net = new Sequential('net', [
      new Conv2D('conv', 8, { kernelSize: 3, strides: 2, padding: 'same', useBias: false }),
      new BatchNormalization('conv_bn', { activation: 'relu6' }),
      new ZeroPadding2D('pad', [[0, 1], [0, 1]]),
      new DepthwiseConv2D('dw', { kernelSize: 3, strides: 2, padding: 'valid', useBias: false }),
      new BatchNormalization('dw_bn', { activation: 'relu6' }),
      new Conv2D('pw', 12, { kernelSize: 1, useBias: true }),
      new BatchNormalization('pw_bn', { activation: 'relu' }),
      new GlobalAveragePooling2D('gap'),
      new Dense('head', 4),
    ]);
    net.build({ engine: e, params, seed: 11 }, [13, 13, 3]);
    // Moving statistics, gamma and beta away from their initial 0 / 1, so every term of the fold matters.
    let seed = 40;
    for (const l of net.layers) {
      if (!(l instanceof BatchNormalization)) continue;
      const c = l.gamma.size;
      e.write(l.gamma, uniform(seed++, c, 0.5, 1.5));
      e.write(l.beta, uniform(seed++, c, -0.5, 0.5));
      e.write(l.movingMean, uniform(seed++, c, -0.3, 0.3));
      e.write(l.movingVariance, uniform(seed++, c, 0.2, 2));
    }
    const conv = net.layers[5] as Conv2D;
    e.write(conv.bias!, uniform(seed++, 12, -0.2, 0.2));
  });
  after(() => params.dispose());

  const x = () => e.tensor(uniform(7, n * 13 * 13 * 3, -1, 1), [n, 13, 13, 3]);

  /** Logits and the gradient of every trainable parameter, with folding on or off. */
  async function run(fold: boolean, training: boolean) {
    net.foldBatchNorms = fold;
    const labels = e.keep(e.tensor(Int32Array.of(0, 3, 1), [n]));
    const ctx = { training, seed: 1, step: 0 };
    const logits = e.scope(() => {
      const y = e.keep(net.call(x(), ctx));
      backward(softmaxCrossEntropy(y, labels).loss);
      return y;
    });
    const grads = new Map<string, Float32Array>();
    for (const p of params.trainable()) {
      grads.set(p.name, await p.tensor.grad!.readF32());
      p.tensor.grad!.dispose();
      p.tensor.grad = undefined;
    }
    const out = await logits.readF32();
    logits.dispose();
    labels.dispose();
    net.foldBatchNorms = true;
    return { out, grads };
  }

  it('matches the layer-by-layer chain: outputs and every gradient (BN frozen, all else trainable)', async () => {
    for (const l of net.layers) if (l instanceof BatchNormalization) l.frozen = true;
    try {
      const plain = await run(false, true);
      const folded = await run(true, true);
      expectClose(folded.out, plain.out, 1e-5, 'logits');
      // conv, dw and pw kernels, the pw bias, 3 gammas and 3 betas, the head's kernel and bias.
      expect(plain.grads.size).to.equal(12);
      for (const [name, g] of plain.grads) expectClose(folded.grads.get(name)!, g, 1e-4, `d ${name}`);
    } finally {
      for (const l of net.layers) if (l instanceof BatchNormalization) l.frozen = false;
    }
  });

  it('folds when not training, and leaves training-mode BatchNormalization alone', () => {
    const layers = net.layers;
    expect(matchConvBn(layers, 0, { training: false, seed: 0, step: 0 })?.count).to.equal(2);
    expect(matchConvBn(layers, 2, { training: false, seed: 0, step: 0 })?.count, 'pad + depthwise + BN').to.equal(3);
    expect(matchConvBn(layers, 3, { training: false, seed: 0, step: 0 })?.count, 'depthwise + BN without its pad').to.equal(2);
    expect(matchConvBn(layers, 0, { training: true, seed: 0, step: 0 }), 'batch statistics').to.equal(undefined);
    expect(matchConvBn(layers, 7, { training: false, seed: 0, step: 0 }), 'GAP is no convolution').to.equal(undefined);
  });
});
