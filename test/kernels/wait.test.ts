// settle() (src/kernels/wait.ts): it must hand back what the promise gives, errors included, and
// wait for real GPU work. How much CPU it saves is measured in bench/kernels/wait.bench.ts, not
// asserted here (no timing in unit tests).
import { expect } from 'chai';
import { napMs, settle } from '../../src/kernels/wait.js';
import * as kernels from '../../src/kernels/index.js';
import { createStorage, readF32, upload } from '../../src/kernels/runtime.js';
import { testGpu } from '../helpers/gpu.js';

const later = <T>(ms: number, value: T): Promise<T> => new Promise((resolve) => setTimeout(() => resolve(value), ms));

describe('settle (waiting without spinning)', () => {
  it('polls freely for 1 ms, then naps a twentieth of the time waited, between 50 us and 2 ms', () => {
    expect(napMs(0)).to.equal(0);
    expect(napMs(0.9)).to.equal(0);
    expect(napMs(1)).to.equal(0.05);
    expect(napMs(10)).to.equal(0.5);
    expect(napMs(40)).to.equal(2);
    expect(napMs(1e6)).to.equal(2);
  });

  it('resolves with the value, after the promise does', async () => {
    const t0 = performance.now();
    expect(await settle(later(30, 'done'))).to.equal('done');
    expect(performance.now() - t0).to.be.at.least(29);
    expect(await settle(Promise.resolve(7))).to.equal(7);
  });

  it('settles concurrent waits, each with its own value, in one polling loop', async () => {
    const values = await Promise.all([settle(later(20, 'a')), settle(later(5, 'b')), settle(Promise.resolve('c')), settle(later(40, 'd'))]);
    expect(values).to.deep.equal(['a', 'b', 'c', 'd']);
    // And again once the loop has stopped.
    expect(await settle(later(5, 'e'))).to.equal('e');
  });

  it('is part of the kernel library\'s exports (the README\'s embedding example imports it)', () => {
    expect(kernels.settle).to.equal(settle);
  });

  it('rejects with the promise\'s own error', async () => {
    const boom = new RangeError('boom');
    const failing = later(10, 0).then(() => { throw boom; });
    let caught: unknown;
    try {
      await settle(failing);
    } catch (err) {
      caught = err;
    }
    expect(caught).to.equal(boom);
  });

  it('waits for the queue\'s own signal on submitted GPU work', async () => {
    const { device } = await testGpu();
    const n = 1 << 20;
    const data = Float32Array.from({ length: n }, (_, i) => i % 1000);
    const src = upload(device, data, 'settle/src');
    const dst = createStorage(device, n * 4, 'settle/dst');
    const enc = device.createCommandEncoder();
    enc.copyBufferToBuffer(src, 0, dst, 0, n * 4);
    device.queue.submit([enc.finish()]);
    let signalled = false;
    await settle(device.queue.onSubmittedWorkDone().then(() => { signalled = true; }));
    expect(signalled).to.equal(true);
    const back = await readF32(device, dst, n);
    expect(back[n - 1]).to.equal(data[n - 1]);
    expect(back[12345]).to.equal(data[12345]);
    src.destroy();
    dst.destroy();
  });
});
