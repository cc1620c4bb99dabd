// Synthetic Keras files written with h5wasm in the exact layouts Keras/h5py produce, for the
// import tests. Written independently of src/io/keras-h5-export.ts so each checks the other.

import h5wasm from 'h5wasm/node';
import { deflateRawSync } from 'node:zlib';
import * as zlib from 'node:zlib';
import { uniform } from './random.js';
import type { WeightSpec } from '../../src/io/weight-specs.js';

type H5Group = InstanceType<typeof h5wasm.Group>;

export async function h5(): Promise<typeof h5wasm> {
  await h5wasm.ready;
  return h5wasm;
}

/** Seeded values for every spec, keyed `layer/weight`. */
export function seededWeights(specs: readonly WeightSpec[], seed: number): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  specs.forEach((s, i) => {
    const n = s.shape.reduce((a, b) => a * b, 1);
    out.set(`${s.layer}/${s.weight}`, uniform(seed * 1000 + i, n));
  });
  return out;
}

/** numpy-bytes-like fixed-length string array attribute, as h5py writes Keras name lists. */
export function strAttr(g: H5Group, name: string, values: string[]): void {
  if (values.length === 0) {
    g.create_attribute(name, new Float64Array(0), [0], '<d'); // h5py: np.asarray([])
    return;
  }
  const width = Math.max(...values.map((v) => v.length));
  g.create_attribute(name, values, [values.length], `A${width}`);
}

export interface LegacyLayer {
  /** Group name (the top-level Keras layer). */
  name: string;
  /** Weight names as Keras writes them ('conv1/kernel:0') and their values/shapes. */
  weights: { name: string; shape: number[]; data: Float32Array | Float64Array }[];
}

/** Writes the legacy weights layout (root attrs + groups) into `root`. */
export function writeLegacyLayers(root: H5Group, layers: LegacyLayer[], kerasVersion = '2.10.0'): void {
  strAttr(root, 'layer_names', layers.map((l) => l.name));
  root.create_attribute('backend', 'tensorflow', [], 'A10');
  root.create_attribute('keras_version', kerasVersion, [], `A${kerasVersion.length}`);
  for (const l of [...layers].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const g = root.create_group(l.name);
    strAttr(g, 'weight_names', l.weights.map((w) => w.name));
    const made = new Set<string>();
    for (const w of l.weights) {
      const parts = w.name.split('/');
      for (let j = 1; j < parts.length; j++) {
        const sub = parts.slice(0, j).join('/');
        if (!made.has(sub)) g.create_group(sub);
        made.add(sub);
      }
      g.create_dataset({ name: w.name, data: w.data, shape: w.shape });
    }
  }
}

/** Flat legacy layers for a spec list (one group per layer), MobileNet-file style. */
export function flatLayers(specs: readonly WeightSpec[], values: Map<string, Float32Array>): LegacyLayer[] {
  const layers: LegacyLayer[] = [{ name: 'input_1', weights: [] }];
  for (const s of specs) {
    let l = layers.find((x) => x.name === s.layer);
    if (!l) layers.push((l = { name: s.layer, weights: [] }));
    l.weights.push({ name: `${s.layer}/${s.weight}:0`, shape: [...s.shape], data: values.get(`${s.layer}/${s.weight}`)! });
  }
  layers.push({ name: 'conv_pw_13_relu', weights: [] });
  return layers;
}

export async function writeLegacyFile(path: string, layers: LegacyLayer[]): Promise<void> {
  const h = await h5();
  const f = new h.File(path, 'w');
  writeLegacyLayers(f, layers);
  f.close();
}

// ---- Keras 3 ----

export interface K3Layer {
  /** Path under the root, e.g. 'layers/conv2d' or 'layers/functional/layers/conv2d'. */
  path: string;
  vars: { shape: number[]; data: Float32Array }[];
}

export async function writeKeras3File(path: string, layers: K3Layer[]): Promise<void> {
  const h = await h5();
  const f = new h.File(path, 'w');
  const made = new Set<string>();
  const ensure = (p: string): void => {
    const parts = p.split('/');
    for (let j = 1; j <= parts.length; j++) {
      const sub = parts.slice(0, j).join('/');
      if (!made.has(sub)) f.create_group(sub);
      made.add(sub);
    }
  };
  ensure('vars');
  for (const l of layers) {
    ensure(`${l.path}/vars`);
    const g = f.get(`${l.path}/vars`) as H5Group;
    l.vars.forEach((v, i) => g.create_dataset({ name: String(i), data: v.data, shape: v.shape }));
  }
  f.close();
}

// ---- zip (for .keras archives) ----

function crc32(data: Uint8Array): number {
  const fn = (zlib as { crc32?: (d: Uint8Array) => number }).crc32;
  if (fn) return fn(data) >>> 0;
  let c = ~0;
  for (const b of data) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

/** A minimal zip writer: entries stored (method 0) or deflated (method 8). */
export function makeZip(entries: { name: string; data: Uint8Array; deflate?: boolean }[]): Buffer {
  const locals: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name, 'utf8');
    const body = e.deflate ? deflateRawSync(e.data) : Buffer.from(e.data);
    const crc = crc32(e.data);
    const loc = Buffer.alloc(30);
    loc.writeUInt32LE(0x04034b50, 0);
    loc.writeUInt16LE(20, 4);
    loc.writeUInt16LE(e.deflate ? 8 : 0, 8);
    loc.writeUInt32LE(crc, 14);
    loc.writeUInt32LE(body.length, 18);
    loc.writeUInt32LE(e.data.length, 22);
    loc.writeUInt16LE(name.length, 26);
    locals.push(loc, name, body);
    const cen = Buffer.alloc(46);
    cen.writeUInt32LE(0x02014b50, 0);
    cen.writeUInt16LE(20, 4);
    cen.writeUInt16LE(20, 6);
    cen.writeUInt16LE(e.deflate ? 8 : 0, 10);
    cen.writeUInt32LE(crc, 16);
    cen.writeUInt32LE(body.length, 20);
    cen.writeUInt32LE(e.data.length, 24);
    cen.writeUInt16LE(name.length, 28);
    cen.writeUInt32LE(offset, 42);
    central.push(cen, name);
    offset += 30 + name.length + body.length;
  }
  const cd = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}
