// The in-memory form every dataset reader produces, and small helpers over it.
//
// A dataset is a list of class names plus up to three splits of samples; a sample is one decoded
// RGB image (any size: resizing to 224x224 happens later, on the GPU) and an integer label that
// indexes `classNames`. Readers of fixed-size sources (FER2013, HDF5) hand out images that are
// views into a few shared buffers, so a split costs its pixels and little else.

import { DEFAULT_IMAGE_LIMITS, type ImageLimits, type RgbImage } from './image.js';

export type SplitName = 'train' | 'val' | 'test';
export const SPLIT_NAMES: readonly SplitName[] = ['train', 'val', 'test'];

export type DatasetKind = 'folder' | 'fer2013' | 'ferplus' | 'rafdb' | 'hdf5';
export const DATASET_KINDS: readonly DatasetKind[] = ['folder', 'fer2013', 'ferplus', 'rafdb', 'hdf5'];

export interface Sample {
  image: RgbImage;
  /** Index into `Dataset.classNames`. */
  label: number;
  /** Where the sample came from: a file path, `file.csv:12` (line), or `file.h5:X_train[3]`. */
  source: string;
}

export interface Dataset {
  kind: DatasetKind;
  /** The path the dataset was read from. */
  source: string;
  classNames: string[];
  splits: Partial<Record<SplitName, Sample[]>>;
  /** Human-readable facts worth printing: dropped rows, carved splits, assumed class names. */
  notes: string[];
}

/** Every bound a reader enforces before it allocates. */
export interface DataLimits extends ImageLimits {
  /** Upper bound on the decoded RGB bytes of the whole dataset. */
  maxTotalBytes: number;
  /** Upper bound on samples in the whole dataset. */
  maxSamples: number;
  /** Longest accepted text line (CSV and label lists). */
  maxLineBytes: number;
}

export const DEFAULT_DATA_LIMITS: Readonly<DataLimits> = {
  ...DEFAULT_IMAGE_LIMITS,
  maxTotalBytes: 16 * 2 ** 30,
  maxSamples: 10_000_000,
  maxLineBytes: 1 << 20,
};

export function dataLimits(partial?: Partial<DataLimits>): DataLimits {
  return { ...DEFAULT_DATA_LIMITS, ...partial };
}

/** Throws when `bytes` more decoded pixels would pass `limits.maxTotalBytes`. */
export function checkBudget(name: string, totalBytes: number, samples: number, limits: DataLimits): void {
  if (totalBytes > limits.maxTotalBytes) {
    const gib = (n: number) => (n / 2 ** 30).toFixed(2);
    throw new Error(
      `${name}: the decoded images need more than ${gib(totalBytes)} GiB, over the ` +
        `${gib(limits.maxTotalBytes)} GiB limit (raise limits.maxTotalBytes if the machine has the memory)`,
    );
  }
  if (samples > limits.maxSamples) {
    throw new Error(`${name}: more than ${limits.maxSamples} samples (limits.maxSamples)`);
  }
}

/** Maps a split folder / HDF5 suffix / usage name to a split, case-insensitively. */
export function splitFromName(name: string): SplitName | undefined {
  const n = name.toLowerCase();
  if (n === 'train' || n === 'training') return 'train';
  if (n === 'val' || n === 'valid' || n === 'validation') return 'val';
  if (n === 'test' || n === 'testing') return 'test';
  return undefined;
}

/** Labels of a split as an Int32Array (the form losses and class weights take). */
export function labelsOf(samples: readonly Sample[]): Int32Array {
  return Int32Array.from(samples, (s) => s.label);
}

/** Number of samples per class. */
export function classCounts(samples: readonly Sample[], numClasses: number): number[] {
  const counts = new Array<number>(numClasses).fill(0);
  for (const s of samples) counts[s.label]++;
  return counts;
}

/** `[height, width]` when every image in the split has the same size, else undefined. */
export function fixedSize(samples: readonly Sample[]): [number, number] | undefined {
  if (samples.length === 0) return undefined;
  const { width, height } = samples[0].image;
  return samples.every((s) => s.image.width === width && s.image.height === height) ? [height, width] : undefined;
}

/**
 * Renumbers the classes to follow `order` (every current class name must appear in it; names
 * only in `order` become empty classes). 'alphabetical' sorts the names by code point, which is
 * what Keras' `image_dataset_from_directory` does.
 */
export function reorderClasses(dataset: Dataset, order: 'alphabetical' | readonly string[]): Dataset {
  const names = order === 'alphabetical' ? [...dataset.classNames].sort() : [...order];
  if (new Set(names).size !== names.length) throw new Error(`class order lists a name twice: ${names.join(', ')}`);
  const map = dataset.classNames.map((n) => {
    const i = names.indexOf(n);
    if (i < 0) throw new Error(`class order ${names.join(', ')} does not contain "${n}"`);
    return i;
  });
  const splits: Dataset['splits'] = {};
  for (const split of SPLIT_NAMES) {
    const samples = dataset.splits[split];
    if (samples) splits[split] = samples.map((s) => ({ ...s, label: map[s.label] }));
  }
  return { ...dataset, classNames: names, splits };
}

/** One line per split: sample count and per-class counts. */
export function describeDataset(dataset: Dataset): string {
  const lines = [`${dataset.kind} ${dataset.source}: ${dataset.classNames.length} classes (${dataset.classNames.join(', ')})`];
  for (const split of SPLIT_NAMES) {
    const samples = dataset.splits[split];
    if (!samples) continue;
    const counts = classCounts(samples, dataset.classNames.length);
    const size = fixedSize(samples);
    lines.push(`  ${split}: ${samples.length} images${size ? ` ${size[0]}x${size[1]}` : ''} [${counts.join(' ')}]`);
  }
  return lines.join('\n');
}
