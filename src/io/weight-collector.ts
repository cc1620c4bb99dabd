// Collects the weights of an open HDF5 file under canonical names. Values are read only after
// the dataset header has been checked: against the spec when one is given (so a hostile header
// cannot make us allocate more than the network needs), else against an element budget.

import type { H5File } from './h5.js';
import { datasetHeader, getDataset, readFloat32 } from './h5.js';
import type { FoundWeight, FoundWeights } from './weight-match.js';
import { elementCount, specKey, type WeightSpec } from './weight-specs.js';

/** Default budget when no spec is given: 64 Mi float32 values (256 MiB). */
export const DEFAULT_MAX_ELEMENTS = 64 * 1024 * 1024;

export class WeightCollector {
  readonly found: FoundWeights = new Map();
  private readonly bySpec = new Map<string, WeightSpec>();
  private budget: number;

  constructor(
    readonly file: string,
    private readonly h5: H5File,
    readonly specs: readonly WeightSpec[] | undefined,
    maxElements = DEFAULT_MAX_ELEMENTS,
  ) {
    for (const s of specs ?? []) this.bySpec.set(specKey(s), s);
    this.budget = maxElements;
  }

  /** Records dataset `path` under canonical `key`, reading its values if they are wanted. */
  add(key: string, path: string): void {
    let k = key;
    for (let i = 2; this.found.has(k); i++) k = `${key} (duplicate ${i})`;
    const ds = getDataset(this.file, this.h5, path);
    if (!ds) {
      this.found.set(k, { shape: [], dtype: '?', source: path, problem: 'listed, but no such dataset' });
      return;
    }
    const h = datasetHeader(this.file, ds);
    const entry: FoundWeight = { shape: h.shape, dtype: h.dtype, source: path };
    this.found.set(k, entry);
    if (h.unsupported) {
      entry.problem = h.unsupported;
      return;
    }
    if (k !== key) return;
    const n = elementCount(h.shape);
    if (this.specs) {
      const s = this.bySpec.get(key);
      const same = s && s.shape.length === h.shape.length && s.shape.every((d, i) => d === h.shape[i]);
      if (!same) return;
    } else {
      if (n > this.budget) {
        entry.problem = 'not read: the file holds more values than the read limit (maxElements)';
        return;
      }
      this.budget -= n;
    }
    entry.data = readFloat32(this.file, ds, h);
  }
}
