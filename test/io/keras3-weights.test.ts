import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importKerasWeights, readKerasWeights } from '../../src/io/keras-h5.js';
import { mobileNetSpecs, pattLiteSpecs, type WeightSpec } from '../../src/io/weight-specs.js';
import { makeZip, seededWeights, writeKeras3File, type K3Layer } from '../helpers/keras-fixtures.js';
import { pattLiteKeras3Layers } from '../helpers/patt-lite-fixture.js';

let dir: string;
const at = (name: string) => join(dir, name);

function expectSame(got: Map<string, Float32Array>, want: Map<string, Float32Array>): void {
  expect([...got.keys()].sort()).to.deep.equal([...want.keys()].sort());
  for (const [k, v] of want) expect(got.get(k), k).to.deep.equal(v);
}

async function rejects(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection');
}

/** A flat Keras 3 MobileNet: layers/<class>_<k>/vars/<i>, plus weightless layers. */
function mobileNetKeras3(specs: readonly WeightSpec[], values: Map<string, Float32Array>): K3Layer[] {
  const snake: Record<string, string> = {
    Conv2D: 'conv2d', DepthwiseConv2D: 'depthwise_conv2d', BatchNormalization: 'batch_normalization',
  };
  const out: K3Layer[] = [{ path: 'layers/input_layer', vars: [] }, { path: 'layers/re_lu', vars: [] }];
  const count = new Map<string, number>();
  const byLayer = new Map<string, K3Layer>();
  for (const s of specs) {
    let l = byLayer.get(s.layer);
    if (!l) {
      const base = snake[s.kerasClass];
      const k = count.get(base) ?? 0;
      count.set(base, k + 1);
      l = { path: `layers/${k ? `${base}_${k}` : base}`, vars: [] };
      byLayer.set(s.layer, l);
      out.push(l);
    }
    l.vars.push({ shape: [...s.shape], data: values.get(`${s.layer}/${s.weight}`)! });
  }
  return out;
}

describe('keras3-weights: .weights.h5 and .keras', () => {
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'keras3-test-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('MobileNet alpha 0.25 with top: class-counter names map back to Keras layers', async () => {
    const specs = mobileNetSpecs({ alpha: 0.25, includeTop: true, classes: 5 });
    const values = seededWeights(specs, 11);
    await writeKeras3File(at('mn.weights.h5'), mobileNetKeras3(specs, values));
    const r = await importKerasWeights(at('mn.weights.h5'), specs);
    expect(r.source.format).to.equal('keras3-weights');
    expect(r.extra).to.deep.equal([]);
    expectSame(r.weights, values);
  });

  it('PAtt-Lite with nested functional/sequential containers', async () => {
    const specs = pattLiteSpecs({ classes: 7 });
    const values = seededWeights(specs, 12);
    await writeKeras3File(at('pl.weights.h5'), pattLiteKeras3Layers(specs, values));
    const r = await importKerasWeights(at('pl.weights.h5'), specs);
    expect(r.extra).to.deep.equal([]);
    expectSame(r.weights, values);
  });

  it('a missing var and an unexpected layer are both reported', async () => {
    const specs = pattLiteSpecs({ classes: 7 });
    const values = seededWeights(specs, 13);
    const layers = pattLiteKeras3Layers(specs, values);
    const bn = layers.find((l) => l.path === 'layers/sequential_2/layers/batch_normalization')!;
    bn.vars.pop();
    layers.push({ path: 'layers/dense_1', vars: [{ shape: [3], data: new Float32Array(3) }] });
    await writeKeras3File(at('bad.weights.h5'), layers);
    const err = await rejects(importKerasWeights(at('bad.weights.h5'), specs));
    expect(err.message).to.contain(at('bad.weights.h5'));
    expect(err.message).to.contain('pre_bn/moving_variance: expected (32,), not in the file');
    expect(err.message).to.contain('dense_1/0 (3,) at /layers/dense_1/vars/0');
  });

  it('.keras archive (deflated and stored entries): weights, config facts, version', async () => {
    const specs = pattLiteSpecs({ classes: 8 });
    const values = seededWeights(specs, 14);
    await writeKeras3File(at('inner.h5'), pattLiteKeras3Layers(specs, values));
    const config = {
      module: 'keras.src.models.functional',
      class_name: 'Functional',
      config: {
        name: 'finetune-backbone',
        layers: [
          { class_name: 'InputLayer', config: { name: 'universal_input', batch_shape: [null, 120, 120, 3] } },
          { class_name: 'Functional', config: { name: 'base_model', layers: [
            { class_name: 'Conv2D', config: { name: 'conv1', filters: 32 } },
          ], output_layers: [['conv_dw_9_relu', 0, 0]] } },
          { class_name: 'Attention', config: { name: 'attention', use_scale: true, score_mode: 'dot' } },
          { class_name: 'Dense', config: { name: 'classification_head', units: 8,
            activation: 'softmax' } },
        ],
      },
    };
    const zip = makeZip([
      { name: 'metadata.json', data: Buffer.from(JSON.stringify({ keras_version: '3.4.1' })) },
      { name: 'config.json', data: Buffer.from(JSON.stringify(config)), deflate: true },
      { name: 'model.weights.h5', data: readFileSync(at('inner.h5')), deflate: true },
    ]);
    writeFileSync(at('model.keras'), zip);
    const r = await importKerasWeights(at('model.keras'), specs);
    expect(r.source.format).to.equal('keras3-archive');
    expect(r.source.kerasVersion).to.equal('3.4.1');
    expect(r.source.facts!.classes).to.equal(8);
    expect(r.source.facts!.inputShape).to.deep.equal([120, 120, 3]);
    expect(r.source.facts!.backbone!.outputLayer).to.equal('conv_dw_9_relu');
    expectSame(r.weights, values);

    const stored = makeZip([{ name: 'model.weights.h5', data: readFileSync(at('inner.h5')) }]);
    writeFileSync(at('stored.keras'), stored);
    expectSame((await importKerasWeights(at('stored.keras'), specs)).weights, values);
  });

  it('corrupt archives: truncated, flipped bytes, no weights entry', async () => {
    const zip = readFileSync(at('model.keras'));
    writeFileSync(at('trunc.keras'), zip.subarray(0, zip.length - 40));
    expect((await rejects(readKerasWeights(at('trunc.keras')))).message).to.match(
      /trunc\.keras: not a valid zip archive/,
    );
    const flipped = Buffer.from(zip);
    flipped[200] ^= 0xff; // inside a deflated entry (config.json)
    writeFileSync(at('flip.keras'), flipped);
    expect((await rejects(readKerasWeights(at('flip.keras')))).message).to.match(
      /flip\.keras: zip entry .*(inflate|CRC|size)/,
    );
    writeFileSync(at('empty.keras'), makeZip([{ name: 'config.json', data: Buffer.from('{}') }]));
    expect((await rejects(readKerasWeights(at('empty.keras')))).message).to.contain(
      'has no model.weights.h5 (entries: config.json)',
    );
  });
});
