// Every bench run in a results folder side by side: how each kernel's speed against TF.js and the
// 1024^3 matmul's GFLOP/s moved from run to run. The software adapter swings by 1.5-3x between
// runs (docs/KERNELS.md), so a target counts as met only where it holds in every run; one run's
// table cannot say that. Pure code over the JSON the suite writes (tested on made-up runs in
// test/bench/history.test.ts); `patt-lite bench` refreshes it after each run and
// `patt-lite bench --history` rebuilds it alone.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { plotDotStrip, plotLineChart, writePlot, type DotStripOptions } from '../../src/report/plot.js';
import { median } from '../lib/timing.js';
import type { SuiteResult } from './results.js';

/** The targets of issue #3 on the software adapter. */
export const RATIO_TARGET = 2;
export const MATMUL_TARGET_GFLOPS = 20;
const MATMUL_SHAPE = '1024^3';

export interface HistoryRun {
  file: string;
  date: string;
  rev: string | null;
  copyGbps: number | null;
}

export interface HistoryRow {
  /** "kernel | shape" as the suite names them. */
  name: string;
  /** TF.js time / our best impl's time per run (oldest first); null where the run lacks it. */
  ratios: (number | null)[];
}

export interface History {
  runs: HistoryRun[];
  rows: HistoryRow[];
  /** Our best GFLOP/s at 1024^3 per run. */
  matmulGflops: (number | null)[];
  /** Training step TF.js / ours, phase 1 and 2, per run. */
  training: { phase: 1 | 2; ratios: (number | null)[]; oursS: (number | null)[] }[];
  /** Files that are not bench results of a known schema, with why. */
  skipped: { file: string; why: string }[];
}

/** Reads the bench-*.json files of `dir`, oldest first (their names carry the date). */
export function loadHistory(dir: string): History {
  const files = readdirSync(dir).filter((f) => /^bench-.*\.json$/.test(f)).sort();
  const results: { file: string; r: SuiteResult }[] = [];
  const skipped: History['skipped'] = [];
  for (const file of files) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(join(dir, file), 'utf8'));
    } catch (err) {
      skipped.push({ file, why: `not JSON (${(err as Error).message})` });
      continue;
    }
    const why = shapeProblem(parsed);
    if (why) skipped.push({ file, why });
    else results.push({ file, r: parsed as SuiteResult });
  }
  return { ...summarise(results), skipped };
}

/** Why `x` is not a schema-1 suite result, or undefined when it is one. */
function shapeProblem(x: unknown): string | undefined {
  if (typeof x !== 'object' || x === null) return 'not an object';
  const o = x as Record<string, unknown>;
  if (o.schema !== 1) return `field "schema": expected 1, got ${JSON.stringify(o.schema)}`;
  if (typeof o.date !== 'string') return 'field "date": expected an ISO date string';
  if (!Array.isArray(o.kernels)) return 'field "kernels": expected an array';
  if (!Array.isArray(o.training)) return 'field "training": expected an array';
  return undefined;
}

export function summarise(results: readonly { file: string; r: SuiteResult }[]): Omit<History, 'skipped'> {
  const runs = results.map(({ file, r }) => ({
    file, date: r.date, rev: r.environment?.git?.rev ?? null, copyGbps: r.ceilings?.copy?.gbps ?? null,
  }));
  // Row order: as the newest run lists them, then any that only older runs have.
  const names: string[] = [];
  for (const { r } of [...results].reverse()) {
    for (const k of r.kernels) {
      const name = `${k.kernel} | ${k.shape}`;
      if (k.tfjsMs !== undefined && !names.includes(name)) names.push(name);
    }
  }
  const rows = names.map((name) => ({
    name,
    ratios: results.map(({ r }) => {
      const mine = r.kernels.filter((k) => `${k.kernel} | ${k.shape}` === name && k.tfjsMs !== undefined && k.ms > 0);
      // Each impl was timed interleaved with its own TF.js runs: take the best impl's ratio.
      return mine.length ? Math.max(...mine.map((k) => k.tfjsMs! / k.ms)) : null;
    }),
  }));
  const matmulGflops = results.map(({ r }) => {
    const g = r.kernels.filter((k) => k.kernel.startsWith('matmul') && k.shape.startsWith(MATMUL_SHAPE) && !k.impl.startsWith('TF.js'));
    return g.length ? Math.max(...g.map((k) => k.gflops)) : null;
  });
  const training = ([1, 2] as const).map((phase) => {
    const rowOf = (r: SuiteResult) => r.training.find((t) => t.phase === phase);
    return {
      phase,
      oursS: results.map(({ r }) => rowOf(r)?.ours.medianS ?? null),
      ratios: results.map(({ r }) => {
        const t = rowOf(r);
        return t && t.tfjs && t.ours.medianS > 0 ? t.tfjs.medianS / t.ours.medianS : null;
      }),
    };
  });
  return { runs, rows, matmulGflops, training };
}

const present = (v: readonly (number | null)[]): number[] => v.filter((x): x is number => x !== null);

/** Runs with the figure, runs at or above `target`, min / median / max. */
export function stats(values: readonly (number | null)[], target: number) {
  const v = present(values);
  if (!v.length) return { runs: 0, met: 0, min: NaN, median: NaN, max: NaN };
  return { runs: v.length, met: v.filter((x) => x >= target).length, min: Math.min(...v), median: median(v), max: Math.max(...v) };
}

const f2 = (x: number | null) => (x === null || !Number.isFinite(x) ? '–' : x.toFixed(2));

export function historyMarkdown(h: History, lastN = 3): string {
  const out: string[] = ['# Benchmark history', ''];
  if (!h.runs.length) {
    out.push('No bench results here yet.');
    return out.join('\n') + '\n';
  }
  const first = h.runs[0], last = h.runs[h.runs.length - 1];
  out.push(`${h.runs.length} runs from ${first.date} to ${last.date}. They span code revisions (the newest is`);
  out.push(`${last.rev ?? 'unknown'}), so old runs show old kernels; the last ${lastN} columns say where the code stands now.`);
  out.push('The software adapter swings between runs: compare the copy bandwidth of each run below.');
  out.push('');
  out.push(`A target counts as met only where it holds in every run that has the figure.`);
  out.push('');
  const tail = (v: readonly (number | null)[]) => v.slice(-lastN).map(f2).join(' / ');
  out.push(`## TF.js WebGPU time / ours (target ${RATIO_TARGET}x)`, '');
  out.push(`| kernel | shape | runs | ≥ ${RATIO_TARGET}x | min | median | max | last ${lastN} |`);
  out.push('| --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of h.rows) {
    const s = stats(r.ratios, RATIO_TARGET);
    const [kernel, shape] = r.name.split(' | ');
    out.push(`| ${kernel} | ${shape} | ${s.runs} | ${s.met} | ${f2(s.min)} | ${f2(s.median)} | ${f2(s.max)} | ${tail(r.ratios)} |`);
  }
  for (const t of h.training) {
    const s = stats(t.ratios, RATIO_TARGET);
    out.push(`| training step phase ${t.phase} | batch 8, 224x224 | ${s.runs} | ${s.met} | ${f2(s.min)} | ${f2(s.median)} | ${f2(s.max)} | ${tail(t.ratios)} |`);
  }
  out.push('', `## Matrix multiply at 1024^3, our best GFLOP/s (target ${MATMUL_TARGET_GFLOPS})`, '');
  const m = stats(h.matmulGflops, MATMUL_TARGET_GFLOPS);
  out.push(`runs ${m.runs}, at or above ${MATMUL_TARGET_GFLOPS}: ${m.met}; min ${f2(m.min)}, median ${f2(m.median)}, max ${f2(m.max)}; last ${lastN}: ${tail(h.matmulGflops)}`);
  out.push('', '## Runs', '', '| # | file | git | copy GB/s | matmul 1024^3 GFLOP/s |', '| --- | --- | --- | --- | --- |');
  h.runs.forEach((r, i) => out.push(`| ${i + 1} | ${r.file} | ${r.rev ? r.rev.slice(0, 7) : '–'} | ${f2(r.copyGbps)} | ${f2(h.matmulGflops[i])} |`));
  if (h.skipped.length) {
    out.push('', '## Skipped files', '');
    for (const s of h.skipped) out.push(`- ${s.file}: ${s.why}`);
  }
  return out.join('\n') + '\n';
}

/** What history.png plots: one row per kernel and training phase, the 2x line. */
export function stripOptions(h: History): DotStripOptions {
  return {
    title: `TF.JS WEBGPU TIME / OURS, ${h.runs.length} BENCH RUNS`,
    xLabel: 'speed-up over TF.js WebGPU (log scale); pale = older runs, black = newest',
    reference: { value: RATIO_TARGET, label: `target ${RATIO_TARGET}x` },
    rows: [
      ...h.rows.map((r) => ({ label: r.name, values: r.ratios })),
      ...h.training.map((t) => ({ label: `training step | phase ${t.phase}`, values: t.ratios })),
    ],
  };
}

/** Writes history.md, history.png (ratios) and history-matmul.png to `dir`; returns the paths. */
export function writeHistory(dir: string): string[] {
  const h = loadHistory(dir);
  const md = join(dir, 'history.md');
  writeFileSync(md, historyMarkdown(h));
  if (!h.runs.length) return [md];
  const strip = join(dir, 'history.png');
  writePlot(strip, plotDotStrip(stripOptions(h)));
  const mm = join(dir, 'history-matmul.png');
  const x = h.runs.map((_, i) => i + 1);
  writePlot(mm, plotLineChart({
    title: 'MATMUL 1024^3, OUR BEST IMPL', xLabel: 'bench run (oldest first)', yLabel: 'GFLOP/s', yMin: 0,
    series: [
      { name: 'ours', values: h.matmulGflops, x },
      { name: `target ${MATMUL_TARGET_GFLOPS}`, values: x.map(() => MATMUL_TARGET_GFLOPS), x, color: [0.85, 0.15, 0.12] },
      { name: 'copy GB/s (machine)', values: h.runs.map((r) => r.copyGbps), x, color: [0.6, 0.6, 0.6] },
    ],
  }));
  return [md, strip, mm];
}
