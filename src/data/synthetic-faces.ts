// Procedural facial-expression dataset: cartoon-like faces drawn by a small CPU rasteriser, with
// the FER classes told apart by their facial-action cues (brows, lids, mouth, nose wrinkle,
// cheeks), and random identity, pose, lighting, background, noise and occluders. Everything is
// a pure function of a seed, so a dataset is reproducible byte for byte.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type RGB, type RgbImage, Canvas, affine, encodePng, mix } from '../report/raster.js';
import { sdEllipse, sdRect } from '../report/sdf.js';
import { type FaceParams, type Pair, drawFace } from './synthetic-faces-draw.js';

export const GENERATOR_VERSION = 1;
/** FER class order (DESIGN §2): contempt comes after anger in the 8-class variant. */
export const FER8_CLASSES = ['anger', 'contempt', 'disgust', 'fear', 'happiness', 'neutral', 'sadness', 'surprise'] as const;
export const FER7_CLASSES = FER8_CLASSES.filter((c) => c !== 'contempt');
export type FerClass = (typeof FER8_CLASSES)[number];

export function classNames(classes: 7 | 8): readonly FerClass[] {
  return classes === 8 ? FER8_CLASSES : FER7_CLASSES;
}

export interface FaceOptions {
  /** Square output size in pixels (default 96). */
  size?: number;
  /** 7 or 8 classes: decides what `classIndex` means (default 8). */
  classes?: 7 | 8;
  /** Fixed expression intensity in [0, 1]; default: random in `intensityRange`. */
  intensity?: number;
  /** Range of the random intensity (default [0.45, 1]). */
  intensityRange?: readonly [number, number];
  /** A frontal, centred face on a plain background: no pose, lighting, noise or occluders. */
  clean?: boolean;
  /**
   * How much nuisance variation: 'full' (default: pose, lighting, noise, occluders), 'mild'
   * (40% of the pose and lighting ranges, light noise, no occluders), 'none' (same as clean).
   */
  variation?: Variation;
}

export type Variation = 'full' | 'mild' | 'none';

export interface SyntheticFace extends RgbImage {
  className: FerClass;
  intensity: number;
}

/** A small fast PRNG (mulberry32) with helpers. */
export class Rng {
  private s: number;
  constructor(seed: number) { this.s = seed >>> 0; }
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  range(a: number, b: number): number { return a + (b - a) * this.next(); }
  int(n: number): number { return Math.floor(this.next() * n); }
  chance(p: number): boolean { return this.next() < p; }
  gauss(): number { return Math.sqrt(-2 * Math.log(1 - this.next())) * Math.cos(2 * Math.PI * this.next()); }
  pick<T>(xs: readonly T[]): T { return xs[this.int(xs.length)]; }
}

/** Mixes integers into one 32-bit seed (order matters). */
export function hashSeed(...parts: number[]): number {
  let h = 0x811c9dc5;
  for (const p of parts) {
    h = Math.imul(h ^ (p >>> 0), 0x01000193);
    h ^= h >>> 13; h = Math.imul(h, 0x5bd1e995); h ^= h >>> 15;
  }
  return h >>> 0;
}

const SKIN: RGB[] = [[0.97, 0.85, 0.76], [0.93, 0.77, 0.64], [0.85, 0.65, 0.5], [0.74, 0.53, 0.38],
  [0.58, 0.4, 0.28], [0.43, 0.29, 0.2], [0.3, 0.2, 0.14]];
const HAIR: RGB[] = [[0.08, 0.06, 0.05], [0.22, 0.14, 0.08], [0.4, 0.26, 0.14], [0.78, 0.62, 0.36],
  [0.6, 0.26, 0.12], [0.6, 0.6, 0.58], [0.14, 0.1, 0.08]];
const IRIS: RGB[] = [[0.3, 0.18, 0.1], [0.18, 0.1, 0.06], [0.25, 0.4, 0.6], [0.3, 0.45, 0.3], [0.4, 0.35, 0.2]];

/** Expression offsets at full intensity, added to a neutral face. */
type Delta = Partial<Record<keyof FaceParams, number | Pair>>;

function expressionDelta(name: FerClass, rng: Rng): Delta {
  switch (name) {
    case 'anger': {
      const bared = rng.chance(0.3);
      return { browInner: [0.1, 0.1], browOuter: [-0.03, -0.03], browIn: 0.05, browArch: -0.03,
        eyeOpen: [-0.3, -0.3], lidSlant: 0.6, lowerLid: [0.35, 0.35], mouthCorner: [0.03, 0.03],
        mouthWidth: -0.12, lipPress: bared ? 0 : 1, glabella: 1, noseWrinkle: 0.15,
        mouthOpen: bared ? 0.05 : 0, teethUpper: bared ? 1 : 0, teethLower: bared ? 1 : 0 };
    }
    case 'contempt': {
      const s = rng.chance(0.5) ? 0 : 1;
      const side = (v: number): Pair => (s === 0 ? [v, 0] : [0, v]);
      return { mouthCorner: side(-0.085), cornerOut: side(0.05), dimple: side(1), eyeOpen: [-0.15, -0.15],
        browOuter: side(-0.03), lipPress: 0.5, mouthWidth: -0.05 };
    }
    case 'disgust':
      return { noseWrinkle: 1, upperLipRaise: 0.06, mouthOpen: 0.025, teethUpper: 1, mouthCorner: [0.035, 0.035],
        mouthWidth: -0.05, browInner: [0.07, 0.07], browOuter: [0.02, 0.02], browIn: 0.03,
        eyeOpen: [-0.4, -0.4], lowerLid: [0.55, 0.55], nasolabial: 1, cheekRaise: 0.3, lidSlant: 0.2 };
    case 'fear':
      return { browInner: [-0.11, -0.11], browOuter: [-0.04, -0.04], browIn: 0.04, browArch: -0.03,
        eyeOpen: [0.6, 0.6], lowerLid: [0.1, 0.1], mouthOpen: 0.1, mouthWidth: 0.3, mouthCorner: [0.035, 0.035],
        mouthRound: 0.1, teethLower: 0.8, teethUpper: 0.3, foreheadLines: 0.7, lidSlant: -0.2 };
    case 'happiness': {
      const open = rng.chance(0.6) ? rng.range(0.05, 0.11) : 0;
      return { mouthCorner: [-0.11, -0.11], mouthWidth: 0.3, mouthOpen: open, teethUpper: open ? 1 : 0,
        cheekRaise: 1, eyeOpen: [-0.35, -0.35], lowerLid: [0.55, 0.55], nasolabial: 0.8, browOuter: [0.01, 0.01],
        lipPress: open ? 0 : 0.3 };
    }
    case 'neutral':
      return {};
    case 'sadness':
      return { browInner: [-0.09, -0.09], browOuter: [0.05, 0.05], browIn: 0.03, eyeOpen: [-0.3, -0.3],
        lidSlant: -0.7, mouthCorner: [0.09, 0.09], mouthWidth: -0.1, lipL: 0.012, gaze: [0, 0.02],
        glabella: 0.3 };
    case 'surprise':
      return { browInner: [-0.15, -0.15], browOuter: [-0.13, -0.13], browArch: 0.06, eyeOpen: [0.75, 0.75],
        lowerLid: [-0.1, -0.1], mouthOpen: 0.22, mouthWidth: -0.42, mouthRound: 1, jawDrop: 0.04,
        foreheadLines: 1 };
  }
}

function neutralFace(rng: Rng): FaceParams {
  const j = (a: number) => rng.range(-a, a);
  const skin = mix(...pair(SKIN, rng));
  return {
    aspect: rng.range(0.88, 1.08), skin, hair: mix(rng.pick(HAIR), rng.pick(HAIR), rng.next() * 0.3),
    hairStyle: rng.int(4), hairline: -0.62 + j(0.07), iris: rng.pick(IRIS),
    lip: mix(skin, [0.72, 0.3, 0.32], rng.range(0.3, 0.55)),
    clothes: [rng.next(), rng.next(), rng.next()],
    eyeX: 0.31 + j(0.02), eyeY: -0.02 + j(0.03), eyeW: 0.165 + j(0.015), eyeH: 0.082 + j(0.008),
    browY: -0.25 + j(0.025), browThick: rng.range(0.04, 0.065), mouthY: 0.56 + j(0.03),
    mouthW: 0.25 + j(0.02), lipU: 0.045 + j(0.01), lipL: 0.06 + j(0.012),
    browInner: [j(0.012), j(0.012)], browOuter: [j(0.012), j(0.012)], browIn: j(0.01), browArch: 0.02 + j(0.015),
    eyeOpen: [1 + j(0.08), 1 + j(0.08)], lidSlant: j(0.1), lowerLid: [j(0.08), j(0.08)], gaze: [j(0.03), j(0.01)],
    mouthCorner: [j(0.012), j(0.012)], cornerOut: [0, 0], mouthWidth: 1 + j(0.06), mouthOpen: 0, mouthRound: 0,
    upperLipRaise: 0, lipPress: rng.range(0, 0.2), teethUpper: 0, teethLower: 0, jawDrop: 0, cheekRaise: 0,
    noseWrinkle: 0, nasolabial: 0, foreheadLines: 0, glabella: 0, dimple: [0, 0],
  };
}

function pair(xs: readonly RGB[], rng: Rng): [RGB, RGB, number] {
  const t = rng.next() * (xs.length - 1);
  const i = Math.min(xs.length - 2, Math.floor(t));
  return [xs[i], xs[i + 1], t - i];
}

function applyDelta(p: FaceParams, d: Delta, t: number): FaceParams {
  const out = { ...p } as Record<string, unknown>;
  for (const [k, v] of Object.entries(d)) {
    const base = out[k];
    if (Array.isArray(v)) out[k] = [(base as Pair)[0] + v[0] * t, (base as Pair)[1] + v[1] * t];
    else out[k] = (base as number) + (v as number) * t;
  }
  return out as unknown as FaceParams;
}

/** Renders one face of class `classIndex` (in the 7- or 8-class order). Pure in `seed`. */
export function generateFace(classIndex: number, seed: number, opts: FaceOptions = {}): SyntheticFace {
  const names = classNames(opts.classes ?? 8);
  const name = names[classIndex];
  if (name === undefined) throw new Error(`generateFace: class ${classIndex} is outside 0..${names.length - 1}`);
  const size = opts.size ?? 96;
  if (!(size >= 8 && size <= 4096)) throw new Error(`generateFace: size ${size} is outside 8..4096`);
  // Identity, pose and scene come from the seed alone, the expression from seed and class, so
  // one seed across the classes is the same person in the same scene making each expression.
  const rng = new Rng(hashSeed(seed, 0x5eed));
  const xrng = new Rng(hashSeed(seed, FER8_CLASSES.indexOf(name), 0xface));
  const [lo, hi] = opts.intensityRange ?? [0.45, 1];
  const intensity = opts.intensity ?? xrng.range(lo, hi);
  const params = applyDelta(neutralFace(rng), expressionDelta(name, xrng), intensity);
  const variation = opts.clean ? 'none' : opts.variation ?? 'full';
  const clean = variation === 'none';
  // v scales every nuisance range; the random draws happen in the same order at any level.
  const v = variation === 'full' ? 1 : variation === 'mild' ? 0.4 : 0;
  const cv = new Canvas(size, size, clean ? [0.86, 0.88, 0.9] : [0, 0, 0]);
  if (!clean) drawBackground(cv, rng);
  const scale = size * (clean ? 0.44 : 0.43 + v * (rng.range(0.36, 0.5) - 0.43));
  const yaw = clean ? 0 : v * rng.range(-1, 1);
  const angle = clean ? 0 : (v * rng.range(-15, 15) * Math.PI) / 180;
  const cx = size * (0.5 + (clean ? 0 : v * rng.range(-0.06, 0.06)));
  const cy = size * (0.5 + (clean ? 0 : v * rng.range(-0.06, 0.06)));
  const pose = affine(cx, cy, scale * (1 - 0.12 * Math.abs(yaw)), scale, angle);
  drawFace(cv, params, pose, yaw * 0.12);
  if (!clean) {
    cv.setTransform(pose);
    if (variation === 'full') drawOccluders(cv, rng);
    postProcess(cv, rng, v);
  }
  return { ...cv.toImage(), className: name, intensity };
}

function drawBackground(cv: Canvas, rng: Rng): void {
  const muted = (): RGB => mix([rng.next(), rng.next(), rng.next()], [0.5, 0.5, 0.5], rng.range(0, 0.6));
  const base = muted(), other = muted();
  const kind = rng.int(4);
  const ang = rng.range(0, Math.PI * 2), freq = rng.range(0.05, 0.4), n = cv.width;
  const [dx, dy] = [Math.cos(ang), Math.sin(ang)];
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < n; x++) {
      const u = (x * dx + y * dy) / n;
      let t = 0;
      if (kind === 1) t = u;
      else if (kind === 2) t = 0.5 + 0.5 * Math.sin(u * n * freq);
      else if (kind === 3) t = 0.5 + 0.25 * (Math.sin(x * freq * 0.7 + ang) + Math.sin(y * freq * 0.9 - ang));
      const i = (y * n + x) * 3;
      for (let c = 0; c < 3; c++) cv.data[i + c] = base[c] + (other[c] - base[c]) * t * 0.6;
    }
  }
  for (let k = rng.int(4); k > 0; k--) {
    const r = rng.range(0.05, 0.3) * n;
    const x = rng.next() * n, y = rng.next() * n;
    cv.fill(sdEllipse(x, y, r, r * rng.range(0.5, 1.5)), [x - 2 * r, y - 2 * r, x + 2 * r, y + 2 * r],
      [rng.next(), rng.next(), rng.next()], { opacity: rng.range(0.3, 0.8), feather: r * 0.5 });
  }
}

/** Rectangles and ellipses in face units, each at most about a third of the face wide. */
function drawOccluders(cv: Canvas, rng: Rng): void {
  if (!rng.chance(0.3)) return;
  for (let k = 1 + rng.int(2); k > 0; k--) {
    const w = rng.range(0.15, 0.45), h = rng.range(0.15, 0.45);
    const x = rng.range(-0.9, 0.9), y = rng.range(-1, 1);
    const col: RGB = [rng.next(), rng.next(), rng.next()];
    const shape = rng.chance(0.5) ? sdRect(x - w, y - h, x + w, y + h) : sdEllipse(x, y, w, h);
    cv.fill(shape, [x - w, y - h, x + w, y + h], col);
  }
}

/** Lighting, colour and noise; `v` in (0, 1] scales every range (1 = full variation). */
function postProcess(cv: Canvas, rng: Rng, v = 1): void {
  const contrast = 1 + v * (rng.range(0.7, 1.3) - 1), bright = v * rng.range(-0.12, 0.12);
  const ga = rng.range(0, Math.PI * 2), gs = v * rng.range(0, 0.45);
  const gain = [1 + v * (rng.range(0.9, 1.1) - 1), 1 + v * (rng.range(0.9, 1.1) - 1), 1 + v * (rng.range(0.9, 1.1) - 1)];
  const gray = rng.chance(0.15);
  const sigma = rng.chance(0.7) ? v * rng.range(0, 0.05) : 0;
  const n = cv.width, d = cv.data;
  const [gx, gy] = [Math.cos(ga) * gs, Math.sin(ga) * gs];
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < n; x++) {
      const i = (y * n + x) * 3;
      const light = 1 + gx * (x / n - 0.5) * 2 + gy * (y / n - 0.5) * 2;
      const lum = gray ? 0.299 * d[i] + 0.587 * d[i + 1] + 0.114 * d[i + 2] : 0;
      const noise = sigma > 0 ? rng.gauss() * sigma : 0;
      for (let c = 0; c < 3; c++) {
        const v = gray ? lum : d[i + c] * gain[c];
        d[i + c] = ((v - 0.5) * contrast + 0.5 + bright) * light + noise;
      }
    }
  }
}

export interface DatasetOptions {
  classes: 7 | 8;
  perClass: { train: number; val: number; test: number };
  /** Image size in pixels (default 96). */
  size?: number;
  seed?: number;
  /** Nuisance variation (default 'full'; see FaceOptions). */
  variation?: Variation;
  /** Range of the random expression intensity (default [0.45, 1]). */
  intensityRange?: readonly [number, number];
  onProgress?: (done: number, total: number) => void;
}

export interface DatasetSummary {
  generator: 'synthetic-faces';
  version: number;
  seed: number;
  size: number;
  channels: 3;
  format: 'png';
  layout: string;
  classes: FerClass[];
  perClass: { train: number; val: number; test: number };
  counts: Record<'train' | 'val' | 'test', Record<string, number>>;
  total: number;
  variation: Variation;
  intensityRange: number[];
}

const SPLITS = ['train', 'val', 'test'] as const;

/** Writes `outDir/<split>/<class>/<NNNNNN>.png` and `outDir/dataset.json`; returns the summary. */
export async function writeSyntheticDataset(outDir: string, opts: DatasetOptions): Promise<DatasetSummary> {
  const names = [...classNames(opts.classes)];
  const size = opts.size ?? 96;
  const seed = (opts.seed ?? 0) >>> 0;
  const total = SPLITS.reduce((a, s) => a + opts.perClass[s] * names.length, 0);
  const counts = { train: {}, val: {}, test: {} } as DatasetSummary['counts'];
  let done = 0;
  for (const [si, split] of SPLITS.entries()) {
    for (const name of names) {
      const dir = join(outDir, split, name);
      await mkdir(dir, { recursive: true });
      const ci = names.indexOf(name);
      for (let i = 0; i < opts.perClass[split]; i++) {
        // The sample seed uses the 8-class index, so the 7- and 8-class sets share images.
        const sampleSeed = hashSeed(seed, si, FER8_CLASSES.indexOf(name), i);
        const img = generateFace(ci, sampleSeed, {
          size, classes: opts.classes, variation: opts.variation, intensityRange: opts.intensityRange,
        });
        await writeFile(join(dir, `${String(i).padStart(6, '0')}.png`), encodePng(img));
        opts.onProgress?.(++done, total);
      }
      counts[split][name] = opts.perClass[split];
    }
  }
  const summary: DatasetSummary = {
    generator: 'synthetic-faces', version: GENERATOR_VERSION, seed, size, channels: 3, format: 'png',
    layout: '<split>/<class>/<index:6>.png', classes: names, perClass: { ...opts.perClass }, counts, total,
    variation: opts.variation ?? 'full', intensityRange: [...(opts.intensityRange ?? [0.45, 1])],
  };
  await writeFile(join(outDir, 'dataset.json'), JSON.stringify(summary, null, 2) + '\n');
  return summary;
}
