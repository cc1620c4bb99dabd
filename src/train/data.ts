// From a loaded Dataset to what the training step consumes: every image of a split packed into
// one uint8 array at a common size (resized on the CPU only when sizes differ; the GPU input
// stage then resizes to the model's input), and backbone features for a frozen backbone.
import type { Dataset, Sample, SplitName } from '../data/dataset.js';
import type { RgbImage } from '../data/image.js';
import type { Engine } from '../graph/engine.js';
import { packBytes } from '../kernels/input.js';
import type { PattLite } from '../model/patt-lite.js';
import type { SplitData } from './trainer.js';

export interface PixelSplits {
  height: number;
  width: number;
  splits: Partial<Record<SplitName, SplitData>>;
  /** Notes for the run log (e.g. CPU resizing). */
  notes: string[];
}

/** Bilinear resize with half-pixel centres (the same convention as the GPU stage). */
export function resizeRgb(img: RgbImage, h: number, w: number): Uint8Array {
  const out = new Uint8Array(h * w * 3);
  const sy = img.height / h;
  const sx = img.width / w;
  for (let y = 0; y < h; y++) {
    const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), img.height - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, img.height - 1);
    const dy = fy - y0;
    for (let x = 0; x < w; x++) {
      const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), img.width - 1);
      const x0 = Math.floor(fx);
      const x1 = Math.min(x0 + 1, img.width - 1);
      const dx = fx - x0;
      for (let c = 0; c < 3; c++) {
        const a = img.data[(y0 * img.width + x0) * 3 + c] * (1 - dx) + img.data[(y0 * img.width + x1) * 3 + c] * dx;
        const b = img.data[(y1 * img.width + x0) * 3 + c] * (1 - dx) + img.data[(y1 * img.width + x1) * 3 + c] * dx;
        out[(y * w + x) * 3 + c] = Math.round(a * (1 - dy) + b * dy);
      }
    }
  }
  return out;
}

/** Packs each split; the common size is the most frequent image size (others are resized). */
export function packDataset(ds: Dataset): PixelSplits {
  const all: Sample[] = Object.values(ds.splits).flat();
  if (all.length === 0) throw new Error(`${ds.source}: the dataset has no images`);
  const counts = new Map<string, number>();
  for (const s of all) counts.set(`${s.image.height}x${s.image.width}`, (counts.get(`${s.image.height}x${s.image.width}`) ?? 0) + 1);
  const [common] = [...counts.entries()].sort((a, b) => b[1] - a[1]);
  const [height, width] = common[0].split('x').map(Number);
  const notes: string[] = [];
  if (counts.size > 1) notes.push(`${all.length - common[1]} images not ${height}x${width} were resized on the CPU to ${height}x${width}`);
  const splits: PixelSplits['splits'] = {};
  for (const [name, samples] of Object.entries(ds.splits) as [SplitName, Sample[]][]) {
    if (!samples?.length) continue;
    const per = height * width * 3;
    const data = new Uint8Array(samples.length * per);
    samples.forEach((s, i) => {
      const img = s.image.height === height && s.image.width === width ? s.image.data : resizeRgb(s.image, height, width);
      data.set(img, i * per);
    });
    splits[name] = { count: samples.length, labels: Int32Array.from(samples, (s) => s.label), data };
  }
  return { height, width, splits, notes };
}

/**
 * Backbone features of every image (inference mode, no augmentation), in batches through one
 * recorded plan. For phase 1 with a frozen backbone the features never change, so epochs only
 * run the head.
 */
export async function computeFeatures(
  engine: Engine, model: PattLite, split: SplitData, height: number, width: number,
  onProgress?: (done: number, total: number) => void, batch = 16,
): Promise<SplitData> {
  const e = engine;
  const size = model.config.inputSize;
  const fs = model.featureShape;
  const per = fs[0] * fs[1] * fs[2];
  const bytes = height * width * 3;
  const out = new Float32Array(split.count * per);
  const input = e.keep(e.empty([Math.ceil((batch * bytes) / 4)], 'u32', 'features/pixels'));
  const { plan, result } = e.record(`features/b${batch}`, () => e.noGrad(() => {
    const x = e.empty([batch, size, size, 3], 'f32', 'features/x');
    e.binding(() => e.enqueue(e.kernels.input.inference({ n: batch, hin: height, win: width, hout: size, wout: size }, input.buffer, x.buffer)));
    return model.features(x, { training: false, seed: 0, step: 0 });
  }));
  const feats = e.keep(result);
  try {
    const chunk = new Uint8Array(batch * bytes);
    for (let i = 0; i < split.count; i += batch) {
      const n = Math.min(batch, split.count - i);
      chunk.fill(0);
      chunk.set(split.data.subarray(i * bytes, (i + n) * bytes) as Uint8Array);
      e.write(input, packBytes(chunk));
      plan.run();
      out.set((await feats.readF32()).subarray(0, n * per), i * per);
      onProgress?.(i + n, split.count);
    }
  } finally {
    plan.dispose();
    feats.dispose();
    input.dispose();
  }
  return { count: split.count, labels: split.labels, data: out };
}
