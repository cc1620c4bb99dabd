// Timing helpers for benchmarks: warm-up runs are excluded, the median of repeated runs is
// reported, and every figure says what it measured.

export interface Timing {
  /** Median seconds per run, warm-up excluded. */
  median: number;
  min: number;
  max: number;
  runs: number;
}

/** Runs `fn` `warmup` times untimed, then `repeats` times timed; each run awaits completion. */
export async function time(fn: () => Promise<void>, repeats = 5, warmup = 2): Promise<Timing> {
  for (let i = 0; i < warmup; i++) await fn();
  const samples: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    await fn();
    samples.push((performance.now() - t0) / 1000);
  }
  return { median: median(samples), min: Math.min(...samples), max: Math.max(...samples), runs: samples.length };
}

/** The median (the mean of the middle two for an even count). */
export function median(v: readonly number[]): number {
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export const gflops = (flops: number, seconds: number): number => flops / seconds / 1e9;
export const gbps = (bytes: number, seconds: number): number => bytes / seconds / 1e9;

/** A fixed-width text table for the console. */
export function table(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((r) => r.map((c) => (typeof c === 'number' ? fmt(c) : c)))];
  const widths = header.map((_, j) => Math.max(...cells.map((r) => String(r[j] ?? '').length)));
  return cells.map((r) => r.map((c, j) => String(c ?? '').padEnd(widths[j])).join('  ')).join('\n');
}

export function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (Math.abs(x) >= 100) return x.toFixed(0);
  if (Math.abs(x) >= 10) return x.toFixed(1);
  return x.toFixed(2);
}
