// Keras 3 weights: `.weights.h5` and the `model.weights.h5` inside a `.keras` zip archive.
// Checked against keras/src/saving/saving_lib.py (Keras 3, commit b470eee): every layer of a
// Functional/Sequential is saved at `layers/<name>/vars/<i>` (nested models add
// `layers/<model>/layers/<name>/vars/<i>`), where <name> is NOT the layer's name but its class
// in snake case with a per-container counter ('conv2d', 'conv2d_1', 'batch_normalization', …),
// and <i> runs over the layer's trainable then non-trainable variables in creation order.
// So a file layer maps to a spec layer by (container, class, occurrence), and a nested model to
// a spec group by the classes it holds.

import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closeH5, getGroup, groupKeys, openH5, type H5File } from './h5.js';
import { modelFacts, type KerasModelFacts } from './keras-config.js';
import type { KerasImport, ReadOptions } from './keras-h5.js';
import { DEFAULT_MAX_ELEMENTS, WeightCollector } from './weight-collector.js';
import { weightKey, type KerasClass, type WeightSpec } from './weight-specs.js';
import { zipEntries, zipRead } from './zip.js';

/** Keras `naming.to_snake_case(cls.__name__)`. */
export const KERAS3_CLASS_NAMES: Record<KerasClass, string> = {
  Conv2D: 'conv2d',
  DepthwiseConv2D: 'depthwise_conv2d',
  SeparableConv2D: 'separable_conv2d',
  BatchNormalization: 'batch_normalization',
  Dense: 'dense',
  Attention: 'attention',
};

interface FileLayer {
  name: string;
  vars: string[];
}

interface Container {
  /** Path relative to the file root, e.g. '' or 'layers/functional'. */
  path: string;
  layers: FileLayer[];
  children: Container[];
}

const MAX_DEPTH = 8;

function walk(file: string, f: H5File, path: string, depth: number): Container {
  const c: Container = { path, layers: [], children: [] };
  const layersPath = `${path}/layers`;
  const g = getGroup(file, f, layersPath);
  if (!g) return c;
  if (depth > MAX_DEPTH) throw new Error(`${file}: layers nest deeper than ${MAX_DEPTH} levels`);
  for (const name of groupKeys(file, g)) {
    const node = `${layersPath}/${name}`;
    const vg = getGroup(file, f, `${node}/vars`);
    const keys = vg ? groupKeys(file, vg).filter((k) => /^\d+$/.test(k)) : [];
    keys.sort((a, b) => Number(a) - Number(b));
    c.layers.push({ name, vars: keys.map((k) => `${node}/vars/${k}`) });
    if (getGroup(file, f, `${node}/layers`)) c.children.push(walk(file, f, node, depth + 1));
  }
  return c;
}

interface SpecLayer {
  layer: string;
  cls: KerasClass;
  weights: string[];
}

function specLayers(specs: readonly WeightSpec[], pick: (s: WeightSpec) => boolean): SpecLayer[] {
  const out: SpecLayer[] = [];
  for (const s of specs.filter(pick)) {
    const last = out[out.length - 1];
    if (last && last.layer === s.layer) last.weights.push(s.weight);
    else out.push({ layer: s.layer, cls: s.kerasClass, weights: [s.weight] });
  }
  return out;
}

function classSignature(names: string[]): string {
  return names.map((n) => n.replace(/_\d+$/, '')).sort().join(',');
}

/** Maps one container's layers to spec layers by class occurrence; the rest become extras. */
function mapContainer(c: Container, layers: SpecLayer[] | undefined, col: WeightCollector): void {
  const used = new Set<string>();
  if (layers) {
    const seen = new Map<string, number>();
    for (const l of layers) {
      const base = KERAS3_CLASS_NAMES[l.cls];
      const k = seen.get(base) ?? 0;
      seen.set(base, k + 1);
      const fl = c.layers.find((x) => x.name === (k === 0 ? base : `${base}_${k}`));
      if (!fl) continue;
      used.add(fl.name);
      fl.vars.forEach((v, i) => col.add(weightKey(l.layer, l.weights[i] ?? `var_${i}`), v));
    }
  }
  const rel = c.path.replace(/^\/?layers\//, '').replace(/\/layers\//g, '/');
  for (const fl of c.layers) {
    if (used.has(fl.name)) continue;
    fl.vars.forEach((v, i) => col.add(weightKey(rel ? `${rel}/${fl.name}` : fl.name, String(i)), v));
  }
}

/** Reads the Keras 3 layer tree of an open file into `col`. */
export function readKeras3Weights(file: string, f: H5File, col: WeightCollector): void {
  const root = walk(file, f, '', 0);
  const specs = col.specs;
  const groups = new Map<string, SpecLayer[]>();
  for (const s of specs ?? []) {
    if (s.group !== s.layer && !groups.has(s.group)) {
      groups.set(s.group, specLayers(specs!, (x) => x.group === s.group));
    }
  }
  const visit = (c: Container, layers: SpecLayer[] | undefined): void => {
    mapContainer(c, layers, col);
    for (const child of c.children) {
      const sig = classSignature(child.layers.filter((l) => l.vars.length > 0).map((l) => l.name));
      let match: SpecLayer[] | undefined;
      for (const [name, g] of groups) {
        if (classSignature(g.map((l) => KERAS3_CLASS_NAMES[l.cls])) === sig) {
          match = g;
          groups.delete(name);
          break;
        }
      }
      visit(child, match);
    }
  };
  visit(root, specs ? specLayers(specs, (s) => s.group === s.layer) : undefined);
}

const MAX_JSON_BYTES = 64 << 20;

/** Reads a Keras 3 `.keras` archive: config.json, metadata.json and model.weights.h5. */
export async function readKeras3Archive(path: string, opts: ReadOptions = {}): Promise<KerasImport> {
  const size = statSync(path).size;
  if (size > 2 ** 31 - 1) throw new Error(`${path}: archive of ${size} bytes is too large to read`);
  const buf = readFileSync(path);
  const entries = zipEntries(buf, path);
  const get = (name: string) => entries.find((e) => e.name === name);
  const cfgEntry = get('config.json');
  const weightsEntry = get('model.weights.h5');
  if (!weightsEntry) {
    const names = entries.map((e) => e.name).join(', ');
    throw new Error(`${path}: .keras archive has no model.weights.h5 (entries: ${names || 'none'})`);
  }
  let config: string | undefined;
  let facts: KerasModelFacts | undefined;
  if (cfgEntry) {
    config = zipRead(buf, cfgEntry, path, MAX_JSON_BYTES).toString('utf8');
    try {
      facts = modelFacts(config);
    } catch (e) {
      throw new Error(`${path}: config.json: ${(e as Error).message}`);
    }
  }
  let kerasVersion: string | undefined;
  const metaEntry = get('metadata.json');
  if (metaEntry) {
    try {
      const meta = JSON.parse(zipRead(buf, metaEntry, path, MAX_JSON_BYTES).toString('utf8'));
      if (typeof meta?.keras_version === 'string') kerasVersion = meta.keras_version;
    } catch (e) {
      throw new Error(`${path}: metadata.json: ${(e as Error).message}`);
    }
  }
  // An HDF5 file holds little beyond its values, so bound it by the archive size.
  const h5bytes = zipRead(buf, weightsEntry, path, Math.max(size * 64, 1 << 20));
  const dir = mkdtempSync(join(tmpdir(), 'keras-archive-'));
  const tmp = join(dir, 'model.weights.h5');
  try {
    writeFileSync(tmp, h5bytes);
    const f = await openH5(tmp).catch((e: Error) => {
      throw new Error(`${path}: model.weights.h5: ${e.message.replace(tmp, 'entry')}`);
    });
    try {
      const label = `${path}:model.weights.h5`;
      const col = new WeightCollector(label, f, opts.specs, opts.maxElements ?? DEFAULT_MAX_ELEMENTS);
      readKeras3Weights(label, f, col);
      return { file: path, format: 'keras3-archive', kerasVersion, config, facts, weights: col.found };
    } finally {
      closeH5(f);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
