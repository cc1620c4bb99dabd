// Outputs stay in the chosen folder, and an existing run is not overwritten by accident.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cli = (args: string[], cwd = root) =>
  spawnSync(process.execPath, [join(root, 'bin', 'patt-lite.js'), ...args], { cwd, encoding: 'utf8', timeout: 120_000 });

describe('run folders', () => {
  it('train refuses to overwrite an existing run without --force or --resume', () => {
    const dir = mkdtempSync(join(tmpdir(), 'patt-run-'));
    try {
      const out = join(dir, 'run');
      mkdirSync(out);
      writeFileSync(join(out, 'settings.json'), '{}');
      const r = cli(['train', '--data', join(dir, 'nowhere'), '--out', out]);
      expect(r.status).to.equal(2);
      expect(r.stderr).to.match(/already holds a run; pass --resume to continue it or --force to overwrite it/);
      expect(readdirSync(out)).to.deep.equal(['settings.json']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('demo writes nothing outside its --out folder (a small run, started in an empty folder)', function () {
    const dir = mkdtempSync(join(tmpdir(), 'patt-demo-'));
    try {
      const r = cli(['demo', '--out', join(dir, 'out'), '--per-class', '4', '--epochs', '1', '--input-size', '80'], dir);
      expect(r.status, r.stderr).to.equal(0);
      expect(readdirSync(dir)).to.deep.equal(['out']);
      const files = readdirSync(join(dir, 'out'));
      for (const f of ['report.md', 'metrics.json', 'curves.png', 'confusion.png', 'predictions.png', 'best.safetensors']) {
        expect(files).to.include(f);
      }
      expect(r.stdout).to.match(/test accuracy: [\d.]+% on 280 held-out images/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
