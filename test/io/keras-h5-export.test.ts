import { expect } from 'chai';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeKerasH5 } from '../../src/io/keras-h5-export.js';
import { importKerasWeights } from '../../src/io/keras-h5.js';
import { mobileNetSpecs, pattLiteSpecs } from '../../src/io/weight-specs.js';
import { h5, seededWeights } from '../helpers/keras-fixtures.js';

let dir: string;
const at = (name: string) => join(dir, name);

describe('keras-h5-export: legacy HDF5 weights', () => {
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'keras-export-test-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('MobileNet alpha 0.25 with top: write, read back, identical; Keras layout', async () => {
    const specs = mobileNetSpecs({ alpha: 0.25, includeTop: true, classes: 3 });
    const values = seededWeights(specs, 21);
    await writeKerasH5(at('mn.h5'), specs, values);
    const r = await importKerasWeights(at('mn.h5'), specs);
    expect(r.extra).to.deep.equal([]);
    for (const [k, v] of values) expect(r.weights.get(k), k).to.deep.equal(v);

    const h = await h5();
    const f = new h.File(at('mn.h5'), 'r');
    const names = f.attrs.layer_names.value as string[];
    expect(names.slice(0, 3)).to.deep.equal(['conv1', 'conv1_bn', 'conv_dw_1']);
    expect(f.attrs.keras_version.value).to.equal('2.15.0');
    expect(f.attrs.backend.value).to.equal('tensorflow');
    const bn = f.get('conv1_bn') as InstanceType<typeof h.Group>;
    expect(bn.attrs.weight_names.value).to.deep.equal([
      'conv1_bn/gamma:0', 'conv1_bn/beta:0', 'conv1_bn/moving_mean:0', 'conv1_bn/moving_variance:0',
    ]);
    const ds = f.get('conv_preds/conv_preds/kernel:0') as InstanceType<typeof h.Dataset>;
    expect(ds.shape).to.deep.equal([1, 1, 256, 3]);
    expect(ds.dtype).to.equal('<f');
    f.close();
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).to.deep.equal([]);
  });

  it('PAtt-Lite: nested groups with inner Keras names; round trip identical', async () => {
    const specs = pattLiteSpecs({ classes: 7 });
    const values = seededWeights(specs, 22);
    await writeKerasH5(at('pl.h5'), specs, values);
    const r = await importKerasWeights(at('pl.h5'), specs);
    for (const [k, v] of values) expect(r.weights.get(k), k).to.deep.equal(v);

    const h = await h5();
    const f = new h.File(at('pl.h5'), 'r');
    expect(f.attrs.layer_names.value).to.deep.equal([
      'base_model', 'patch_extraction', 'pre_classification', 'attention', 'classification_head',
    ]);
    const patch = f.get('patch_extraction') as InstanceType<typeof h.Group>;
    expect((patch.attrs.weight_names.value as string[]).slice(0, 3)).to.deep.equal([
      'separable_conv2d/depthwise_kernel:0', 'separable_conv2d/pointwise_kernel:0', 'separable_conv2d/bias:0',
    ]);
    const scale = f.get('attention/attention/scale:0') as InstanceType<typeof h.Dataset>;
    expect(scale.shape).to.deep.equal([]);
    f.close();
  });

  it('refuses to export a missing or misshaped weight', async () => {
    const specs = mobileNetSpecs({ alpha: 0.25 });
    const values = seededWeights(specs, 23);
    values.delete('conv_dw_2/depthwise_kernel');
    const failure = (): Promise<string> =>
      writeKerasH5(at('x.h5'), specs, values).then(() => 'no error', (e: Error) => e.message);
    expect(await failure()).to.match(/x\.h5: cannot export, weight conv_dw_2\/depthwise_kernel is missing/);
    values.set('conv_dw_2/depthwise_kernel', new Float32Array(5));
    expect(await failure()).to.match(/5 values for shape \(3, 3, 16, 1\)/);
  });
});
