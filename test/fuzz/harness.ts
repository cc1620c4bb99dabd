// The loop every reader fuzz test runs: make a mutated case, run the reader, and hold it to the
// contract. A case passes when the reader either returns a result that `check` accepts or throws
// an Error whose message names the file. It fails on a non-Error throw, an Error that does not
// name the file, a result `check` rejects, a case slower than FUZZ_MAX_CASE_MS, or growth of the
// process's memory (rss, array buffers) past FUZZ_MAX_GROWTH_MB over the run.
//
// Environment:
//   FUZZ_CASES        cases per file-based reader (default 1000); the in-memory decoders (PNG,
//                     JPEG, safetensors) run 3x as many. The default suite is about 17 000 cases
//                     and 35-40 s of CPU on two slow cores; raise it for a long local run.
//   FUZZ_SEED         base seed (default 1); case i of a reader uses seed FUZZ_SEED * 1e6 + i
//   FUZZ_CASE         run only this case index (to reproduce a failure)
//   FUZZ_MAX_CASE_MS  slowest allowed case (default 2000)
//   FUZZ_HANG_MS      a watchdog kills the process when one case runs this long (default 20000),
//                     printing the case, so a synchronous infinite loop cannot hang CI silently
//   FUZZ_MAX_GROWTH_MB  allowed memory growth over a reader's run (default 512)

import { Worker } from 'node:worker_threads';
import type { Dataset } from '../../src/data/dataset.js';
import { rng, type Rng } from './mutate.js';

function envInt(name: string, dflt: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name}=${v} is not a non-negative integer`);
  return n;
}

export const FUZZ_CASES = envInt('FUZZ_CASES', 1000);
export const FUZZ_SEED = envInt('FUZZ_SEED', 1);
const ONLY = process.env.FUZZ_CASE ? envInt('FUZZ_CASE', 0) : undefined;
export const MAX_CASE_MS = envInt('FUZZ_MAX_CASE_MS', 2000);
const HANG_MS = envInt('FUZZ_HANG_MS', 20000);
const MAX_GROWTH = envInt('FUZZ_MAX_GROWTH_MB', 512) * 2 ** 20;

/** Thrown by `check` functions: the reader returned something inconsistent. */
export class BadResult extends Error {}

export function expectResult(ok: boolean, why: string): asserts ok {
  if (!ok) throw new BadResult(why);
}

/** Every sample is a consistent RGB image with a label that indexes classNames. */
export function checkDataset(ds: Dataset): void {
  expectResult(Array.isArray(ds.classNames) && ds.classNames.length > 0, 'no class names');
  let n = 0;
  for (const samples of Object.values(ds.splits)) {
    for (const s of samples ?? []) {
      const { width, height, data } = s.image;
      expectResult(width > 0 && height > 0 && width <= 16384 && height <= 16384, `image ${width}x${height}`);
      expectResult(data.length === width * height * 3, `${data.length} bytes for ${width}x${height}`);
      expectResult(Number.isInteger(s.label) && s.label >= 0 && s.label < ds.classNames.length, `label ${s.label}`);
      n++;
    }
  }
  expectResult(n < 10_000, `${n} samples from a small file`);
}

export interface FuzzCase<T> {
  /** The name passed to the reader; every error must contain it. */
  file: string;
  /** What was done to the seed file (reported on failure). */
  ops: string[];
  run(): T | Promise<T>;
  /** Validates a returned result; throw BadResult (expectResult) when it is inconsistent. */
  check(result: T): void;
}

export interface FuzzStats {
  cases: number;
  accepted: number;
  rejected: number;
  slowestMs: number;
  slowestOps: string;
  growthBytes: number;
  /** Distinct rejection messages with the file name and numbers blanked, by count. */
  reasons: Map<string, number>;
}

// ---- watchdog: a worker that kills the process when one case runs past FUZZ_HANG_MS ----

const shared = new SharedArrayBuffer(8 + 4 + 4096);
const clock = new Float64Array(shared, 0, 1); // start time of the running case, 0 when idle
const textLen = new Int32Array(shared, 8, 1);
const text = new Uint8Array(shared, 12);
let watchdog: Worker | undefined;

const WATCHDOG = `
const { workerData } = require('node:worker_threads');
const { writeSync } = require('node:fs');
const clock = new Float64Array(workerData.shared, 0, 1);
const len = new Int32Array(workerData.shared, 8, 1);
const text = new Uint8Array(workerData.shared, 12);
setInterval(() => {
  const t = clock[0];
  if (t > 0 && performance.timeOrigin + performance.now() - t > workerData.hangMs) {
    const what = Buffer.from(text.slice(0, len[0])).toString('utf8');
    writeSync(2, '\\nfuzz watchdog: a case ran for more than ' + workerData.hangMs + ' ms: ' + what + '\\n');
    process.kill(process.pid, 'SIGKILL');
  }
}, 250);
`;

function startWatchdog(): void {
  if (watchdog) return;
  watchdog = new Worker(WATCHDOG, { eval: true, workerData: { shared, hangMs: HANG_MS } });
  watchdog.unref();
}

function arm(what: string): void {
  const b = Buffer.from(what.slice(0, 1000), 'utf8');
  const n = Math.min(b.length, text.length);
  text.set(b.subarray(0, n));
  textLen[0] = n;
  clock[0] = performance.timeOrigin + performance.now();
}

function disarm(): void {
  clock[0] = 0;
}

// ---- the loop ----

/** Resident memory and array-buffer bytes (a fresh typed array is not resident until touched). */
function memory(): [number, number] {
  const m = process.memoryUsage();
  return [m.rss, m.arrayBuffers];
}

function normalise(message: string, file: string): string {
  return message.split(file).join('<file>').replace(/\d+/g, 'N').slice(0, 140);
}

/**
 * Runs `count` cases of one reader (only FUZZ_CASE when set) and throws one Error listing up to
 * eight failures. `make(r, i)` builds case i from its own seeded generator.
 */
export async function fuzz<T>(
  label: string,
  count: number,
  make: (r: Rng, i: number) => FuzzCase<T> | Promise<FuzzCase<T>>,
): Promise<FuzzStats> {
  startWatchdog();
  const stats: FuzzStats = {
    cases: 0, accepted: 0, rejected: 0, slowestMs: 0, slowestOps: '', growthBytes: 0, reasons: new Map(),
  };
  const failures: string[] = [];
  const base = memory();
  const indices = ONLY === undefined ? Array.from({ length: count }, (_, i) => i) : [ONLY];
  for (const i of indices) {
    const r = rng(FUZZ_SEED * 1e6 + i);
    const c = await make(r, i);
    const where = `${label} case ${i} (FUZZ_SEED=${FUZZ_SEED} FUZZ_CASE=${i}) [${c.ops.join(' ')}]`;
    arm(where);
    const t0 = performance.now();
    let failure: string | undefined;
    try {
      const result = await c.run();
      c.check(result);
      stats.accepted++;
    } catch (e) {
      if (e instanceof BadResult) failure = `accepted an inconsistent result: ${e.message}`;
      else if (!(e instanceof Error)) failure = `threw a non-Error: ${String(e)}`;
      else if (!e.message.includes(c.file)) failure = `error does not name ${c.file}: ${e.name}: ${e.message}`;
      else {
        stats.rejected++;
        const key = normalise(e.message, c.file);
        stats.reasons.set(key, (stats.reasons.get(key) ?? 0) + 1);
      }
    } finally {
      disarm();
    }
    const ms = performance.now() - t0;
    stats.cases++;
    if (ms > stats.slowestMs) {
      stats.slowestMs = ms;
      stats.slowestOps = c.ops.join(' ');
    }
    if (ms > MAX_CASE_MS) failure ??= `took ${ms.toFixed(0)} ms (limit ${MAX_CASE_MS})`;
    const now = memory();
    const growth = Math.max(now[0] - base[0], now[1] - base[1]);
    stats.growthBytes = Math.max(stats.growthBytes, growth);
    if (growth > MAX_GROWTH) failure ??= `memory grew by ${(growth / 2 ** 20).toFixed(0)} MiB`;
    if (failure) failures.push(`${where}: ${failure}`);
  }
  if (failures.length) {
    throw new Error(`${failures.length} of ${stats.cases} ${label} cases failed:\n  ${failures.slice(0, 8).join('\n  ')}`);
  }
  return stats;
}

/** One line for the test log: counts, slowest case, growth, top rejection reasons. */
export function summary(label: string, s: FuzzStats, seconds: number): string {
  const top = [...s.reasons].sort((a, b) => b[1] - a[1]).slice(0, 3).map(([k, n]) => `${n}x ${k}`);
  return (
    `      ${label}: ${s.cases} cases in ${seconds.toFixed(1)} s, ${s.accepted} accepted, ${s.rejected} rejected ` +
    `(${s.reasons.size} distinct), slowest ${s.slowestMs.toFixed(0)} ms, growth ` +
    `${(s.growthBytes / 2 ** 20).toFixed(0)} MiB\n        top: ${top.join(' | ')}`
  );
}

/** Runs `fuzz` and logs the summary; for use inside `it`. */
export async function fuzzAndReport<T>(
  label: string,
  count: number,
  make: (r: Rng, i: number) => FuzzCase<T> | Promise<FuzzCase<T>>,
): Promise<FuzzStats> {
  const t0 = performance.now();
  const s = await fuzz(label, count, make);
  if (process.env.FUZZ_QUIET !== '1') console.log(summary(label, s, (performance.now() - t0) / 1000));
  return s;
}
