// `patt-lite import`: converts a Keras PAtt-Lite file to our checkpoint, on the CPU, and says what
// it found (format, classes, attention wiring).
import { resolve } from 'node:path';
import { parse, UsageError } from './args.js';
import { describeModelFile, MODEL_HELP, MODEL_OPTIONS, readModelOptions } from './model-file.js';

const HELP = [
  'usage: patt-lite import KERAS_FILE --out CHECKPOINT.safetensors [options]',
  '',
  'Converts a Keras PAtt-Lite model to a PAtt-Lite checkpoint (safetensors with the architecture and',
  'class names in its metadata), checking every weight against the network. Needs no GPU.',
  '',
  'Reads: a whole model saved by the authors\' notebook with model.save(\'model.h5\') (TF 2.x; its',
  'model_config gives the class count, input size and attention wiring), a legacy weights .h5',
  '(save_weights, or `patt-lite export`), a Keras 3 .weights.h5 or a .keras archive. Without a model',
  'config the class count comes from the classifier\'s kernel shape. A MobileNet ImageNet file is',
  'refused: it holds a backbone, not an expression classifier.',
  '',
  "Models from the authors' notebook attend across the batch (attention 'batch'): their predictions",
  'depend on the other images in a batch. The import keeps that wiring, and warns.',
  '',
  '  --out FILE        the checkpoint to write (required; replaced if it exists)',
  ...MODEL_HELP,
  '  -h, --help        this help',
  '',
  'Exit codes: 0 written; 1 the file could not be read or does not match the network; 2 bad command line.',
].join('\n');

export async function importCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    ...MODEL_OPTIONS, out: { type: 'string', short: 'o' }, help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError(`expected one Keras file, got ${positionals.length}\n\n${HELP}`);
  if (!values.out) throw new UsageError('--out CHECKPOINT.safetensors is required');
  const [input] = positionals;
  if (resolve(input) === resolve(values.out)) throw new UsageError('--out must not be the input file');
  const opts = readModelOptions(values);
  // Loaded here: the HDF5 library takes seconds to load, and main.ts imports every command.
  const { readModelFile, writeCheckpointModel } = await import('../model/weights.js');
  try {
    const f = await readModelFile(input, opts);
    for (const line of describeModelFile(f)) console.log(line);
    for (const w of f.warnings) console.error(`patt-lite import: warning: ${w}`);
    writeCheckpointModel(values.out, f, { extra: { imported_from: input, imported_format: f.format } });
    console.log(`wrote:      ${values.out}`);
    return 0;
  } catch (err) {
    console.error(`patt-lite import: ${(err as Error).message}`);
    return 1;
  }
}
