import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  importKerasWeights,
  matchWeights,
  readKerasWeights,
  WeightMismatchError,
} from '../../src/io/keras-h5.js';
import { halfToFloat32 } from '../../src/io/float16.js';
import { mobileNetSpecs, pattLiteSpecs, specKey } from '../../src/io/weight-specs.js';
import { flatLayers, h5, seededWeights, writeLegacyFile } from '../helpers/keras-fixtures.js';
import { writePattLiteModelH5 } from '../helpers/patt-lite-fixture.js';

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

describe('keras-h5: legacy HDF5 weights files', () => {
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'keras-h5-test-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('mobilenet_2_5_224_tf_no_top layout: alpha 0.25 without top', async () => {
    const specs = mobileNetSpecs({ alpha: 0.25 });
    const values = seededWeights(specs, 1);
    await writeLegacyFile(at('mn025.h5'), flatLayers(specs, values));
    const r = await importKerasWeights(at('mn025.h5'), specs);
    expect(r.source.format).to.equal('legacy-weights');
    expect(r.source.kerasVersion).to.equal('2.10.0');
    expect(r.source.backend).to.equal('tensorflow');
    expect(r.extra).to.deep.equal([]);
    expectSame(r.weights, values);
  });

  it('alpha 0.25 with top (conv_preds); read with the no-top spec reports the extras', async () => {
    const specs = mobileNetSpecs({ alpha: 0.25, includeTop: true, classes: 1000 });
    const values = seededWeights(specs, 2);
    await writeLegacyFile(at('mn025top.h5'), flatLayers(specs, values));
    const r = await importKerasWeights(at('mn025top.h5'), specs);
    expectSame(r.weights, values);
    expect(r.weights.get('conv_preds/kernel')!.length).to.equal(256 * 1000);

    const noTop = await importKerasWeights(at('mn025top.h5'), mobileNetSpecs({ alpha: 0.25 }));
    expect(noTop.extra.sort()).to.deep.equal(['conv_preds/bias', 'conv_preds/kernel']);
    // Not expected -> shape recorded, values never read.
    expect(noTop.source.weights.get('conv_preds/kernel')!.data).to.equal(undefined);
    const err = await rejects(
      importKerasWeights(at('mn025top.h5'), mobileNetSpecs({ alpha: 0.25 }), { strictExtra: true }),
    );
    expect(err.message).to.contain('conv_preds/kernel (1, 1, 256, 1000)');
  });

  it('a missing weight names the file, the weight and its expected shape', async () => {
    const specs = mobileNetSpecs({ alpha: 0.25 });
    const values = seededWeights(specs, 3);
    const layers = flatLayers(specs, values).filter((l) => l.name !== 'conv_dw_3');
    await writeLegacyFile(at('missing.h5'), layers);
    const err = await rejects(importKerasWeights(at('missing.h5'), specs));
    expect(err).to.be.instanceOf(WeightMismatchError);
    expect(err.message).to.contain(at('missing.h5'));
    expect(err.message).to.contain('conv_dw_3/depthwise_kernel: expected (3, 3, 32, 1), not in the file');
    expect((err as WeightMismatchError).missing).to.have.length(1);
  });

  it('a wrong shape is reported with expected and found shapes, and its values are not read', async () => {
    const specs = mobileNetSpecs({ alpha: 0.25 });
    const values = seededWeights(specs, 4);
    const layers = flatLayers(specs, values);
    const conv1 = layers.find((l) => l.name === 'conv1')!;
    conv1.weights[0] = { name: 'conv1/kernel:0', shape: [3, 3, 1, 8], data: new Float32Array(72) };
    await writeLegacyFile(at('shape.h5'), layers);
    const found = await readKerasWeights(at('shape.h5'), { specs });
    expect(found.weights.get('conv1/kernel')!.data).to.equal(undefined);
    expect(() => matchWeights(specs, found.weights, at('shape.h5'))).to.throw(
      /conv1\/kernel: expected \(3, 3, 3, 8\), found \(3, 3, 1, 8\) at \/conv1\/conv1\/kernel:0/,
    );
  });

  it('float64 datasets are converted to float32', async () => {
    const specs = mobileNetSpecs({ alpha: 0.25 });
    const values = seededWeights(specs, 5);
    const layers = flatLayers(specs, values);
    const bn = layers.find((l) => l.name === 'conv1_bn')!;
    bn.weights[0] = { ...bn.weights[0], data: Float64Array.from(bn.weights[0].data) };
    await writeLegacyFile(at('f64.h5'), layers);
    const r = await importKerasWeights(at('f64.h5'), specs);
    expect(r.source.weights.get('conv1_bn/gamma')!.dtype).to.equal('<f8');
    expectSame(r.weights, values);
  });

  it('float16 bit patterns decode to float32', () => {
    const bits = new Uint16Array([0x3c00, 0xc000, 0x3555, 0x0001, 0x7c00, 0x0000]);
    const got = halfToFloat32(new Uint8Array(bits.buffer));
    expect(Array.from(got.slice(0, 2))).to.deep.equal([1, -2]);
    expect(got[2]).to.be.closeTo(1 / 3, 1e-3);
    expect(got[3]).to.equal(2 ** -24);
    expect(got[4]).to.equal(Infinity);
  });

  it('model.save PAtt-Lite: nested groups, model_config facts, renamed inner layers', async () => {
    const specs = pattLiteSpecs({ classes: 7 });
    const values = seededWeights(specs, 6);
    await writePattLiteModelH5(at('pattlite.h5'), specs, values, 7);
    const r = await importKerasWeights(at('pattlite.h5'), specs);
    expect(r.source.format).to.equal('legacy-model');
    expect(r.extra).to.deep.equal([]);
    expectSame(r.weights, values);
    const facts = r.source.facts!;
    expect(facts.modelName).to.equal('finetune-backbone');
    expect(facts.classes).to.equal(7);
    expect(facts.classifierActivation).to.equal('softmax');
    expect(facts.attention).to.deep.equal({ name: 'attention', useScale: true, scoreMode: 'dot' });
    expect(facts.backbone).to.deep.include({ name: 'base_model', outputLayer: 'conv_dw_9_relu', alpha: 1 });
    expect(facts.inputShape).to.deep.equal([224, 224, 3]);
    expect(facts.dropoutRates).to.deep.equal([0.2, 0.2]);
    expect(facts.spatialDropoutRates).to.deep.equal([0.2]);
  });

  it('a PAtt-Lite file with another class count fails on the head, naming both shapes', async () => {
    const specs8 = pattLiteSpecs({ classes: 8 });
    const err = await rejects(importKerasWeights(at('pattlite.h5'), specs8));
    expect(err.message).to.contain('classification_head/kernel: expected (32, 8), found (32, 7)');
    expect(err.message).to.contain('classification_head/bias: expected (8,), found (7,)');
  });

  it('reads without a spec (raw Keras names) under an element budget', async () => {
    const r = await readKerasWeights(at('pattlite.h5'));
    expect(r.weights.get('separable_conv2d_2/depthwise_kernel')!.shape).to.deep.equal([4, 4, 512, 1]);
    expect(r.weights.get('attention/scale')!.data!.length).to.equal(1);
    const small = await readKerasWeights(at('pattlite.h5'), { maxElements: 1000 });
    const unread = [...small.weights.values()].filter((w) => w.problem?.includes('maxElements'));
    expect(unread.length).to.be.greaterThan(0);
  });

  it('a hostile header (huge declared dataset) is never allocated', async () => {
    const specs = mobileNetSpecs({ alpha: 0.25 });
    const values = seededWeights(specs, 7);
    await writeLegacyFile(at('huge.h5'), flatLayers(specs, values));
    const h = await h5();
    const f = new h.File(at('huge.h5'), 'a');
    const g = f.get('conv1/conv1') as InstanceType<typeof h.Group>;
    // Replace conv1/kernel:0 by a chunked dataset declared as 4e12 elements, no data written.
    const ds = g.create_dataset({ name: 'big', data: new Float32Array(4), shape: [2, 2], maxshape: [null, null], chunks: [1, 1] });
    ds.resize([2_000_000, 2_000_000]);
    f.close();
    const f2 = new h.File(at('huge.h5'), 'a');
    const conv1 = f2.get('conv1') as InstanceType<typeof h.Group>;
    conv1.delete_attribute('weight_names');
    conv1.create_attribute('weight_names', ['conv1/kernel:0', 'conv1/big'], [2], 'A14');
    f2.close();
    const found = await readKerasWeights(at('huge.h5'), { specs });
    expect(found.weights.get('conv1/big')!.shape).to.deep.equal([2_000_000, 2_000_000]);
    expect(found.weights.get('conv1/big')!.data).to.equal(undefined);
    const raw = await readKerasWeights(at('huge.h5'));
    expect(raw.weights.get('conv1/big')!.problem).to.match(/maxElements/);
  });

  it('garbage, truncated, empty and non-Keras files give errors naming the file', async () => {
    writeFileSync(at('garbage.h5'), Buffer.from('this is not an hdf5 file at all, just text'));
    expect((await rejects(readKerasWeights(at('garbage.h5')))).message).to.match(
      new RegExp(`${at('garbage.h5')}: not an HDF5 file`),
    );
    const whole = readFileSync(at('mn025.h5'));
    writeFileSync(at('truncated.h5'), whole.subarray(0, Math.floor(whole.length / 3)));
    expect((await rejects(readKerasWeights(at('truncated.h5')))).message).to.contain(at('truncated.h5'));
    const h = await h5();
    const f = new h.File(at('plain.h5'), 'w');
    f.create_dataset({ name: 'X_train', data: new Uint8Array(4) });
    f.close();
    expect((await rejects(readKerasWeights(at('plain.h5')))).message).to.match(
      /plain\.h5: not a Keras weights file.*found X_train/,
    );
    expect((await rejects(readKerasWeights(at('nope.h5')))).message).to.match(/nope\.h5: cannot open/);
  });
});

describe('keras-h5: spec keys', () => {
  it('every spec key is unique', () => {
    for (const specs of [mobileNetSpecs({ includeTop: true }), pattLiteSpecs({ classes: 8 })]) {
      expect(new Set(specs.map(specKey)).size).to.equal(specs.length);
    }
  });
});
