// Writes weights in the Keras legacy HDF5 weights layout, the one `model.load_weights('x.h5')`
// reads (keras legacy_h5_format.load_weights_from_hdf5_group): root attributes `layer_names`,
// `backend`, `keras_version`; one group per weighted layer with attribute `weight_names`
// ('conv1/kernel:0', …) and the datasets at those relative paths. Keras matches layers by
// order (weighted layers only) and weights by order within a layer, so we write both in spec
// order. For PAtt-Lite the nested models (`base_model`, `patch_extraction`,
// `pre_classification`) are one group each, as the authors' notebook saves them. That weight
// order is Keras's for the notebook's model with a frozen backbone (trainable weights first,
// then non-trainable: the natural layer order in that case).

import { renameSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { h5Ready } from './h5.js';
import { elementCount, shapeString, specKey, type WeightSpec } from './weight-specs.js';

export interface KerasExportOptions {
  /** Root attribute `keras_version` (Keras only reads it to convert very old files). */
  kerasVersion?: string;
  backend?: string;
  /** Write one group per Keras top-level layer (nested models as one group); default true. */
  nested?: boolean;
}

interface HasAttrs {
  create_attribute(name: string, data: string | string[], shape?: number[] | null, dtype?: string): void;
}

/** Fixed-length ASCII strings, as h5py stores numpy bytes; `scalar` for a single value. */
function fixedStrings(group: HasAttrs, name: string, values: string[], scalar = false): void {
  const bytes = values.map((v) => Buffer.byteLength(v, 'utf8'));
  if (bytes.some((b, i) => b !== values[i].length)) {
    throw new Error(`attribute ${name}: Keras layer and weight names must be ASCII`);
  }
  const width = Math.max(1, ...bytes);
  if (scalar) group.create_attribute(name, values[0], [], `A${width}`);
  else group.create_attribute(name, values, [values.length], `A${width}`);
}

/** Writes `weights` (canonical keys) for `specs` to `path` as a Keras legacy .h5 weights file. */
export async function writeKerasH5(
  path: string,
  specs: readonly WeightSpec[],
  weights: ReadonlyMap<string, Float32Array>,
  opts: KerasExportOptions = {},
): Promise<void> {
  const nested = opts.nested ?? true;
  for (const s of specs) {
    const w = weights.get(specKey(s));
    if (!w) throw new Error(`${path}: cannot export, weight ${specKey(s)} is missing`);
    if (w.length !== elementCount(s.shape)) {
      throw new Error(
        `${path}: cannot export ${specKey(s)}: ${w.length} values for shape ${shapeString(s.shape)}`,
      );
    }
  }
  const groups = new Map<string, WeightSpec[]>();
  for (const s of specs) {
    const g = nested ? s.group : s.layer;
    if (!groups.has(g)) groups.set(g, []);
    groups.get(g)!.push(s);
  }

  const h5 = await h5Ready();
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  const f = new h5.File(tmp, 'w');
  try {
    if (f.file_id < 0n) throw new Error(`${path}: cannot create ${tmp}`);
    fixedStrings(f, 'layer_names', [...groups.keys()]);
    fixedStrings(f, 'backend', [opts.backend ?? 'tensorflow'], true);
    fixedStrings(f, 'keras_version', [opts.kerasVersion ?? '2.15.0'], true);
    for (const [name, list] of groups) {
      const g = f.create_group(name);
      const names = list.map((s) => {
        const inner = nested && s.group !== s.layer ? s.kerasLayer : s.layer;
        return `${inner}/${s.weight}:0`;
      });
      fixedStrings(g, 'weight_names', names);
      const made = new Set<string>();
      list.forEach((s, i) => {
        const parts = names[i].split('/');
        for (let j = 1; j < parts.length; j++) {
          const sub = parts.slice(0, j).join('/');
          if (!made.has(sub)) {
            g.create_group(sub);
            made.add(sub);
          }
        }
        g.create_dataset({ name: names[i], data: weights.get(specKey(s))!, shape: [...s.shape] });
      });
    }
    f.close();
    renameSync(tmp, path);
  } catch (e) {
    try {
      f.close();
    } catch {
      /* already closed */
    }
    rmSync(tmp, { force: true });
    throw e;
  }
}
