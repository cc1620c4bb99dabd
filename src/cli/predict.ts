// `patt-lite predict`: the facial expression of each image, with a PAtt-Lite checkpoint or Keras
// file, through the fast inference path (src/model/inference.ts).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { RgbImage } from '../data/image.js';
import type { ModelFile } from '../model/weights.js';
import { GPU_HELP, GPU_OPTIONS, parse, UsageError } from './args.js';
import { MODEL_HELP, MODEL_OPTIONS, readModelOptions } from './model-file.js';

const IMAGE_EXTENSIONS = /\.(png|jpe?g)$/i;

const HELP = [
  'usage: patt-lite predict --model FILE [options] IMAGE|FOLDER...',
  '',
  'Predicts the facial expression in each image (PNG or JPEG, any size: resized on the GPU to the',
  "model's input size, bilinear as Keras' Resizing, then x / 127.5 - 1). Folders are searched",
  'recursively for .png, .jpg and .jpeg files, in name order; files named directly are read whatever',
  'their extension. Prints a table (file, expression, its probability, every class\'s probability) or,',
  'with --json, one JSON document. Progress goes to stderr when there is more than one batch.',
  '',
  '  --model FILE      a PAtt-Lite checkpoint (.safetensors) or a Keras PAtt-Lite file (model.save .h5,',
  '                    weights .h5, .weights.h5, .keras); see `patt-lite import --help`',
  '  --batch N         images per GPU submission (default 8; 32 for attention \'batch\' models, the batch',
  "                    size of Keras' model.predict)",
  '  --json            print JSON instead of the table',
  ...MODEL_HELP,
  ...GPU_HELP,
  '',
  "Attention 'batch' (models from the authors' notebook): each prediction depends on the other images",
  'in its batch. Batches are made of the readable images in the order given, a last partial batch',
  'runs at its own size, and the command warns. Attention \'patch\' predictions are per image.',
  '',
  'An image that is missing or cannot be decoded is reported on stderr and skipped; the others are',
  'still predicted.',
  'Exit codes: 0 every image predicted; 1 an image or folder was unreadable, or the model could not be',
  'loaded; 2 bad command line; 3 no usable GPU.',
].join('\n');

/** Image files under the given paths; problems (missing paths, empty folders) are collected. */
export function collectImages(paths: readonly string[]): { files: string[]; problems: { image: string; error: string }[] } {
  const files: string[] = [];
  const problems: { image: string; error: string }[] = [];
  const walk = (dir: string, depth: number): string[] => {
    if (depth > 32) return [];
    const out: string[] = [];
    const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const p = join(dir, e.name);
      if (e.isDirectory()) out.push(...walk(p, depth + 1));
      else if ((e.isFile() || e.isSymbolicLink()) && IMAGE_EXTENSIONS.test(e.name)) out.push(p);
    }
    return out;
  };
  for (const p of paths) {
    let isDir: boolean;
    try {
      isDir = statSync(p).isDirectory();
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      problems.push({ image: p, error: `${p}: ${code === 'ENOENT' ? 'no such file or folder' : (err as Error).message}` });
      continue;
    }
    if (!isDir) {
      files.push(p);
      continue;
    }
    try {
      const found = walk(p, 0);
      if (found.length === 0) problems.push({ image: p, error: `${p}: no .png, .jpg or .jpeg files in this folder` });
      files.push(...found);
    } catch (err) {
      problems.push({ image: p, error: `${p}: cannot list the folder (${(err as Error).message})` });
    }
  }
  return { files, problems };
}

interface Row {
  image: string;
  index: number;
  expression: string;
  probs: Float32Array;
}

class Progress {
  private last = 0;
  private readonly t0 = performance.now();
  constructor(private readonly total: number, private readonly enabled: boolean) {}
  update(done: number): void {
    if (!this.enabled) return;
    const now = performance.now();
    const final = done >= this.total;
    if (!final && !process.stderr.isTTY && now - this.last < 2000) return;
    this.last = now;
    const rate = done / Math.max((now - this.t0) / 1000, 1e-9);
    const text = `predict: ${done}/${this.total} images, ${rate.toFixed(1)} images/s`;
    if (process.stderr.isTTY) process.stderr.write(`\r${text}${final ? '\n' : ''}`);
    else process.stderr.write(`${text}\n`);
  }
}

export async function predictCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    ...GPU_OPTIONS, ...MODEL_OPTIONS, model: { type: 'string', short: 'm' }, batch: { type: 'string', short: 'b' },
    json: { type: 'boolean' },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (!values.model) throw new UsageError('--model FILE is required (a checkpoint or a Keras file)');
  if (positionals.length === 0) throw new UsageError('give at least one image or folder');
  let batch: number | undefined;
  if (values.batch !== undefined) {
    batch = Number(values.batch);
    if (!Number.isInteger(batch) || batch < 1 || batch > 4096) throw new UsageError(`--batch must be an integer in 1..4096, got "${values.batch}"`);
  }
  const opts = readModelOptions(values);
  // Loaded here, not at the top: the HDF5 library and the engine take seconds to load, and main.ts
  // imports every command's module.
  const [{ createGpu, describeGpu }, { fileAutotuneCache }, { Engine }, { decodeImage }, { createPredictor }, { instantiate, readModelFile }] =
    await Promise.all([
      import('../gpu/device.js'), import('../gpu/autotune-cache.js'), import('../graph/engine.js'), import('../data/image.js'),
      import('../model/inference.js'), import('../model/weights.js'),
    ]);

  let file: ModelFile;
  try {
    file = await readModelFile(values.model, opts);
  } catch (err) {
    console.error(`patt-lite predict: ${(err as Error).message}`);
    return 1;
  }
  for (const w of file.warnings) console.error(`patt-lite predict: warning: ${w}`);
  const { files, problems } = collectImages(positionals);
  let failed = problems.length;
  for (const p of problems) console.error(`patt-lite predict: ${p.error}`);
  const batchSize = batch ?? (file.config.attention === 'batch' ? 32 : 8);
  if (files.length === 0) {
    console.error('patt-lite predict: no images to predict');
    return 1;
  }

  const gpu = await createGpu({ adapter: values.adapter, backend: values.backend });
  try {
    const engine = await Engine.create(gpu.device, { autotuneCache: fileAutotuneCache() });
    const model = instantiate(engine, file);
    const predictor = await createPredictor(model, { batchSize });
    const names = file.config.classNames;
    const rows: Row[] = [];
    const errors: { image: string; error: string }[] = [];
    const width = Math.max(5, ...files.map((f) => f.length));
    const exprWidth = Math.max(10, ...names.map((n) => n.length));
    const printRow = (r: Row) => {
      const best = r.probs[r.index];
      const cells = [r.image.padEnd(width), r.expression.padEnd(exprWidth), best.toFixed(3).padStart(5)];
      names.forEach((n, i) => cells.push(r.probs[i].toFixed(3).padStart(Math.max(5, n.length))));
      console.log(cells.join('  '));
    };
    if (!values.json) {
      console.error(`patt-lite predict: ${file.file}: ${file.config.classes} classes, attention ${file.config.attention}, ` +
        `${file.config.inputSize}x${file.config.inputSize}, batch ${batchSize}; GPU ${describeGpu(gpu)}`);
      console.log(['image'.padEnd(width), 'expression'.padEnd(exprWidth), 'prob'.padStart(5), ...names.map((n) => n.padStart(5))].join('  '));
    }
    const progress = new Progress(files.length, files.length > batchSize);
    let done = 0;
    for (let i = 0; i < files.length;) {
      // Decode up to one batch of readable images.
      const images: RgbImage[] = [];
      const paths: string[] = [];
      while (i < files.length && images.length < batchSize) {
        const path = files[i++];
        done++;
        try {
          images.push(decodeImage(readFileSync(path), path));
          paths.push(path);
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          const message = code ? `${path}: cannot read (${(err as Error).message})` : (err as Error).message;
          console.error(`patt-lite predict: ${message}`);
          errors.push({ image: path, error: message });
          failed++;
        }
      }
      if (images.length) {
        const r = await predictor.predict(images);
        paths.forEach((p, j) => {
          const row = { image: p, index: r.indices[j], expression: r.labels[j], probs: r.probs[j] };
          rows.push(row);
          if (!values.json) printRow(row);
        });
      }
      progress.update(done);
    }
    if (values.json) {
      const doc = {
        model: {
          file: file.file, format: file.format, classes: names, attention: file.config.attention,
          inputSize: file.config.inputSize, batchSize,
        },
        predictions: rows.map((r) => ({
          image: r.image,
          expression: r.expression,
          index: r.index,
          probability: round(r.probs[r.index]),
          probabilities: Object.fromEntries(names.map((n, i) => [n, round(r.probs[i])])),
        })),
        errors: [...problems, ...errors],
      };
      console.log(JSON.stringify(doc, null, 2));
    }
    predictor.dispose();
    model.dispose();
    if (failed) console.error(`patt-lite predict: ${failed} of ${files.length + problems.length} inputs could not be read; ${rows.length} predicted`);
    return failed ? 1 : 0;
  } finally {
    gpu.close();
  }
}

function round(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}
