// Folder-tree datasets: `root/<split>/<class>/<image>` or, with no split folders,
// `root/<class>/<image>` (all train).
//
// Split folders are matched case-insensitively: train|training, val|valid|validation,
// test|testing. Images are files ending in .png, .jpg or .jpeg (any case); their format is then
// taken from the magic bytes. Class names are sorted by code point (as Keras'
// `image_dataset_from_directory` sorts them) over the union of all splits, so a class missing
// from one split keeps its index, unless `root/dataset.json` lists `classNames` (or `classes`,
// as the synthetic-faces generator writes it), which then fixes the order and may name classes
// that have no folder.

import { readdirSync, readFileSync, statSync, type Dirent } from 'node:fs';
import { join } from 'node:path';
import { dataLimits, splitFromName, type Dataset, type DataLimits, type Sample, type SplitName } from './dataset.js';
import { ImageCache } from './image-cache.js';

const IMAGE_EXT = /\.(png|jpe?g)$/i;
const MAX_JSON_BYTES = 1 << 20;

export interface FileDatasetOptions {
  limits?: Partial<DataLimits>;
  /** In-memory decoded-image cache to share between loads (a fresh one if absent). */
  cache?: ImageCache;
  /** On-disk cache of the decoded images (e.g. `<run folder>/images.rgbcache`). */
  cacheFile?: string;
}

function isDir(parent: string, e: Dirent): boolean {
  if (e.isDirectory()) return true;
  return e.isSymbolicLink() && statSync(join(parent, e.name)).isDirectory();
}

function isFile(parent: string, e: Dirent): boolean {
  if (e.isFile()) return true;
  return e.isSymbolicLink() && statSync(join(parent, e.name)).isFile();
}

function visible(dir: string): Dirent[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => !e.name.startsWith('.'))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** `classNames` (or `classes`) from `root/dataset.json`, or undefined when it lists none. */
export function readClassNamesJson(root: string): string[] | undefined {
  const path = join(root, 'dataset.json');
  let size: number;
  try {
    size = statSync(path).size;
  } catch {
    return undefined;
  }
  if (size > MAX_JSON_BYTES) throw new Error(`${path}: larger than ${MAX_JSON_BYTES} bytes`);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`${path}: not valid JSON (${(err as Error).message})`);
  }
  const obj = json as { classNames?: unknown; classes?: unknown } | null;
  const key = obj?.classNames !== undefined ? 'classNames' : Array.isArray(obj?.classes) ? 'classes' : undefined;
  if (!key) return undefined;
  const names = obj![key];
  const ok = Array.isArray(names) && names.length > 0 && names.every((n) => typeof n === 'string' && n.length > 0);
  if (!ok) throw new Error(`${path}: "${key}" must be a non-empty array of non-empty strings`);
  if (new Set(names).size !== names.length) throw new Error(`${path}: "${key}" lists a name twice`);
  return names as string[];
}

export async function readFolder(root: string, options: FileDatasetOptions = {}): Promise<Dataset> {
  const limits = dataLimits(options.limits);
  const notes: string[] = [];
  const dirs = visible(root).filter((e) => isDir(root, e));
  if (dirs.length === 0) throw new Error(`${root}: no class or split folders (expected root/<split>/<class>/<image>)`);

  const splitDirs = new Map<SplitName, string>();
  for (const d of dirs) {
    const split = splitFromName(d.name);
    if (!split) continue;
    const other = splitDirs.get(split);
    if (other) throw new Error(`${root}: both "${other}" and "${d.name}" name the ${split} split`);
    splitDirs.set(split, d.name);
  }
  if (splitDirs.size > 0) {
    const ignored = dirs.filter((d) => !splitFromName(d.name)).map((d) => d.name);
    if (ignored.length) notes.push(`${root}: ignored folders that are not splits: ${ignored.join(', ')}`);
  } else {
    splitDirs.set('train', '.');
  }

  // split -> class folder -> image paths
  const found = new Map<SplitName, Map<string, string[]>>();
  for (const [split, dirName] of splitDirs) {
    const splitPath = join(root, dirName);
    const classes = new Map<string, string[]>();
    for (const c of visible(splitPath).filter((e) => isDir(splitPath, e))) {
      const classPath = join(splitPath, c.name);
      const files = visible(classPath).filter((e) => isFile(classPath, e) && IMAGE_EXT.test(e.name));
      classes.set(c.name, files.map((f) => join(classPath, f.name)));
    }
    found.set(split, classes);
  }

  const listed = readClassNamesJson(root);
  const folderNames = [...new Set([...found.values()].flatMap((m) => [...m.keys()]))].sort();
  if (listed) {
    const unknown = folderNames.filter((n) => !listed.includes(n));
    if (unknown.length) {
      const json = join(root, 'dataset.json');
      throw new Error(`${json}: class folders ${unknown.join(', ')} are not in dataset.json classNames (${listed.join(', ')})`);
    }
  }
  const classNames = listed ?? folderNames;

  const paths: string[] = [];
  const pending: { split: SplitName; label: number }[] = [];
  for (const [split, classes] of found) {
    for (const [name, files] of classes) {
      const label = classNames.indexOf(name);
      for (const f of files) {
        paths.push(f);
        pending.push({ split, label });
      }
    }
  }
  if (paths.length === 0) throw new Error(`${root}: no .png/.jpg/.jpeg images in ${[...splitDirs.values()].join(', ')}`);
  if (paths.length > limits.maxSamples) throw new Error(`${root}: ${paths.length} images, over limits.maxSamples`);

  const cache = options.cache ?? new ImageCache();
  const images = cache.loadAll(paths, limits, options.cacheFile);
  const splits: Dataset['splits'] = {};
  pending.forEach(({ split, label }, i) => {
    const sample: Sample = { image: images[i], label, source: paths[i] };
    (splits[split] ??= []).push(sample);
  });
  return { kind: 'folder', source: root, classNames, splits, notes };
}
