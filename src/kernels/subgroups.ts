// Subgroup size probe. Kernels written for one subgroup size (matmul 'sg8') need to know that a
// workgroup of that many invocations really is one subgroup of that size here: WebGPU reports
// only a min/max range, and lavapipe's size is its SIMD width (8 with AVX2, 16 with AVX-512, 4
// with SSE). So we ask the device once: a workgroup of `size` invocations writes the
// subgroup_size each invocation sees. Browser-safe; the one readback is done once per device.

import { createStorage, readBuffer } from './runtime.js';

const probes = new WeakMap<GPUDevice, Map<number, Promise<boolean>>>();

const probeWgsl = (size: number) => `enable subgroups;
@group(0) @binding(0) var<storage, read_write> out: array<u32>;
@compute @workgroup_size(${size})
fn probe(@builtin(local_invocation_index) i: u32, @builtin(subgroup_size) sg: u32, @builtin(subgroup_invocation_id) lane: u32) {
  out[i] = sg * 1024u + lane;
}`;

/** True when the device has subgroups and a workgroup of `size` invocations is one subgroup of `size` lanes, lane = local index. */
export function hasSubgroupSize(device: GPUDevice, size: number): Promise<boolean> {
  let perDevice = probes.get(device);
  if (!perDevice) probes.set(device, (perDevice = new Map()));
  let p = perDevice.get(size);
  if (!p) {
    p = probe(device, size);
    perDevice.set(size, p);
  }
  return p;
}

async function probe(device: GPUDevice, size: number): Promise<boolean> {
  if (!device.features.has('subgroups')) return false;
  const out = createStorage(device, size * 4, `subgroups/probe-${size}`, true);
  try {
    device.pushErrorScope('validation');
    let bindGroup: GPUBindGroup | undefined;
    let pipeline: GPUComputePipeline | undefined;
    try {
      const module = device.createShaderModule({ label: 'subgroups/probe', code: probeWgsl(size) });
      pipeline = await device.createComputePipelineAsync({ label: 'subgroups/probe', layout: 'auto', compute: { module, entryPoint: 'probe' } });
      bindGroup = device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: out } }] });
    } finally {
      if (await device.popErrorScope()) pipeline = undefined;
    }
    if (!pipeline || !bindGroup) return false;
    const enc = device.createCommandEncoder({ label: 'subgroups/probe' });
    const pass = enc.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(1);
    pass.end();
    device.queue.submit([enc.finish()]);
    const seen = new Uint32Array(await readBuffer(device, out));
    return seen.every((v, i) => v === size * 1024 + i);
  } catch {
    return false;
  } finally {
    out.destroy();
  }
}
