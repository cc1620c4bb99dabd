// The benchmark history (bench/suite/history.ts) on made-up runs: the ratios it takes from each
// run, the files it skips and why, the markdown counts and the pictures' pixels. No GPU, no timing.
import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { historyMarkdown, loadHistory, stripOptions, summarise, writeHistory } from '../../bench/suite/history.js';
import type { KernelRow, SuiteResult, TrainingRow } from '../../bench/suite/results.js';
import { parseBenchArgs } from '../../src/cli/bench.js';
import { UsageError } from '../../src/cli/args.js';
import { dotStripLayout } from '../../src/report/plot.js';

function run(date: string, kernels: KernelRow[], training: TrainingRow[] = [], copyGbps = 10): SuiteResult {
  return {
    schema: 1, date,
    options: { quick: true, only: ['kernels'], budgetS: 420, out: 'x' },
    environment: {
      node: 'v20', os: 'linux', cpus: 2, packages: {},
      adapter: { vendor: 'mesa', architecture: '', device: 'llvmpipe', description: '', software: true, features: [] },
      driver: 'Mesa 25', git: { rev: `rev-${date}`, dirty: 0 }, load: { start: 0, end: 0, max: 0 }, env: {},
    },
    peers: [],
    ceilings: { copy: { bytes: 1, ms: 1, gbps: copyGbps, runs: 1 }, matmul: null },
    kernels, inference: null, training, memory: [], decisions: [], durations: {}, errors: [],
  } as unknown as SuiteResult;
}

const row = (kernel: string, shape: string, impl: string, ms: number, tfjsMs?: number, gflops = 1): KernelRow =>
  ({ kernel, shape, impl, ms, gflops, gbps: 1, tfjsMs });
const side = (s: number) => ({ medianS: s, runs: 3, firstStepS: s, gpuBytes: 0, gpuBytesNote: '' });
const train = (phase: 1 | 2, ours: number, tfjs: number | null): TrainingRow =>
  ({ phase, what: '', trainableTensors: 0, trainableParams: 0, ours: side(ours), tfjs: tfjs === null ? null : side(tfjs) }) as TrainingRow;

// Run 1: matmul ratios 1.5 (reg) and 2.5 (sg8) -> best 2.5; patch 1.5. Run 2: matmul 3, no patch.
const OLD = run('2026-01-01T00:00:00.000Z', [
  row('matmul / pointwise', '1024^3 (M1024 K1024 N1024)', 'ours reg', 200, 300, 10.7),
  row('matmul / pointwise', '1024^3 (M1024 K1024 N1024)', 'ours sg8', 100, 250, 21.5),
  row('matmul / pointwise', 'pw (M8 K8 N8)', 'ours sg8', 1, 2, 99),
  row('patch dw 4x4 fwd', '8x14x14x512', 'ours', 4, 6),
  row('attention bwd', 'b8', 'ours', 1),
], [train(1, 2, 8), train(2, 5, null)], 8);
const NEW = run('2026-01-02T00:00:00.000Z', [
  row('matmul / pointwise', '1024^3 (M1024 K1024 N1024)', 'ours sg8', 200, 600, 10.7),
], [train(1, 2, 4)], 16);

describe('bench history', () => {
  it('takes each run\'s best impl against TF.js, newest rows first, nulls where a run lacks a row', () => {
    const h = summarise([{ file: 'a.json', r: OLD }, { file: 'b.json', r: NEW }]);
    expect(h.rows.map((r) => r.name)).to.deep.equal([
      'matmul / pointwise | 1024^3 (M1024 K1024 N1024)', 'matmul / pointwise | pw (M8 K8 N8)', 'patch dw 4x4 fwd | 8x14x14x512',
    ]);
    expect(h.rows[0].ratios).to.deep.equal([2.5, 3]);
    expect(h.rows[2].ratios).to.deep.equal([1.5, null]);
    // Only 1024^3 rows count for the matmul target, not the faster small shape.
    expect(h.matmulGflops).to.deep.equal([21.5, 10.7]);
    expect(h.training[0].ratios).to.deep.equal([4, 2]);
    expect(h.training[1].ratios).to.deep.equal([null, null]);
    expect(h.training[1].oursS).to.deep.equal([5, null]);
    expect(h.runs.map((r) => r.copyGbps)).to.deep.equal([8, 16]);
  });

  it('counts runs, runs at the target, min / median / max in the markdown', () => {
    const h = { ...summarise([{ file: 'a.json', r: OLD }, { file: 'b.json', r: NEW }]), skipped: [] };
    const md = historyMarkdown(h);
    // matmul 1024^3: ratios 2.5 and 3 -> 2 runs, both >= 2x, median 2.75.
    expect(md).to.include('| matmul / pointwise | 1024^3 (M1024 K1024 N1024) | 2 | 2 | 2.50 | 2.75 | 3.00 | 2.50 / 3.00 |');
    expect(md).to.include('| patch dw 4x4 fwd | 8x14x14x512 | 1 | 0 | 1.50 | 1.50 | 1.50 | 1.50 / – |');
    expect(md).to.include('| training step phase 1 | batch 8, 224x224 | 2 | 2 | 2.00 | 3.00 | 4.00 | 4.00 / 2.00 |');
    expect(md).to.include('runs 2, at or above 20: 1; min 10.70, median 16.10, max 21.50');
    expect(historyMarkdown({ runs: [], rows: [], matmulGflops: [], training: [], skipped: [] })).to.include('No bench results here yet.');
  });

  describe('files', () => {
    let dir: string;
    beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'patt-history-')); });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it('reads bench-*.json oldest first and names the files it skips and why', () => {
      writeFileSync(join(dir, 'bench-2026-01-02.json'), JSON.stringify(NEW));
      writeFileSync(join(dir, 'bench-2026-01-01.json'), JSON.stringify(OLD));
      writeFileSync(join(dir, 'bench-2026-01-03.json'), '{ not json');
      writeFileSync(join(dir, 'bench-2026-01-04.json'), JSON.stringify({ ...NEW, schema: 2 }));
      writeFileSync(join(dir, 'bench-2026-01-05.json'), JSON.stringify({ ...NEW, kernels: 'none' }));
      writeFileSync(join(dir, 'latest.json'), JSON.stringify(NEW));
      const h = loadHistory(dir);
      expect(h.runs.map((r) => r.file)).to.deep.equal(['bench-2026-01-01.json', 'bench-2026-01-02.json']);
      expect(h.skipped.map((s) => s.file)).to.deep.equal(['bench-2026-01-03.json', 'bench-2026-01-04.json', 'bench-2026-01-05.json']);
      expect(h.skipped[0].why).to.match(/^not JSON/);
      expect(h.skipped[1].why).to.equal('field "schema": expected 1, got 2');
      expect(h.skipped[2].why).to.equal('field "kernels": expected an array');
      expect(historyMarkdown(h)).to.include('- bench-2026-01-04.json: field "schema": expected 1, got 2');
    });

    it('draws the target line and the newest run\'s dot where the axis puts them', () => {
      writeFileSync(join(dir, 'bench-2026-01-01.json'), JSON.stringify(OLD));
      writeFileSync(join(dir, 'bench-2026-01-02.json'), JSON.stringify(NEW));
      const files = writeHistory(dir);
      expect(files.map((f) => f.slice(dir.length + 1))).to.deep.equal(['history.md', 'history.png', 'history-matmul.png']);
      const png = PNG.sync.read(readFileSync(join(dir, 'history.png')));
      const h = loadHistory(dir);
      // 3 kernel rows, then the 2 training rows.
      const layout = dotStripLayout(stripOptions(h));
      const at = (x: number, y: number) => Array.from(png.data.subarray((y * png.width + x) * 4, (y * png.width + x) * 4 + 3));
      expect(png.height).to.equal(layout.top + 5 * layout.rowHeight + 40);
      // The 2x line is red between the rows.
      const [r, g, b] = at(Math.round(layout.px(2)), layout.top + 2);
      expect(r).to.be.greaterThan(180);
      expect(g).to.be.lessThan(80);
      expect(b).to.be.lessThan(80);
      // Row 0's newest value (3x) is a dark dot; its oldest (2.5x) a pale blue one: not the white
      // background, not dark.
      const y0 = layout.top + layout.rowHeight / 2;
      expect(Math.max(...at(Math.round(layout.px(3)), Math.round(y0)))).to.be.lessThan(90);
      const old = at(Math.round(layout.px(2.5)), Math.round(y0));
      expect(Math.max(...old)).to.be.lessThan(245);
      expect(Math.min(...old)).to.be.greaterThan(150);
      expect(old[2]).to.be.greaterThan(old[0]);
      // Row 2 (patch) has only its 1.5x from the older run: drawn as its newest, dark.
      const y2 = layout.top + 2.5 * layout.rowHeight;
      expect(Math.max(...at(Math.round(layout.px(1.5)), Math.round(y2)))).to.be.lessThan(90);
      const chart = PNG.sync.read(readFileSync(join(dir, 'history-matmul.png')));
      expect([chart.width, chart.height]).to.deep.equal([640, 400]);
    });

    it('writes only the markdown for an empty folder', () => {
      expect(writeHistory(dir).map((f) => f.slice(dir.length + 1))).to.deep.equal(['history.md']);
    });
  });

  it('bench --history takes only --out', () => {
    expect(parseBenchArgs(['--history'])?.history).to.equal(true);
    expect(parseBenchArgs(['--history', '--out', 'x'])?.out).to.equal('x');
    expect(() => parseBenchArgs(['--history', '--quick'])).to.throw(UsageError, /--history runs no benchmark/);
    expect(parseBenchArgs([])?.history).to.equal(false);
  });
});
