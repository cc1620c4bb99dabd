import { expect } from 'chai';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  FACE_API_MANIFEST, faceApiModelDir, faceApiPaddingMatches, loadFaceApiBackbone, loadFaceApiMobileNet, readTfjsWeights,
  type TfjsWeightGroup,
} from '../../src/io/faceapi-mobilenet.js';
import { mobileNetSpecs, pattLiteSpecs, specKey, PATT_LITE_GROUPS } from '../../src/io/weight-specs.js';
import { Engine } from '../../src/graph/engine.js';
import { PattLite } from '../../src/model/patt-lite.js';
import { generateFace } from '../../src/data/synthetic-faces.js';
import type { CallContext } from '../../src/layers/layer.js';
import { testGpu } from '../helpers/gpu.js';
import { expectClose, maxAbs, relError } from '../helpers/assert.js';
import { tfjs } from '../helpers/tf.js';
import { faceApiMobileNetTf } from '../reference/faceapi-mobilenet-tf.js';

const INFER: CallContext = { training: false, seed: 0, step: 0 };

/** The manifest and .bin as files, read here without the loader. */
async function rawFiles() {
  const dir = faceApiModelDir();
  const groups = JSON.parse(await readFile(join(dir, FACE_API_MANIFEST), 'utf8')) as TfjsWeightGroup[];
  expect(groups).to.have.length(1);
  const bin = new Uint8Array(await readFile(join(dir, groups[0].paths[0])));
  return { weights: groups[0].weights, bin };
}

describe('face-api MobileNetV1 import', () => {
  it('produces exactly the Keras MobileNet weights, names, order and shapes (full network)', async () => {
    const m = await loadFaceApiMobileNet();
    const specs = mobileNetSpecs({ alpha: 1.0 });
    expect([...m.keys()]).to.deep.equal(specs.map(specKey));
    for (const s of specs) {
      const w = m.get(specKey(s))!;
      expect(w.shape, specKey(s)).to.deep.equal([...s.shape]);
      expect(w.data.length, specKey(s)).to.equal(s.shape.reduce((a, b) => a * b, 1));
    }
  });

  it('produces exactly the PAtt-Lite backbone weights with lastBlock 9, depthwiseOnlyLast', async () => {
    const m = await loadFaceApiMobileNet({ lastBlock: 9, depthwiseOnlyLast: true });
    const specs = pattLiteSpecs({ classes: 7 }).filter((s) => s.group === PATT_LITE_GROUPS.backbone);
    expect([...m.keys()]).to.deep.equal(specs.map(specKey));
    for (const s of specs) expect(m.get(specKey(s))!.shape, specKey(s)).to.deep.equal([...s.shape]);
    expect(m.has('conv_pw_9/kernel')).to.equal(false);
  });

  it('dequantizes q * scale + min at the right byte offsets, as TF.js decodes the file', async () => {
    const { weights, bin } = await rawFiles();
    const stored: Record<string, number> = { uint8: 1, uint16: 2, float16: 2, float32: 4, int32: 4 };
    const where = new Map<string, { offset: number; scale: number; min: number }>();
    let offset = 0;
    for (const w of weights) {
      const q = w.quantization;
      // The file ends with one unquantized float32 tensor (Output/extra_dim) and holds int32
      // constants quantized to uint8: both count in the offsets.
      if (q) where.set(w.name, { offset, scale: q.scale!, min: q.min! });
      offset += w.shape.reduce((a, b) => a * b, 1) * stored[q ? q.dtype : w.dtype];
    }
    expect(weights.some((w) => !w.quantization)).to.equal(true);
    expect(offset).to.equal(bin.length);
    const m = await loadFaceApiMobileNet();
    const at = (tfName: string, i: number) => {
      const p = where.get(tfName)!;
      return Math.fround(bin[p.offset + i] * p.scale + p.min);
    };
    const cases: [string, string, number][] = [
      ['conv1/kernel', 'MobilenetV1/Conv2d_0_pointwise/weights', 0],
      ['conv1/kernel', 'MobilenetV1/Conv2d_0_pointwise/weights', 863],
      ['conv1_bn/beta', 'MobilenetV1/Conv2d_0_pointwise/convolution_bn_offset', 17],
      ['conv_dw_1/depthwise_kernel', 'MobilenetV1/Conv2d_1_depthwise/depthwise_weights', 100],
      ['conv_dw_5_bn/gamma', 'MobilenetV1/Conv2d_5_depthwise/BatchNorm/gamma', 3],
      ['conv_dw_9_bn/moving_variance', 'MobilenetV1/Conv2d_9_depthwise/BatchNorm/moving_variance', 511],
      ['conv_pw_13/kernel', 'MobilenetV1/Conv2d_13_pointwise/weights', 1024 * 1024 - 1],
      ['conv_pw_13_bn/beta', 'MobilenetV1/Conv2d_13_pointwise/convolution_bn_offset', 1023],
    ];
    for (const [ours, tfName, i] of cases) expect(m.get(ours)!.data[i], `${ours}[${i}]`).to.equal(at(tfName, i));
    // Folded BatchNorms are the identity plus the offset.
    expect(Array.from(m.get('conv_pw_3_bn/gamma')!.data).every((v) => v === 1)).to.equal(true);
    expect(Array.from(m.get('conv_pw_3_bn/moving_mean')!.data).every((v) => v === 0)).to.equal(true);
    expect(Math.fround(m.get('conv_pw_3_bn/moving_variance')!.data[0] + Math.fround(1e-3))).to.equal(1);
    // Every MobilenetV1 tensor equals TF.js' own decoding of the whole file.
    const tf = await tfjs();
    const decoded = tf.io.decodeWeights(bin.slice().buffer, weights as Parameters<typeof tf.io.decodeWeights>[1]);
    const raw = await readTfjsWeights(join(faceApiModelDir(), FACE_API_MANIFEST), (n) => n.startsWith('MobilenetV1/'));
    expect(raw.size).to.equal(2 + 13 * 7);
    for (const [name, w] of raw) {
      const ref = decoded[name].dataSync();
      expect(w.shape, name).to.deep.equal(decoded[name].shape);
      let bad = -1;
      for (let i = 0; i < ref.length && bad < 0; i++) if (w.data[i] !== ref[i]) bad = i;
      expect(bad, `${name}: first differing element`).to.equal(-1);
    }
    tf.dispose(Object.values(decoded));
  });

  it('names the file when the manifest or the bin is missing or inconsistent', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'faceapi-'));
    try {
      await expectReject(loadFaceApiMobileNet({ modelDir: dir }), join(dir, FACE_API_MANIFEST));
      const manifest = join(dir, FACE_API_MANIFEST);
      await writeFile(manifest, '{not json');
      await expectReject(loadFaceApiMobileNet({ modelDir: dir }), 'not valid JSON');
      const group = { paths: ['w.bin'], weights: [{ name: 'a', shape: [2, 3], dtype: 'float32', quantization: { dtype: 'uint8', scale: 0.5, min: -1 } }] };
      await writeFile(manifest, JSON.stringify([group]));
      await expectReject(readTfjsWeights(manifest), join(dir, 'w.bin'));
      await writeFile(join(dir, 'w.bin'), new Uint8Array(5));
      await expectReject(readTfjsWeights(manifest), '5 bytes, but');
      await writeFile(join(dir, 'w.bin'), new Uint8Array([0, 1, 2, 3, 4, 255]));
      expect(Array.from((await readTfjsWeights(manifest)).get('a')!.data)).to.deep.equal([-1, -0.5, 0, 0.5, 1, 126.5]);
      await expectReject(loadFaceApiMobileNet({ modelDir: dir }), 'has no weight MobilenetV1/Conv2d_0_pointwise/weights');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('knows for which input sizes TF SAME and Keras stride-2 padding agree', () => {
    expect(faceApiPaddingMatches(224, 224, 13)).to.equal(true);
    expect(faceApiPaddingMatches(96, 96, 9)).to.equal(true);
    expect(faceApiPaddingMatches(95, 95, 9)).to.equal(true); // conv1 'same' is the same in both
    expect(faceApiPaddingMatches(80, 80, 9)).to.equal(true);
    expect(faceApiPaddingMatches(80, 80, 13)).to.equal(false); // 5x5 reaches block 12
    expect(faceApiPaddingMatches(100, 96, 9)).to.equal(false);
    expect(faceApiPaddingMatches(48, 48, 9)).to.equal(true);
    expect(faceApiPaddingMatches(40, 40, 9)).to.equal(false);
  });

  describe('on the GPU', () => {
    let e: Engine;
    before(async () => {
      e = await Engine.create((await testGpu()).device);
    });

    it('PAtt-Lite backbone with face-api weights matches face-api\'s forward in TF.js on synthetic faces', async () => {
      const tf = await tfjs();
      const size = 96;
      const m = new PattLite(e, { classes: 7, inputSize: size });
      const warnings: string[] = [];
      const written = await loadFaceApiBackbone(m, { onWarning: (w) => warnings.push(w) });
      expect(written).to.equal(pattLiteSpecs({ classes: 7 }).filter((s) => s.group === PATT_LITE_GROUPS.backbone).length);
      expect(warnings).to.deep.equal([]);
      const faces = [generateFace(3, 11, { size, classes: 7 }), generateFace(0, 42, { size, classes: 7 })];
      const x0 = new Float32Array(faces.length * size * size * 3);
      faces.forEach((f, i) => { for (let j = 0; j < f.data.length; j++) x0[i * f.data.length + j] = f.data[j] / 127.5 - 1; });
      const x = e.keep(e.tensor(x0, [faces.length, size, size, 3]));
      const feats = e.scope(() => m.features(x, INFER));
      expect(feats.shape).to.deep.equal([2, 6, 6, 512]);
      const got = await feats.readF32();
      feats.dispose();
      x.dispose();
      m.dispose();

      const { weights, bin } = await rawFiles();
      const decoded = tf.io.decodeWeights(bin.slice().buffer, weights as Parameters<typeof tf.io.decodeWeights>[1]);
      const want = tf.tidy(() => faceApiMobileNetTf(tf, (n) => {
        const t = decoded[n];
        if (!t) throw new Error(`reference wants ${n}`);
        return t;
      }, tf.tensor4d(x0, [faces.length, size, size, 3]), { lastBlock: 9, depthwiseOnlyLast: true }));
      const wantData = want.dataSync();
      want.dispose();
      tf.dispose(Object.values(decoded));
      expectClose(got, wantData, 1e-4, 'conv_dw_9_relu features');

      // Informative: not zero, not saturated, different for two faces.
      const n = got.length / 2;
      const a = got.subarray(0, n);
      const b = got.subarray(n);
      const active = got.filter((v) => v > 0).length / got.length;
      const saturated = got.filter((v) => v >= 6).length / got.length;
      expect(maxAbs(a)).to.be.greaterThan(0.5);
      expect(maxAbs(b)).to.be.greaterThan(0.5);
      expect(active).to.be.within(0.02, 0.98);
      expect(saturated).to.be.lessThan(0.5);
      expect(relError(a, b)).to.be.greaterThan(0.05);
    });

    it('warns when the input size makes TF SAME and Keras padding differ', async () => {
      const m = new PattLite(e, { classes: 7, inputSize: 88 }); // 44 -> 22 -> 11: odd at block 6
      const warnings: string[] = [];
      await loadFaceApiBackbone(m, { onWarning: (w) => warnings.push(w) });
      m.dispose();
      expect(warnings).to.have.length(1);
      expect(warnings[0]).to.contain('88x88').and.contain('multiple of 8');
    });
  });
});

async function expectReject(p: Promise<unknown>, text: string): Promise<void> {
  let err: unknown;
  try {
    await p;
  } catch (e) {
    err = e;
  }
  expect(err, `expected a rejection mentioning ${text}`).to.be.instanceOf(Error);
  expect((err as Error).message).to.contain(text);
}
