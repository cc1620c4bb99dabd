// Options and messages shared by the commands that read a model file (predict, import, export).
import type { ModelFile, ReadModelOptions } from '../model/weights.js';
import { paramCount, pattLiteSpecs } from '../io/weight-specs.js';
import { UsageError, type Options } from './args.js';

export const MODEL_OPTIONS = {
  classes: { type: 'string' },
  attention: { type: 'string' },
  'input-size': { type: 'string' },
} as const satisfies Options;

export const MODEL_HELP = [
  '  --classes A,B,..  class names, comma-separated, in the classifier\'s order (Keras files carry none;',
  '                    default: the notebook\'s alphabetical lists for 7 and 8 classes, else class_0 …)',
  '  --attention MODE  override the attention wiring the file implies: patch (per image) or batch',
  "                    (the authors' notebook: predictions depend on the rest of the batch)",
  '  --input-size N    override the square input side the file implies (224 in the paper)',
];

export function readModelOptions(values: { classes?: string; attention?: string; 'input-size'?: string }): ReadModelOptions {
  const opts: ReadModelOptions = {};
  if (values.classes !== undefined) {
    const names = values.classes.split(',').map((s) => s.trim());
    if (names.length < 2 || names.some((n) => !n)) {
      throw new UsageError(`--classes needs at least two non-empty comma-separated names, got "${values.classes}"`);
    }
    opts.classNames = names;
  }
  if (values.attention !== undefined) {
    if (values.attention !== 'patch' && values.attention !== 'batch') {
      throw new UsageError(`--attention must be patch or batch, got "${values.attention}"`);
    }
    opts.attention = values.attention;
  }
  if (values['input-size'] !== undefined) {
    const n = Number(values['input-size']);
    if (!Number.isInteger(n) || n < 1) throw new UsageError(`--input-size must be a positive integer, got "${values['input-size']}"`);
    opts.inputSize = n;
  }
  return opts;
}

const FORMAT_NAMES: Record<ModelFile['format'], string> = {
  checkpoint: 'PAtt-Lite checkpoint (safetensors)',
  'legacy-model': 'Keras model.save HDF5 (TF 2.x)',
  'legacy-weights': 'Keras legacy HDF5 weights',
  'keras3-weights': 'Keras 3 .weights.h5',
  'keras3-archive': 'Keras 3 .keras archive',
};

/** What was found in a model file, one `label: value` line each. */
export function describeModelFile(f: ModelFile): string[] {
  const c = f.config;
  const specs = pattLiteSpecs({ classes: c.classes, patchFilters: c.patchFilters, denseUnits: c.denseUnits });
  const lines = [
    `file:       ${f.file}`,
    `format:     ${FORMAT_NAMES[f.format]}${f.kerasVersion ? `, Keras ${f.kerasVersion}` : ''}`,
    `classes:    ${c.classes}: ${c.classNames.join(', ')} (${f.classNamesFrom})`,
    `attention:  ${c.attention} (${f.attentionFrom})`,
    `input size: ${c.inputSize}x${c.inputSize}`,
    `weights:    ${specs.length} tensors, ${paramCount(specs).toLocaleString('en-US')} parameters`,
  ];
  if (f.extra.length) {
    const shown = f.extra.slice(0, 6).join(', ');
    lines.push(`unused:     ${f.extra.length} further weights in the file (${shown}${f.extra.length > 6 ? ', …' : ''})`);
  }
  return lines;
}
