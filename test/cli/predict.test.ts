import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import { Engine } from '../../src/graph/engine.js';
import { PattLite } from '../../src/model/patt-lite.js';
import { createPredictor } from '../../src/model/inference.js';
import { saveModel } from '../../src/model/weights.js';
import { decodeImage, encodePng, type RgbImage } from '../../src/data/image.js';
import { testGpu } from '../helpers/gpu.js';
import { randn, rng } from '../helpers/random.js';

let dir: string;
const at = (...p: string[]) => join(dir, ...p);

/** Runs `node bin/patt-lite.js args` in the repository root. */
export function cli(args: string[], env: Record<string, string> = {}): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['bin/patt-lite.js', ...args], {
    encoding: 'utf8',
    env: { ...process.env, PATT_AUTOTUNE_CACHE: join(dir, 'autotune.json'), ...env },
    timeout: 120_000,
  });
  if (r.error) throw r.error;
  // Dawn prints limit notices on stderr; they are not ours.
  const stderr = r.stderr.split('\n').filter((l) => !l.startsWith('Warning: max')).join('\n');
  return { code: r.status ?? -1, stdout: r.stdout, stderr };
}

function picture(seed: number, width: number, height: number): RgbImage {
  const r = rng(seed);
  return { width, height, data: Uint8Array.from({ length: width * height * 3 }, () => Math.floor(r() * 256)) };
}

describe('cli: patt-lite predict', () => {
  const names = ['calm', 'happy', 'cross'];
  const images = [picture(1, 60, 50), picture(2, 60, 50), picture(3, 40, 40)];
  let want: Float32Array[];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cli-predict-test-'));
    const e = await Engine.create((await testGpu()).device);
    const m = new PattLite(e, { classes: 3, classNames: names, inputSize: 80 }, 4);
    // Spread the classifier so the probabilities are not all ~1/3.
    e.write(m.head.kernel, randn(9, m.head.kernel.size, 3));
    await saveModel(m, at('model.safetensors'));
    mkdirSync(at('faces', 'sub'), { recursive: true });
    writeFileSync(at('faces', 'b.png'), encodePng(images[1]));
    const jpg = jpeg.encode({ width: 40, height: 40, data: rgba(images[2]) }, 95).data;
    writeFileSync(at('faces', 'sub', 'c.jpg'), jpg);
    writeFileSync(at('faces', 'notes.txt'), 'not an image');
    writeFileSync(at('a.png'), encodePng(images[0]));
    writeFileSync(at('broken.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]));
    // The expected probabilities, in process, from the decoded files (JPEG is lossy).
    const decoded = [images[0], images[1], decodeImage(jpg, 'c.jpg')];
    const p = await createPredictor(m, { batchSize: 1 });
    want = (await p.predict(decoded)).probs;
    p.dispose();
    m.dispose();
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('--help describes the command without a GPU', () => {
    const r = cli(['predict', '--help']);
    expect(r.code).to.equal(0);
    expect(r.stdout).to.contain('usage: patt-lite predict --model FILE').and.contain('--json').and.contain('--batch N');
    expect(r.stdout).to.contain("Attention 'batch'").and.contain('Exit codes');
  });

  it('--json: one document with every prediction; unreadable inputs are named, the rest predicted, exit 1', () => {
    const r = cli(['predict', '--model', at('model.safetensors'), '--json', at('a.png'), at('missing.png'), at('broken.png'), at('faces')]);
    expect(r.code, r.stderr).to.equal(1);
    const doc = JSON.parse(r.stdout) as {
      model: { classes: string[]; attention: string; batchSize: number };
      predictions: { image: string; expression: string; probability: number; probabilities: Record<string, number> }[];
      errors: { image: string; error: string }[];
    };
    expect(doc.model).to.deep.include({ classes: names, attention: 'patch', batchSize: 8 });
    expect(doc.predictions.map((p) => p.image)).to.deep.equal([at('a.png'), at('faces', 'b.png'), at('faces', 'sub', 'c.jpg')]);
    doc.predictions.forEach((p, i) => {
      const probs = names.map((n) => p.probabilities[n]);
      probs.forEach((v, c) => expect(v, `${p.image} ${names[c]}`).to.be.closeTo(want[i][c], 1e-5));
      const best = want[i].indexOf(Math.max(...want[i]));
      expect(p.expression).to.equal(names[best]);
      expect(p.probability).to.be.closeTo(want[i][best], 1e-5);
    });
    expect(doc.errors.map((x) => x.image)).to.deep.equal([at('missing.png'), at('broken.png')]);
    expect(r.stderr).to.contain(`${at('missing.png')}: no such file or folder`);
    expect(r.stderr).to.contain(`${at('broken.png')}:`);
    expect(r.stderr).to.contain('2 of 5 inputs could not be read; 3 predicted');
  });

  it('table output with progress on stderr; bad arguments and a missing model', () => {
    const r = cli(['predict', '--model', at('model.safetensors'), '--batch', '2', at('faces'), at('a.png')]);
    expect(r.code, r.stderr).to.equal(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0].split(/\s+/)).to.deep.equal(['image', 'expression', 'prob', ...names]);
    expect(lines).to.have.length(4);
    expect(lines[1].startsWith(at('faces', 'b.png'))).to.equal(true);
    const cells = lines[3].trim().split(/\s+/);
    expect(cells[0]).to.equal(at('a.png'));
    expect(cells[1]).to.equal(names[want[0].indexOf(Math.max(...want[0]))]);
    expect(cells.slice(3).map(Number)).to.have.length(3);
    cells.slice(3).forEach((v, c) => expect(Number(v)).to.be.closeTo(want[0][c], 6e-4));
    expect(r.stderr).to.contain('predict: 3/3 images');
    expect(r.stderr).to.contain('attention patch');

    const noModel = cli(['predict', at('a.png')]);
    expect(noModel.code).to.equal(2);
    expect(noModel.stderr).to.contain('--model FILE is required');
    const missing = cli(['predict', '--model', at('nope.safetensors'), at('a.png')]);
    expect(missing.code).to.equal(1);
    expect(missing.stderr).to.contain(`patt-lite predict: ${at('nope.safetensors')}: no such file`);
  });
});

function rgba(img: RgbImage): Uint8Array {
  const out = new Uint8Array(img.width * img.height * 4);
  for (let i = 0, j = 0; i < img.data.length; i += 3, j += 4) {
    out[j] = img.data[i];
    out[j + 1] = img.data[i + 1];
    out[j + 2] = img.data[i + 2];
    out[j + 3] = 255;
  }
  return out;
}
