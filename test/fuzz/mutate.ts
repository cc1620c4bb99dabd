// A small seeded mutation engine for the reader fuzz tests.
//
// `mutate(seed, r)` applies one to three random operators to a copy of a valid file:
// bit flips, bytes set to 0x00 / 0xFF / 0x7F / 0x80, truncation, removal or duplication of a
// chunk, huge integers written over length / dimension fields (at a random offset or at one of
// the `fields` offsets the caller knows), and splicing with a donor file. Text formats add
// `hugeNumber`, which replaces a run of digits by one that overflows 32 / 53 / 64 bits.
// Everything comes from the `Rng` passed in, so a case is reproduced from (seed, case index),
// and `ops` lists what was done, for the failure message.

import { rng as mulberry } from '../helpers/random.js';

export type Rng = () => number;

export const rng = mulberry;

/** Integer in [0, n). */
export function pick(r: Rng, n: number): number {
  return Math.min(n - 1, Math.floor(r() * n));
}

export function choose<T>(r: Rng, items: readonly T[]): T {
  return items[pick(r, items.length)];
}

export interface MutateOptions {
  /** Byte offsets of known length / size / dimension fields (hugeInt aims at them half the time). */
  fields?: readonly number[];
  /** Other valid files to splice with (the seed itself is used when absent). */
  donors?: readonly Uint8Array[];
  /** Text formats: also replace digit runs with overflowing numbers. */
  text?: boolean;
  /** Most operators stacked in one case (default 3). */
  maxOps?: number;
}

export interface Mutant {
  bytes: Uint8Array;
  /** The operators applied, e.g. ['flip@17.3', 'trunc@120']. */
  ops: string[];
}

export const SPECIAL_BYTES = [0x00, 0xff, 0x7f, 0x80];

/** Values that overflow signed / unsigned 16, 32 and 53-bit arithmetic. */
const HUGE_32 = [0xffffffff, 0x7fffffff, 0x80000000, 0xfffffffe, 0x40000000, 0x10000];
const HUGE_64 = [0xffffffffffffffffn, 0x7fffffffffffffffn, 0x8000000000000000n, 2n ** 53n + 1n, 2n ** 32n, 2n ** 31n];
export const HUGE_TEXT = [
  '4294967296', '2147483648', '-2147483649', '9007199254740993', '18446744073709551616',
  '1e308', '-1', '99999999999999999999999999999999', '0', 'NaN',
];

type Op = (b: Uint8Array, r: Rng, o: MutateOptions) => [Uint8Array, string];

const flip: Op = (b, r) => {
  if (b.length === 0) return [b, 'flip@-'];
  const out = b.slice();
  const n = 1 + pick(r, 4);
  const at: string[] = [];
  for (let k = 0; k < n; k++) {
    const i = pick(r, out.length);
    const bit = pick(r, 8);
    out[i] ^= 1 << bit;
    at.push(`${i}.${bit}`);
  }
  return [out, `flip@${at.join(',')}`];
};

const setByte: Op = (b, r) => {
  if (b.length === 0) return [b, 'set@-'];
  const out = b.slice();
  const v = choose(r, SPECIAL_BYTES);
  const i = pick(r, out.length);
  const n = Math.min(out.length - i, 1 + pick(r, 4));
  out.fill(v, i, i + n);
  return [out, `set@${i}+${n}=0x${v.toString(16)}`];
};

const truncate: Op = (b, r) => {
  const n = pick(r, b.length + 1);
  return [b.slice(0, n), `trunc@${n}`];
};

function span(b: Uint8Array, r: Rng): [number, number] {
  const i = pick(r, b.length + 1);
  const len = Math.min(b.length - i, 1 + pick(r, r() < 0.8 ? 16 : Math.max(1, b.length >> 2)));
  return [i, i + len];
}

const remove: Op = (b, r) => {
  const [i, j] = span(b, r);
  const out = new Uint8Array(b.length - (j - i));
  out.set(b.subarray(0, i));
  out.set(b.subarray(j), i);
  return [out, `del@${i}-${j}`];
};

const duplicate: Op = (b, r) => {
  const [i, j] = span(b, r);
  const at = pick(r, b.length + 1);
  const chunk = b.subarray(i, j);
  const out = new Uint8Array(b.length + chunk.length);
  out.set(b.subarray(0, at));
  out.set(chunk, at);
  out.set(b.subarray(at), at + chunk.length);
  return [out, `dup@${i}-${j}>${at}`];
};

const hugeInt: Op = (b, r, o) => {
  const width = choose(r, [2, 4, 4, 8]);
  if (b.length < width) return [b, 'huge@-'];
  const aimed = o.fields && o.fields.length > 0 && r() < 0.5;
  const i = aimed ? Math.min(choose(r, o.fields!), b.length - width) : pick(r, b.length - width + 1);
  const little = r() < 0.5;
  const out = b.slice();
  const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
  let v: bigint | number;
  if (width === 2) dv.setUint16(i, (v = choose(r, [0xffff, 0x7fff, 0x8000])), little);
  else if (width === 4) dv.setUint32(i, (v = choose(r, HUGE_32)), little);
  else dv.setBigUint64(i, (v = choose(r, HUGE_64)), little);
  return [out, `huge${width * 8}${little ? 'le' : 'be'}@${i}=${v}`];
};

const splice: Op = (b, r, o) => {
  const donor = o.donors && o.donors.length > 0 ? choose(r, o.donors) : b;
  const i = pick(r, b.length + 1);
  const j = pick(r, donor.length + 1);
  const out = new Uint8Array(i + donor.length - j);
  out.set(b.subarray(0, i));
  out.set(donor.subarray(j), i);
  return [out, `splice@${i}+donor${j}`];
};

const hugeNumber: Op = (b, r) => {
  const runs: [number, number][] = [];
  for (let i = 0; i < b.length; ) {
    if (b[i] >= 0x30 && b[i] <= 0x39) {
      let j = i;
      while (j < b.length && b[j] >= 0x30 && b[j] <= 0x39) j++;
      runs.push([i, j]);
      i = j;
    } else i++;
  }
  if (runs.length === 0) return [b, 'num@-'];
  const [i, j] = choose(r, runs);
  const text = new TextEncoder().encode(choose(r, HUGE_TEXT));
  const out = new Uint8Array(b.length - (j - i) + text.length);
  out.set(b.subarray(0, i));
  out.set(text, i);
  out.set(b.subarray(j), i + text.length);
  return [out, `num@${i}=${new TextDecoder().decode(text)}`];
};

const BINARY: Op[] = [flip, flip, setByte, setByte, truncate, remove, duplicate, hugeInt, hugeInt, splice];
const TEXT: Op[] = [...BINARY, hugeNumber, hugeNumber];

/** One mutant of `seed`: 1..maxOps operators stacked. */
export function mutate(seed: Uint8Array, r: Rng, o: MutateOptions = {}): Mutant {
  const ops = o.text ? TEXT : BINARY;
  const n = 1 + pick(r, o.maxOps ?? 3);
  // A plain Uint8Array copy: Buffer#slice is a view, and the operators must never touch the seed.
  let bytes: Uint8Array = Uint8Array.from(seed);
  const donors = o.donors?.map((d) => (d instanceof Buffer ? Uint8Array.from(d) : d));
  const names: string[] = [];
  for (let k = 0; k < n; k++) {
    const [next, name] = choose(r, ops)(bytes, r, { ...o, donors });
    bytes = next;
    names.push(name);
  }
  return { bytes, ops: names };
}

// ---- JSON-aware mutation (safetensors headers, dataset.json, Keras configs) ----

const DEEP = '"\u0000deep\u0000"';
const HOSTILE_JSON: unknown[] = [
  2 ** 31, 2 ** 32, 2 ** 53, 2 ** 64, 1e308, -1, -(2 ** 31), 1.5, 0, null, true, '', 'x'.repeat(5000),
  [], {}, [2 ** 31, 2 ** 31], [0, 2 ** 53], [2 ** 32 - 1, 2 ** 32 - 1, 2 ** 32 - 1], ['__proto__'],
  { __proto__: 1 }, JSON.parse('{"__proto__": {"polluted": 1}}'), '\u0000deep\u0000',
];

/** Paths to every node of a JSON value (keys and indices). */
function nodes(v: unknown, path: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  out.push(path);
  if (Array.isArray(v)) v.forEach((x, i) => nodes(x, [...path, i], out));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) nodes(x, [...path, k], out);
  return out;
}

/**
 * Replaces, deletes, duplicates or renames one random node of `value` (a parsed JSON document)
 * and returns the new JSON text; a '\u0000deep\u0000' string becomes 100 000 nested arrays.
 */
export function mutateJson(value: unknown, r: Rng): { text: string; op: string } {
  const doc = JSON.parse(JSON.stringify(value)) as unknown;
  const all = nodes(doc);
  const path = choose(r, all);
  const what = pick(r, 4);
  let op = `json:${path.join('.') || '<root>'}`;
  let root = doc;
  if (path.length === 0) {
    root = choose(r, HOSTILE_JSON);
    op += '=replace';
  } else {
    const parent = path.slice(0, -1).reduce<any>((o, k) => o[k], doc); // eslint-disable-line @typescript-eslint/no-explicit-any
    const key = path[path.length - 1];
    if (what === 0 && !Array.isArray(parent)) {
      delete parent[key];
      op += '=delete';
    } else if (what === 1 && Array.isArray(parent)) {
      parent.push(parent[key as number]);
      op += '=dup';
    } else if (what === 2 && !Array.isArray(parent)) {
      parent[`${key}${choose(r, ['', '_', '\u0000'])}x`] = parent[key];
      delete parent[key];
      op += '=rename';
    } else {
      const v = choose(r, HOSTILE_JSON);
      parent[key] = v;
      op += `=${JSON.stringify(v)?.slice(0, 30)}`;
    }
  }
  const text = JSON.stringify(root).split(DEEP).join('['.repeat(100_000) + ']'.repeat(100_000));
  return { text, op };
}
