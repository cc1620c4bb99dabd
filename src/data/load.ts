// One entry point for every dataset kind: `loadDataset({path})` works out the kind from the path
// (a `--dataset-kind` override wins), reads it, optionally renumbers the classes, and carves a
// stratified validation split from train when the data has none.
//
// Detection: a folder holding EmoLabel/list_patition_label.txt is RAF-DB; one holding
// fer2013new.csv and fer2013.csv is FERPlus; one holding fer2013.csv is FER2013; any other folder
// is a split/class/image tree. A file with the HDF5 signature (or .h5/.hdf5) is HDF5; a .csv whose
// header has `Image name` is FERPlus labels (images from fer2013.csv beside it), one with
// `emotion` and `pixels` is FER2013; list_patition_label.txt is RAF-DB.

import { existsSync, statSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { readLines, splitCsv } from './csv.js';
import { DATASET_KINDS, dataLimits, reorderClasses, type Dataset, type DatasetKind } from './dataset.js';
import { readFer2013, readFerPlus, type FerPlusVote } from './fer2013.js';
import { readFolder } from './folder.js';
import { isHdf5File, readHdf5 } from './hdf5.js';
import { findRafDbLabelFile, RAFDB_LABEL_FILE, readRafDb, type RafDbOptions } from './raf-db.js';
import { withValidationSplit } from './split.js';

export interface DatasetSpec extends RafDbOptions {
  /** A folder, a .csv, an .h5 file or a RAF-DB label list. */
  path: string;
  /** Overrides detection (the CLI's `--dataset-kind`). */
  kind?: DatasetKind;
  /** FERPlus: fer2013new.csv when `path` is fer2013.csv (default: beside it). */
  ferplusLabels?: string;
  /** FERPlus: fer2013.csv when `path` is fer2013new.csv (default: beside it). */
  fer2013Csv?: string;
  /** FERPlus label rule (see fer2013.ts); default 'plurality'. */
  vote?: FerPlusVote;
  /** HDF5 only: the names of label indices 0..k-1 (the file does not store them). */
  classNames?: string[];
  /** Renumber classes: 'native' (default, the source's order), 'alphabetical', or explicit names. */
  classOrder?: 'native' | 'alphabetical' | string[];
  /** Fraction of train carved off as val when there is no val split (default 0.1; 0: never). */
  valFraction?: number;
  /** Seed of the validation carve (default 0). */
  seed?: number;
}

/** Validates a `--dataset-kind` value. */
export function parseDatasetKind(text: string): DatasetKind {
  const kind = text.toLowerCase().replace(/[-_]/g, '');
  const alias: Record<string, DatasetKind> = { h5: 'hdf5', fer: 'fer2013', fer2013plus: 'ferplus', raf: 'rafdb', tree: 'folder' };
  const found = (DATASET_KINDS as readonly string[]).includes(kind) ? (kind as DatasetKind) : alias[kind];
  if (!found) throw new Error(`--dataset-kind "${text}" is not one of ${DATASET_KINDS.join(', ')}`);
  return found;
}

async function csvHeader(path: string): Promise<string[]> {
  for await (const { number, text } of readLines(path, dataLimits().maxLineBytes)) {
    if (text.trim() !== '') return splitCsv(text, `${path}:${number}`).map((h) => h.toLowerCase());
  }
  return [];
}

/** The dataset kind of `path`, from its contents and names. */
export async function detectDatasetKind(path: string): Promise<DatasetKind> {
  if (!existsSync(path)) throw new Error(`${path}: no such file or folder`);
  if (statSync(path).isDirectory()) {
    if (findRafDbLabelFile(path)) return 'rafdb';
    if (existsSync(join(path, 'fer2013.csv'))) return existsSync(join(path, 'fer2013new.csv')) ? 'ferplus' : 'fer2013';
    return 'folder';
  }
  if (isHdf5File(path) || /^\.(h5|hdf5|he5)$/i.test(extname(path))) return 'hdf5';
  if (basename(path) === RAFDB_LABEL_FILE) return 'rafdb';
  if (/^\.csv$/i.test(extname(path))) {
    const header = await csvHeader(path);
    if (header.includes('image name')) return 'ferplus';
    if (header.includes('emotion') && header.includes('pixels')) return 'fer2013';
    throw new Error(`${path}: a CSV that is neither FER2013 (emotion, pixels) nor FERPlus (Image name, votes); header: ${header.join(', ')}`);
  }
  throw new Error(`${path}: cannot tell the dataset kind; pass --dataset-kind (${DATASET_KINDS.join(', ')})`);
}

async function ferPlusFiles(spec: DatasetSpec): Promise<{ images: string; labels: string }> {
  const { path } = spec;
  let images: string;
  let labels: string;
  if (statSync(path).isDirectory()) {
    images = spec.fer2013Csv ?? join(path, 'fer2013.csv');
    labels = spec.ferplusLabels ?? join(path, 'fer2013new.csv');
  } else if ((await csvHeader(path)).includes('image name')) {
    labels = path;
    images = spec.fer2013Csv ?? join(dirname(path), 'fer2013.csv');
  } else {
    images = path;
    labels = spec.ferplusLabels ?? join(dirname(path), 'fer2013new.csv');
  }
  if (!existsSync(images)) throw new Error(`FERPlus: the images file ${images} does not exist (set fer2013Csv)`);
  if (!existsSync(labels)) throw new Error(`FERPlus: the labels file ${labels} does not exist (set ferplusLabels)`);
  return { images, labels };
}

/** Reads any supported dataset; see the file comment for how the kind is chosen. */
export async function loadDataset(spec: DatasetSpec): Promise<Dataset> {
  if (!existsSync(spec.path)) throw new Error(`${spec.path}: no such file or folder`);
  const kind = spec.kind ?? (await detectDatasetKind(spec.path));
  const { limits } = spec;
  let dataset: Dataset;
  switch (kind) {
    case 'folder':
      if (!statSync(spec.path).isDirectory()) throw new Error(`${spec.path}: dataset kind folder needs a folder`);
      dataset = await readFolder(spec.path, spec);
      break;
    case 'rafdb':
      dataset = await readRafDb(spec.path, spec);
      break;
    case 'fer2013': {
      const csv = statSync(spec.path).isDirectory() ? join(spec.path, 'fer2013.csv') : spec.path;
      dataset = await readFer2013(csv, { limits });
      break;
    }
    case 'ferplus': {
      const { images, labels } = await ferPlusFiles(spec);
      dataset = await readFerPlus(images, labels, { limits, vote: spec.vote });
      break;
    }
    case 'hdf5':
      dataset = await readHdf5(spec.path, { limits, classNames: spec.classNames });
      break;
  }
  if (spec.classOrder && spec.classOrder !== 'native') dataset = reorderClasses(dataset, spec.classOrder);
  return withValidationSplit(dataset, spec.valFraction ?? 0.1, spec.seed ?? 0);
}
