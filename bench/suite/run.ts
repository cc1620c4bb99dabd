// The whole benchmark suite, one bench per child process: kernels against the adapter's measured ceilings,
// inference throughput and training steps against TF.js WebGPU, memory, and the budget
// decisions; writes bench/results/ (see results.ts). `patt-lite bench` calls runSuite.
//
// Each bench runs in a child process of its own (child.ts: Dawn aborts when a second device is
// opened after the first one's instance is dropped in the same process); the table of process
// memory is per bench.
//
// The budget is a soft wall-clock limit: a section that has started finishes, with fewer repeats
// when its share is short; whatever is dropped is listed under "budget decisions".
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { createGpu, describeGpu } from '../../src/gpu/device.js';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import type { CopyBenchResult } from '../kernels/copy.bench.js';
import type { MatmulBenchRow } from '../kernels/matmul.bench.js';
import type { ConvBenchRow } from '../kernels/conv.bench.js';
import type { AttentionBenchRow } from '../kernels/attention.bench.js';
import type { InferenceBenchResult } from '../model/inference.bench.js';
import type { TrainingBenchResult } from '../model/training.bench.js';
import type { BenchName, ChildResult } from './child.js';
import { environment, LoadWatch, peers, ROOT } from './environment.js';
import { writeHistory } from './history.js';
import { SECTIONS, toMarkdown, writeResults, type KernelRow, type Section, type SuiteResult } from './results.js';

export interface SuiteOptions {
  quick: boolean;
  only: Section[];
  budgetS: number;
  /** Results folder; default bench/results in the checkout. */
  out?: string;
  log?: (s: string) => void;
}

export const DEFAULT_BUDGET_S = { quick: 420, full: 1800 } as const;
export const DEFAULT_OUT = join(ROOT, 'bench', 'results');

/** Share of the remaining budget a section may use when later sections still have to run. */
const SHARE: Record<Section, number> = { kernels: 0.2, inference: 0.45, training: 1 };

export async function runSuite(o: SuiteOptions): Promise<{ result: SuiteResult; files: string[] }> {
  const log = o.log ?? console.log;
  const out = o.out ?? DEFAULT_OUT;
  const load = new LoadWatch();
  const t0 = performance.now();
  const left = () => o.budgetS - (performance.now() - t0) / 1000;
  const date = new Date().toISOString();
  const gpu = await createGpu();
  log(`adapter: ${describeGpu(gpu)}; driver: ${gpu.adapter.description}`);
  log(`budget ${o.budgetS} s${o.quick ? ' (quick)' : ''}; sections: ${o.only.join(', ')}; load average ${load.start.toFixed(1)}`);
  // Read now: a closed device's adapter report stays valid, and the sections open their own.
  const adapterGpu = gpu;
  gpu.close();

  const result: SuiteResult = {
    schema: 1, date, options: { quick: o.quick, only: o.only, budgetS: o.budgetS, out },
    environment: environment(adapterGpu, load), peers: peers(), ceilings: null, kernels: [], inference: null,
    training: [], memory: [], decisions: [], durations: {}, errors: [],
  };
  const tmp = mkdtempSync(join(tmpdir(), 'patt-bench-'));
  /** Runs one bench in its own process; its log lines are forwarded (Dawn's limit notices dropped). */
  const child = async <T>(name: BenchName, opts: object): Promise<T> => {
    const file = join(tmp, `${name}.json`);
    // A bundle (scripts/build-device-bundle.mjs) names its bundled child; a checkout runs child.ts through tsx.
    const script = process.env.PATT_BENCH_CHILD ?? join(ROOT, 'bench', 'suite', 'child.ts');
    const loader = process.env.PATT_BENCH_CHILD ? [] : ['--import', 'tsx'];
    const p = spawn(process.execPath, [...loader, script, name, JSON.stringify(opts), file], {
      cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'],
    });
    const tail: string[] = [];
    const forward = (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n')) {
        if (!line || line.startsWith('Warning: max')) continue;
        log(line);
        tail.push(line);
        if (tail.length > 5) tail.shift();
      }
    };
    p.stdout.on('data', forward);
    p.stderr.on('data', forward);
    const code = await new Promise<number | null>((resolve) => p.on('close', resolve));
    if (code !== 0) throw new Error(`${name} bench exited with ${code}: ${tail.join(' / ')}`);
    const r = JSON.parse(readFileSync(file, 'utf8')) as ChildResult<T>;
    load.sample();
    result.memory.push({ after: name === 'training' ? `training phase ${result.training.length + 1}` : name, rssBytes: r.rssBytes, maxRssBytes: r.maxRssBytes });
    return r.value;
  };
  for (const s of SECTIONS.filter((x) => !o.only.includes(x))) {
    result.decisions.push({ what: s, decision: 'skipped', why: `--only ${o.only.join(',')}` });
  }

  const run = async (section: Section, body: (budgetS: number) => Promise<void>) => {
    if (!o.only.includes(section)) return;
    const later = o.only.filter((s) => SECTIONS.indexOf(s) > SECTIONS.indexOf(section)).length;
    const budgetS = later ? left() * SHARE[section] : left();
    log(`\n== ${section} (${Math.max(0, left()).toFixed(0)} s of the budget left) ==`);
    const s0 = performance.now();
    try {
      await body(budgetS);
    } catch (err) {
      const message = (err as Error).message.split('\n')[0];
      result.errors.push({ section, message });
      log(`${section}: failed: ${message}`);
    }
    result.durations[section] = (performance.now() - s0) / 1000;
  };

  await run('kernels', async () => {
    const reps = o.quick ? { repeats: 3, warmup: 1 } : { repeats: 7, warmup: 2 };
    // Each result is stored as soon as it exists, so a later failure keeps the earlier ones.
    const copy = await child<CopyBenchResult>('copy', reps);
    result.ceilings = { copy: { bytes: copy.bytes, ms: copy.ms, gbps: copy.gbps, runs: copy.runs }, matmul: null };
    const rows: KernelRow[] = (result.kernels = []);
    const mm = await child<MatmulBenchRow[]>('matmul', { ...reps, perSubmit: o.quick ? 1 : 2 });
    for (const shape of [...new Set(mm.map((r) => r.shape))]) {
      const tfjs = mm.find((r) => r.shape === shape && r.impl === 'tfjs webgpu');
      for (const r of mm.filter((x) => x.shape === shape && x.impl !== 'tfjs webgpu')) {
        rows.push({ kernel: r.kernel, shape, impl: r.impl, ms: r.ms, gflops: r.gflops, gbps: r.gbps, tfjsMs: tfjs?.ms });
      }
    }
    const best = [...mm].sort((a, b) => b.gflops - a.gflops)[0];
    result.ceilings.matmul = best ? { shape: best.shape, impl: best.impl, gflops: best.gflops } : null;
    const conv = await child<ConvBenchRow[]>('conv', reps);
    for (const r of conv) {
      rows.push({ kernel: r.op, shape: r.shape, impl: 'ours', ms: r.oursMs, gflops: r.oursGflops, gbps: r.oursGbps, tfjsMs: r.tfjsMs });
    }
    const att = await child<AttentionBenchRow[]>('attention', reps);
    for (const r of att) {
      rows.push({ kernel: r.op, shape: r.shape, impl: 'ours', ms: r.oursMs, gflops: r.oursGflops, gbps: r.oursGbps, tfjsMs: r.tfjsMs });
    }
  });

  await run('inference', async (budgetS) => {
    const batches = [1, 8, 32, 128];
    const use = o.quick ? batches.filter((b) => b !== 128) : batches;
    if (o.quick) result.decisions.push({ what: 'inference batch 128', decision: 'skipped', why: '--quick' });
    const r = await child<InferenceBenchResult>('inference', { batches: use, budgetS, maxRepeats: o.quick ? 3 : 5 });
    for (const s of r.skipped) result.decisions.push({ what: `inference batch ${s.batch}`, decision: 'skipped', why: s.why });
    result.inference = {
      rows: r.rows.map((x) => ({ batch: x.batch, oursImagesPerS: x.oursImagesPerS, tfjsImagesPerS: x.tfjsImagesPerS,
        oursFirstBatchS: x.oursFirstBatchS, tfjsFirstBatchS: x.tfjsFirstBatchS, runs: x.runs })),
      firstResult: { oursS: r.firstResult.oursS, tfjsS: r.firstResult.tfjsS, oursParts: r.firstResult.oursParts, tfjsParts: r.firstResult.tfjsParts },
      maxProbDiff: r.maxProbDiff,
    };
    // The CPU peer (DESIGN's stretch target): batches 1 and 8 in a process of its own.
    try {
      const w = await child<{ rows: { batch: number; imagesPerS: number; runs: number }[] }>('inference-wasm', {
        batches: [1, 8], maxRepeats: o.quick ? 3 : 5, budgetS: budgetS / 4,
      });
      result.inference.wasm = w.rows;
    } catch (e) {
      result.decisions.push({ what: 'TF.js WASM inference', decision: 'skipped', why: (e as Error).message.split('\n')[0] });
    }
  });

  await run('training', async (budgetS) => {
    // One process per phase (see training.bench.ts); phase 1's times project TF.js phase 2.
    const common = { warmup: o.quick ? 0 : 1, maxRepeats: o.quick ? 3 : 5 };
    const t0 = performance.now();
    const p1 = await child<TrainingBenchResult>('training', { ...common, budgetS: budgetS / 2, phases: [1] });
    result.training.push(...p1.rows);
    result.decisions.push(...p1.decisions);
    const row = p1.rows[0];
    const rest = budgetS - (performance.now() - t0) / 1000;
    const p2 = await child<TrainingBenchResult>('training', {
      ...common, budgetS: rest, phases: [2], phase1: row ? { oursS: row.ours.medianS, tfjsS: row.tfjs?.medianS } : undefined,
    });
    result.training.push(...p2.rows);
    result.decisions.push(...p2.decisions);
  });

  result.environment.load.end = loadavg()[0];
  result.environment.load.max = Math.max(load.max, result.environment.load.end);
  rmSync(tmp, { recursive: true, force: true });
  const files = [...writeResults(result, out), ...writeHistory(out)];
  log('\n' + toMarkdown(result));
  log(`wrote ${files.join(', ')}`);
  return { result, files };
}
