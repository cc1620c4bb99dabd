// Writes a contact sheet of synthetic faces: one row per class, a few samples each.
// Usage: npx tsx scripts/preview-faces.ts [out.png] [--size 96] [--per 6] [--classes 8]
//        [--seed 1] [--clean]
import { classNames, generateFace } from '../src/data/synthetic-faces.js';
import { plotContactSheet, writePlot } from '../src/report/plot.js';

export function previewFaces(o: { size?: number; per?: number; classes?: 7 | 8; seed?: number; clean?: boolean } = {}): Buffer {
  const size = o.size ?? 96, per = o.per ?? 6, classes = o.classes ?? 8, seed = o.seed ?? 1;
  const rows = classNames(classes).map((label, c) => ({
    label,
    images: Array.from({ length: per }, (_, i) => generateFace(c, seed * 1000 + i, { size, classes, clean: o.clean })),
  }));
  const title = `synthetic faces ${size}x${size}${o.clean ? ' (clean)' : ''}`;
  return plotContactSheet(rows, { title, zoom: size < 64 ? 2 : 1 });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const flag = (name: string) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const out = args.find((a, i) => !a.startsWith('--') && !args[i - 1]?.startsWith('--')) ?? 'faces-preview.png';
  const png = previewFaces({
    size: Number(flag('size') ?? 96), per: Number(flag('per') ?? 6),
    classes: Number(flag('classes') ?? 8) === 7 ? 7 : 8, seed: Number(flag('seed') ?? 1),
    clean: args.includes('--clean'),
  });
  writePlot(out, png);
  console.log(`wrote ${out}`);
}
