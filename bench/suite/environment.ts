// What a benchmark ran on: adapter and driver, package versions, git revision, machine load,
// and which peers are installed. Read once per suite run; nothing here is timed.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { arch, availableParallelism, loadavg, platform, release } from 'node:os';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import type { Gpu } from '../../src/gpu/device.js';
import type { Environment, Peer } from './results.js';

/** The checkout: this file's grandparent, or PATT_ROOT where a bundle (bench/device/cli.ts) runs it from elsewhere. */
export const ROOT = process.env.PATT_ROOT ?? join(dirname(fileURLToPath(import.meta.url)), '..', '..');

const PACKAGES = ['webgpu', '@tensorflow/tfjs', '@tensorflow/tfjs-backend-webgpu', '@tensorflow/tfjs-backend-wasm'];
const ENV_KEYS = ['LP_NUM_THREADS', 'PATT_ADAPTER', 'PATT_BACKEND', 'PATT_DAWN_ENABLE', 'PATT_DAWN_DISABLE', 'VK_ICD_FILENAMES'];

/** The installed version of `name`, read from node_modules (null when it is not installed). */
export function packageVersion(name: string): string | null {
  // A bundle (scripts/build-device-bundle.mjs) records the versions it bundled in its own folder.
  const file = join(process.env.PATT_NODE_MODULES ?? join(ROOT, 'node_modules'), name, 'package.json');
  if (!existsSync(file)) return null;
  return (JSON.parse(readFileSync(file, 'utf8')) as { version?: string }).version ?? null;
}

function git(args: string[]): string | null {
  try {
    return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

/** Tracks the 1-minute load average at section boundaries (the machine may be shared). */
export class LoadWatch {
  readonly start = loadavg()[0];
  max = this.start;
  sample(): number {
    const l = loadavg()[0];
    this.max = Math.max(this.max, l);
    return l;
  }
}

export function environment(gpu: Gpu, load: LoadWatch): Environment {
  const a = gpu.adapter;
  const status = git(['status', '--porcelain']);
  const end = load.sample();
  return {
    node: process.version,
    os: `${platform()} ${release()} ${arch()}`,
    cpus: availableParallelism(),
    packages: Object.fromEntries(PACKAGES.map((p) => [p, packageVersion(p)])),
    adapter: {
      vendor: a.vendor, architecture: a.architecture, device: a.device, description: a.description,
      software: a.isSoftware, features: [...gpu.features],
    },
    driver: a.description,
    // Without git (a bundle carried to a machine without the repository's history), the revision the
    // bundle was built from.
    git: status === null && process.env.PATT_GIT_REV
      ? { rev: process.env.PATT_GIT_REV, dirty: process.env.PATT_GIT_DIRTY ? Number(process.env.PATT_GIT_DIRTY) : null }
      : { rev: git(['rev-parse', 'HEAD']), dirty: status === null ? null : status.split('\n').filter(Boolean).length },
    load: { start: load.start, end, max: load.max },
    env: Object.fromEntries(ENV_KEYS.map((k) => [k, process.env[k] ?? null])),
  };
}

/** The peers and whether each one can run here. WebGPU is marked measured by the suite. */
export function peers(): Peer[] {
  const wasm = packageVersion('@tensorflow/tfjs-backend-wasm');
  return [
    {
      name: 'TF.js WebGPU', status: 'measured',
      note: 'same Dawn adapter, same process, same network (test/reference/patt-lite-tf.ts) and weights',
    },
    wasm
      ? {
        name: 'TF.js WASM', status: 'measured',
        note: `@tensorflow/tfjs-backend-wasm ${wasm}: inference only (it cannot train PAtt-Lite: no convolution ` +
          'gradients), single-threaded in Node (DESIGN §5); bench/model/inference-wasm.bench.ts',
      }
      : {
        name: 'TF.js WASM', status: 'not installed',
        note: 'to add: `npm install --save-dev @tensorflow/tfjs-backend-wasm@4.22.0` (match @tensorflow/tfjs), then ' +
          "write its inference runner (tf.setBackend('wasm')); it cannot train PAtt-Lite (no convolution gradients)",
      },
  ];
}
