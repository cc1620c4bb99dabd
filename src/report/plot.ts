// Report pictures as PNG bytes, from plain arrays: training curves, a confusion matrix and
// grids of labelled images. Drawn with the tiny rasteriser in ./raster.ts and its 5x7 font.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { type RGB, type RgbImage, Canvas, IDENTITY, mix } from './raster.js';
import { boundsOf, sdCircle, sdStroke } from './sdf.js';
import { LINE_HEIGHT, textWidth } from './font5x7.js';

const WHITE: RGB = [1, 1, 1];
const INK: RGB = [0.15, 0.15, 0.18];
const GRID: RGB = [0.9, 0.9, 0.92];
const GREEN: RGB = [0.1, 0.6, 0.2];
const RED: RGB = [0.85, 0.15, 0.12];
/** Distinct series colours (Tableau 10). */
export const PALETTE: RGB[] = [[0.12, 0.47, 0.71], [1, 0.5, 0.05], [0.17, 0.63, 0.17], [0.84, 0.15, 0.16],
  [0.58, 0.4, 0.74], [0.55, 0.34, 0.29], [0.89, 0.47, 0.76], [0.5, 0.5, 0.5]];

export interface Series {
  name: string;
  /** y values; NaN or null leaves a gap. */
  values: readonly (number | null)[];
  /** x values (default 1, 2, 3, ... as epochs). */
  x?: readonly number[];
  color?: RGB;
}

export interface LineChartOptions {
  series: readonly Series[];
  title?: string;
  xLabel?: string;
  yLabel?: string;
  /** Fixed y range; default: the data range padded to nice ticks. */
  yMin?: number;
  yMax?: number;
  width?: number;
  height?: number;
  /** Corner of the plot area that holds the legend (default top right). */
  legend?: 'top-right' | 'bottom-right';
}

/** A line chart with axes, ticks, grid and a legend. */
export function plotLineChart(opts: LineChartOptions): Buffer {
  const cv = new Canvas(opts.width ?? 640, opts.height ?? 400, WHITE);
  drawLineChart(cv, 0, 0, cv.width, cv.height, opts);
  return cv.toPng();
}

export interface TrainingHistory {
  trainLoss?: readonly number[];
  valLoss?: readonly number[];
  trainAcc?: readonly number[];
  valAcc?: readonly number[];
}

/** Loss (left) and accuracy (right) over epochs, side by side. */
export function plotTrainingCurves(h: TrainingHistory, opts: { width?: number; height?: number; title?: string } = {}): Buffer {
  const width = opts.width ?? 960, height = opts.height ?? 400;
  const cv = new Canvas(width, height, WHITE);
  const top = opts.title ? 24 : 0;
  if (opts.title) cv.text(opts.title, width / 2, 6, INK, { scale: 2, align: 'center' });
  const pick = (name: string, v: readonly number[] | undefined, color: RGB): Series[] =>
    v && v.length ? [{ name, values: v, color }] : [];
  drawLineChart(cv, 0, top, width / 2, height - top, {
    title: 'LOSS', xLabel: 'epoch', yLabel: 'loss',
    series: [...pick('train', h.trainLoss, PALETTE[0]), ...pick('val', h.valLoss, PALETTE[1])],
  });
  drawLineChart(cv, width / 2, top, width / 2, height - top, {
    title: 'ACCURACY', xLabel: 'epoch', yLabel: 'accuracy', yMin: 0, yMax: 1, legend: 'bottom-right',
    series: [...pick('train', h.trainAcc, PALETTE[0]), ...pick('val', h.valAcc, PALETTE[1])],
  });
  return cv.toPng();
}

function drawLineChart(cv: Canvas, x0: number, y0: number, w: number, h: number, o: LineChartOptions): void {
  cv.setTransform(IDENTITY);
  const xs = o.series.map((s) => s.x ?? s.values.map((_, i) => i + 1));
  const allX = xs.flat();
  const allY = o.series.flatMap((s) => s.values.filter((v): v is number => v !== null && Number.isFinite(v)));
  const xr = niceRange(Math.min(...allX, 1), Math.max(...allX, 2), 8);
  const yr = o.yMin !== undefined && o.yMax !== undefined
    ? niceRange(o.yMin, o.yMax, 6, true) : niceRange(o.yMin ?? Math.min(...allY, 0), o.yMax ?? Math.max(...allY, 1e-6), 6);
  const left = x0 + 52, right = x0 + w - 14, top = y0 + (o.title ? 26 : 12), bottom = y0 + h - 38;
  const px = (v: number) => left + ((v - xr.min) / (xr.max - xr.min)) * (right - left);
  const py = (v: number) => bottom - ((v - yr.min) / (yr.max - yr.min)) * (bottom - top);
  if (o.title) cv.text(o.title, (left + right) / 2, y0 + 8, INK, { scale: 1, align: 'center' });
  for (const t of ticks(yr)) {
    cv.fillRect(left, Math.round(py(t)), right - left, 1, GRID);
    cv.text(fmt(t, yr.step), left - 6, Math.round(py(t)) - 3, INK, { align: 'right' });
  }
  for (const t of ticks(xr)) {
    cv.fillRect(Math.round(px(t)), top, 1, bottom - top, GRID);
    cv.fillRect(Math.round(px(t)), bottom, 1, 4, INK);
    cv.text(fmt(t, xr.step), Math.round(px(t)), bottom + 7, INK, { align: 'center' });
  }
  cv.fillRect(left, bottom, right - left + 1, 1, INK);
  cv.fillRect(left, top, 1, bottom - top, INK);
  if (o.xLabel) cv.text(o.xLabel, (left + right) / 2, bottom + 20, INK, { align: 'center' });
  if (o.yLabel) cv.text(o.yLabel, x0 + 6, (top + bottom) / 2, INK, { vertical: true, align: 'center' });
  o.series.forEach((s, k) => {
    const color = s.color ?? PALETTE[k % PALETTE.length];
    let run: number[] = [];
    const flush = () => {
      if (run.length >= 4) cv.fill(sdStroke(run, 2), boundsOf(run, 2), color);
      run = [];
    };
    s.values.forEach((v, i) => {
      if (v === null || !Number.isFinite(v)) return flush();
      const X = px(xs[k][i]), Y = py(v);
      run.push(X, Y);
      if (s.values.length <= 60) cv.fill(sdCircle(X, Y, 2.5), [X - 4, Y - 4, X + 4, Y + 4], color);
    });
    flush();
  });
  // Legend, top right inside the plot area.
  const lw = Math.max(0, ...o.series.map((s) => textWidth(s.name))) + 34;
  const boxH = o.series.length * 12 + 8;
  const boxY = o.legend === 'bottom-right' ? bottom - boxH - 4 : top + 3;
  let ly = boxY + 5;
  if (o.series.length) cv.fillRect(right - lw - 8, boxY, lw, boxH, [0.97, 0.97, 0.98]);
  o.series.forEach((s, k) => {
    const color = s.color ?? PALETTE[k % PALETTE.length];
    cv.fillRect(right - lw - 2, ly + 2, 16, 3, color);
    cv.text(s.name, right - lw + 20, ly, INK);
    ly += 12;
  });
}

interface NiceRange { min: number; max: number; step: number }

function niceRange(lo: number, hi: number, n: number, exact = false): NiceRange {
  if (!(hi > lo)) hi = lo + 1;
  const raw = (hi - lo) / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  return exact ? { min: lo, max: hi, step } : { min: Math.floor(lo / step) * step, max: Math.ceil(hi / step) * step, step };
}

function ticks(r: NiceRange): number[] {
  const out: number[] = [];
  for (let t = Math.ceil(r.min / r.step - 1e-9) * r.step; t <= r.max + r.step * 1e-6; t += r.step) out.push(t);
  return out;
}

function fmt(v: number, step: number): string {
  const digits = Math.max(0, Math.min(6, -Math.floor(Math.log10(step) + 1e-9) + (step % 1 === 0.5 ? 1 : 0)));
  return v.toFixed(step >= 1 && Number.isInteger(step) ? 0 : Math.max(1, digits));
}

export interface ConfusionOptions {
  /** matrix[true][predicted] = count. */
  matrix: readonly (readonly number[])[];
  classNames: readonly string[];
  title?: string;
  cell?: number;
}

/** A heatmap with counts; colours are normalised per true-class row. */
export function plotConfusionMatrix(o: ConfusionOptions): Buffer {
  const n = o.classNames.length;
  if (o.matrix.length !== n || o.matrix.some((r) => r.length !== n)) {
    throw new Error(`plotConfusionMatrix: matrix must be ${n}x${n} for ${n} class names`);
  }
  const cell = o.cell ?? 44;
  const lab = Math.max(...o.classNames.map((c) => textWidth(c))) + 26;
  const top = lab + (o.title ? 22 : 6), left = lab;
  const cv = new Canvas(left + n * cell + 12, top + n * cell + 12, WHITE);
  if (o.title) cv.text(o.title, cv.width / 2, 6, INK, { scale: 2, align: 'center' });
  cv.text('predicted', left + (n * cell) / 2, top - lab + 2, INK, { align: 'center' });
  cv.text('true', 4, top + (n * cell) / 2, INK, { vertical: true, align: 'center' });
  for (let i = 0; i < n; i++) {
    const sum = o.matrix[i].reduce((a, b) => a + b, 0);
    cv.text(o.classNames[i], left - 5, top + i * cell + cell / 2 - 3, INK, { align: 'right' });
    cv.text(o.classNames[i], left + i * cell + cell / 2 - 3, top - 5, INK, { vertical: true });
    for (let j = 0; j < n; j++) {
      const v = sum > 0 ? o.matrix[i][j] / sum : 0;
      const bg = mix([0.97, 0.98, 1], i === j ? [0.08, 0.4, 0.2] : [0.1, 0.25, 0.6], v);
      const x = left + j * cell, y = top + i * cell;
      cv.fillRect(x, y, cell - 1, cell - 1, bg);
      const fg: RGB = v > 0.45 ? WHITE : INK;
      cv.text(String(o.matrix[i][j]), x + cell / 2, y + cell / 2 - 9, fg, { align: 'center' });
      cv.text(`${Math.round(v * 100)}%`, x + cell / 2, y + cell / 2 + 3, fg, { align: 'center' });
    }
  }
  return cv.toPng();
}

export interface PredictionSample {
  image: RgbImage;
  trueLabel: number;
  predLabel: number;
  /** Probability of the predicted class. */
  prob: number;
}

/** Sample images with predicted (green if right, red if wrong) and true labels. */
export function plotPredictionGrid(o: { samples: readonly PredictionSample[]; classNames: readonly string[];
  columns?: number; title?: string }): Buffer {
  const s = o.samples;
  if (!s.length) throw new Error('plotPredictionGrid: no samples');
  const zoom = Math.max(1, Math.round(96 / s[0].image.width));
  const iw = s[0].image.width * zoom, ih = s[0].image.height * zoom;
  const labels = s.map((x) => `${o.classNames[x.predLabel] ?? x.predLabel} ${Math.round(x.prob * 100)}%`);
  const cw = Math.max(iw, ...labels.map((l) => textWidth(l)), ...o.classNames.map((c) => textWidth(c) + 12)) + 12;
  const ch = ih + 2 * LINE_HEIGHT + 14;
  const cols = o.columns ?? Math.min(s.length, 8);
  const top = o.title ? 24 : 4;
  const cv = new Canvas(cols * cw + 4, top + Math.ceil(s.length / cols) * ch + 4, WHITE);
  if (o.title) cv.text(o.title, cv.width / 2, 6, INK, { scale: 2, align: 'center' });
  s.forEach((x, k) => {
    const cx = 4 + (k % cols) * cw, cy = top + Math.floor(k / cols) * ch;
    const ok = x.predLabel === x.trueLabel;
    const ix = cx + Math.floor((cw - 4 - iw) / 2);
    cv.fillRect(ix - 2, cy - 2 + 2, iw + 4, ih + 4, ok ? GREEN : RED);
    cv.blit(x.image, ix, cy + 2, zoom);
    cv.text(labels[k], cx + (cw - 4) / 2, cy + ih + 7, ok ? GREEN : RED, { align: 'center' });
    cv.text(`T:${o.classNames[x.trueLabel] ?? x.trueLabel}`, cx + (cw - 4) / 2, cy + ih + 7 + LINE_HEIGHT, INK, { align: 'center' });
  });
  return cv.toPng();
}

/** Rows of images, each row labelled at its left (e.g. samples per class). */
export function plotContactSheet(rows: readonly { label: string; images: readonly RgbImage[] }[],
  opts: { title?: string; zoom?: number; gap?: number } = {}): Buffer {
  const first = rows.find((r) => r.images.length)?.images[0];
  if (!first) throw new Error('plotContactSheet: no images');
  const zoom = opts.zoom ?? 1, gap = opts.gap ?? 4;
  const iw = first.width * zoom, ih = first.height * zoom;
  const left = Math.max(...rows.map((r) => textWidth(r.label, 2))) + 16;
  const top = opts.title ? 28 : gap;
  const cols = Math.max(...rows.map((r) => r.images.length));
  const cv = new Canvas(left + cols * (iw + gap), top + rows.length * (ih + gap), WHITE);
  if (opts.title) cv.text(opts.title, cv.width / 2, 8, INK, { scale: 2, align: 'center' });
  rows.forEach((r, i) => {
    const y = top + i * (ih + gap);
    cv.text(r.label, left - 8, y + ih / 2 - 7, INK, { scale: 2, align: 'right' });
    r.images.forEach((img, j) => cv.blit(img, left + j * (iw + gap), y, zoom));
  });
  return cv.toPng();
}

/** Writes PNG bytes to `path`, creating folders. */
export function writePlot(path: string, png: Buffer): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, png);
}

export interface DotStripRow {
  label: string;
  /** One value per run, oldest first; null where that run has none. */
  values: readonly (number | null)[];
}

export interface DotStripOptions {
  rows: readonly DotStripRow[];
  title?: string;
  xLabel?: string;
  /** A vertical reference line (a target), drawn red. */
  reference?: { value: number; label: string };
  /** Log-scale x range; default: the data and the reference, widened to powers of 2. */
  xMin?: number;
  xMax?: number;
  width?: number;
}

/** Where a dot strip puts things: exported so that tests can find a value's pixel column. */
export interface DotStripLayout {
  width: number;
  left: number;
  right: number;
  top: number;
  rowHeight: number;
  xMin: number;
  xMax: number;
  /** Pixel column of value v on the log axis. */
  px(v: number): number;
}

const ROW_H = 18;

export function dotStripLayout(o: DotStripOptions): DotStripLayout {
  const width = o.width ?? 900;
  const all = o.rows.flatMap((r) => r.values.filter((v): v is number => v !== null && v > 0));
  if (o.reference) all.push(o.reference.value);
  const lo = o.xMin ?? 2 ** Math.floor(Math.log2(Math.min(...all, 1)));
  const hi = o.xMax ?? 2 ** Math.ceil(Math.log2(Math.max(...all, 2)));
  const left = Math.max(0, ...o.rows.map((r) => textWidth(r.label))) + 16;
  const right = width - 110;
  const top = o.title ? 44 : 22;
  const span = Math.log(hi / lo);
  return {
    width, left, right, top, rowHeight: ROW_H, xMin: lo, xMax: hi,
    px: (v) => left + (Math.log(Math.min(hi, Math.max(lo, v)) / lo) / span) * (right - left),
  };
}

/**
 * One row per label, one dot per run on a log x axis: older runs pale, the newest run that has
 * the row's figure black and larger, with min-max of the row in text on the right. For figures that swing from run to run,
 * where one number would mislead (benchmark ratios on a noisy machine).
 */
export function plotDotStrip(o: DotStripOptions): Buffer {
  const L = dotStripLayout(o);
  const height = L.top + o.rows.length * ROW_H + 40;
  const cv = new Canvas(L.width, height, WHITE);
  const bottom = L.top + o.rows.length * ROW_H;
  if (o.title) cv.text(o.title, cv.width / 2, 8, INK, { scale: 2, align: 'center' });
  for (let t = L.xMin; t <= L.xMax * 1.0001; t *= 2) {
    const x = Math.round(L.px(t));
    cv.fillRect(x, L.top, 1, bottom - L.top, GRID);
    cv.fillRect(x, bottom, 1, 4, INK);
    cv.text(t >= 1 ? String(t) : t.toString(), x, bottom + 7, INK, { align: 'center' });
  }
  cv.fillRect(L.left, bottom, L.right - L.left + 1, 1, INK);
  if (o.xLabel) cv.text(o.xLabel, (L.left + L.right) / 2, bottom + 22, INK, { align: 'center' });
  if (o.reference) {
    const x = Math.round(L.px(o.reference.value));
    cv.fillRect(x, L.top - 4, 1, bottom - L.top + 4, RED);
    cv.text(o.reference.label, x + 4, L.top - 10, RED);
  }
  o.rows.forEach((r, i) => {
    const y = L.top + i * ROW_H + ROW_H / 2;
    if (i % 2 === 1) cv.fillRect(L.left + 1, L.top + i * ROW_H, L.right - L.left, ROW_H, [0.975, 0.975, 0.98]);
    cv.text(r.label, L.left - 8, y - 3, INK, { align: 'right' });
    const seen = r.values.map((v, k) => [v, k] as const).filter((e): e is readonly [number, number] => e[0] !== null && e[0] > 0);
    const n = r.values.length;
    const newestSeen = seen.length ? seen[seen.length - 1][1] : -1;
    for (const [v, k] of seen) {
      const newest = k === newestSeen;
      const age = n > 1 ? k / (n - 1) : 1;
      const color = newest ? INK : mix([0.82, 0.84, 0.9], PALETTE[0], age);
      const X = L.px(v);
      const rad = newest ? 3.5 : 2.5;
      cv.fill(sdCircle(X, y, rad), [X - rad - 1, y - rad - 1, X + rad + 1, y + rad + 1], color);
    }
    if (seen.length) {
      const vs = seen.map(([v]) => v);
      const text = `${Math.min(...vs).toFixed(1)}-${Math.max(...vs).toFixed(1)}`;
      cv.text(text, L.right + 10, y - 3, INK);
    }
  });
  return cv.toPng();
}
