import { expect } from 'chai';
import { Engine } from '../../src/graph/engine.js';
import { backward } from '../../src/graph/tape.js';
import { add, relu, relu6, reshape, scale } from '../../src/graph/ops/elementwise.js';
import { testGpu } from '../helpers/gpu.js';

describe('graph tape', () => {
  let e: Engine;
  before(async () => {
    e = await Engine.create((await testGpu()).device);
  });

  it('gradient of a tensor used twice accumulates (d/dx [relu(x) + 3x] = 4 at x > 0)', async () => {
    const x = e.parameter(Float32Array.of(0.5), [1], 'x');
    e.scope(() => {
      const y = add(relu(x), scale(x, 3));
      backward(y);
    });
    expect(Array.from(await x.grad!.readF32())).to.deep.equal([4]);
    // A second backward adds into .grad (accumulation across calls).
    e.scope(() => backward(relu6(scale(x, -2))));
    // relu6'(-1) = 0, so the gradient stays 4.
    expect(Array.from(await x.grad!.readF32())).to.deep.equal([4]);
    x.dispose();
  });

  it('no-grad records nothing and detach cuts the tape', async () => {
    const x = e.parameter(Float32Array.of(2), [1], 'x');
    e.scope(() => {
      const y = e.noGrad(() => scale(x, 5));
      expect(y.node).to.equal(undefined);
      expect(y.requiresGrad).to.equal(false);
      const z = add(scale(x, 2), scale(x, 7).detach());
      backward(z);
    });
    expect(Array.from(await x.grad!.readF32())).to.deep.equal([2]);
    x.dispose();
  });

  it('reshape is a differentiable view', async () => {
    const x = e.parameter(Float32Array.of(-1), [1, 1], 'x');
    e.scope(() => backward(reshape(scale(reshape(x, [1]), 2), [1, 1, 1])));
    expect(x.grad!.shape).to.deep.equal([1, 1]);
    expect(Array.from(await x.grad!.readF32())).to.deep.equal([2]);
    x.dispose();
  });

  it('scopes free intermediates and steady steps keep live bytes constant', async () => {
    const x = e.parameter(new Float32Array(1000).fill(1), [1000], 'x');
    const step = () => e.scope(() => {
      const one = reshape(scale(reshape(x, [1000]), 1), [1000]);
      const y = relu(add(one, one));
      return relu6(y).size; // nothing tensor-valued escapes
    });
    step();
    await e.sync();
    const before = e.stats();
    for (let i = 0; i < 200; i++) step();
    await e.sync();
    const after = e.stats();
    expect(after.liveBytes).to.equal(before.liveBytes);
    expect(after.created).to.equal(before.created);
    x.dispose();
  });

  it('errors name the op and shapes', () => {
    const a = e.tensor(new Float32Array(6), [2, 3]);
    const b = e.tensor(new Float32Array(6), [3, 2]);
    expect(() => add(a, b)).to.throw(/add: shapes differ: \[2, 3\] and \[3, 2\]/);
    expect(() => reshape(a, [4, 2])).to.throw(/reshape: cannot view \[2, 3\] as \[4, 2\]/);
    expect(() => backward(a)).to.throw(/one element/);
    a.dispose();
    b.dispose();
    expect(() => a.buffer).to.throw(/used after it was disposed/);
  });
});
