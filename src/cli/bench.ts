// `patt-lite bench`: the benchmark suite (bench/suite/run.ts). The suite lives in bench/, outside
// the published package, so it is loaded by URL at run time: a source checkout has it, an
// installed package says so instead of failing on an import.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { GPU_HELP, GPU_OPTIONS, parse, UsageError } from './args.js';

const SECTIONS = ['kernels', 'inference', 'training'] as const;
type Section = (typeof SECTIONS)[number];

export const BENCH_HELP = [
  'usage: patt-lite bench [--quick] [--only SECTIONS] [--budget SECONDS] [--out DIR]',
  '       patt-lite bench --history [--out DIR]',
  '',
  'Runs the benchmark suite on one adapter, next to TensorFlow.js WebGPU on the same adapter:',
  '  kernels    matmul/pointwise, depthwise 3x3, conv1, patch-extraction convs, attention:',
  '             GFLOP/s and GB/s next to the adapter ceilings measured in the same run (a 256 MiB',
  '             buffer copy for bandwidth, the best matmul for arithmetic)',
  '  inference  images/s at batch 1, 8, 32, 128; time to first result (pipeline compilation)',
  '  training   seconds per step at batch 8, 224x224, phase 1 (frozen backbone) and phase 2',
  '             (backbone convolutions trainable, BN frozen); peak GPU bytes; process RSS',
  'TF.js WASM is reported as a peer that is not installed (the suite does not install packages).',
  'Writes bench-<date>.json/.md and latest.json/.md to the results folder and prints the table.',
  'Figures are medians after warm-up runs; no figure is checked against a threshold.',
  'Then it rebuilds history.md, history.png and history-matmul.png there from every bench-*.json',
  'in the folder: each kernel\'s speed-up over TF.js and the 1024^3 matmul\'s GFLOP/s run by run',
  '(a software adapter swings between runs, so one run cannot say whether a target holds).',
  '',
  '  --quick          small repeat counts, no inference batch 128 (a few minutes on a 2-core',
  '                   software adapter); default budget 420 s instead of 1800 s',
  '  --only LIST      comma-separated sections to run: kernels, inference, training',
  '  --budget S       soft wall-clock budget in seconds: a started section finishes with fewer',
  '                   repeats; batch sizes and TF.js phase 2 that would not fit are skipped and',
  '                   listed under "budget decisions"',
  '  --out DIR        results folder (default bench/results in the checkout)',
  '  --history        only rebuild the history files from the results folder; runs nothing',
  ...GPU_HELP,
  '',
  'Needs a source checkout (bench/ is not in the npm package) and the dev dependencies',
  '(@tensorflow/tfjs, @tensorflow/tfjs-backend-webgpu). `npm run bench` runs it without options.',
].join('\n');

export interface BenchArgs {
  quick: boolean;
  only: Section[];
  budgetS?: number;
  out?: string;
  /** Only rebuild the history files. */
  history: boolean;
}

/** Parses the options (exported for the test); returns undefined for --help. */
export function parseBenchArgs(argv: string[]): BenchArgs | undefined {
  const { values, positionals } = parse(argv, {
    ...GPU_OPTIONS,
    quick: { type: 'boolean' },
    only: { type: 'string' },
    budget: { type: 'string' },
    out: { type: 'string' },
    history: { type: 'boolean' },
  });
  if (values.help) return undefined;
  if (values.history && (values.quick || values.only !== undefined || values.budget !== undefined)) {
    throw new UsageError('--history runs no benchmark: it takes only --out');
  }
  if (positionals.length) throw new UsageError(`unexpected argument "${positionals[0]}"; see --help`);
  const only = values.only ? values.only.split(',').map((s) => s.trim()).filter(Boolean) : [...SECTIONS];
  for (const s of only) {
    if (!(SECTIONS as readonly string[]).includes(s)) throw new UsageError(`--only: unknown section "${s}" (kernels, inference, training)`);
  }
  let budgetS: number | undefined;
  if (values.budget !== undefined) {
    budgetS = Number(values.budget);
    if (!(budgetS > 0)) throw new UsageError(`--budget wants a positive number of seconds, got "${values.budget}"`);
  }
  if (values.adapter) process.env.PATT_ADAPTER = values.adapter;
  if (values.backend) process.env.PATT_BACKEND = values.backend;
  return { quick: !!values.quick, only: only as Section[], budgetS, out: values.out, history: !!values.history };
}

/** What bench/suite/run.ts exports (declared here: bench/ is outside src's build). */
interface SuiteModule {
  DEFAULT_OUT: string;
  DEFAULT_BUDGET_S: { quick: number; full: number };
  runSuite(o: { quick: boolean; only: Section[]; budgetS: number; out?: string }): Promise<{ files: string[] }>;
}

interface HistoryModule {
  writeHistory(dir: string): string[];
}

/** Where the suite comes from: the checkout's bench/ by URL, or what a bundle provided. */
type SuiteLoader = () => Promise<{ suite: SuiteModule; history: HistoryModule }>;
let provided: SuiteLoader | undefined;

/** A bundle that carries the suite (bench/device/cli.ts) hands it over here. */
export function provideBenchSuite(load: SuiteLoader): void {
  provided = load;
}

async function loadFromCheckout(): Promise<{ suite: SuiteModule; history: HistoryModule } | undefined> {
  const url = new URL('../../bench/suite/run.ts', import.meta.url);
  if (!existsSync(fileURLToPath(url))) return undefined;
  return {
    suite: (await import(url.href)) as SuiteModule,
    history: (await import(new URL('../../bench/suite/history.ts', import.meta.url).href)) as HistoryModule,
  };
}

export async function benchCommand(argv: string[]): Promise<number> {
  const args = parseBenchArgs(argv);
  if (!args) {
    console.log(BENCH_HELP);
    return 0;
  }
  const loaded = await (provided ?? loadFromCheckout)();
  if (!loaded) {
    console.error('patt-lite bench: the suite (bench/suite/run.ts) is not here; run it from a source checkout.');
    return 2;
  }
  const { suite, history } = loaded;
  if (args.history) {
    const dir = args.out ?? suite.DEFAULT_OUT;
    if (!existsSync(dir)) {
      console.error(`patt-lite bench --history: no results folder at ${dir}`);
      return 2;
    }
    console.log(`wrote ${history.writeHistory(dir).join(', ')}`);
    return 0;
  }
  const budgetS = args.budgetS ?? (args.quick ? suite.DEFAULT_BUDGET_S.quick : suite.DEFAULT_BUDGET_S.full);
  await suite.runSuite({ quick: args.quick, only: args.only, budgetS, out: args.out });
  return 0;
}
