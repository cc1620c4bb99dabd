// A one-line progress bar on stderr (redrawn in place on a terminal, a line per ~10% otherwise).
export class Progress {
  private lastPrint = 0;
  private readonly tty = process.stderr.isTTY === true;
  private readonly t0 = performance.now();
  constructor(private readonly label: string, private readonly total: number) {}

  update(done: number, extra = ''): void {
    const frac = this.total ? Math.min(1, done / this.total) : 1;
    const secs = (performance.now() - this.t0) / 1000;
    const eta = frac > 0 ? secs / frac - secs : 0;
    const width = 24;
    const bar = '#'.repeat(Math.round(frac * width)).padEnd(width, '.');
    const line = `${this.label} [${bar}] ${done}/${this.total} ${extra} ${fmtTime(secs)} elapsed, ETA ${fmtTime(eta)}`;
    if (this.tty) process.stderr.write(`\r${line.padEnd(110)}`);
    else if (done === this.total || performance.now() - this.lastPrint > 15_000) {
      // Logs (CI, pipes) get a line at the end and at most one per 15 s before it.
      this.lastPrint = performance.now();
      process.stderr.write(`${line}\n`);
    }
  }

  done(): void {
    if (this.tty) process.stderr.write('\n');
  }
}

export function fmtTime(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 60) return `${s.toFixed(0)}s`;
  return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
}
