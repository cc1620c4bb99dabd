// Reads Keras weight files into canonical `layer/weight` names (see weight-specs.ts):
// - legacy HDF5 weights (`mobilenet_1_0_224_tf_no_top.h5`, `model.save_weights('x.h5')`):
//   root attribute `layer_names`; one group per layer with attribute `weight_names`
//   ('conv1/kernel:0', …); datasets at those paths relative to the layer group;
// - legacy HDF5 models (`model.save('model.h5')`, TF 2.x): root attributes `model_config`
//   (JSON), `keras_version`, `backend`; weights under `model_weights/` in the same layout; a
//   nested model is one group listing all its inner weights;
// - Keras 3 `.weights.h5` and `.keras` archives (keras3-weights.ts).
// Checked against keras/src/legacy/saving/legacy_h5_format.py (save_weights_to_hdf5_group,
// save_attributes_to_hdf5_group's chunked `name0`, `name1` attributes, load_weights_from_hdf5_group).

import { closeH5, getGroup, groupKeys, openH5, readStringAttr, readStringList, type H5File } from './h5.js';
import { modelFacts, type KerasModelFacts } from './keras-config.js';
import { readKeras3Archive, readKeras3Weights } from './keras3-weights.js';
import { WeightCollector, DEFAULT_MAX_ELEMENTS } from './weight-collector.js';
import { matchWeights, type FoundWeights, type MatchOptions } from './weight-match.js';
import { weightKey, type WeightSpec } from './weight-specs.js';
import { openSync, readSync, closeSync } from 'node:fs';

export { matchWeights, WeightMismatchError } from './weight-match.js';
export type { FoundWeight, FoundWeights, MatchResult } from './weight-match.js';

export type KerasFormat = 'legacy-weights' | 'legacy-model' | 'keras3-weights' | 'keras3-archive';

export interface KerasImport {
  file: string;
  format: KerasFormat;
  kerasVersion?: string;
  backend?: string;
  /** The model config JSON text (`model_config` or config.json), when the file has one. */
  config?: string;
  facts?: KerasModelFacts;
  /** Canonical `layer/weight` -> shape, dtype, source path and (if read) values. */
  weights: FoundWeights;
}

export interface ReadOptions {
  /** Expected weights: only datasets matching a spec name and shape are read. */
  specs?: readonly WeightSpec[];
  /** Without specs: the most float values read in total (default 64 Mi). */
  maxElements?: number;
}

/** Reads any supported Keras weight file; the format is detected from the content. */
export async function readKerasWeights(path: string, opts: ReadOptions = {}): Promise<KerasImport> {
  if (startsWithZip(path)) return readKeras3Archive(path, opts);
  const f = await openH5(path);
  try {
    const maxElements = opts.maxElements ?? DEFAULT_MAX_ELEMENTS;
    const col = new WeightCollector(path, f, opts.specs, maxElements);
    const rootKeys = groupKeys(path, f);
    if (readStringList(path, f, 'layer_names')) {
      readLegacyGroup(path, f, '/', col);
      return {
        file: path,
        format: 'legacy-weights',
        kerasVersion: readStringAttr(path, f, 'keras_version'),
        backend: readStringAttr(path, f, 'backend'),
        weights: col.found,
      };
    }
    if (rootKeys.includes('model_weights')) {
      const config = readStringAttr(path, f, 'model_config');
      let facts: KerasModelFacts | undefined;
      if (config !== undefined) {
        try {
          facts = modelFacts(config);
        } catch (e) {
          throw new Error(`${path}: root attribute model_config: ${(e as Error).message}`);
        }
      }
      readLegacyGroup(path, f, '/model_weights', col);
      return {
        file: path,
        format: 'legacy-model',
        kerasVersion: readStringAttr(path, f, 'keras_version'),
        backend: readStringAttr(path, f, 'backend'),
        config,
        facts,
        weights: col.found,
      };
    }
    if (rootKeys.includes('layers') || rootKeys.includes('vars')) {
      readKeras3Weights(path, f, col);
      return { file: path, format: 'keras3-weights', weights: col.found };
    }
    throw new Error(
      `${path}: not a Keras weights file: expected the root attribute 'layer_names' ` +
        `(weights file), a 'model_weights' group (model.save) or a 'layers' group (Keras 3); ` +
        `found ${rootKeys.length ? rootKeys.slice(0, 10).join(', ') : 'an empty file'}`,
    );
  } finally {
    closeH5(f);
  }
}

/**
 * Reads `path` and checks it against `specs`: returns the values by canonical key, or throws an
 * error that names the file and lists every missing, misshaped and unexpected weight.
 */
export async function importKerasWeights(
  path: string,
  specs: readonly WeightSpec[],
  opts: MatchOptions = {},
): Promise<{ weights: Map<string, Float32Array>; extra: string[]; source: KerasImport }> {
  const source = await readKerasWeights(path, { specs });
  const { weights, extra } = matchWeights(specs, source.weights, path, opts);
  return { weights, extra, source };
}

function startsWithZip(path: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new Error(`${path}: cannot open (${(e as Error).message})`);
  }
  try {
    const b = Buffer.alloc(4);
    return readSync(fd, b, 0, 4, 0) === 4 && b.readUInt32LE(0) === 0x04034b50;
  } finally {
    closeSync(fd);
  }
}

interface LegacyEntry {
  inner: string;
  weight: string;
  path: string;
}

/** 'base_model/conv1/kernel:0' -> inner layer 'conv1', weight 'kernel'. */
export function parseWeightName(name: string, group: string): { inner: string; weight: string } {
  const parts = name.replace(/:\d+$/, '').split('/').filter((p) => p.length > 0);
  const weight = parts[parts.length - 1] ?? name;
  const inner = parts.length >= 2 ? parts[parts.length - 2] : group;
  return { inner, weight };
}

function readLegacyGroup(file: string, f: H5File, rootPath: string, col: WeightCollector): void {
  const root = rootPath === '/' ? f : getGroup(file, f, rootPath);
  if (!root) throw new Error(`${file}: group ${rootPath} is missing`);
  const layerNames = readStringList(file, root, 'layer_names');
  if (!layerNames) throw new Error(`${file}: ${rootPath} has no 'layer_names' attribute`);
  const prefix = rootPath === '/' ? '' : rootPath;
  for (const name of layerNames) {
    const g = getGroup(file, f, `${prefix}/${name}`);
    if (!g) {
      col.found.set(`${name}/(group)`, {
        shape: [],
        dtype: '?',
        source: `${prefix}/${name}`,
        problem: 'listed in layer_names, but the group is missing',
      });
      continue;
    }
    const weightNames = readStringList(file, g, 'weight_names') ?? [];
    const entries: LegacyEntry[] = weightNames.map((w) => ({
      ...parseWeightName(w, name),
      path: `${prefix}/${name}/${w}`,
    }));
    const rename = legacyRenames(name, entries, col.specs);
    for (const e of entries) col.add(weightKey(rename.get(e.inner) ?? e.inner, e.weight), e.path);
  }
}

interface SpecGroup {
  layers: string[];
  weights: Map<string, string[]>;
}

function specGroups(specs: readonly WeightSpec[]): Map<string, SpecGroup> {
  const out = new Map<string, SpecGroup>();
  for (const s of specs) {
    if (s.group === s.layer) continue;
    let g = out.get(s.group);
    if (!g) out.set(s.group, (g = { layers: [], weights: new Map() }));
    if (!g.weights.has(s.layer)) {
      g.layers.push(s.layer);
      g.weights.set(s.layer, []);
    }
    g.weights.get(s.layer)!.push(s.weight);
  }
  return out;
}

function signature(layers: string[], weights: Map<string, string[]>): string {
  return layers.map((l) => [...(weights.get(l) ?? [])].sort().join(',')).join('|');
}

/**
 * Inner layer name -> canonical name for one legacy group. Fixed Keras names (MobileNet's
 * conv1 …) map to themselves; the auto-named layers of a nested Sequential ('separable_conv2d_3')
 * map by position to the spec group of the same name, or else of the same weight signature.
 */
function legacyRenames(
  group: string,
  entries: LegacyEntry[],
  specs: readonly WeightSpec[] | undefined,
): Map<string, string> {
  const map = new Map<string, string>();
  if (!specs || entries.length === 0) return map;
  const known = new Set(specs.map((s) => s.layer));
  const order: string[] = [];
  const weights = new Map<string, string[]>();
  for (const e of entries) {
    if (!weights.has(e.inner)) {
      order.push(e.inner);
      weights.set(e.inner, []);
    }
    weights.get(e.inner)!.push(e.weight);
  }
  if (order.every((l) => known.has(l))) return map;
  const groups = specGroups(specs);
  const sig = signature(order, weights);
  const target =
    groups.get(group) ?? [...groups.values()].find((g) => signature(g.layers, g.weights) === sig);
  if (!target || target.layers.length !== order.length) return map;
  order.forEach((inner, i) => map.set(inner, target.layers[i]));
  return map;
}
