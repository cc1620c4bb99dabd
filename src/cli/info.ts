// `patt-lite info`: what the adapter is and what it can do.
import { createGpu } from '../gpu/device.js';
import { GPU_HELP, GPU_OPTIONS, parse } from './args.js';

const HELP = [
  'usage: patt-lite info [--json] [--adapter NAME] [--backend NAME]',
  '',
  'Prints the WebGPU adapter, its features and limits, and the optional features requested.',
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
    const report = {
      adapter: { vendor: a.vendor, architecture: a.architecture, device: a.device, description: a.description },
      software: a.isSoftware,
      requestedFeatures: [...gpu.features],
      adapterFeatures: a.features,
      limits: a.limits,
      env: { LP_NUM_THREADS: process.env.LP_NUM_THREADS ?? null },
    };
    if (values.json) {
      console.log(JSON.stringify(report, null, 2));
    } else {
      console.log(`adapter:   ${a.vendor} / ${a.device || a.description} / ${a.architecture}${a.isSoftware ? ' (software)' : ''}`);
      console.log(`description: ${a.description}`);
      console.log(`requested: ${[...gpu.features].join(' ') || 'none'}`);
      console.log(`features:  ${a.features.join(' ')}`);
      console.log('limits:');
      for (const [k, v] of Object.entries(a.limits)) console.log(`  ${k.padEnd(44)} ${v}`);
    }
  } finally {
    gpu.close();
  }
  return 0;
}
