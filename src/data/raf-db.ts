// RAF-DB basic-emotion subset.
//
// Layout as distributed: `basic/EmoLabel/list_patition_label.txt` (sic) with lines like
// `train_00001.jpg 5`, and the 100x100 aligned faces in `basic/Image/aligned/train_00001_aligned.jpg`
// (the unaligned originals in `Image/original/train_00001.jpg`). A flattened copy with the list
// and an `aligned/` folder side by side is accepted too. The split is the name's prefix
// (train_ / test_); RAF-DB has no validation split. Labels 1..7 are Surprise, Fear, Disgust,
// Happiness, Sadness, Anger, Neutral; they become 0..6 in that order. (DESIGN.md trains RAF-DB
// with the classes sorted alphabetically; `reorderClasses(ds, 'alphabetical')` gives that.)

import { existsSync, statSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { intField, readLines } from './csv.js';
import { dataLimits, type Dataset, type Sample, type SplitName } from './dataset.js';
import type { FileDatasetOptions } from './folder.js';
import { ImageCache } from './image-cache.js';

export const RAFDB_CLASSES = ['surprise', 'fear', 'disgust', 'happiness', 'sadness', 'anger', 'neutral'];
export const RAFDB_LABEL_FILE = 'list_patition_label.txt';

export interface RafDbOptions extends FileDatasetOptions {
  /** Use the aligned 100x100 faces (default) or the original photos. */
  aligned?: boolean;
}

/** The label list inside a RAF-DB folder, or undefined. */
export function findRafDbLabelFile(dir: string): string | undefined {
  return [join(dir, 'EmoLabel', RAFDB_LABEL_FILE), join(dir, RAFDB_LABEL_FILE)].find((p) => existsSync(p));
}

/** Reads RAF-DB from its folder or from the path of `list_patition_label.txt`. */
export async function readRafDb(path: string, options: RafDbOptions = {}): Promise<Dataset> {
  const limits = dataLimits(options.limits);
  const aligned = options.aligned ?? true;
  const labelFile = statSync(path).isDirectory() ? findRafDbLabelFile(path) : path;
  if (!labelFile) throw new Error(`${path}: no EmoLabel/${RAFDB_LABEL_FILE} or ${RAFDB_LABEL_FILE} in this folder`);
  let root = dirname(labelFile);
  if (basename(root) === 'EmoLabel') root = dirname(root);
  const sub = aligned ? 'aligned' : 'original';
  const imageDir = [join(root, 'Image', sub), join(root, sub)].find((p) => existsSync(p));
  if (!imageDir) throw new Error(`${labelFile}: no image folder Image/${sub} or ${sub} under ${root}`);

  const rows: { path: string; split: SplitName; label: number }[] = [];
  const seen = new Set<string>();
  for await (const { number, text } of readLines(labelFile, limits.maxLineBytes)) {
    const where = `${labelFile}:${number}`;
    const tokens = text.trim().split(/\s+/);
    if (tokens.length === 1 && tokens[0] === '') continue;
    if (tokens.length !== 2) throw new Error(`${where}: expected "<image name> <label>", found "${text.trim()}"`);
    const [name, labelText] = tokens;
    const lower = name.toLowerCase();
    const split: SplitName | undefined = lower.startsWith('train_') ? 'train' : lower.startsWith('test_') ? 'test' : undefined;
    if (!split) throw new Error(`${where}: image name "${name}" starts with neither train_ nor test_`);
    if (name.includes('/') || name.includes('\\')) throw new Error(`${where}: image name "${name}" contains a path separator`);
    if (seen.has(name)) throw new Error(`${where}: image "${name}" is listed twice`);
    seen.add(name);
    const label = intField(labelText, 1, RAFDB_CLASSES.length, 'label', where) - 1;
    const file = aligned ? `${name.slice(0, name.length - extname(name).length)}_aligned${extname(name)}` : name;
    const imagePath = join(imageDir, file);
    if (!existsSync(imagePath)) throw new Error(`${where}: image ${imagePath} does not exist`);
    rows.push({ path: imagePath, split, label });
    if (rows.length > limits.maxSamples) throw new Error(`${labelFile}: more than ${limits.maxSamples} images (limits.maxSamples)`);
  }
  if (rows.length === 0) throw new Error(`${labelFile}: no images listed`);

  const cache = options.cache ?? new ImageCache();
  const images = cache.loadAll(rows.map((r) => r.path), limits, options.cacheFile);
  const splits: Dataset['splits'] = {};
  rows.forEach((r, i) => {
    const sample: Sample = { image: images[i], label: r.label, source: r.path };
    (splits[r.split] ??= []).push(sample);
  });
  return { kind: 'rafdb', source: labelFile, classNames: [...RAFDB_CLASSES], splits, notes: [] };
}
