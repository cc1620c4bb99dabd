// The benchmark suite's plumbing on made-up measurements: options, the markdown table and the
// files it writes, and the command's registration. Nothing here times anything or opens a GPU.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stamp, toMarkdown, writeResults, type SuiteResult } from '../../bench/suite/results.js';
import { parseBenchArgs } from '../../src/cli/bench.js';
import { UsageError } from '../../src/cli/args.js';

function fake(): SuiteResult {
  const side = (s: number) => ({ medianS: s, runs: 3, firstStepS: 2 * s, gpuBytes: 300 * 2 ** 20, gpuBytesNote: 'a note' });
  return {
    schema: 1, date: '2025-02-03T04:05:06.789Z',
    options: { quick: true, only: ['kernels', 'inference', 'training'], budgetS: 420, out: 'x' },
    environment: {
      node: 'v20.0.0', os: 'linux', cpus: 2,
      packages: { webgpu: '0.6.2', '@tensorflow/tfjs': '4.22.0', '@tensorflow/tfjs-backend-wasm': null },
      adapter: { vendor: 'mesa', architecture: 'software', device: 'llvmpipe', description: 'llvmpipe: Mesa 25', software: true, features: ['shader-f16'] },
      driver: 'llvmpipe: Mesa 25', git: { rev: 'abc123', dirty: 2 }, load: { start: 1.5, end: 2.5, max: 3.4 },
      env: { LP_NUM_THREADS: '8', PATT_ADAPTER: null },
    },
    peers: [{ name: 'TF.js WASM', status: 'not installed', note: 'to add: npm install' }],
    ceilings: { copy: { bytes: 256 * 2 ** 20, ms: 100, gbps: 5, runs: 3 }, matmul: { shape: '1024^3', impl: 'ours reg', gflops: 10 } },
    kernels: [
      { kernel: 'matmul / pointwise', shape: '1024^3 (M1024|K)', impl: 'ours reg', ms: 200, gflops: 10, gbps: 0.06, tfjsMs: 400 },
      { kernel: 'attention bwd', shape: 'b8', impl: 'ours', ms: 1, gflops: 0.5, gbps: 2.5 },
    ],
    inference: {
      rows: [{ batch: 8, oursImagesPerS: 11, tfjsImagesPerS: 5.5, oursFirstBatchS: 2, tfjsFirstBatchS: 3, runs: 3 }],
      firstResult: { oursS: 1.5, tfjsS: 4, oursParts: { device: 0.5, 'first batch': 1 }, tfjsParts: { 'first batch': 4 } },
      maxProbDiff: 1e-6,
    },
    training: [
      { phase: 1, what: 'frozen backbone', trainableTensors: 12, trainableParams: 1.5e6, ours: side(2), tfjs: side(4) },
      { phase: 2, what: 'backbone convs trainable', trainableTensors: 30, trainableParams: 3e6, ours: side(5), tfjs: null, tfjsSkipped: 'over budget' },
    ],
    memory: [{ after: 'training', rssBytes: 800 * 2 ** 20, maxRssBytes: 900 * 2 ** 20 }],
    decisions: [{ what: 'inference batch 128', decision: 'skipped', why: '--quick' }],
    durations: { kernels: 30, training: 120 },
    errors: [],
  };
}

describe('bench suite', () => {
  it('toMarkdown: environment, ceilings, ratios, skips and decisions', () => {
    const md = toMarkdown(fake());
    for (const want of ['llvmpipe', 'Mesa 25', 'abc123 (+2 uncommitted changes)', 'webgpu 0.6.2',
      '@tensorflow/tfjs-backend-wasm not installed', 'load average (1 min) 1.5 at the start', '3.4 at most',
      '| TF.js WASM | not installed |', '10.0 GFLOP/s', '5.0 GB/s', '| 2.00x |', '| 100% |', '| 1% |',
      '| 8 | 11.0 | 5.50 | 2.00x |', 'Phase 2 TF.js: not measured (over budget)', '| inference batch 128 | skipped | --quick |',
      '1.50 M', '300 MiB', '900 MiB']) {
      expect(md, want).to.contain(want);
    }
    // A `|` inside a cell is escaped so the table keeps its columns.
    expect(md).to.contain('1024^3 (M1024\\|K)');
  });

  it('writeResults: dated and latest files, JSON round-trips', () => {
    const dir = mkdtempSync(join(tmpdir(), 'patt-bench-'));
    try {
      const r = fake();
      const files = writeResults(r, join(dir, 'out'));
      expect(files).to.have.length(4);
      expect(readdirSync(join(dir, 'out')).sort()).to.deep.equal(
        ['bench-2025-02-03T04-05-06.json', 'bench-2025-02-03T04-05-06.md', 'latest.json', 'latest.md']);
      expect(JSON.parse(readFileSync(join(dir, 'out', 'latest.json'), 'utf8'))).to.deep.equal(r);
      expect(readFileSync(join(dir, 'out', 'latest.md'), 'utf8')).to.equal(toMarkdown(r));
      expect(stamp(r.date)).to.equal('2025-02-03T04-05-06');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('parseBenchArgs: options, defaults and mistakes', () => {
    expect(parseBenchArgs([])).to.deep.equal({ quick: false, only: ['kernels', 'inference', 'training'], budgetS: undefined, out: undefined, history: false });
    expect(parseBenchArgs(['--quick', '--only', 'kernels,training', '--budget', '60', '--out', 'r']))
      .to.deep.equal({ quick: true, only: ['kernels', 'training'], budgetS: 60, out: 'r', history: false });
    expect(parseBenchArgs(['--help'])).to.equal(undefined);
    expect(() => parseBenchArgs(['--only', 'kernel'])).to.throw(UsageError, /unknown section "kernel"/);
    expect(() => parseBenchArgs(['--budget', '0'])).to.throw(UsageError, /positive/);
    expect(() => parseBenchArgs(['extra'])).to.throw(UsageError, /unexpected argument/);
  });

  it('patt-lite bench --help is registered and describes the options', () => {
    const r = spawnSync(process.execPath, ['bin/patt-lite.js', 'bench', '--help'], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).to.equal(0);
    for (const opt of ['--quick', '--only', '--budget', '--out', 'not installed']) expect(r.stdout).to.contain(opt);
    const top = spawnSync(process.execPath, ['bin/patt-lite.js', '--help'], { encoding: 'utf8', timeout: 60_000 });
    expect(top.stdout).to.match(/\n {2}bench +benchmark/);
  });
});
