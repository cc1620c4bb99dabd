import { expect } from 'chai';
import type { Dataset } from '../../src/data/dataset.js';
import { stratifiedSplit, withValidationSplit } from '../../src/data/split.js';

function labelsWithCounts(counts: number[]): number[] {
  // Interleaved so that classes are not in contiguous runs.
  const out: number[] = [];
  const left = [...counts];
  while (left.some((c) => c > 0)) left.forEach((c, k) => { if (c > 0) { out.push(k); left[k]--; } });
  return out;
}

describe('stratifiedSplit', () => {
  const counts = [50, 30, 7, 1];
  const labels = labelsWithCounts(counts);

  it('takes the fraction from every class (largest remainder), total round(f * n)', () => {
    const { train, val } = stratifiedSplit(labels, 0.1, 0);
    expect(val.length).to.equal(Math.round(0.1 * 88));
    const perClass = [0, 1, 2, 3].map((k) => val.filter((i) => labels[i] === k).length);
    expect(perClass).to.deep.equal([5, 3, 1, 0]); // 5, 3 exact; 0.7 rounds up; the single sample stays in train
    expect(train.length + val.length).to.equal(labels.length);
  });

  it('parts are disjoint, cover every index, and are sorted', () => {
    const { train, val } = stratifiedSplit(labels, 0.25, 7);
    const all = [...train, ...val].sort((a, b) => a - b);
    expect(all).to.deep.equal(labels.map((_, i) => i));
    expect(train).to.deep.equal([...train].sort((a, b) => a - b));
    expect(val).to.deep.equal([...val].sort((a, b) => a - b));
  });

  it('is deterministic for a seed and differs across seeds', () => {
    expect(stratifiedSplit(labels, 0.2, 3)).to.deep.equal(stratifiedSplit(labels, 0.2, 3));
    expect(stratifiedSplit(labels, 0.2, 3).val).to.not.deep.equal(stratifiedSplit(labels, 0.2, 4).val);
  });

  it('every class keeps a training sample; fraction 0 carves nothing; bad fractions throw', () => {
    const { train } = stratifiedSplit([0, 0, 1, 1, 2], 0.9, 1);
    expect(new Set(train.map((i) => [0, 0, 1, 1, 2][i]))).to.deep.equal(new Set([0, 1, 2]));
    expect(stratifiedSplit(labels, 0, 0).val).to.deep.equal([]);
    expect(() => stratifiedSplit(labels, 1, 0)).to.throw(/fraction 1 is not in \[0, 1\)/);
  });

  it('withValidationSplit carves val only when there is none', () => {
    const sample = (label: number) => ({ label, source: `s${label}`, image: { width: 1, height: 1, data: new Uint8Array(3) } });
    const ds: Dataset = { kind: 'folder', source: 'x', classNames: ['a', 'b'], splits: { train: labelsWithCounts([10, 10]).map(sample) }, notes: [] };
    const carved = withValidationSplit(ds, 0.2, 0);
    expect(carved.splits.val!.length).to.equal(4);
    expect(carved.splits.train!.length).to.equal(16);
    expect(carved.notes[0]).to.match(/val: 4 of 20 train images carved off \(stratified, fraction 0\.2, seed 0\)/);
    expect(withValidationSplit(carved, 0.5, 1)).to.equal(carved);
  });
});
