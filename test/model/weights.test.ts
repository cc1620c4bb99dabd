import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine } from '../../src/graph/engine.js';
import { PattLite } from '../../src/model/patt-lite.js';
import {
  BATCH_ATTENTION_WARNING, exportKerasModel, loadImagenetBackbone, loadModel, modelWeights, readKerasModel,
  readModelFile, saveModel, writeCheckpointModel,
} from '../../src/model/weights.js';
import { readKerasWeights } from '../../src/io/keras-h5.js';
import { saveCheckpoint } from '../../src/io/checkpoint.js';
import { mobileNetSpecs, pattLiteSpecs, specKey } from '../../src/io/weight-specs.js';
import { flatLayers, makeZip, seededWeights, writeKeras3File, writeLegacyFile } from '../helpers/keras-fixtures.js';
import { pattLiteKeras3Layers, pattLiteModelConfig, writePattLiteModelH5 } from '../helpers/patt-lite-fixture.js';
import { testGpu } from '../helpers/gpu.js';

let dir: string;
const at = (name: string) => join(dir, name);

async function rejects(p: Promise<unknown> | (() => unknown)): Promise<Error> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection');
}

function expectSame(got: Map<string, Float32Array>, want: Map<string, Float32Array>): void {
  expect([...got.keys()].sort()).to.deep.equal([...want.keys()].sort());
  for (const [k, v] of want) expect(got.get(k), k).to.deep.equal(v);
}

describe('model weights: Keras files, MobileNet backbone, checkpoints', () => {
  let e: Engine;
  const specs7 = pattLiteSpecs({ classes: 7 });
  const values7 = seededWeights(specs7, 11);
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'model-weights-test-'));
    e = await Engine.create((await testGpu()).device);
    await writePattLiteModelH5(at('notebook.h5'), specs7, values7, 7);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("the notebook's model.save .h5: classes and attention 'batch' from model_config, with a warning", async () => {
    const warnings: string[] = [];
    const { model, file } = await loadModel(e, at('notebook.h5'), { warn: (w) => warnings.push(w) });
    expect(file.format).to.equal('legacy-model');
    expect(file.config).to.deep.include({ classes: 7, attention: 'batch', inputSize: 224 });
    expect(file.config.classNames).to.deep.equal(['anger', 'disgust', 'fear', 'happiness', 'neutral', 'sadness', 'surprise']);
    expect(file.classNamesFrom).to.match(/^assumed/);
    expect(file.attentionFrom).to.contain('GlobalAveragePooling2D');
    expect(warnings).to.deep.equal([BATCH_ATTENTION_WARNING]);
    expect(model.attentionMode).to.equal('batch');
    expectSame(await modelWeights(model), values7);
    model.dispose();
  });

  it('class names and attention can be given; a wrong count names both', async () => {
    const names = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];
    const f = await readKerasModel(at('notebook.h5'), { classNames: names, attention: 'patch' });
    expect(f.config.classNames).to.deep.equal(names);
    expect(f.config.attention).to.equal('patch');
    expect(f.attentionFrom).to.match(/^given \(the file implies 'batch'/);
    expect(f.warnings).to.deep.equal([]);
    const err = await rejects(readKerasModel(at('notebook.h5'), { classNames: ['x', 'y'] }));
    expect(err.message).to.contain('2 class names given (x, y), but the').and.contain('has 7 classes');
  });

  it('our Keras export round-trips: values, attention mode, class names, input size', async () => {
    const m = new PattLite(e, { classes: 3, classNames: ['neg', 'neu', 'pos'], inputSize: 96 }, 5);
    const warnings = await exportKerasModel(m, at('ours.h5'));
    expect(warnings.join('\n')).to.contain("attention 'patch'").and.contain('96x96');
    const raw = await readKerasWeights(at('ours.h5'));
    expect(raw.format).to.equal('legacy-weights');
    const f = await readModelFile(at('ours.h5'));
    expect(f.config).to.deep.include({ classes: 3, attention: 'patch', inputSize: 96, classNames: ['neg', 'neu', 'pos'] });
    expect(f.attentionFrom).to.contain('patt-lite export');
    expect(f.warnings).to.deep.equal([]);
    expectSame(f.weights, await modelWeights(m));
    m.dispose();
  });

  it('a legacy weights file from elsewhere: classes from the head shape, attention assumed batch with a warning', async () => {
    const specs = pattLiteSpecs({ classes: 8 });
    const values = seededWeights(specs, 12);
    await writeLegacyFile(at('weights-only.h5'), flatLayers(specs, values));
    const f = await readKerasModel(at('weights-only.h5'));
    expect(f.config.classes).to.equal(8);
    expect(f.config.classNames).to.have.length(8).and.include('contempt');
    expect(f.config.attention).to.equal('batch');
    expect(f.warnings[0]).to.contain('does not say how the attention is wired');
    expect(f.warnings).to.include(BATCH_ATTENTION_WARNING);
    expectSame(f.weights, values);
  });

  it('Keras 3 .weights.h5 and .keras archives', async () => {
    await writeKeras3File(at('model.weights.h5'), pattLiteKeras3Layers(specs7, values7));
    const w = await readModelFile(at('model.weights.h5'));
    expect(w.format).to.equal('keras3-weights');
    expect(w.config.classes).to.equal(7);
    expectSame(w.weights, values7);
    const zip = makeZip([
      { name: 'metadata.json', data: Buffer.from(JSON.stringify({ keras_version: '3.3.3' })) },
      { name: 'config.json', data: Buffer.from(pattLiteModelConfig(specs7, 7)) },
      { name: 'model.weights.h5', data: readFileSync(at('model.weights.h5')), deflate: true },
    ]);
    writeFileSync(at('model.keras'), zip);
    const k = await readModelFile(at('model.keras'));
    expect(k.format).to.equal('keras3-archive');
    expect(k.kerasVersion).to.equal('3.3.3');
    expect(k.config).to.deep.include({ classes: 7, attention: 'batch' });
    expectSame(k.weights, values7);
  });

  it('checkpoint: save and load keep weights, architecture and class names', async () => {
    const m = new PattLite(e, { classes: 4, classNames: ['w', 'x', 'y', 'z'], attention: 'batch', inputSize: 112 }, 8);
    await saveModel(m, at('m.safetensors'), { training: { epoch: 3 } });
    const warnings: string[] = [];
    const { model, file } = await loadModel(e, at('m.safetensors'), { warn: (w) => warnings.push(w) });
    expect(file.format).to.equal('checkpoint');
    expect(file.config).to.deep.include({ classes: 4, attention: 'batch', inputSize: 112, classNames: ['w', 'x', 'y', 'z'] });
    expect(warnings).to.deep.equal([BATCH_ATTENTION_WARNING]);
    expect(model.featureShape).to.deep.equal(m.featureShape);
    expectSame(await modelWeights(model), await modelWeights(m));
    model.dispose();
    m.dispose();
  });

  it('checkpoint errors list expected against found; extra tensors (optimizer slots) are reported', async () => {
    const specs = pattLiteSpecs({ classes: 4 });
    const values = seededWeights(specs, 13);
    values.delete('conv1/kernel');
    const tensors = new Map([...values].map(([k, v]) => [k, { shape: [...specs.find((s) => specKey(s) === k)!.shape], data: v }]));
    tensors.set('pre_dense/bias', { shape: [16], data: new Float32Array(16) });
    tensors.set('adam_m/pre_dense/bias', { shape: [32], data: new Float32Array(32) });
    saveCheckpoint(at('bad.safetensors'), { tensors, architecture: { model: 'patt-lite', classes: 4 } });
    const err = await rejects(readModelFile(at('bad.safetensors')));
    expect(err.message).to.contain('conv1/kernel: expected (3, 3, 3, 32), not in the file');
    expect(err.message).to.contain('pre_dense/bias: expected (32,), found (16,)');
    expect(err.message).to.contain('adam_m/pre_dense/bias');

    const good = seededWeights(specs, 13);
    writeCheckpointModel(at('good.safetensors'), { config: { classes: 4, classNames: ['a', 'b', 'c', 'd'] }, weights: good });
    const f = await readModelFile(at('good.safetensors'));
    expect(f.extra).to.deep.equal([]);
    expect(f.config.attention).to.equal('patch');
    const withSlots = new Map([...good].map(([k, v]) => [k, { shape: [...specs.find((s) => specKey(s) === k)!.shape], data: v }]));
    withSlots.set('adam_m/conv1/kernel', { shape: [3, 3, 3, 32], data: new Float32Array(864) });
    saveCheckpoint(at('slots.safetensors'), { tensors: withSlots, architecture: { model: 'patt-lite', classes: 4 } });
    const g = await readModelFile(at('slots.safetensors'));
    expect(g.extra).to.deep.equal(['adam_m/conv1/kernel']);
    expectSame(g.weights, good);
  });

  it('MobileNet no-top file: loads into the backbone only; as a classifier it is refused', async () => {
    const specs = mobileNetSpecs({ alpha: 1.0 });
    const values = seededWeights(specs, 14);
    await writeLegacyFile(at('mobilenet_1_0_224_tf_no_top.h5'), flatLayers(specs, values));
    const m = new PattLite(e, { classes: 7, inputSize: 96 }, 1);
    const headBefore = await m.head.kernel.readF32();
    const r = await loadImagenetBackbone(m, at('mobilenet_1_0_224_tf_no_top.h5'));
    expect(r.loaded).to.include('conv1/kernel').and.include('conv_dw_9_bn/moving_variance').and.not.include('conv_pw_9/kernel');
    expect(r.unused).to.include('conv_pw_9/kernel').and.include('conv_pw_13_bn/gamma');
    const got = await modelWeights(m);
    for (const key of r.loaded) expect(got.get(key), key).to.deep.equal(values.get(key));
    expect(await m.head.kernel.readF32()).to.deep.equal(headBefore);
    m.dispose();
    const err = await rejects(readModelFile(at('mobilenet_1_0_224_tf_no_top.h5')));
    expect(err.message).to.contain('MobileNet weights file').and.contain('not a PAtt-Lite model');
    // alpha 0.25 into the alpha-1 backbone: the file's shapes are named against the expected ones.
    const small = mobileNetSpecs({ alpha: 0.25 });
    await writeLegacyFile(at('mobilenet_2_5.h5'), flatLayers(small, seededWeights(small, 15)));
    const m2 = new PattLite(e, { classes: 7, inputSize: 96 }, 1);
    const err2 = await rejects(loadImagenetBackbone(m2, at('mobilenet_2_5.h5')));
    expect(err2.message).to.contain('conv1/kernel: expected (3, 3, 3, 32), found (3, 3, 3, 8)');
    m2.dispose();
  });

  it('missing and foreign files name the file', async () => {
    expect((await rejects(readModelFile(at('nope.h5')))).message).to.equal(`${at('nope.h5')}: no such file`);
    writeFileSync(at('text.txt'), 'hello');
    expect((await rejects(readModelFile(at('text.txt')))).message).to.contain(`${at('text.txt')}: not a PAtt-Lite checkpoint`);
  });
});
