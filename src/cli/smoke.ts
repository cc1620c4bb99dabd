// `patt-lite smoke` (and `demo` until the training demo exists): proves the GPU path end to end.
// Creates the device, runs an element-wise kernel over a million values, checks every value
// against the CPU and prints how long the GPU took.
import { createGpu, describeGpu } from '../gpu/device.js';
import { createElementwise } from '../kernels/elementwise.js';
import { createStorage, encode, readF32, upload } from '../kernels/runtime.js';
import { GPU_HELP, GPU_OPTIONS, parse } from './args.js';

const HELP = [
  'usage: patt-lite smoke [--adapter NAME] [--backend NAME]',
  '',
  'Runs ReLU6 on 1,048,576 values on the GPU and checks every one against the CPU.',
  'Exit code 0 when they all match, 1 when any differs, 3 when no GPU adapter is usable.',
  '',
  ...GPU_HELP,
].join('\n');

export async function smokeCommand(argv: string[]): Promise<number> {
  const { values } = parse(argv, GPU_OPTIONS);
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const t0 = performance.now();
  const gpu = await createGpu({ adapter: values.adapter, backend: values.backend });
  try {
    console.log(`adapter: ${describeGpu(gpu)}`);
    const { device } = gpu;
    const n = 1 << 20;
    const x = new Float32Array(n);
    for (let i = 0; i < n; i++) x[i] = ((i * 7919) % 2000) / 100 - 10; // -10 .. 10
    const kernel = await createElementwise(device);
    const xb = upload(device, x, 'smoke/x');
    const yb = createStorage(device, n * 4, 'smoke/y');
    const bound = kernel.activation('relu6', n, xb, yb);
    const t1 = performance.now();
    const enc = device.createCommandEncoder({ label: 'smoke' });
    const pass = enc.beginComputePass({ label: 'smoke' });
    encode(pass, bound);
    pass.end();
    device.queue.submit([enc.finish()]);
    const y = await readF32(device, yb, n);
    const t2 = performance.now();
    let bad = 0;
    for (let i = 0; i < n; i++) if (y[i] !== Math.min(Math.max(x[i], 0), 6)) bad++;
    console.log(`kernel: elementwise/relu6_fwd on ${n} values: ${(t2 - t1).toFixed(1)} ms including readback`);
    console.log(bad === 0 ? 'check: every value matches the CPU' : `check: ${bad} values differ from the CPU`);
    console.log(`total: ${((performance.now() - t0) / 1000).toFixed(2)} s (device creation and pipeline compile included)`);
    console.log('note: the training demo is not built yet; this run only proves the GPU path works.');
    xb.destroy();
    yb.destroy();
    return bad === 0 ? 0 : 1;
  } finally {
    gpu.close();
  }
}
