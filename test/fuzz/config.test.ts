// Fuzz: training config files (`patt-lite train --config FILE`, src/cli/train.ts). Mutants are
// byte-level or JSON-level; every rejection must name the file, every acceptance must give
// settings of the right types.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { settingsFrom } from '../../src/cli/train.js';
import type { RunSettings } from '../../src/train/run.js';
import { expectResult, FUZZ_CASES, fuzzAndReport } from './harness.js';
import { mutate, mutateJson } from './mutate.js';

const SEED = {
  data: 'data/faces', out: 'runs/x', weights: 'faceapi', attention: 'patch', inputSize: 96, phase: 'head',
  epochs: 20, batchSize: 16, learningRate: 0.001, clipnorm: 3, dropout: 0.1, featureCache: true, seed: 3,
};

function check(s: RunSettings): void {
  for (const k of ['inputSize', 'epochs', 'batchSize', 'learningRate', 'clipnorm', 'dropout', 'seed', 'patience'] as const) {
    expectResult(typeof s[k] === 'number' && !Number.isNaN(s[k]), `${k} is ${String(s[k])}`);
  }
  expectResult(typeof s.data === 'string' && s.data.length > 0, 'data');
  expectResult(['patch', 'batch'].includes(s.attention), `attention ${s.attention}`);
  expectResult(['head', 'finetune'].includes(s.phase), `phase ${s.phase}`);
  expectResult(s.epochs >= 1 && s.batchSize >= 2, 'epochs / batch size bounds');
}

describe('fuzz: config files', () => {
  it(`${FUZZ_CASES} mutated --config files: an error naming the file, or sound settings`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'patt-fuzz-config-'));
    const seedBytes = new TextEncoder().encode(JSON.stringify(SEED, null, 2));
    try {
      await fuzzAndReport('config', FUZZ_CASES, (r, i) => {
        const file = join(dir, `config-${i}.json`);
        let ops: string[];
        if (r() < 0.5) {
          const m = mutate(seedBytes, r);
          writeFileSync(file, m.bytes);
          ops = m.ops;
        } else {
          const m = mutateJson(SEED, r);
          writeFileSync(file, m.text);
          ops = [m.op];
        }
        return { file, ops, run: () => settingsFrom({ config: file }), check };
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('regression: "data" and "out" must be strings (found by this fuzzer: data=true was accepted)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'patt-config-'));
    try {
      const file = join(dir, 'c.json');
      writeFileSync(file, JSON.stringify({ ...SEED, data: true }));
      let message = '';
      try {
        settingsFrom({ config: file });
      } catch (e) {
        message = (e as Error).message;
      }
      if (!message.includes(`--config ${file}: "data" must be a string, got true`)) throw new Error(`got: ${message}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
