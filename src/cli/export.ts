// `patt-lite export`: writes a model's weights in the Keras legacy HDF5 layout, on the CPU.
import { resolve } from 'node:path';
import { parse, UsageError } from './args.js';
import { describeModelFile, MODEL_HELP, MODEL_OPTIONS, readModelOptions } from './model-file.js';

const HELP = [
  'usage: patt-lite export MODEL --out model.h5 [options]',
  '',
  'Writes the weights of a PAtt-Lite checkpoint (or any model file `predict` reads) in the Keras legacy',
  'HDF5 weights layout: root attribute layer_names; one group per top-level layer of the authors\'',
  'notebook model (base_model, patch_extraction, pre_classification, attention, classification_head),',
  'each listing its weights (\'conv1/kernel:0\', …). In Keras, build the notebook\'s model and call',
  "model.load_weights('model.h5'). Needs no GPU.",
  '',
  'The file also carries a root attribute patt_lite_webgpu (JSON: attention wiring, class names,',
  'input size) that Keras ignores and `patt-lite import` / `predict` read back. Keras itself always',
  "wires the attention across the batch: a model with attention 'patch' will not give the same",
  'predictions there (the export warns).',
  '',
  '  --out FILE        the .h5 file to write (required; replaced if it exists)',
  ...MODEL_HELP,
  '  -h, --help        this help',
  '',
  'Exit codes: 0 written; 1 the model could not be read or written; 2 bad command line.',
].join('\n');

export async function exportCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    ...MODEL_OPTIONS, out: { type: 'string', short: 'o' }, help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError(`expected one model file, got ${positionals.length}\n\n${HELP}`);
  if (!values.out) throw new UsageError('--out model.h5 is required');
  const [input] = positionals;
  if (resolve(input) === resolve(values.out)) throw new UsageError('--out must not be the input file');
  const opts = readModelOptions(values);
  // Loaded here: the HDF5 library takes seconds to load, and main.ts imports every command.
  const { BATCH_ATTENTION_WARNING, readModelFile, writeKerasModel } = await import('../model/weights.js');
  try {
    const f = await readModelFile(input, opts);
    for (const line of describeModelFile(f)) console.log(line);
    // Batch dependence is about running the model, not about the file: not repeated here.
    const warnings = [...f.warnings.filter((w) => w !== BATCH_ATTENTION_WARNING), ...await writeKerasModel(values.out, f)];
    for (const w of warnings) console.error(`patt-lite export: warning: ${w}`);
    console.log(`wrote:      ${values.out} (Keras legacy HDF5 weights)`);
    return 0;
  } catch (err) {
    console.error(`patt-lite export: ${(err as Error).message}`);
    return 1;
  }
}
