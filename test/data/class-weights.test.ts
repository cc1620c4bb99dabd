import { expect } from 'chai';
import { balancedClassWeights } from '../../src/data/class-weights.js';

describe('balancedClassWeights', () => {
  it('n / (k * count_c) with k the classes present; absent classes weigh 0 and are listed', () => {
    // n = 6, present k = 3: 6/(3*3), 6/(3*1), 6/(3*2), absent.
    const { weights, counts, absent } = balancedClassWeights([0, 0, 0, 1, 2, 2], 4);
    expect(counts).to.deep.equal([3, 1, 2, 0]);
    expect(Array.from(weights)).to.deep.equal([6 / 9, 2, 1, 0]);
    expect(absent).to.deep.equal([3]);
  });

  it('matches hand-computed numbers for two classes', () => {
    // n = 4, k = 2: 4/(2*1) = 2 and 4/(2*3) = 0.666…
    const { weights } = balancedClassWeights(Int32Array.from([0, 1, 1, 1]), 2);
    expect(weights[0]).to.equal(2);
    expect(weights[1]).to.be.closeTo(2 / 3, 1e-15);
    // Balanced weights make every present class carry the same total weight: n / k.
    const labels = [0, 1, 1, 1, 2, 2, 2, 2, 2, 2];
    const w = balancedClassWeights(labels, 3).weights;
    const totals = [0, 1, 2].map((c) => labels.filter((l) => l === c).length * w[c]);
    totals.forEach((t) => expect(t).to.be.closeTo(10 / 3, 1e-12));
  });

  it('rejects labels outside 0..k-1', () => {
    expect(() => balancedClassWeights([0, 3], 3)).to.throw(/label 3 at index 1 is outside 0\.\.2/);
  });
});
