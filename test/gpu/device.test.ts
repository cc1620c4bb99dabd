import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { createGpu, describeGpu } from '../../src/gpu/device.js';
import { GpuError, getPipeline, withErrorScope, createStorage, upload, readF32 } from '../../src/kernels/runtime.js';
import { testGpu } from '../helpers/gpu.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

describe('gpu device', () => {
  it('reports the adapter, its features and limits', async () => {
    const g = await testGpu();
    expect(g.adapter.features.length).to.be.greaterThan(0);
    expect(g.adapter.limits.maxStorageBufferBindingSize).to.be.greaterThan(0);
    // Requested optional features are a subset of what the adapter offers.
    for (const f of g.features) expect(g.adapter.features).to.include(f);
    expect(describeGpu(g)).to.be.a('string').and.not.be.empty;
    // The device got the adapter's maximum storage binding, not the 128 MiB default.
    expect(g.device.limits.maxStorageBufferBindingSize).to.equal(g.adapter.limits.maxStorageBufferBindingSize);
  });

  it('says how to get an adapter when the requested one does not exist', async () => {
    let err: unknown;
    try {
      await createGpu({ adapter: 'no-such-adapter-for-patt-lite' });
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(GpuError);
    const text = (err as Error).message;
    expect(text).to.match(/No WebGPU adapter found matching adapter "no-such-adapter-for-patt-lite"/);
    expect(text).to.include('scripts/setup-software-gpu.sh');
    expect(text).to.include('bookworm-backports');
  });

  it('turns a validation error into an exception that names the kernel', async () => {
    const { device } = await testGpu();
    const code = `
      @group(0) @binding(0) var<uniform> n: vec4u;
      @group(0) @binding(1) var<storage, read_write> y: array<f32>;
      @compute @workgroup_size(1) fn probe() { y[0] = f32(n.x); }`;
    const pipeline = await getPipeline(device, { family: 'probe', entry: 'probe', code, inputs: 0, outputs: 1 });
    // Our storage buffers also allow UNIFORM usage; this one must not.
    const y = device.createBuffer({ label: 'probe/y', size: 16, usage: GPUBufferUsage.STORAGE });
    let err: unknown;
    try {
      await withErrorScope(device, 'probe/probe', () => {
        // Binding a buffer without UNIFORM usage as the uniform is a validation error.
        device.createBindGroup({
          layout: pipeline.getBindGroupLayout(0),
          entries: [{ binding: 0, resource: { buffer: y } }, { binding: 1, resource: { buffer: y } }],
        });
      });
    } catch (e) {
      err = e;
    }
    y.destroy();
    expect(err).to.be.instanceOf(GpuError);
    expect((err as GpuError).kernel).to.equal('probe/probe');
    expect((err as Error).message).to.match(/^probe\/probe: /);
  });

  it('reports WGSL compile errors with the family and line', async () => {
    const { device } = await testGpu();
    const code = '@compute @workgroup_size(1) fn broken() { let x: f32 = 1u; }';
    let err: unknown;
    try {
      await getPipeline(device, { family: 'broken', entry: 'broken', code, inputs: 0, outputs: 0 });
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(GpuError);
    expect((err as Error).message).to.match(/WGSL compilation failed for broken:\n\s+broken\.wgsl:1:/);
  });

  it('round-trips a buffer through upload and readback', async () => {
    const { device } = await testGpu();
    const data = Float32Array.from({ length: 1001 }, (_, i) => i * 0.5 - 7);
    const b = upload(device, data, 'test/roundtrip');
    const back = await readF32(device, b, data.length);
    b.destroy();
    expect(Array.from(back)).to.deep.equal(Array.from(data));
  });

  it('lets a process that used the device exit by itself', function () {
    // A child process creates the device, runs a kernel, closes, and must end on its own: no
    // process.exit, no timers. If Dawn kept the event loop alive, spawnSync would hit the timeout.
    const script = `
      import { createGpu } from './src/gpu/device.ts';
      import { createElementwise } from './src/kernels/elementwise.ts';
      import { createStorage, encode, readF32 } from './src/kernels/runtime.ts';
      const g = await createGpu();
      const k = await createElementwise(g.device);
      const out = createStorage(g.device, 64 * 4, 'exit/out');
      const enc = g.device.createCommandEncoder();
      const pass = enc.beginComputePass();
      encode(pass, k.fill(64, out, 3));
      pass.end();
      g.device.queue.submit([enc.finish()]);
      const v = await readF32(g.device, out, 64);
      console.log('sum=' + v.reduce((a, b) => a + b, 0));
      g.close();
    `;
    const started = Date.now();
    const res = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: root,
      encoding: 'utf8',
      timeout: 60_000,
    });
    const seconds = (Date.now() - started) / 1000;
    expect(res.error, `child did not exit by itself within 60 s (${seconds}s)`).to.equal(undefined);
    expect(res.status, res.stderr).to.equal(0);
    expect(res.stdout).to.include('sum=192');
  });

  it('setup-software-gpu.sh does nothing when an adapter already works', function () {
    const res = spawnSync('bash', ['scripts/setup-software-gpu.sh'], { cwd: root, encoding: 'utf8', timeout: 120_000 });
    expect(res.status, res.stderr).to.equal(0);
    expect(res.stdout).to.match(/a WebGPU adapter already works: .+\. Nothing to do\./);
  });
});
