// `patt-lite <command>`: the command-line entry point. Each command lives in its own module and
// returns an exit code; errors the user can fix are printed without a stack trace.

import { GpuError } from '../kernels/runtime.js';
import { infoCommand } from './info.js';
import { demoCommand } from './demo.js';
import { trainCommand } from './train.js';
import { evalCommand } from './eval.js';
import { smokeCommand } from './smoke.js';
import { predictCommand } from './predict.js';
import { importCommand } from './import.js';
import { exportCommand } from './export.js';
import { benchCommand } from './bench.js';
import { UsageError } from './args.js';

interface Command {
  summary: string;
  run(argv: string[]): Promise<number>;
}

const COMMANDS: Record<string, Command> = {
  demo: { summary: 'draw a synthetic expression dataset, train PAtt-Lite on it, report', run: demoCommand },
  train: { summary: 'train PAtt-Lite on a dataset (folder tree, FER2013/FERPlus, RAF-DB, HDF5)', run: trainCommand },
  eval: { summary: 'evaluate a model on a dataset split: accuracy, recall, F1, confusion', run: evalCommand },
  smoke: { summary: 'print the adapter, run a kernel on it and check it against the CPU', run: smokeCommand },
  info: { summary: 'the adapter, backend, features, limits and the matmul variant used', run: infoCommand },
  predict: { summary: 'the facial expression in images, with a checkpoint or a Keras model', run: predictCommand },
  import: { summary: 'convert a Keras PAtt-Lite file to a checkpoint (.safetensors)', run: importCommand },
  export: { summary: 'write a model as Keras legacy HDF5 weights (.h5)', run: exportCommand },
  bench: { summary: 'benchmark kernels, inference and training against TF.js WebGPU; write bench/results/', run: benchCommand },
};

export function usage(): string {
  const rows = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(8)} ${c.summary}`);
  return [
    'usage: patt-lite <command> [options]',
    '',
    'PAtt-Lite facial-expression recognition on WebGPU (Dawn in Node).',
    '',
    'commands:',
    ...rows,
    '',
    "`patt-lite <command> --help` describes a command's options.",
    'environment: PATT_ADAPTER (adapter name substring), PATT_BACKEND (vulkan, metal, d3d12, ...),',
    '             LP_NUM_THREADS (lavapipe worker threads; default 4x the cores).',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    console.error(`patt-lite: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`patt-lite ${name}: ${err.message}`);
      return 2;
    }
    if (err instanceof GpuError) {
      console.error(`patt-lite ${name}: ${err.message}`);
      return 3;
    }
    throw err;
  }
}
