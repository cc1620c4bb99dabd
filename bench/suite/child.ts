// One bench in a process of its own, for the suite (run.ts). Dawn does not survive several
// instances being created and dropped in one process (a `std::system_error` abort when the second
// bench opened its device), and a process per bench also gives each one its own peak RSS.
//
//   node --import tsx bench/suite/child.ts NAME OPTIONS_JSON RESULT_FILE
//
// Logs go to stdout; the return value and memory figures are written to RESULT_FILE as JSON.
import { writeFileSync } from 'node:fs';
import { runCopyBench } from '../kernels/copy.bench.js';
import { runMatmulBench } from '../kernels/matmul.bench.js';
import { runConvBench } from '../kernels/conv.bench.js';
import { runAttentionBench } from '../kernels/attention.bench.js';
import { runInferenceBench } from '../model/inference.bench.js';
import { runTrainingBench } from '../model/training.bench.js';
import { runWasmInferenceBench } from '../model/inference-wasm.bench.js';

export const BENCHES = {
  copy: runCopyBench,
  matmul: runMatmulBench,
  conv: runConvBench,
  attention: runAttentionBench,
  inference: runInferenceBench,
  training: runTrainingBench,
  'inference-wasm': runWasmInferenceBench,
} as const;
export type BenchName = keyof typeof BENCHES;

export interface ChildResult<T> {
  value: T;
  rssBytes: number;
  maxRssBytes: number;
}

const [name, options, resultFile] = process.argv.slice(2);
const bench = BENCHES[name as BenchName] as (o: object) => Promise<unknown>;
if (!bench || !resultFile) {
  console.error(`usage: child.ts ${Object.keys(BENCHES).join('|')} OPTIONS_JSON RESULT_FILE`);
  process.exit(2);
}
try {
  const value = await bench(JSON.parse(options ?? '{}') as object);
  const r: ChildResult<unknown> = { value, rssBytes: process.memoryUsage().rss, maxRssBytes: process.resourceUsage().maxRSS * 1024 };
  writeFileSync(resultFile, JSON.stringify(r));
  // Dawn and TF.js may keep handles alive; the result is written, so leave now.
  process.exit(0);
} catch (err) {
  console.error((err as Error).stack ?? String(err));
  process.exit(1);
}
