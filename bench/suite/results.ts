// The benchmark suite's result record, its markdown rendering and the files it writes. Pure code
// (no GPU, no timing), so test/bench/bench.test.ts checks it on made-up measurements.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fmt } from '../lib/timing.js';

export type Section = 'kernels' | 'inference' | 'training';
export const SECTIONS: readonly Section[] = ['kernels', 'inference', 'training'];

export interface Environment {
  node: string;
  os: string;
  cpus: number;
  /** Package versions as installed (webgpu, @tensorflow/tfjs, …); null when absent. */
  packages: Record<string, string | null>;
  adapter: { vendor: string; architecture: string; device: string; description: string; software: boolean; features: string[] };
  /** The driver as the adapter describes itself (Mesa version for lavapipe). */
  driver: string;
  git: { rev: string | null; dirty: number | null };
  /** 1-minute load averages: at the start, at the end, and the highest seen between sections. */
  load: { start: number; end: number; max: number };
  env: Record<string, string | null>;
}

export interface Decision {
  what: string;
  /** ran: as planned; reduced: fewer runs or cases; skipped: not measured. */
  decision: 'ran' | 'reduced' | 'skipped';
  why: string;
}

export interface Peer {
  name: string;
  status: 'measured' | 'not installed' | 'not measured';
  note: string;
}

export interface KernelRow {
  kernel: string;
  shape: string;
  impl: string;
  /** Median milliseconds per op. */
  ms: number;
  gflops: number;
  gbps: number;
  /** TF.js WebGPU on the same op, when it has one. */
  tfjsMs?: number;
}

export interface Ceilings {
  copy: { bytes: number; ms: number; gbps: number; runs: number };
  /** The fastest matmul measured in this run (ours or TF.js). */
  matmul: { shape: string; impl: string; gflops: number } | null;
}

export interface InferenceRow {
  batch: number;
  oursImagesPerS: number;
  tfjsImagesPerS: number;
  oursFirstBatchS: number;
  tfjsFirstBatchS: number;
  runs: number;
}

export interface TrainingSide {
  /** Median seconds per step after warm-up. */
  medianS: number;
  runs: number;
  /** The first step: recording and pipeline/shader compilation included. */
  firstStepS: number;
  /** ours: engine.stats().peakBytes; TF.js: its buffer pool (numBytesAllocatedInGPU) after the phase. */
  gpuBytes: number;
  gpuBytesNote: string;
}

export interface TrainingRow {
  phase: 1 | 2;
  what: string;
  trainableTensors: number;
  trainableParams: number;
  ours: TrainingSide;
  tfjs: TrainingSide | null;
  /** Why TF.js was not measured, when it was not. */
  tfjsSkipped?: string;
}

export interface MemoryPoint {
  /** The bench whose process this was. */
  after: string;
  rssBytes: number;
  /** That process's peak RSS (getrusage maxrss). */
  maxRssBytes: number;
}

export interface SuiteResult {
  schema: 1;
  date: string;
  options: { quick: boolean; only: Section[]; budgetS: number; out: string };
  environment: Environment;
  peers: Peer[];
  ceilings: Ceilings | null;
  kernels: KernelRow[];
  inference: {
    rows: InferenceRow[];
    firstResult: { oursS: number; tfjsS: number; oursParts: Record<string, number>; tfjsParts: Record<string, number> };
    maxProbDiff: number;
    /** TF.js' WASM backend on the CPU, same network (images/s per batch). */
    wasm?: { batch: number; imagesPerS: number; runs: number }[];
  } | null;
  training: TrainingRow[];
  memory: MemoryPoint[];
  decisions: Decision[];
  /** Wall-clock seconds per section. */
  durations: Record<string, number>;
  errors: { section: string; message: string }[];
}

const MB = 1024 * 1024;
const mib = (b: number) => `${(b / MB).toFixed(0)} MiB`;
const ratio = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? '–' : `${x.toFixed(2)}x`);
const pct = (x: number, peak: number | undefined) => (peak ? `${((100 * x) / peak).toFixed(0)}%` : '–');

function mdTable(header: string[], rows: (string | number)[][]): string[] {
  const cell = (c: string | number) => (typeof c === 'number' ? fmt(c) : c).replace(/\|/g, '\\|');
  return [
    `| ${header.join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`),
  ];
}

/** The whole result as markdown: environment, ceilings, kernels, model, memory, decisions. */
export function toMarkdown(r: SuiteResult): string {
  const e = r.environment;
  const a = e.adapter;
  const out: string[] = [
    `# PAtt-Lite WebGPU benchmarks, ${r.date.slice(0, 10)}`,
    '',
    `Run \`patt-lite bench${r.options.quick ? ' --quick' : ''}${r.options.only.length < SECTIONS.length ? ` --only ${r.options.only.join(',')}` : ''} --budget ${r.options.budgetS}\` at ${r.date}.`,
    '',
    `- adapter: ${[a.vendor, a.device || a.description, a.architecture].filter(Boolean).join(' / ')}${a.software ? ' (software)' : ''}; features: ${a.features.join(' ') || 'none'}`,
    `- driver: ${e.driver || 'unknown'}`,
    `- versions: node ${e.node}, ${Object.entries(e.packages).map(([k, v]) => `${k} ${v ?? 'not installed'}`).join(', ')}`,
    `- machine: ${e.os}, ${e.cpus} CPUs; load average (1 min) ${e.load.start.toFixed(1)} at the start, ${e.load.end.toFixed(1)} at the end, ${e.load.max.toFixed(1)} at most between sections`,
    `- git: ${e.git.rev ?? 'unknown'}${e.git.dirty ? ` (+${e.git.dirty} uncommitted changes)` : ''}`,
    `- env: ${Object.entries(e.env).map(([k, v]) => `${k}=${v ?? '(unset)'}`).join(' ')}`,
    '',
    'Figures are medians of repeated runs after warm-up runs (counts in the tables); ratios are',
    'TF.js time / our time, so above 1 means we are faster. Kernel times are per op; a timed run ends',
    'when the queue is idle. Matmuls run 2 per submit and convolutions under 20 ms several (the same',
    'count on both sides), so that a submit and its wait (~0.3 ms here) is not counted as kernel time;',
    'attention runs one per submit.',
    '',
    '## Peers',
    '',
    ...mdTable(['peer', 'status', 'note'], r.peers.map((p) => [p.name, p.status, p.note])),
  ];
  const c = r.ceilings;
  if (c) {
    out.push('', '## Adapter ceilings (measured)', '',
      `- bandwidth: copyBufferToBuffer of ${mib(c.copy.bytes)}: ${c.copy.ms.toFixed(2)} ms, ` +
        `${c.copy.gbps.toFixed(1)} GB/s (read + write counted; median of ${c.copy.runs})`,
      `- arithmetic: ${c.matmul ? `best matmul ${c.matmul.gflops.toFixed(1)} GFLOP/s (${c.matmul.impl}, ${c.matmul.shape})` : 'no matmul measured'}`);
  }
  if (r.kernels.length) {
    out.push('', '## Kernels', '',
      '% of peak: GFLOP/s over the best matmul, GB/s over the copy bandwidth. GB/s counts each',
      "input and output once (a lower bound on traffic).", '',
      ...mdTable(['kernel', 'shape', 'impl', 'ms', 'GFLOP/s', '% peak', 'GB/s', '% copy', 'TF.js ms', 'TF.js/ours'],
        r.kernels.map((k) => [k.kernel, k.shape, k.impl, k.ms, k.gflops, pct(k.gflops, c?.matmul?.gflops), k.gbps,
          pct(k.gbps, c?.copy.gbps), k.tfjsMs ?? '–', ratio(k.tfjsMs === undefined ? undefined : k.tfjsMs / k.ms)])));
  }
  if (r.inference) {
    const i = r.inference;
    out.push('', '## Inference (224x224 uint8 in, probabilities out)', '',
      ...mdTable(['batch', 'ours img/s', 'TF.js img/s', 'ours/TF.js', 'ours 1st batch s', 'TF.js 1st batch s', 'runs'],
        i.rows.map((x) => [String(x.batch), x.oursImagesPerS, x.tfjsImagesPerS, ratio(x.oursImagesPerS / x.tfjsImagesPerS),
          x.oursFirstBatchS, x.tfjsFirstBatchS, String(x.runs)])),
      '',
      `Time to first result (batch 1, from nothing, pipelines compiled): ours ${i.firstResult.oursS.toFixed(2)} s ` +
        `(${parts(i.firstResult.oursParts)}), TF.js ${i.firstResult.tfjsS.toFixed(2)} s (${parts(i.firstResult.tfjsParts)}). ` +
        `Same-network check: max |p_ours - p_tfjs| = ${i.maxProbDiff.toExponential(2)}.`);
    if (i.wasm?.length) {
      const ours = new Map(i.rows.map((x) => [x.batch, x.oursImagesPerS]));
      out.push('', 'TF.js WASM (CPU SIMD, single-threaded in Node; same network, random weights):', '',
        ...mdTable(['batch', 'WASM img/s', 'ours img/s', 'ours/WASM', 'runs'],
          i.wasm.map((x) => [String(x.batch), x.imagesPerS, ours.get(x.batch) ?? '–',
            ratio(ours.has(x.batch) ? ours.get(x.batch)! / x.imagesPerS : undefined), String(x.runs)])));
    }
  }
  if (r.training.length) {
    out.push('', '## Training step (batch 8, 224x224, Adam, softmax cross-entropy)', '',
      ...mdTable(['phase', 'trainable', 'ours s/step', 'TF.js s/step', 'TF.js/ours', 'ours 1st step s', 'TF.js 1st step s',
        'ours peak GPU', 'TF.js GPU pool', 'runs ours/TF.js'],
      r.training.map((t) => [`${t.phase}: ${t.what}`, `${t.trainableTensors} tensors, ${(t.trainableParams / 1e6).toFixed(2)} M`,
        t.ours.medianS, t.tfjs?.medianS ?? '–', ratio(t.tfjs ? t.tfjs.medianS / t.ours.medianS : undefined),
        t.ours.firstStepS, t.tfjs?.firstStepS ?? '–', mib(t.ours.gpuBytes), t.tfjs ? mib(t.tfjs.gpuBytes) : '–',
        `${t.ours.runs}/${t.tfjs?.runs ?? 0}`])));
    for (const t of r.training) if (t.tfjsSkipped) out.push('', `Phase ${t.phase} TF.js: not measured (${t.tfjsSkipped}).`);
    const notes = new Set(r.training.flatMap((t) => [t.ours.gpuBytesNote, t.tfjs?.gpuBytesNote]).filter(Boolean));
    if (notes.size) out.push('', ...[...notes].map((n) => `- ${n}`));
  }
  if (r.memory.length) {
    out.push('', '## Process memory (each bench runs in a process of its own)', '',
      ...mdTable(['bench', 'RSS at the end', 'peak RSS'], r.memory.map((m) => [m.after, mib(m.rssBytes), mib(m.maxRssBytes)])));
  }
  out.push('', '## Budget decisions', '');
  out.push(...(r.decisions.length ? mdTable(['what', 'decision', 'why'], r.decisions.map((d) => [d.what, d.decision, d.why])) : ['none']));
  out.push('', `Section times: ${Object.entries(r.durations).map(([k, v]) => `${k} ${v.toFixed(0)} s`).join(', ') || 'none'}.`);
  if (r.errors.length) out.push('', '## Errors', '', ...r.errors.map((x) => `- ${x.section}: ${x.message}`));
  return out.join('\n') + '\n';
}

function parts(p: Record<string, number>): string {
  return Object.entries(p).map(([k, v]) => `${k} ${v.toFixed(2)} s`).join(', ');
}

/** `2025-01-31T12-34-56`: a file-name-safe UTC stamp of an ISO date. */
export function stamp(isoDate: string): string {
  return isoDate.slice(0, 19).replace(/:/g, '-');
}

/** Writes bench-<stamp>.json/.md and latest.json/.md under `dir`; returns the paths written. */
export function writeResults(r: SuiteResult, dir: string): string[] {
  mkdirSync(dir, { recursive: true });
  const json = JSON.stringify(r, null, 2) + '\n';
  const md = toMarkdown(r);
  const base = `bench-${stamp(r.date)}`;
  const files: [string, string][] = [
    [join(dir, `${base}.json`), json], [join(dir, `${base}.md`), md],
    [join(dir, 'latest.json'), json], [join(dir, 'latest.md'), md],
  ];
  for (const [path, text] of files) writeFileSync(path, text);
  return files.map(([p]) => p);
}
