import { expect } from 'chai';
import { Engine } from '../../src/graph/engine.js';
import { backward } from '../../src/graph/tape.js';
import { add, relu, relu6, scale } from '../../src/graph/ops/elementwise.js';
import { sum } from '../../src/graph/ops/reduce.js';
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

  describe('hoisted work (Engine.hoist)', () => {
    const read = async (t: { readF32(): Promise<Float32Array> }) => Array.from(await t.readF32());

    it('runs on the first replay and again only after an input is written; its output keeps its buffer', async () => {
      const w = e.keep(e.tensor(Float32Array.of(1, 2, 3, 4), [4], { label: 'frozen' }));
      const input = e.keep(e.tensor(Float32Array.of(0, 0, 0, 0), [4], { label: 'input' }));
      // t1 dies before the hoist point, so its buffer is free there; if the hoisted output took
      // it, t1 (written after the hoisted work on replay) would clobber 2w.
      const { plan, result: y } = e.record('hoist', () => {
        const t1 = scale(input, 3);
        const a = add(input, t1);
        t1.dispose();
        const w2 = e.hoist([w], () => scale(w, 2));
        return add(a, w2);
      });
      const expectY = (x: number[], wv: number[]) => x.map((v, i) => 4 * v + 2 * wv[i]);
      e.write(input, Float32Array.of(1, -1, 0.5, 2));
      plan.run();
      const full = plan.lastRunDispatches;
      expect(await read(y)).to.deep.equal(expectY([1, -1, 0.5, 2], [1, 2, 3, 4]));
      e.write(input, Float32Array.of(2, 0, -3, 1));
      plan.run();
      expect(plan.lastRunDispatches).to.equal(full - 1);
      expect(await read(y)).to.deep.equal(expectY([2, 0, -3, 1], [1, 2, 3, 4]));
      e.write(w, Float32Array.of(-1, 0, 1, 0.5));
      plan.run();
      expect(plan.lastRunDispatches).to.equal(full);
      expect(await read(y)).to.deep.equal(expectY([2, 0, -3, 1], [-1, 0, 1, 0.5]));
      // An update in place declared by another plan (as Adam's and BN's are) also counts.
      const { plan: update } = e.record('update', () => {
        e.enqueue(e.kernels.elementwise.fill(w.size, w.buffer, 5));
        e.updatesInPlace(w);
      });
      update.run();
      plan.run();
      expect(plan.lastRunDispatches).to.equal(full);
      expect(await read(y)).to.deep.equal(expectY([2, 0, -3, 1], [5, 5, 5, 5]));
      // Chained: hoisted work reading a hoisted output reruns when that output was recomputed.
      const { plan: chain, result: z } = e.record('chain', () => {
        const w2 = e.hoist([w], () => scale(w, 2));
        const w3 = e.hoist([w2], () => add(w2, w2));
        return add(input, w3);
      });
      chain.run();
      expect(await read(z)).to.deep.equal([22, 20, 17, 21]);
      e.write(w, Float32Array.of(1, 1, 1, 1));
      chain.run();
      expect(await read(z)).to.deep.equal([6, 4, 1, 5]);
      for (const p of [plan, update, chain]) p.dispose();
      for (const t of [y, z, w, input]) t.dispose();
    });

    it('does not hoist over data the plan rewrites, nor over values that need a gradient', async () => {
      const input = e.keep(e.tensor(Float32Array.of(1, 2), [2], { label: 'input' }));
      const p = e.parameter(Float32Array.of(3, 4), [2], 'trained');
      const { plan, result } = e.record('no-hoist', () => {
        const t = scale(input, 1);
        const fromPlan = e.hoist([t], () => scale(t, 2));
        const fromParam = e.hoist([p], () => scale(p, 10));
        const out = add(fromPlan, fromParam);
        backward(sum(out));
        return out;
      });
      plan.run();
      const full = plan.lastRunDispatches;
      expect(await read(result)).to.deep.equal([32, 44]);
      e.write(input, Float32Array.of(-1, 0));
      plan.run();
      expect(plan.lastRunDispatches).to.equal(full);
      expect(await read(result)).to.deep.equal([28, 40]);
      expect(await read(p.grad!)).to.deep.equal([10, 10]);
      plan.dispose();
      for (const t of [result, input, p]) t.dispose();
    });
  });
});
