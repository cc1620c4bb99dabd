import { expect } from 'chai';
import { Engine } from '../../src/graph/engine.js';
import { backward } from '../../src/graph/tape.js';
import { add, relu, relu6, scale } from '../../src/graph/ops/elementwise.js';
import { testGpu } from '../helpers/gpu.js';

describe('graph plans (record once, replay)', () => {
  let e: Engine;
  before(async () => {
    e = await Engine.create((await testGpu()).device);
  });

  it('a replayed step gives the same values as eager execution and allocates nothing', async () => {
    const w = e.parameter(Float32Array.of(0.25), [1], 'w');
    const input = e.keep(e.tensor(Float32Array.of(0), [1], { label: 'input' }));
    const step = () => {
      const h = relu(add(scale(input, 2), w));
      const loss = relu6(add(h, h, 3, 0.5));
      backward(loss);
      return loss;
    };
    const inputs = [1.5, -0.1, 2.0, 0.7];

    // Eager: fresh gradient each step, read loss and grad.
    const eager: number[][] = [];
    for (const v of inputs) {
      e.write(input, Float32Array.of(v));
      w.grad?.dispose();
      w.grad = undefined;
      const loss = e.scope(step);
      eager.push([(await loss.readF32())[0], (await w.grad!.readF32())[0]]);
      loss.dispose();
    }
    w.grad?.dispose();
    w.grad = undefined;

    // Compiled: record once (nothing runs), then replay per input.
    const { plan, result: loss } = e.record('step', step);
    const created = e.stats().created;
    const replayed: number[][] = [];
    for (const v of inputs) {
      e.write(input, Float32Array.of(v));
      plan.run();
      replayed.push([(await loss.readF32())[0], (await w.grad!.readF32())[0]]);
    }
    expect(e.stats().created).to.equal(created);
    expect(replayed).to.deep.equal(eager);
    // Independent check: loss = relu6(3.5 * relu(2v + 0.25)); dloss/dw = 3.5 inside both ramps.
    for (const [i, v] of inputs.entries()) {
      const pre = 3.5 * Math.max(0, 2 * v + 0.25);
      const grad = pre > 0 && pre < 6 ? 3.5 : 0;
      expect(eager[i][0]).to.be.closeTo(Math.min(6, pre), 1e-6);
      expect(eager[i][1]).to.equal(grad);
    }
  });
});
