// FER2013 (Kaggle CSV) and FERPlus (the same images, relabelled by fer2013new.csv vote counts).
//
// fer2013.csv: header `emotion,pixels,Usage`; one face per line, 48x48 grey pixels as
// space-separated integers; `Usage` is Training / PublicTest / PrivateTest, which become the
// train / val / test splits. Labels 0..6 are angry, disgust, fear, happy, sad, surprise, neutral
// (the Kaggle challenge's order). A CSV without a Usage column (Kaggle's train.csv) is all train.
//
// fer2013new.csv (github.com/microsoft/FERPlus): header
// `Usage,Image name,neutral,happiness,surprise,sadness,anger,disgust,fear,contempt,unknown,NF`,
// one row per fer2013.csv row in the same order, with the votes of 10 taggers per column.
// The label is chosen by `vote`:
// - 'plurality' (default): the column with the most votes. The row is dropped when that column
//   is unknown or NF, when the top count is shared by two or more columns, or when there are no
//   votes at all.
// - 'majority': the FERPlus authors' "majority" mode: single votes are discarded first, then the
//   top emotion must hold more than half of the remaining votes (and not be unknown or NF).

import { columnIndex, intField, readLines, splitCsv, type Line } from './csv.js';
import { checkBudget, dataLimits, type Dataset, type DataLimits, type Sample, type SplitName } from './dataset.js';

export const FER2013_CLASSES = ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral'];
export const FERPLUS_CLASSES = ['neutral', 'happiness', 'surprise', 'sadness', 'anger', 'disgust', 'fear', 'contempt'];
const FERPLUS_COLUMNS = [...FERPLUS_CLASSES, 'unknown', 'NF'];
const USAGE: Record<string, SplitName> = { training: 'train', publictest: 'val', privatetest: 'test' };

export type FerPlusVote = 'plurality' | 'majority';

interface FerRow {
  line: number;
  split: SplitName;
  usage: string;
  label: number;
  sample: Sample;
}

/**
 * Packs same-size RGB images into shared blocks so 35k faces are not 35k allocations. A block
 * holds `perBlock` images but at most `maxBlockBytes` (or one image), so one large row cannot
 * make a small file reserve a thousand images' worth of memory.
 */
class BlockAllocator {
  private block = new Uint8Array(0);
  private used = 0;
  constructor(private readonly perBlock = 1024, private readonly maxBlockBytes = 16 << 20) {}
  take(bytes: number): Uint8Array {
    if (this.used + bytes > this.block.length) {
      this.block = new Uint8Array(Math.max(bytes, Math.min(bytes * this.perBlock, this.maxBlockBytes)));
      this.used = 0;
    }
    const view = this.block.subarray(this.used, this.used + bytes);
    this.used += bytes;
    return view;
  }
}

/** Streams the rows of fer2013.csv as RGB samples with their FER2013 label and split. */
async function* fer2013Rows(path: string, limits: DataLimits): AsyncGenerator<FerRow> {
  let columns: number[] | undefined;
  let usageCol = -1;
  let fieldCount = 0;
  let side = 0;
  let count = 0;
  const grey = new Uint8Array(limits.maxLineBytes);
  const alloc = new BlockAllocator();
  for await (const { number, text } of readLines(path, limits.maxLineBytes)) {
    const where = `${path}:${number}`;
    if (text.trim() === '') continue;
    const fields = splitCsv(text, where);
    if (!columns) {
      columns = columnIndex(fields, ['emotion', 'pixels'], path);
      usageCol = fields.findIndex((f) => f.trim().toLowerCase() === 'usage');
      fieldCount = fields.length;
      continue;
    }
    if (fields.length !== fieldCount) {
      throw new Error(`${where}: expected ${fieldCount} fields like the header, found ${fields.length}`);
    }
    const label = intField(fields[columns[0]], 0, FER2013_CLASSES.length - 1, 'emotion', where);
    let split: SplitName = 'train';
    const usage = usageCol >= 0 ? fields[usageCol] : 'Training';
    if (usageCol >= 0) {
      const s = USAGE[usage.toLowerCase()];
      if (!s) throw new Error(`${where}: Usage "${usage}" is not Training, PublicTest or PrivateTest`);
      split = s;
    }
    const n = parsePixels(fields[columns[1]], grey, where);
    if (side === 0) {
      side = Math.round(Math.sqrt(n));
      if (side * side !== n) throw new Error(`${where}: ${n} pixel values do not make a square image`);
      if (side > limits.maxWidth || n > limits.maxPixels) throw new Error(`${where}: ${side}x${side} exceeds the image limit`);
    } else if (n !== side * side) {
      throw new Error(`${where}: expected ${side * side} pixel values (${side}x${side}) like the first row, found ${n}`);
    }
    count++;
    checkBudget(path, count * n * 3, count, limits);
    const data = alloc.take(n * 3);
    for (let i = 0, j = 0; i < n; i++, j += 3) data[j] = data[j + 1] = data[j + 2] = grey[i];
    yield { line: number, split, usage, label, sample: { image: { width: side, height: side, data }, label, source: where } };
  }
  if (!columns) throw new Error(`${path}: empty file (no header row)`);
}

/** Parses space-separated integers 0..255 into `out`; returns the count. */
function parsePixels(text: string, out: Uint8Array, where: string): number {
  let n = 0;
  let value = -1;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 32;
    if (c >= 48 && c <= 57) {
      value = value < 0 ? c - 48 : value * 10 + (c - 48);
      if (value > 255) throw new Error(`${where}: pixel value ${n + 1} is over 255`);
    } else if (c === 32 || c === 9) {
      if (value >= 0) {
        if (n >= out.length) throw new Error(`${where}: too many pixel values`);
        out[n++] = value;
        value = -1;
      }
    } else {
      throw new Error(`${where}: pixel value ${n + 1} contains "${text[i]}"`);
    }
  }
  if (n === 0) throw new Error(`${where}: no pixel values`);
  return n;
}

function emptySplits(): Record<SplitName, Sample[]> {
  return { train: [], val: [], test: [] };
}

function present(splits: Record<SplitName, Sample[]>): Dataset['splits'] {
  const out: Dataset['splits'] = {};
  for (const [k, v] of Object.entries(splits) as [SplitName, Sample[]][]) if (v.length) out[k] = v;
  return out;
}

export interface FerOptions {
  limits?: Partial<DataLimits>;
}

/** Reads fer2013.csv (or Kaggle's train.csv, which has no Usage column and is all train). */
export async function readFer2013(path: string, options: FerOptions = {}): Promise<Dataset> {
  const splits = emptySplits();
  for await (const row of fer2013Rows(path, dataLimits(options.limits))) splits[row.split].push(row.sample);
  return { kind: 'fer2013', source: path, classNames: [...FER2013_CLASSES], splits: present(splits), notes: [] };
}

export interface FerPlusOptions extends FerOptions {
  vote?: FerPlusVote;
}

/** Reads FERPlus: images from fer2013.csv, labels from fer2013new.csv, rows aligned by order. */
export async function readFerPlus(imagesCsv: string, labelsCsv: string, options: FerPlusOptions = {}): Promise<Dataset> {
  const limits = dataLimits(options.limits);
  const vote = options.vote ?? 'plurality';
  const labels = readLines(labelsCsv, limits.maxLineBytes);
  const next = async (): Promise<{ line: Line; fields: string[] } | undefined> => {
    for (;;) {
      const r = await labels.next();
      if (r.done) return undefined;
      if (r.value.text.trim() === '') continue;
      return { line: r.value, fields: splitCsv(r.value.text, `${labelsCsv}:${r.value.number}`) };
    }
  };
  const splits = emptySplits();
  const dropped = { unknown: 0, tie: 0, none: 0 };
  let rows = 0;
  try {
    const header = await next();
    if (!header) throw new Error(`${labelsCsv}: empty file (no header row)`);
    const cols = columnIndex(header.fields, ['usage', ...FERPLUS_COLUMNS], labelsCsv);
    for await (const row of fer2013Rows(imagesCsv, limits)) {
      const rec = await next();
      if (!rec) throw new Error(`${labelsCsv}: ends after ${rows} rows but ${imagesCsv} goes on (line ${row.line})`);
      rows++;
      const where = `${labelsCsv}:${rec.line.number}`;
      if (rec.fields.length !== header.fields.length) {
        throw new Error(`${where}: expected ${header.fields.length} fields like the header, found ${rec.fields.length}`);
      }
      const usage = rec.fields[cols[0]];
      if (usage.toLowerCase() !== row.usage.toLowerCase()) {
        throw new Error(`${where}: Usage "${usage}" differs from ${imagesCsv}:${row.line} ("${row.usage}"); the files are not aligned`);
      }
      const counts = FERPLUS_COLUMNS.map((c, i) => intField(rec.fields[cols[i + 1]], 0, 1000, `${c} count`, where));
      const label = vote === 'majority' ? majorityLabel(counts) : pluralityLabel(counts);
      if (typeof label === 'string') { dropped[label]++; continue; }
      splits[row.split].push({ ...row.sample, label });
    }
    if ((await next()) !== undefined) throw new Error(`${labelsCsv}: has more rows than ${imagesCsv} (${rows})`);
  } finally {
    await labels.return(undefined); // closes the file when reading stopped early
  }
  const total = dropped.unknown + dropped.tie + dropped.none;
  const notes = [
    `ferplus (${vote} vote): kept ${rows - total} of ${rows} rows; dropped ${dropped.unknown} unknown/NF, ` +
      `${dropped.tie} ties, ${dropped.none} without votes`,
  ];
  return { kind: 'ferplus', source: labelsCsv, classNames: [...FERPLUS_CLASSES], splits: present(splits), notes };
}

type Drop = 'unknown' | 'tie' | 'none';

/** Most-voted column over all ten; ties, unknown/NF and all-zero rows are dropped. */
export function pluralityLabel(counts: readonly number[]): number | Drop {
  const max = Math.max(...counts);
  if (max === 0) return 'none';
  const top = counts.flatMap((c, i) => (c === max ? [i] : []));
  if (top.length > 1) return 'tie';
  return top[0] >= FERPLUS_CLASSES.length ? 'unknown' : top[0];
}

/** The FERPlus paper's majority mode: drop single votes, then require > 50% of the rest. */
export function majorityLabel(counts: readonly number[]): number | Drop {
  const kept = counts.map((c) => (c <= 1 ? 0 : c));
  const sum = kept.reduce((a, b) => a + b, 0);
  if (sum === 0) return 'none';
  const max = Math.max(...kept);
  if (max <= sum / 2) return 'tie';
  const i = kept.indexOf(max);
  return i >= FERPLUS_CLASSES.length ? 'unknown' : i;
}
