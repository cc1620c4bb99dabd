// `patt-lite info`: what the adapter is and what it can do.
import { createGpu } from '../gpu/device.js';
import { fileAutotuneCache } from '../gpu/autotune-cache.js';
import { createMatmul, matmulSg8Supported } from '../kernels/matmul.js';
import { GPU_HELP, GPU_OPTIONS, parse } from './args.js';

const HELP = [
  'usage: patt-lite info [--json] [--adapter NAME] [--backend NAME]',
  '',
  'Prints the WebGPU adapter, its features and limits, the optional features requested, and the',
  'matrix-multiply variant used on it (autotuned on first use, then cached on disk).',
  '',
  '  --json           print as JSON',
  ...GPU_HELP,
].join('\n');

export async function infoCommand(argv: string[]): Promise<number> {
  const { values } = parse(argv, { ...GPU_OPTIONS, json: { type: 'boolean' } });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const gpu = await createGpu({ adapter: values.adapter, backend: values.backend });
  try {
    const a = gpu.adapter;
    const sg8 = await matmulSg8Supported(gpu.device);
    const matmul = (await createMatmul(gpu.device, { cache: fileAutotuneCache() })).variant;
    const report = {
      adapter: { vendor: a.vendor, architecture: a.architecture, device: a.device, description: a.description },
      software: a.isSoftware,
      requestedFeatures: [...gpu.features],
      adapterFeatures: a.features,
      limits: a.limits,
      kernels: { matmul, subgroupsOf8: sg8 },
      env: { LP_NUM_THREADS: process.env.LP_NUM_THREADS ?? null },
    };
    if (values.json) {
      console.log(JSON.stringify(report, null, 2));
    } else {
      console.log(`adapter:   ${a.vendor} / ${a.device || a.description} / ${a.architecture}${a.isSoftware ? ' (software)' : ''}`);
      console.log(`description: ${a.description}`);
      console.log(`requested: ${[...gpu.features].join(' ') || 'none'}`);
      console.log(`features:  ${a.features.join(' ')}`);
      console.log(`matmul:    ${matmul} (autotuned, cached; 'sg8' ${sg8 ? 'available: 8-lane subgroups' : 'unavailable: no 8-lane subgroups'})`);
      console.log('limits:');
      for (const [k, v] of Object.entries(a.limits)) console.log(`  ${k.padEnd(44)} ${v}`);
    }
  } finally {
    gpu.close();
  }
  return 0;
}
