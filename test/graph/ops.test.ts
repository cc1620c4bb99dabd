// Graph ops composed into small networks, compared with the same computation in TensorFlow.js:
// forward values and every input's gradient.
import { expect } from 'chai';
import { Engine } from '../../src/graph/engine.js';
import { backward } from '../../src/graph/tape.js';
import { batchnorm } from '../../src/graph/ops/batchnorm.js';
import { globalAveragePool } from '../../src/graph/ops/pool.js';
import { selfAttention } from '../../src/graph/ops/attention.js';
import { softmaxCrossEntropy } from '../../src/graph/ops/loss.js';
import { softmax } from '../../src/graph/ops/softmax.js';
import { sum, mean } from '../../src/graph/ops/reduce.js';
import { dropout } from '../../src/graph/ops/dropout.js';
import { conv2d, depthwiseConv2d } from '../../src/graph/ops/conv.js';
import { reshape, relu6, scale as times } from '../../src/graph/ops/elementwise.js';
import { testGpu } from '../helpers/gpu.js';
import { randn, uniform } from '../helpers/random.js';
import { expectClose } from '../helpers/assert.js';
import { tfjs } from '../helpers/tf.js';

describe('graph ops vs TensorFlow.js', () => {
  let e: Engine;
  before(async () => {
    e = await Engine.create((await testGpu()).device);
  });

  it('BN(train, relu6) -> GAP -> batch attention -> weighted cross-entropy: loss and all gradients', async () => {
    const tf = await tfjs();
    const [n, h, w, c] = [4, 3, 5, 6];
    const x0 = randn(1, n * h * w * c, 2);
    const g0 = uniform(2, c, 0.5, 1.5);
    const b0 = uniform(3, c, -0.5, 0.5);
    const labels0 = Int32Array.of(0, 5, 2, 5);
    const weights0 = Float32Array.of(1, 0.5, 2, 1.25);

    const x = e.parameter(x0, [n, h, w, c], 'x');
    const gamma = e.parameter(g0, [c], 'gamma');
    const beta = e.parameter(b0, [c], 'beta');
    const scale = e.parameter(Float32Array.of(0.7), [1], 'scale');
    const mm = e.parameter(new Float32Array(c), [c], 'mm', false);
    const mv = e.parameter(new Float32Array(c).fill(1), [c], 'mv', false);
    const labels = e.keep(e.tensor(labels0, [n]));
    const weights = e.keep(e.tensor(weights0, [n]));
    // Scopes are synchronous: the step's tensors that are read afterwards are returned.
    const lossT = e.scope(() => {
      const y = batchnorm(x, gamma, beta, { movingMean: mm, movingVariance: mv, eps: 1e-3, momentum: 0.99, act: 'relu6', training: true });
      const pooled = globalAveragePool(y);
      const att = selfAttention(pooled, scale);
      const { loss } = softmaxCrossEntropy(att, labels, weights);
      backward(loss);
      return loss;
    });
    const lossValue = (await lossT.readF32())[0];
    lossT.dispose();

    const f = (xs: import('@tensorflow/tfjs').Tensor, gs: import('@tensorflow/tfjs').Tensor, bs: import('@tensorflow/tfjs').Tensor, ss: import('@tensorflow/tfjs').Tensor) => {
      const { mean: mu, variance } = tf.moments(xs, [0, 1, 2]);
      const bn = tf.clipByValue(tf.add(tf.mul(tf.div(tf.sub(xs, mu), tf.sqrt(tf.add(variance, 1e-3))), gs), bs), 0, 6);
      const p = tf.mean(bn, [1, 2]);
      const scores = tf.mul(tf.matMul(p, p, false, true), ss);
      const att = tf.matMul(tf.softmax(scores), p);
      const ce = tf.neg(tf.sum(tf.mul(tf.oneHot(tf.tensor1d(labels0, 'int32'), c), tf.logSoftmax(att)), 1));
      return tf.div(tf.sum(tf.mul(ce, tf.tensor1d(weights0))), n);
    };
    const inputs = [tf.tensor4d(x0, [n, h, w, c]), tf.tensor1d(g0), tf.tensor1d(b0), tf.tensor1d([0.7])];
    const ref = tf.valueAndGrads(f as never)(inputs as never) as unknown as {
      value: import('@tensorflow/tfjs').Tensor; grads: import('@tensorflow/tfjs').Tensor[];
    };
    expectClose([lossValue], ref.value.dataSync(), 1e-5, 'loss');
    const names = ['x', 'gamma', 'beta', 'scale'];
    for (const [i, t] of [x, gamma, beta, scale].entries()) {
      expectClose(await t.grad!.readF32(), ref.grads[i].dataSync(), 1e-4, `d loss / d ${names[i]}`);
    }
    // The moving statistics moved towards the batch statistics (momentum 0.99).
    const { mean: bm } = tf.moments(inputs[0], [0, 1, 2]);
    expectClose(await mm.readF32(), tf.mul(bm, 0.01).dataSync(), 1e-4, 'moving mean');
    for (const t of [x, gamma, beta, scale, mm, mv, labels, weights]) t.dispose();
  });

  it('token attention, softmax, mean and sum: values and gradients', async () => {
    const tf = await tfjs();
    const [B, T, D] = [3, 4, 8];
    const x0 = randn(7, B * T * D, 2);
    const x = e.parameter(x0, [B, T, D], 'x');
    const scale = e.parameter(Float32Array.of(0.3), [1], 'scale');
    const [lossT, m] = e.scope(() => {
      const a = selfAttention(x, scale);
      const s = softmax(reshape(a, [B * T, D]));
      // relu6 saturates some of 10 * softmax, so the loss is not constant in x.
      const loss = sum(relu6(times(s, 10)), 2.5);
      backward(loss);
      return [loss, mean(s)];
    });
    const value = (await lossT.readF32())[0];
    expectClose(await m.readF32(), [1 / D], 1e-6, 'mean of softmax rows');
    lossT.dispose();
    m.dispose();
    const f = (xs: import('@tensorflow/tfjs').Tensor, ss: import('@tensorflow/tfjs').Tensor) => {
      const scores = tf.mul(tf.matMul(xs, xs, false, true), ss);
      const a = tf.matMul(tf.softmax(scores), xs);
      return tf.mul(tf.sum(tf.clipByValue(tf.mul(tf.softmax(tf.reshape(a, [B * T, D])), 10), 0, 6)), 2.5);
    };
    const ref = tf.valueAndGrads(f as never)([tf.tensor3d(x0, [B, T, D]), tf.tensor1d([0.3])] as never) as unknown as {
      value: import('@tensorflow/tfjs').Tensor; grads: import('@tensorflow/tfjs').Tensor[];
    };
    expectClose([value], ref.value.dataSync(), 1e-5, 'loss');
    expectClose(await x.grad!.readF32(), ref.grads[0].dataSync(), 1e-4, 'dx');
    expectClose(await scale.grad!.readF32(), ref.grads[1].dataSync(), 1e-4, 'dscale');
    x.dispose();
    scale.dispose();
  });

  it('dropout backward uses the forward mask; inference mode is the identity', async () => {
    const n = 4096;
    const x = e.parameter(new Float32Array(n).fill(1), [2, 4, 8, 64], 'x');
    const y = e.scope(() => {
      const same = dropout(x, { rate: 0.3, seed: 5, training: false });
      expect(same).to.equal(x);
      const out = dropout(x, { rate: 0.3, seed: 5, step: 2, spatial: true, training: true });
      backward(sum(out));
      return out;
    });
    const y0 = await y.readF32();
    y.dispose();
    const g = await x.grad!.readF32();
    // d sum(y)/dx = mask / (1 - rate) = y / x with x = 1.
    expectClose(g, y0, 0, 'dropout grad equals forward mask');
    const kept = Array.from(y0).filter((v) => v !== 0).length / n;
    expect(kept).to.be.within(0.5, 0.9);
    x.dispose();
  });
});

describe('graph conv ops vs TensorFlow.js', () => {
  it('conv2d(same, s2, bias, relu6) -> depthwise(MobileNet pad, relu) -> sum: all gradients', async () => {
    const e = await Engine.create((await testGpu()).device);
    const tf = await tfjs();
    const [n, h, w, cin, cout] = [2, 9, 8, 3, 8];
    const x0 = randn(21, n * h * w * cin, 2);
    const w10 = randn(22, 3 * 3 * cin * cout, 0.7);
    const b10 = uniform(23, cout, -0.2, 0.2);
    const w20 = randn(24, 3 * 3 * cout, 0.5);
    const x = e.parameter(x0, [n, h, w, cin], 'x');
    const w1 = e.parameter(w10, [3, 3, cin, cout], 'w1');
    const b1 = e.parameter(b10, [cout], 'b1');
    const w2 = e.parameter(w20, [3, 3, cout, 1], 'w2');
    const lossT = e.scope(() => {
      const y1 = conv2d(x, w1, b1, { stride: 2, padding: 'same', activation: 'relu6' });
      const pad = { top: 0, bottom: 1, left: 0, right: 1 };
      const y2 = depthwiseConv2d(y1, w2, undefined, { stride: 2, padding: pad, activation: 'relu' });
      const loss = sum(y2, 1.5);
      backward(loss);
      return loss;
    });
    const f = (xs: TfT, a: TfT, b: TfT, c: TfT) => {
      const y1 = tf.clipByValue(tf.add(tf.conv2d(xs as never, a as never, 2, 'same'), b), 0, 6);
      const padded = tf.pad(y1, [[0, 0], [0, 1], [0, 1], [0, 0]]);
      const y2 = tf.relu(tf.depthwiseConv2d(padded as never, c as never, 2, 'valid'));
      return tf.mul(tf.sum(y2), 1.5);
    };
    const ref = tf.valueAndGrads(f as never)([
      tf.tensor4d(x0, [n, h, w, cin]), tf.tensor4d(w10, [3, 3, cin, cout]), tf.tensor1d(b10), tf.tensor4d(w20, [3, 3, cout, 1]),
    ] as never) as unknown as { value: TfT; grads: TfT[] };
    expectClose(await lossT.readF32(), ref.value.dataSync(), 1e-5, 'loss');
    const names = ['x', 'w1', 'b1', 'w2'];
    for (const [i, t] of [x, w1, b1, w2].entries()) {
      expectClose(await t.grad!.readF32(), ref.grads[i].dataSync(), 1e-4, `d loss / d ${names[i]}`);
    }
    lossT.dispose();
    for (const t of [x, w1, b1, w2]) t.dispose();
  });
});
type TfT = import('@tensorflow/tfjs').Tensor;
