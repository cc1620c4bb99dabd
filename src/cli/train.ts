// `patt-lite train`: trains PAtt-Lite on a dataset into a run folder (see src/train/run.ts).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createGpu, describeGpu } from '../gpu/device.js';
import { Engine } from '../graph/engine.js';
import { FINETUNE_OVERRIDES, HEAD_DEFAULTS, runTraining, type RunSettings } from '../train/run.js';
import { GPU_HELP, GPU_OPTIONS, parse, UsageError } from './args.js';
import { Progress } from './progress.js';

export const TRAIN_OPTIONS = {
  ...GPU_OPTIONS,
  data: { type: 'string' },
  out: { type: 'string' },
  config: { type: 'string' },
  weights: { type: 'string' },
  attention: { type: 'string' },
  'input-size': { type: 'string' },
  phase: { type: 'string' },
  finetune: { type: 'string' },
  'feature-cache': { type: 'boolean' },
  'no-augment': { type: 'boolean' },
  epochs: { type: 'string' },
  'batch-size': { type: 'string' },
  lr: { type: 'string' },
  clipnorm: { type: 'string' },
  dropout: { type: 'string' },
  'spatial-dropout': { type: 'string' },
  'post-dropout': { type: 'string' },
  patience: { type: 'string' },
  'min-delta': { type: 'string' },
  seed: { type: 'string' },
  'val-fraction': { type: 'string' },
  resume: { type: 'boolean' },
  force: { type: 'boolean' },
} as const;

const HELP = [
  'usage: patt-lite train --data PATH --out DIR [options]',
  '',
  'Trains PAtt-Lite with the recipe of the authors\' notebook (DESIGN §2) and writes into DIR:',
  'settings.json, metrics.jsonl (one line per epoch), last/best .safetensors checkpoints (atomic;',
  'with optimizer state for --resume), metrics.json, curves.png, confusion.png, predictions.png.',
  '',
  'data:',
  '  --data PATH          a split/class/image folder tree, FER2013 or FERPlus CSV, RAF-DB folder,',
  "                       or the authors' HDF5 file (kind detected from the path)",
  '  --val-fraction F     validation carved from train when the data has none (default 0.1)',
  'model:',
  '  --weights W          faceapi (default: face-trained MobileNetV1 from @vladmandic/face-api),',
  '                       random, a Keras MobileNet/PAtt-Lite .h5 / .keras, or a .safetensors checkpoint',
  '  --attention MODE     patch (default, per image) or batch (the published notebook)',
  '  --input-size N       square input side (default 224)',
  'recipe:',
  '  --phase P            head (default: frozen backbone, lr 1e-3, dropout 0.1, early stop on val',
  '                       accuracy, patience 5) or finetune (lr 1e-5, InverseTimeDecay, dropout 0.2,',
  '                       spatial dropout 0.2, patience 20)',
  '  --finetune MODE      intended (default: backbone convolutions trainable, BN frozen) or faithful',
  '                       (the notebook as it behaves: its unfreeze index leaves the backbone frozen)',
  '  --feature-cache      compute backbone features once (frozen backbone, no augmentation): fast',
  '  --no-augment         no random flip / contrast',
  '  --epochs N --batch-size N --lr X --clipnorm X --dropout X --spatial-dropout X --post-dropout X',
  '  --patience N --min-delta X --seed N',
  '  --config FILE        a JSON file of these settings (camelCase keys); flags override it',
  'run folder:',
  '  --resume             continue DIR exactly (weights, optimizer, schedule, random state, epoch)',
  '  --force              overwrite an existing run in DIR',
  ...GPU_HELP,
].join('\n');

const num = (name: string, v: string | undefined, int = false): number | undefined => {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || (int && !Number.isInteger(n))) throw new UsageError(`--${name} expects a ${int ? 'whole ' : ''}number, got "${v}"`);
  return n;
};

export function readConfigFile(path: string): Partial<RunSettings> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError(`--config ${path}: ${(e as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`--config ${path}: not valid JSON (${(e as Error).message})`);
  }
  if (!json || typeof json !== 'object' || Array.isArray(json)) throw new UsageError(`--config ${path}: expected a JSON object`);
  const known = new Set(Object.keys(HEAD_DEFAULTS).concat(['data', 'out']));
  for (const [k, v] of Object.entries(json)) {
    if (!known.has(k)) throw new UsageError(`--config ${path}: unknown setting "${k}" (known: ${[...known].join(', ')})`);
    const want = k === 'data' || k === 'out' ? 'string' : typeof (HEAD_DEFAULTS as Record<string, unknown>)[k];
    if (typeof v !== want) throw new UsageError(`--config ${path}: "${k}" must be a ${want}, got ${JSON.stringify(v)}`);
    if (typeof v === 'number' && !Number.isFinite(v)) throw new UsageError(`--config ${path}: "${k}" must be finite`);
  }
  return json as Partial<RunSettings>;
}

export function settingsFrom(values: Record<string, string | boolean | undefined>): RunSettings {
  if (typeof values.config !== 'string') return settingsFromValues(values, {});
  const file = values.config;
  const fromFile = readConfigFile(file);
  try {
    return settingsFromValues(values, fromFile);
  } catch (e) {
    // A bad value may come from the file: say which file the settings were read from.
    if (e instanceof UsageError) throw new UsageError(`${e.message} (settings read from --config ${file})`);
    throw e;
  }
}

function settingsFromValues(values: Record<string, string | boolean | undefined>, fromFile: Partial<RunSettings>): RunSettings {
  const phase = (values.phase as string | undefined) ?? fromFile.phase ?? 'head';
  if (phase !== 'head' && phase !== 'finetune') throw new UsageError(`--phase must be head or finetune, got "${phase}"`);
  const base = { ...HEAD_DEFAULTS, ...(phase === 'finetune' ? FINETUNE_OVERRIDES : {}), ...fromFile };
  const v = values as Record<string, string | undefined>;
  const s: RunSettings = {
    ...base,
    data: v.data ?? fromFile.data ?? '',
    out: v.out ?? fromFile.out ?? '',
    weights: v.weights ?? base.weights,
    attention: (v.attention ?? base.attention) as RunSettings['attention'],
    inputSize: num('input-size', v['input-size'], true) ?? base.inputSize,
    phase,
    finetune: (v.finetune ?? base.finetune) as RunSettings['finetune'],
    featureCache: values['feature-cache'] === true || base.featureCache,
    augment: values['no-augment'] === true ? false : base.augment,
    epochs: num('epochs', v.epochs, true) ?? base.epochs,
    batchSize: num('batch-size', v['batch-size'], true) ?? base.batchSize,
    learningRate: num('lr', v.lr) ?? base.learningRate,
    clipnorm: num('clipnorm', v.clipnorm) ?? base.clipnorm,
    dropout: num('dropout', v.dropout) ?? base.dropout,
    spatialDropout: num('spatial-dropout', v['spatial-dropout']) ?? base.spatialDropout,
    postAttentionDropout: num('post-dropout', v['post-dropout']) ?? base.postAttentionDropout,
    patience: num('patience', v.patience, true) ?? base.patience,
    minDelta: num('min-delta', v['min-delta']) ?? base.minDelta,
    seed: num('seed', v.seed, true) ?? base.seed,
    valFraction: num('val-fraction', v['val-fraction']) ?? base.valFraction,
    resume: values.resume === true,
  };
  if (!s.data) throw new UsageError('--data is required (a dataset folder, CSV or HDF5 file)');
  if (!s.out) throw new UsageError('--out is required (the run folder)');
  if (s.attention !== 'patch' && s.attention !== 'batch') throw new UsageError(`--attention must be patch or batch, got "${s.attention}"`);
  if (s.finetune !== 'intended' && s.finetune !== 'faithful') throw new UsageError(`--finetune must be intended or faithful, got "${s.finetune}"`);
  if (s.batchSize < 2) throw new UsageError('--batch-size must be at least 2 (batch statistics)');
  if (s.epochs < 1) throw new UsageError('--epochs must be at least 1');
  if (s.featureCache && s.augment) s.augment = false;
  return s;
}

/** Refuses to overwrite an existing run unless --force or --resume. */
export function checkOutFolder(out: string, force: boolean, resume: boolean): void {
  if (!existsSync(out)) return;
  const entries = readdirSync(out);
  if (entries.length === 0 || force || resume) return;
  if (entries.some((f) => f === 'settings.json' || f.endsWith('.safetensors'))) {
    throw new UsageError(`${out} already holds a run; pass --resume to continue it or --force to overwrite it`);
  }
}

export async function trainCommand(argv: string[]): Promise<number> {
  const { values } = parse(argv, TRAIN_OPTIONS);
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const s = settingsFrom(values);
  checkOutFolder(s.out, values.force === true, s.resume);
  if (s.resume && !existsSync(join(s.out, 'last.safetensors'))) {
    throw new UsageError(`--resume: ${join(s.out, 'last.safetensors')} does not exist`);
  }
  const gpu = await createGpu({ adapter: values.adapter, backend: values.backend });
  try {
    console.log(`adapter: ${describeGpu(gpu)}`);
    const engine = await Engine.create(gpu.device);
    let bar: { label: string; p: Progress } | undefined;
    const result = await runTraining(engine, s, {
      log: (line) => {
        bar?.p.done();
        bar = undefined;
        console.log(line);
      },
      progress: (label, done, total, extra) => {
        if (!bar || bar.label !== label) bar = { label, p: new Progress(label, total) };
        bar.p.update(done, extra);
      },
    });
    bar?.p.done();
    const r = result.test ?? result.val;
    if (r) console.log(`${result.test ? 'test' : 'validation'} accuracy ${(r.accuracy * 100).toFixed(1)}%, macro F1 ${r.macroF1.toFixed(3)}`);
    console.log(`run folder: ${s.out}`);
    return 0;
  } finally {
    gpu.close();
  }
}
