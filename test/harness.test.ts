// The test harness checks itself: the oracles and assertions must be able to fail.
import { expect } from 'chai';
import { tfjs } from './helpers/tf.js';
import { randn, rng, uniform } from './helpers/random.js';
import { expectClose, relError } from './helpers/assert.js';

describe('test harness', () => {
  it('seeded generators repeat and differ by seed', () => {
    expect(Array.from(uniform(1, 5))).to.deep.equal(Array.from(uniform(1, 5)));
    expect(Array.from(uniform(1, 5))).to.not.deep.equal(Array.from(uniform(2, 5)));
    const r = rng(3);
    for (let i = 0; i < 1000; i++) {
      const v = r();
      expect(v).to.be.at.least(0).and.below(1);
    }
    const z = randn(4, 20000);
    const mean = z.reduce((a, b) => a + b, 0) / z.length;
    const varc = z.reduce((a, b) => a + (b - mean) ** 2, 0) / z.length;
    expect(Math.abs(mean)).to.be.below(0.03);
    expect(Math.abs(varc - 1)).to.be.below(0.05);
  });

  it('relative error catches NaN, Inf and wrong values', () => {
    expect(relError([1, NaN], [1, 2])).to.equal(Infinity);
    expect(relError([1, Infinity], [1, 2])).to.equal(Infinity);
    expect(relError([1, 2.2], [1, 2])).to.be.closeTo(0.1, 1e-12);
    expect(() => expectClose([1, 3], [1, 2], 1e-4)).to.throw(/relative error/);
    expect(() => expectClose([1, 2], [1, 2], 0)).to.not.throw();
  });

  it('TensorFlow.js (CPU) agrees with a float64 matrix product', async () => {
    const tf = await tfjs();
    const [m, k, n] = [7, 5, 3];
    const a = uniform(10, m * k);
    const b = uniform(11, k * n);
    const got = tf.matMul(tf.tensor2d(a, [m, k]), tf.tensor2d(b, [k, n])).dataSync();
    const want = new Float64Array(m * n);
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += a[i * k + p] * b[p * n + j];
      want[i * n + j] = s;
    }
    expectClose(got, want, 1e-6, 'tf.matMul');
    expect(tf.getBackend()).to.equal('cpu');
  });
});
