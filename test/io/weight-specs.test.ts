import { expect } from 'chai';
import {
  mobileNetSpecs,
  paramCount,
  pattLiteSpecs,
  scaleFilters,
  specKey,
  PATT_LITE_LAYERS,
} from '../../src/io/weight-specs.js';

describe('weight-specs', () => {
  it('MobileNet alpha 1.0 matches the Keras parameter counts (no top / top)', () => {
    // Keras model.summary(): 3,228,864 (include_top=False), 4,253,864 (include_top=True).
    expect(paramCount(mobileNetSpecs({ alpha: 1.0 }))).to.equal(3_228_864);
    expect(paramCount(mobileNetSpecs({ alpha: 1.0, includeTop: true }))).to.equal(4_253_864);
  });

  it('MobileNet layer order and names follow keras/applications/mobilenet.py', () => {
    const s = mobileNetSpecs({ alpha: 1.0 });
    expect(s.slice(0, 6).map(specKey)).to.deep.equal([
      'conv1/kernel', 'conv1_bn/gamma', 'conv1_bn/beta', 'conv1_bn/moving_mean',
      'conv1_bn/moving_variance', 'conv_dw_1/depthwise_kernel',
    ]);
    expect(s.length).to.equal(5 + 13 * 10);
    expect(s[s.length - 1]).to.include({ layer: 'conv_pw_13_bn', weight: 'moving_variance' });
    expect(s.find((x) => x.layer === 'conv_dw_13')!.shape).to.deep.equal([3, 3, 1024, 1]);
  });

  it('alpha scales every filter count with int(filters * alpha)', () => {
    expect([0.25, 0.5, 0.75, 1.0].map((a) => scaleFilters(32, a))).to.deep.equal([8, 16, 24, 32]);
    const s = mobileNetSpecs({ alpha: 0.75, includeTop: true, classes: 10 });
    const key = (k: string) => s.find((x) => specKey(x) === k)!.shape;
    expect(key('conv1/kernel')).to.deep.equal([3, 3, 3, 24]);
    expect(key('conv_pw_1/kernel')).to.deep.equal([1, 1, 24, 48]);
    expect(key('conv_pw_13/kernel')).to.deep.equal([1, 1, 768, 768]);
    expect(key('conv_preds/kernel')).to.deep.equal([1, 1, 768, 10]);
    expect(key('conv_preds/bias')).to.deep.equal([10]);
  });

  it('rejects an unknown alpha and a bad class count', () => {
    expect(() => mobileNetSpecs({ alpha: 0.6 as 0.5 })).to.throw(/alpha/);
    expect(() => pattLiteSpecs({ classes: 0 })).to.throw(/classes/);
  });

  it('PAtt-Lite: truncated backbone, patch extraction, head; about 1.1 M parameters', () => {
    const s = pattLiteSpecs({ classes: 7 });
    const layers = [...new Set(s.map((x) => x.layer))];
    expect(layers.slice(0, 2)).to.deep.equal(['conv1', 'conv1_bn']);
    expect(layers).to.include('conv_pw_8_bn');
    expect(layers).to.include('conv_dw_9_bn');
    expect(layers).to.not.include('conv_pw_9');
    expect(layers.slice(-7)).to.deep.equal(Object.values(PATT_LITE_LAYERS));
    const sh = (k: string) => s.find((x) => specKey(x) === k)!.shape;
    expect(sh('patch_sepconv_1/depthwise_kernel')).to.deep.equal([4, 4, 512, 1]);
    expect(sh('patch_sepconv_1/pointwise_kernel')).to.deep.equal([1, 1, 512, 256]);
    expect(sh('patch_sepconv_2/depthwise_kernel')).to.deep.equal([2, 2, 256, 1]);
    expect(sh('patch_conv/kernel')).to.deep.equal([1, 1, 256, 256]);
    expect(sh('pre_dense/kernel')).to.deep.equal([256, 32]);
    expect(sh('attention/scale')).to.deep.equal([]);
    expect(sh('classification_head/kernel')).to.deep.equal([32, 7]);
    expect(new Set(s.map((x) => x.group))).to.deep.equal(
      new Set(['base_model', 'patch_extraction', 'pre_classification', 'attention', 'classification_head']),
    );
    const n = paramCount(s);
    expect(n).to.be.within(1.0e6, 1.2e6);
  });
});
