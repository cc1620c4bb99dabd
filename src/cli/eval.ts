// `patt-lite eval`: a model on a dataset split: accuracy, per-class recall, macro F1, confusion.
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createGpu, describeGpu } from '../gpu/device.js';
import { Engine } from '../graph/engine.js';
import { loadDataset } from '../data/load.js';
import { loadModel } from '../model/weights.js';
import { packDataset } from '../train/data.js';
import { Evaluator } from '../train/evaluate.js';
import { plotConfusionMatrix, writePlot } from '../report/plot.js';
import type { SplitName } from '../data/dataset.js';
import { GPU_HELP, GPU_OPTIONS, parse, UsageError } from './args.js';
import { Progress } from './progress.js';

const HELP = [
  'usage: patt-lite eval --model FILE --data PATH [--split test|val|train] [--batch N] [--out DIR] [--json]',
  '',
  'Evaluates a model (.safetensors checkpoint or Keras file) on one split of a dataset and prints',
  'accuracy, macro F1, per-class recall and the confusion matrix. With --out, also writes',
  'eval.json and confusion.png there. Class names of the model and the data must match.',
  '',
  '  --split S   which split (default test; falls back to val when there is no test split)',
  '  --batch N   batch size (default 16). In attention \'batch\' models results depend on it.',
  ...GPU_HELP,
].join('\n');

export async function evalCommand(argv: string[]): Promise<number> {
  const { values } = parse(argv, {
    ...GPU_OPTIONS, model: { type: 'string' }, data: { type: 'string' }, split: { type: 'string' },
    batch: { type: 'string' }, out: { type: 'string' }, json: { type: 'boolean' },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (!values.model) throw new UsageError('--model is required');
  if (!values.data) throw new UsageError('--data is required');
  const batch = values.batch === undefined ? 16 : Number(values.batch);
  if (!Number.isInteger(batch) || batch < 1) throw new UsageError(`--batch expects a whole number >= 1, got "${values.batch}"`);
  const ds = await loadDataset({ path: values.data, valFraction: 0 });
  const wanted = (values.split ?? 'test') as SplitName;
  if (!['train', 'val', 'test'].includes(wanted)) throw new UsageError(`--split must be train, val or test, got "${values.split}"`);
  const packed = packDataset(ds);
  const splitName = packed.splits[wanted] ? wanted : values.split === undefined && packed.splits.val ? 'val' : undefined;
  if (!splitName) throw new UsageError(`${values.data}: no ${wanted} split (found: ${Object.keys(packed.splits).join(', ')})`);
  const split = packed.splits[splitName]!;
  const gpu = await createGpu({ adapter: values.adapter, backend: values.backend });
  try {
    const engine = await Engine.create(gpu.device);
    const { model } = await loadModel(engine, values.model, { warn: (m) => console.error(`warning: ${m}`) });
    const names = model.config.classNames ?? [];
    if (names.length && names.join(',') !== ds.classNames.join(',')) {
      throw new UsageError(`class names differ: model ${names.join(', ')}; data ${ds.classNames.join(', ')}`);
    }
    if (!values.json) console.error(`adapter: ${describeGpu(gpu)}`);
    const ev = new Evaluator(engine, model, { kind: 'pixels', height: packed.height, width: packed.width, augment: false });
    const bar = new Progress(`eval ${splitName}`, split.count);
    const r = await ev.evaluate(split, batch, (d) => bar.update(d));
    bar.done();
    const rep = r.report;
    const summary = { model: values.model, data: values.data, split: splitName, classNames: ds.classNames, loss: r.loss, ...rep };
    if (values.out) {
      mkdirSync(values.out, { recursive: true });
      writeFileSync(join(values.out, 'eval.json'), JSON.stringify(summary, null, 2) + '\n');
      writePlot(join(values.out, 'confusion.png'), plotConfusionMatrix({ matrix: rep.confusion, classNames: ds.classNames, title: `${splitName} (accuracy ${(rep.accuracy * 100).toFixed(1)}%)` }));
    }
    if (values.json) {
      console.log(JSON.stringify(summary, null, 2));
    } else {
      console.log(`${splitName}: ${rep.count} images, accuracy ${(rep.accuracy * 100).toFixed(2)}%, macro F1 ${rep.macroF1.toFixed(4)}, loss ${r.loss.toFixed(4)}`);
      const w = Math.max(...ds.classNames.map((n) => n.length));
      console.log(`${'class'.padEnd(w)}  recall  precision  F1     support`);
      ds.classNames.forEach((n, c) => console.log(`${n.padEnd(w)}  ${rep.recall[c].toFixed(3)}   ${rep.precision[c].toFixed(3)}      ${rep.f1[c].toFixed(3)}  ${rep.support[c]}`));
      console.log('confusion (rows: true, columns: predicted):');
      rep.confusion.forEach((row, c) => console.log(`  ${ds.classNames[c].padEnd(w)} ${row.map((v) => String(v).padStart(5)).join('')}`));
    }
    ev.dispose();
    model.dispose();
    return 0;
  } finally {
    gpu.close();
  }
}
