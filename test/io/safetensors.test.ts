import { expect } from 'chai';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCheckpoint, matchCheckpoint, saveCheckpoint } from '../../src/io/checkpoint.js';
import {
  decodeSafetensors,
  encodeSafetensors,
  f32Tensor,
  readSafetensors,
  toFloat32,
  writeSafetensors,
  type SafeTensor,
} from '../../src/io/safetensors.js';
import { mobileNetSpecs } from '../../src/io/weight-specs.js';
import { uniform } from '../helpers/random.js';
import { seededWeights } from '../helpers/keras-fixtures.js';

let dir: string;
const at = (name: string) => join(dir, name);

/** A file from a hand-written header and data bytes. */
function raw(header: unknown, data = new Uint8Array(0), len?: number): Buffer {
  const json = Buffer.from(typeof header === 'string' ? header : JSON.stringify(header));
  const head = Buffer.alloc(8);
  head.writeBigUInt64LE(BigInt(len ?? json.length));
  return Buffer.concat([head, json, data]);
}

describe('safetensors', () => {
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'safetensors-test-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('round trip: F32, F16, I32 and metadata; header padded to 8 bytes', () => {
    const tensors = new Map<string, SafeTensor>([
      ['conv1/kernel', f32Tensor(uniform(1, 3 * 3 * 3 * 8), [3, 3, 3, 8])],
      ['half', { dtype: 'F16', shape: [2], bytes: new Uint8Array(new Uint16Array([0x3c00, 0xc000]).buffer) }],
      ['step', { dtype: 'I32', shape: [], bytes: new Uint8Array(new Int32Array([42]).buffer) }],
    ]);
    writeSafetensors(at('a.safetensors'), tensors, { note: 'hello' });
    const buf = readFileSync(at('a.safetensors'));
    expect(Number(buf.readBigUInt64LE(0)) % 8).to.equal(0);
    const back = readSafetensors(at('a.safetensors'));
    expect(back.metadata).to.deep.equal({ note: 'hello' });
    expect(toFloat32(back.tensors.get('conv1/kernel')!)).to.deep.equal(uniform(1, 216));
    expect(back.tensors.get('conv1/kernel')!.shape).to.deep.equal([3, 3, 3, 8]);
    expect(Array.from(toFloat32(back.tensors.get('half')!))).to.deep.equal([1, -2]);
    expect(Array.from(toFloat32(back.tensors.get('step')!))).to.deep.equal([42]);
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).to.deep.equal([]);
  });

  const f4 = new Uint8Array(8);
  const cases: [string, Buffer, RegExp][] = [
    ['too short', Buffer.alloc(5), /too short/],
    ['header length over the limit', raw('{}', undefined, 200_000_000), /exceeds the 100000000-byte limit/],
    ['header past the end (truncated)', raw('{}', undefined, 1000), /runs past the end of the file/],
    ['invalid JSON', raw('{"a": '), /not valid JSON/],
    ['not an object', raw('[1,2]'), /not a JSON object/],
    ['unknown dtype', raw({ a: { dtype: 'F7', shape: [2], data_offsets: [0, 8] } }, f4), /unknown dtype "F7"/],
    ['negative shape', raw({ a: { dtype: 'F32', shape: [-2], data_offsets: [0, 8] } }, f4), /shape \[-2\]/],
    ['size mismatch', raw({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, f4), /needs 12 bytes but data_offsets span 8/],
    ['offsets past the end', raw({ a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, f4), /past the end of the data/],
    ['reversed offsets', raw({ a: { dtype: 'F32', shape: [0], data_offsets: [8, 0] } }, f4), /begin <= end/],
    ['overlap', raw({
      a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
      b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] },
    }, f4), /overlap/],
    ['gap', raw({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, f4), /gap of 4 bytes before tensor a/],
    ['trailing bytes', raw({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, f4), /4 trailing bytes/],
    ['metadata not strings', raw({ __metadata__: { epoch: 3 } }), /__metadata__.epoch is not a string/],
  ];
  for (const [name, buf, re] of cases) {
    it(`rejects a corrupted header: ${name}`, () => {
      writeFileSync(at('bad.safetensors'), buf);
      expect(() => readSafetensors(at('bad.safetensors'))).to.throw(
        new RegExp(`bad\\.safetensors: invalid safetensors file: .*${re.source}`),
      );
    });
  }

  it('accepts an unaligned, unpadded header (copies the data)', () => {
    const data = new Uint8Array(new Float32Array([1.5, -2]).buffer);
    const t = decodeSafetensors(raw({ x: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, data));
    expect(Array.from(toFloat32(t.tensors.get('x')!))).to.deep.equal([1.5, -2]);
    expect(encodeSafetensors(new Map()).length).to.equal(16);
  });

  it('checkpoint: weights + architecture, class names, training state', () => {
    const specs = mobileNetSpecs({ alpha: 0.25 });
    const values = seededWeights(specs, 31);
    const tensors = new Map(specs.map((s) => [`${s.layer}/${s.weight}`, { shape: [...s.shape], data: values.get(`${s.layer}/${s.weight}`)! }]));
    const training = { epoch: 12, step: 3000, lr: 1e-5, phase: 'fine-tune', best: { val_accuracy: 0.71 } };
    saveCheckpoint(at('ck.safetensors'), {
      tensors,
      architecture: { model: 'patt-lite', classes: 7, attention: 'patch' },
      classNames: ['anger', 'disgust', 'fear', 'happiness', 'neutral', 'sadness', 'surprise'],
      training,
      extra: { note: 'x' },
    });
    const ck = loadCheckpoint(at('ck.safetensors'));
    expect(ck.architecture).to.deep.equal({ model: 'patt-lite', classes: 7, attention: 'patch' });
    expect(ck.classNames).to.have.length(7);
    expect(ck.training).to.deep.equal(training);
    expect(ck.extra).to.deep.equal({ note: 'x' });
    const m = matchCheckpoint(specs, ck, at('ck.safetensors'));
    for (const [k, v] of values) expect(m.weights.get(k), k).to.deep.equal(v);
    ck.tensors.delete('conv1/kernel');
    expect(() => matchCheckpoint(specs, ck, 'ck')).to.throw(/ck: .*conv1\/kernel: expected \(3, 3, 3, 8\), not in the file/s);
  });
});
