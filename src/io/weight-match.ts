// Checks the weights found in a file against the weights a network expects, and says exactly
// what is wrong: which file, which weight, what shape was expected and what was found.

import { elementCount, shapeString, specKey, type WeightSpec } from './weight-specs.js';

export interface FoundWeight {
  shape: number[];
  /** Values as float32; absent when they were not read (not expected, or wrong shape). */
  data?: Float32Array;
  /** Stored type, numpy-style ('<f4', '<f2', '<f8', …). */
  dtype: string;
  /** Where it lives inside the file (HDF5 path, or safetensors tensor name). */
  source: string;
  /** Why the values cannot be used even though the name matched. */
  problem?: string;
}

/** Canonical `layer/weight` -> what the file holds under that name. */
export type FoundWeights = Map<string, FoundWeight>;

export interface MatchOptions {
  /** Weights the file holds beyond the spec are an error (default: reported, not an error). */
  strictExtra?: boolean;
}

export interface MatchResult {
  /** Canonical key -> values, in spec order. */
  weights: Map<string, Float32Array>;
  /** Keys the file holds that the spec does not expect. */
  extra: string[];
}

export class WeightMismatchError extends Error {
  constructor(
    readonly file: string,
    readonly missing: string[],
    readonly misshaped: string[],
    readonly extra: string[],
    message: string,
  ) {
    super(message);
    this.name = 'WeightMismatchError';
  }
}

const MAX_LISTED = 40;

function listLines(title: string, lines: string[]): string[] {
  if (lines.length === 0) return [];
  const shown = lines.slice(0, MAX_LISTED).map((l) => `    ${l}`);
  if (lines.length > MAX_LISTED) shown.push(`    … and ${lines.length - MAX_LISTED} more`);
  return [`  ${title} (${lines.length}):`, ...shown];
}

/**
 * Validates `found` against `specs`. Throws a WeightMismatchError naming `file` when a weight is
 * missing, has the wrong shape or could not be read; extra weights are returned in `extra`.
 */
export function matchWeights(
  specs: readonly WeightSpec[],
  found: FoundWeights,
  file: string,
  opts: MatchOptions = {},
): MatchResult {
  const expected = new Set(specs.map(specKey));
  const missing: string[] = [];
  const misshaped: string[] = [];
  const weights = new Map<string, Float32Array>();
  for (const s of specs) {
    const key = specKey(s);
    const f = found.get(key);
    if (!f) {
      missing.push(`${key}: expected ${shapeString(s.shape)}, not in the file`);
      continue;
    }
    const sameShape = f.shape.length === s.shape.length && f.shape.every((d, i) => d === s.shape[i]);
    if (!sameShape) {
      const got = shapeString(f.shape);
      misshaped.push(`${key}: expected ${shapeString(s.shape)}, found ${got} at ${f.source}`);
    } else if (f.problem || !f.data) {
      misshaped.push(`${key}: ${f.problem ?? 'values were not read'} at ${f.source}`);
    } else if (f.data.length !== elementCount(s.shape)) {
      misshaped.push(`${key}: ${f.data.length} values for shape ${shapeString(s.shape)} at ${f.source}`);
    } else {
      weights.set(key, f.data);
    }
  }
  const extra = [...found.keys()].filter((k) => !expected.has(k));
  if (missing.length || misshaped.length || (opts.strictExtra && extra.length)) {
    const extraLines = extra.map((k) => {
      const f = found.get(k)!;
      return `${k} ${shapeString(f.shape)} at ${f.source}`;
    });
    const lines = [
      `${file}: the weights do not match the network ` +
        `(expected ${specs.length} weights, found ${found.size}; ` +
        `${missing.length} missing, ${misshaped.length} wrong, ${extra.length} unexpected)`,
      ...listLines('missing', missing),
      ...listLines('wrong shape or unreadable', misshaped),
      ...listLines('unexpected (present in the file, not expected)', extraLines),
      '  Check that the file was saved from the same architecture (alpha, classes, ' +
        'include_top, input channels) that you asked to load.',
    ];
    throw new WeightMismatchError(file, missing, misshaped, extra, lines.join('\n'));
  }
  return { weights, extra };
}
