import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readModelFile } from '../../src/model/weights.js';
import { mobileNetSpecs, pattLiteSpecs } from '../../src/io/weight-specs.js';
import { flatLayers, seededWeights, writeLegacyFile } from '../helpers/keras-fixtures.js';
import { writePattLiteModelH5 } from '../helpers/patt-lite-fixture.js';

let dir: string;
const at = (name: string) => join(dir, name);

function cli(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['bin/patt-lite.js', ...args], { encoding: 'utf8', timeout: 120_000 });
  if (r.error) throw r.error;
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function expectSame(got: Map<string, Float32Array>, want: Map<string, Float32Array>): void {
  expect([...got.keys()].sort()).to.deep.equal([...want.keys()].sort());
  for (const [k, v] of want) expect(got.get(k), k).to.deep.equal(v);
}

describe('cli: patt-lite import and export (no GPU)', () => {
  const specs = pattLiteSpecs({ classes: 7 });
  const values = seededWeights(specs, 21);
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cli-import-test-'));
    await writePattLiteModelH5(at('notebook.h5'), specs, values, 7);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('--help of both commands', () => {
    const i = cli(['import', '--help']);
    expect(i.code).to.equal(0);
    expect(i.stdout).to.contain('usage: patt-lite import KERAS_FILE --out CHECKPOINT.safetensors').and.contain('--classes');
    const e = cli(['export', '--help']);
    expect(e.code).to.equal(0);
    expect(e.stdout).to.contain('usage: patt-lite export MODEL --out model.h5').and.contain('load_weights');
  });

  it("import says what it found (format, classes, attention) and warns about 'batch'; export writes Keras HDF5", async () => {
    const names = 'anger,disgust,fear,joy,neutral,sadness,surprise';
    const r = cli(['import', at('notebook.h5'), '--out', at('model.safetensors'), '--classes', names]);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.contain('format:     Keras model.save HDF5 (TF 2.x), Keras 2.10.0');
    expect(r.stdout).to.contain(`classes:    7: ${names.split(',').join(', ')} (given)`);
    expect(r.stdout).to.match(/attention: {2}batch \(model config: GlobalAveragePooling2D/);
    expect(r.stdout).to.contain(`wrote:      ${at('model.safetensors')}`);
    expect(r.stderr).to.contain('warning: attention \'batch\'').and.contain('depends on the other images in its batch');
    const ckpt = await readModelFile(at('model.safetensors'));
    expect(ckpt.config).to.deep.include({ classes: 7, attention: 'batch', inputSize: 224, classNames: names.split(',') });
    expectSame(ckpt.weights, values);

    const x = cli(['export', at('model.safetensors'), '--out', at('back.h5')]);
    expect(x.code, x.stderr).to.equal(0);
    expect(x.stdout).to.contain('format:     PAtt-Lite checkpoint (safetensors)');
    expect(x.stdout).to.contain(`wrote:      ${at('back.h5')} (Keras legacy HDF5 weights)`);
    expect(x.stderr).to.not.contain('warning');
    const back = await readModelFile(at('back.h5'));
    expect(back.format).to.equal('legacy-weights');
    expect(back.config).to.deep.include({ attention: 'batch', classNames: names.split(',') });
    expectSame(back.weights, values);
  });

  it('errors: a MobileNet file, a missing file, a missing --out', async () => {
    const mn = mobileNetSpecs({ alpha: 0.25 });
    await writeLegacyFile(at('mobilenet.h5'), flatLayers(mn, seededWeights(mn, 22)));
    const r = cli(['import', at('mobilenet.h5'), '--out', at('x.safetensors')]);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.contain(`patt-lite import: ${at('mobilenet.h5')}: this is a MobileNet weights file`);
    const missing = cli(['export', at('none.safetensors'), '--out', at('y.h5')]);
    expect(missing.code).to.equal(1);
    expect(missing.stderr).to.contain(`${at('none.safetensors')}: no such file`);
    const usage = cli(['import', at('notebook.h5')]);
    expect(usage.code).to.equal(2);
    expect(usage.stderr).to.contain('--out CHECKPOINT.safetensors is required');
  });
});
