// Fuzz: safetensors (src/io/safetensors.ts) and checkpoints (src/io/checkpoint.ts). Mutants are
// byte-level (length prefix, JSON text, tensor bytes) or JSON-level (one header node replaced by
// a hostile value: huge shapes and offsets, wrong types, deep nesting) with a correct length
// prefix, so they reach the header checks.

import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCheckpoint, saveCheckpoint, type Checkpoint } from '../../src/io/checkpoint.js';
import {
  decodeSafetensors, DTYPE_BYTES, encodeSafetensors, f32Tensor, toFloat32, type SafetensorsContent, type SafeTensor,
} from '../../src/io/safetensors.js';
import { uniform } from '../helpers/random.js';
import { expectResult, FUZZ_CASES, fuzzAndReport } from './harness.js';
import { choose, mutate, mutateJson, type Rng } from './mutate.js';

function checkContent(c: SafetensorsContent, fileBytes: number): void {
  let total = 0;
  for (const [name, t] of c.tensors) {
    expectResult(t.dtype in DTYPE_BYTES, `${name}: dtype ${t.dtype}`);
    const n = t.shape.reduce((a, b) => a * b, 1);
    expectResult(t.shape.every((d) => Number.isSafeInteger(d) && d >= 0), `${name}: shape ${t.shape}`);
    expectResult(t.bytes.byteLength === n * DTYPE_BYTES[t.dtype], `${name}: ${t.bytes.byteLength} bytes for [${t.shape}]`);
    total += t.bytes.byteLength;
    expectResult(toFloat32(t).length === n, `${name}: toFloat32 length`);
  }
  expectResult(total <= fileBytes, `tensors hold ${total} bytes of a ${fileBytes}-byte file`);
  for (const [k, v] of Object.entries(c.metadata)) expectResult(typeof v === 'string', `metadata ${k}`);
}

function u8(...v: number[]): Uint8Array {
  return Uint8Array.from(v);
}

function seedTensors(): Map<string, SafeTensor> {
  return new Map<string, SafeTensor>([
    ['conv1/kernel', f32Tensor(uniform(1, 2 * 2 * 3), [2, 2, 3])],
    ['half', { dtype: 'F16', shape: [2], bytes: new Uint8Array(new Uint16Array([0x3c00, 0xc000]).buffer) }],
    ['step', { dtype: 'I64', shape: [], bytes: new Uint8Array(new BigInt64Array([42n]).buffer) }],
    ['mask', { dtype: 'BOOL', shape: [3], bytes: u8(1, 0, 1) }],
    ['empty', { dtype: 'BF16', shape: [0, 4], bytes: new Uint8Array(0) }],
  ]);
}

/** A file from a header object and data bytes, with the length prefix right. */
function withHeader(text: string, data: Uint8Array): Uint8Array {
  const head = Buffer.from(text, 'utf8');
  const out = Buffer.alloc(8 + head.length + data.length);
  out.writeBigUInt64LE(BigInt(head.length), 0);
  head.copy(out, 8);
  out.set(data, 8 + head.length);
  return out;
}

function split(file: Uint8Array): { header: unknown; data: Uint8Array } {
  const n = Number(Buffer.from(file).readBigUInt64LE(0));
  return { header: JSON.parse(Buffer.from(file.subarray(8, 8 + n)).toString('utf8')), data: file.subarray(8 + n) };
}

describe('fuzz: safetensors', function () {
  this.timeout(0);
  let dir: string;
  let seeds: Uint8Array[];
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'fuzz-safetensors-'));
    const ckpt: Checkpoint = {
      tensors: new Map([['dense/kernel', { shape: [3, 2], data: uniform(2, 6) }]]),
      architecture: { name: 'patt-lite', classes: 7 },
      classNames: ['a', 'b'],
      training: { epoch: 3 },
      extra: { note: 'x' },
    };
    saveCheckpoint(join(dir, 'seed.safetensors'), ckpt);
    seeds = [
      Uint8Array.from(encodeSafetensors(seedTensors(), { format: 'pt' })),
      Uint8Array.from(readFileSync(join(dir, 'seed.safetensors'))),
      Uint8Array.from(encodeSafetensors(new Map())),
    ];
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  function mutant(r: Rng): { bytes: Uint8Array; ops: string[] } {
    const seed = choose(r, seeds);
    if (r() < 0.5) return mutate(seed, r, { fields: [0, 4], donors: seeds, text: true });
    const { header, data } = split(seed);
    const m = mutateJson(header, r);
    const more = r() < 0.3 ? mutateJson(JSON.parse(m.text.length < 1e5 ? m.text : '{}'), r) : undefined;
    return { bytes: withHeader(more?.text ?? m.text, data), ops: more ? [m.op, more.op] : [m.op] };
  }

  it(`decodeSafetensors: ${3 * FUZZ_CASES} mutants of 3 seed files`, async () => {
    await fuzzAndReport<SafetensorsContent>('safetensors', 3 * FUZZ_CASES, (r) => {
      const { bytes, ops } = mutant(r);
      return {
        file: 'fuzz.safetensors',
        ops,
        run: () => decodeSafetensors(bytes, 'fuzz.safetensors'),
        check: (c) => checkContent(c, bytes.length),
      };
    });
  });

  it(`loadCheckpoint: ${FUZZ_CASES} mutants read from disk`, async () => {
    const path = join(dir, 'fuzz.safetensors');
    await fuzzAndReport<Checkpoint>('checkpoint', FUZZ_CASES, (r) => {
      const { bytes, ops } = mutant(r);
      writeFileSync(path, bytes);
      return {
        file: path,
        ops,
        run: () => loadCheckpoint(path),
        check: (c) => {
          for (const [k, t] of c.tensors) expectResult(t.data.length === t.shape.reduce((a, b) => a * b, 1), k);
          expectResult(c.classNames === undefined || c.classNames.every((s) => typeof s === 'string'), 'classNames');
        },
      };
    });
  });

  it('hostile headers are refused before anything is allocated', () => {
    const huge: [string, Uint8Array, RegExp][] = [
      ['length 2^64-1', Buffer.from([255, 255, 255, 255, 255, 255, 255, 255, 123, 125]), /exceeds the 100000000-byte limit/],
      ['length 2^53+1', withHeader('{}', new Uint8Array(0)).map((b, i) => (i === 6 ? 0x20 : i === 0 ? 1 : b)), /exceeds/],
      ['2^31 x 2^31 F32', withHeader(JSON.stringify({ t: { dtype: 'F32', shape: [2 ** 31, 2 ** 31], data_offsets: [0, 2 ** 52] } }), new Uint8Array(8)), /past the end of the data/],
      ['giant end offset', withHeader(JSON.stringify({ t: { dtype: 'U8', shape: [8], data_offsets: [0, 2 ** 62] } }), new Uint8Array(8)), /is not \[begin, end\]|past the end/],
      ['shape product overflows to the span', withHeader(JSON.stringify({ t: { dtype: 'U8', shape: [2 ** 32, 2 ** 32, 0], data_offsets: [0, 0] } }), new Uint8Array(0)), /./],
    ];
    for (const [name, bytes, re] of huge) {
      const before = process.memoryUsage().arrayBuffers;
      let message = '';
      try {
        const c = decodeSafetensors(bytes, 'hostile.safetensors');
        checkContent(c, bytes.length);
      } catch (e) {
        message = (e as Error).message;
      }
      if (name.startsWith('shape product')) expect(message, name).to.equal(''); // 0 elements: valid
      else expect(message, name).to.match(/^hostile\.safetensors: invalid safetensors file: /).and.match(re);
      expect(process.memoryUsage().arrayBuffers - before, name).to.be.below(1 << 20);
    }
  });
});
