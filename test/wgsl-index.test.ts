import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { wgslSources } from '../src/wgsl/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

describe('src/wgsl/index.ts', () => {
  it('is current with the .wgsl files', () => {
    const res = spawnSync(process.execPath, ['scripts/gen-wgsl-index.mjs', '--check'], { cwd: root, encoding: 'utf8' });
    expect(res.status, res.stderr).to.equal(0);
  });
  it('holds every .wgsl file', () => {
    const files = readdirSync(join(root, 'src', 'wgsl')).filter((f) => f.endsWith('.wgsl')).sort();
    expect(Object.keys(wgslSources).sort()).to.deep.equal(files);
  });
});
