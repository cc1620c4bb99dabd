// TF.js' WASM backend (CPU SIMD, single-threaded in Node) running PAtt-Lite inference at
// 224x224 — the peer DESIGN names as the stretch target. Same network as the WebGPU peer
// (test/reference/patt-lite-tf.ts), random weights of the right shapes (speed does not depend on
// the values). Medians after one warm-up run.
//
//   npx tsx bench/model/inference-wasm.bench.ts
import { time } from '../lib/timing.js';
import { pattLiteSpecs, specKey } from '../../src/io/weight-specs.js';
import { pattLiteTf } from '../../test/reference/patt-lite-tf.js';
import { uniform } from '../../test/helpers/random.js';
import { isScript } from '../lib/script.js';

export interface WasmInferenceRow {
  batch: number;
  imagesPerS: number;
  runs: number;
}

export async function runWasmInferenceBench(o: { batches?: number[]; maxRepeats?: number; budgetS?: number } = {}): Promise<{
  rows: WasmInferenceRow[]; skipped: { batch: number; why: string }[]; threads: string;
}> {
  const quiet = console.warn;
  console.warn = () => {};
  const tf = await import('@tensorflow/tfjs');
  await import('@tensorflow/tfjs-backend-wasm');
  console.warn = quiet;
  if (!(await tf.setBackend('wasm'))) throw new Error('TF.js WASM backend did not start');
  await tf.ready();
  const weights = new Map<string, import('@tensorflow/tfjs').Tensor>();
  let seed = 1;
  for (const s of pattLiteSpecs({ classes: 7 })) {
    const n = s.shape.reduce((a, b) => a * b, 1);
    const v = s.weight === 'moving_variance' ? uniform(seed++, n, 0.5, 1.5) : uniform(seed++, n, -0.1, 0.1);
    weights.set(specKey(s), tf.tensor(v, s.shape as number[]));
  }
  const w = (name: string) => weights.get(name)!;
  const rows: WasmInferenceRow[] = [];
  const skipped: { batch: number; why: string }[] = [];
  const t0 = performance.now();
  for (const batch of o.batches ?? [1, 8]) {
    if (o.budgetS !== undefined && (performance.now() - t0) / 1000 > o.budgetS) {
      skipped.push({ batch, why: 'over the time budget' });
      continue;
    }
    const x = tf.tensor4d(uniform(100 + batch, batch * 224 * 224 * 3, -1, 1), [batch, 224, 224, 3]);
    const repeats = o.maxRepeats ?? 3;
    const t = await time(async () => {
      const y = tf.tidy(() => tf.softmax(pattLiteTf(tf, w, x, { attention: 'patch', training: false })));
      await y.data();
      y.dispose();
    }, repeats, 1);
    x.dispose();
    rows.push({ batch, imagesPerS: batch / t.median, runs: t.runs });
  }
  return { rows, skipped, threads: 'single-threaded (Node, no SharedArrayBuffer workers)' };
}

if (isScript(import.meta.url)) {
  const r = await runWasmInferenceBench();
  for (const row of r.rows) console.log(`TF.js WASM batch ${row.batch}: ${row.imagesPerS.toFixed(2)} images/s (${row.runs} runs)`);
}
