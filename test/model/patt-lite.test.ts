import { expect } from 'chai';
import { Engine } from '../../src/graph/engine.js';
import { backward } from '../../src/graph/tape.js';
import { PattLite } from '../../src/model/patt-lite.js';
import type { CallContext } from '../../src/layers/layer.js';
import type { Tensor } from '../../src/graph/tensor.js';
import { softmaxCrossEntropy } from '../../src/graph/ops/loss.js';
import { testGpu } from '../helpers/gpu.js';
import { randn, uniform } from '../helpers/random.js';
import { expectClose } from '../helpers/assert.js';
import { tfjs } from '../helpers/tf.js';
import { pattLiteTf } from '../reference/patt-lite-tf.js';
import { pattLiteSpecs, specKey } from '../../src/io/weight-specs.js';

const INFER: CallContext = { training: false, seed: 0, step: 0 };

/**
 * Non-trivial BN parameters, moving statistics calibrated on `x` (a randomly initialised
 * backbone with frozen BN would otherwise shrink activations to nothing), and patch-extraction
 * kernels scaled up from Keras' tiny glorot values so the head sees O(1) inputs.
 */
function prepare(m: PattLite, x: Tensor): void {
  let s = 100;
  for (const p of m.params.all()) {
    if (p.name.endsWith('/gamma')) m.engine.write(p.tensor, uniform(s++, p.tensor.size, 0.8, 1.2));
    if (p.name.endsWith('/beta')) m.engine.write(p.tensor, randn(s++, p.tensor.size, 0.1));
    if (p.name.startsWith('patch_') && p.name.endsWith('kernel')) {
      const fanIn = p.tensor.shape.slice(0, 3).reduce((a, b) => a * b, 1);
      const perOut = p.name.endsWith('depthwise_kernel') ? p.tensor.shape[0] * p.tensor.shape[1] : fanIn;
      m.engine.write(p.tensor, randn(s++, p.tensor.size, Math.sqrt(2 / perOut)));
    }
  }
  m.calibrate(x, INFER);
}

async function weightsOf(m: PattLite) {
  const tf = await tfjs();
  const map = new Map<string, import('@tensorflow/tfjs').Tensor>();
  for (const p of m.params.all()) map.set(p.name, tf.tensor(await p.tensor.readF32(), p.tensor.shape as number[]));
  return (name: string) => {
    const t = map.get(name);
    if (!t) throw new Error(`reference wants ${name}, which the model does not have`);
    return t;
  };
}

describe('PAtt-Lite model', () => {
  let e: Engine;
  before(async () => {
    e = await Engine.create((await testGpu()).device);
  });

  it('registers exactly the weights the Keras import expects, in the same shapes', () => {
    const m = new PattLite(e, { classes: 7 });
    const specs = pattLiteSpecs({ classes: 7 });
    const mine = new Map(m.params.all().map((p) => [p.name, p.tensor.shape]));
    expect([...mine.keys()].sort()).to.deep.equal(specs.map(specKey).sort());
    for (const s of specs) expect(Array.from(mine.get(specKey(s))!), specKey(s)).to.deep.equal(Array.from(s.shape));
    m.dispose();
  });

  for (const attention of ['patch', 'batch'] as const) {
    it(`inference at 224x224 matches a TF.js implementation (attention ${attention})`, async function () {
      const tf = await tfjs();
      const m = new PattLite(e, { classes: 7, attention }, 3);
      const n = 2;
      const x0 = uniform(5, n * 224 * 224 * 3, -1, 1);
      const x = e.keep(e.tensor(x0, [n, 224, 224, 3]));
      prepare(m, x);
      const logits = e.scope(() => m.forward(x, INFER));
      const got = await logits.readF32();
      const want = pattLiteTf(tf, await weightsOf(m), tf.tensor4d(x0, [n, 224, 224, 3]), { attention, training: false });
      expectClose(got, want.dataSync(), 1e-4, 'logits');
      logits.dispose();
      x.dispose();
      m.dispose();
    });
  }

  it('batch attention makes a prediction depend on the rest of the batch; patch attention does not', async () => {
    for (const attention of ['batch', 'patch'] as const) {
      const m = new PattLite(e, { classes: 4, attention, inputSize: 96 }, 9);
      const img = uniform(1, 96 * 96 * 3, -1, 1);
      const other = (seed: number) => uniform(seed, 96 * 96 * 3, -1, 1);
      const calib = e.keep(e.tensor(Float32Array.from([...other(7), ...other(8), ...img]), [3, 96, 96, 3]));
      prepare(m, calib);
      calib.dispose();
      // With the initial scale 1, 32-d unit-variance rows give self-scores near 32 and the softmax
      // saturates on the diagonal (the defect then hides at ~1e-6); a trained scale is smaller.
      e.write(m.attention.scale, Float32Array.of(0.05));
      const run = async (a: Float32Array, b: Float32Array) => {
        const x = e.keep(e.tensor(Float32Array.from([...a, ...b]), [2, 96, 96, 3]));
        const y = e.scope(() => m.forward(x, INFER));
        const v = (await y.readF32()).slice(0, 4);
        x.dispose();
        y.dispose();
        return v;
      };
      const first = await run(img, other(2));
      const second = await run(img, other(3));
      const diff = Math.max(...first.map((v, i) => Math.abs(v - second[i])));
      const scale = Math.max(...first.map(Math.abs));
      expect(scale, 'logits are not degenerate').to.be.greaterThan(1e-2);
      if (attention === 'batch') expect(diff / scale, 'batch mode').to.be.greaterThan(1e-3);
      else expect(diff, 'patch mode').to.equal(0);
      m.dispose();
    }
  });

  it('every parameter gradient (backbone trainable, head BN in training mode) matches TF.js at 80x80', async () => {
    const tf = await tfjs();
    const m = new PattLite(e, { classes: 3, attention: 'batch', inputSize: 80, dropout: 0 }, 4);
    const n = 3;
    const x0 = uniform(6, n * 80 * 80 * 3, -1, 1);
    const x = e.keep(e.tensor(x0, [n, 80, 80, 3]));
    prepare(m, x);
    m.setBackboneTrainable(true);
    const labels0 = Int32Array.of(2, 0, 1);
    const labels = e.keep(e.tensor(labels0, [n]));
    const loss = e.scope(() => {
      const l = softmaxCrossEntropy(m.forward(x, { training: true, seed: 1, step: 0 }), labels).loss;
      backward(l);
      return l;
    });
    const trainable = m.params.trainable();
    const names = trainable.map((p) => p.name);
    expect(names).to.include('conv1/kernel').and.include('classification_head/bias').and.not.include('conv1_bn/gamma');
    const fixed = await weightsOf(m);
    const vars = trainable.map((p) => fixed(p.name));
    const f = (...ws: import('@tensorflow/tfjs').Tensor[]) => {
      const lookup = (name: string) => {
        const i = names.indexOf(name);
        return i >= 0 ? ws[i] : fixed(name);
      };
      const logits = pattLiteTf(tf, lookup, tf.tensor4d(x0, [n, 80, 80, 3]), { attention: 'batch', training: true });
      return tf.losses.softmaxCrossEntropy(tf.oneHot(tf.tensor1d(labels0, 'int32'), 3), logits);
    };
    const ref = tf.valueAndGrads(f as never)(vars as never) as unknown as {
      value: import('@tensorflow/tfjs').Tensor; grads: import('@tensorflow/tfjs').Tensor[];
    };
    expectClose(await loss.readF32(), ref.value.dataSync(), 1e-4, 'loss');
    for (const [i, p] of trainable.entries()) {
      // Both sides are float32 through ~30 layers (TF.js is no float64 oracle), so their rounding
      // adds up: the largest difference measured is 1.05e-4; bound 2e-4. attention/scale is one
      // scalar summed over b*b score terms whose gradient here is ~1e-9 (the head is barely
      // trained), so cancellation sets its floor: bound 1e-3.
      const tol = p.name === 'attention/scale' ? 1e-3 : 2e-4;
      expectClose(await p.tensor.grad!.readF32(), ref.grads[i].dataSync(), tol, `d loss / d ${p.name}`);
    }
    loss.dispose();
    x.dispose();
    labels.dispose();
    m.dispose();
  });
});
