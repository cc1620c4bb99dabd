// A PAtt-Lite checkpoint from bytes in memory, for the browser (a fetch()'s ArrayBuffer, a
// dropped File): safetensors -> architecture, class names and weights -> a PattLite on an Engine.
// No Node built-ins anywhere below this module.
//
// Duplication, for now: src/model/weights.ts (readCheckpointModel, assignWeights,
// defaultClassNames) and src/io/checkpoint.ts (loadCheckpoint) do the same from a file path, but
// they import node:fs (and the HDF5 reader) at the top, so a browser bundle cannot use them. The
// rules here are theirs: `architecture` and `class_names` JSON metadata, defaults from
// PATT_LITE_DEFAULTS, the class count from classification_head/bias when the metadata is absent,
// and every weight checked by matchWeights against pattLiteSpecs. Keep the two in step until
// weights.ts builds on this module.

import type { Engine } from '../graph/engine.js';
import { decodeSafetensors, toFloat32 } from '../io/safetensors-decode.js';
import { matchWeights, type FoundWeights } from '../io/weight-match.js';
import { pattLiteSpecs, shapeString } from '../io/weight-specs.js';
import { PattLite, PATT_LITE_DEFAULTS, type AttentionMode, type PattLiteConfig } from './patt-lite.js';

/** The notebook's alphabetical class lists (src/data/hdf5.ts HDF5_DEFAULT_CLASSES). */
const NOTEBOOK_CLASSES: Record<number, string[]> = {
  7: ['anger', 'disgust', 'fear', 'happiness', 'neutral', 'sadness', 'surprise'],
  8: ['anger', 'contempt', 'disgust', 'fear', 'happiness', 'neutral', 'sadness', 'surprise'],
};

export interface CheckpointModel {
  /** Where the bytes came from (a URL or file name), for messages. */
  file: string;
  config: PattLiteConfig & { classNames: string[]; attention: AttentionMode; inputSize: number };
  /** Canonical `layer/weight` -> values, every weight of pattLiteSpecs(config). */
  weights: Map<string, Float32Array>;
  classNamesFrom: string;
  /** Things the user must know (batch-dependent predictions). */
  warnings: string[];
  /** Tensors in the file the network does not use (optimizer slots, …). */
  extra: string[];
}

export interface CheckpointBytesOptions {
  /** Overrides the attention wiring the checkpoint says. */
  attention?: AttentionMode;
  /** Overrides the input size (square side) the checkpoint says. */
  inputSize?: number;
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

function parseJson(file: string, key: string, text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`${file}: checkpoint metadata ${key} is not valid JSON (${(e as Error).message})`);
  }
}

function checkClassNames(file: string, names: unknown, classes: number): string[] | undefined {
  if (names === undefined) return undefined;
  if (!Array.isArray(names) || !names.every((n) => typeof n === 'string')) {
    throw new Error(`${file}: checkpoint metadata class_names is not a list of strings`);
  }
  if (names.length !== classes) {
    throw new Error(`${file}: ${names.length} class names (${names.join(', ')}), but the classifier has ${classes} classes`);
  }
  if (names.some((n) => !n.trim())) throw new Error(`${file}: class names must not be empty`);
  if (new Set(names).size !== names.length) throw new Error(`${file}: a class name is given twice`);
  return names;
}

/** Reads a PAtt-Lite checkpoint (our safetensors layout) from bytes; `file` names it in errors. */
export function readCheckpointBytes(bytes: Uint8Array, file: string, opts: CheckpointBytesOptions = {}): CheckpointModel {
  const { tensors, metadata } = decodeSafetensors(bytes, file);
  const arch = parseJson(file, 'architecture', metadata.architecture) as Record<string, unknown> | undefined;
  let classes: number;
  if (arch && typeof arch === 'object') {
    if (arch.model !== undefined && arch.model !== 'patt-lite') {
      throw new Error(`${file}: checkpoint of a "${String(arch.model)}" model, not patt-lite`);
    }
    const k = num(arch.classes);
    if (k === undefined) throw new Error(`${file}: checkpoint architecture has no class count (metadata architecture.classes)`);
    classes = k;
  } else {
    const bias = tensors.get('classification_head/bias');
    if (!bias) {
      throw new Error(`${file}: safetensors file without PAtt-Lite architecture metadata and without ` +
        'classification_head/bias; is it a PAtt-Lite checkpoint?');
    }
    classes = bias.shape[0];
  }
  const d = PATT_LITE_DEFAULTS;
  const patchFilters = num(arch?.patchFilters) ?? d.patchFilters;
  const denseUnits = num(arch?.denseUnits) ?? d.denseUnits;
  const found: FoundWeights = new Map();
  for (const [k, t] of tensors) found.set(k, { shape: t.shape, data: toFloat32(t), dtype: t.dtype, source: k });
  const { weights, extra } = matchWeights(pattLiteSpecs({ classes, patchFilters, denseUnits }), found, file);

  const fileAttention = arch?.attention === 'batch' || arch?.attention === 'patch' ? arch.attention : undefined;
  const attention = opts.attention ?? fileAttention ?? d.attention;
  const inputSize = opts.inputSize ?? num(arch?.inputSize) ?? d.inputSize;
  if (!Number.isInteger(inputSize) || inputSize < 1 || inputSize > 4096) {
    throw new Error(`${file}: input size ${inputSize} is not supported: expected a square side in 1..4096`);
  }
  const stored = checkClassNames(file, parseJson(file, 'class_names', metadata.class_names), classes);
  const notebook = NOTEBOOK_CLASSES[classes];
  const classNames = stored ?? (notebook ? [...notebook] : Array.from({ length: classes }, (_, i) => `class_${i}`));
  const classNamesFrom = stored ? 'checkpoint metadata'
    : notebook ? `assumed: the authors' ${classes}-class list in alphabetical order` : 'none in the file: numbered class_0 …';
  const warnings: string[] = [];
  if (attention === 'batch') {
    warnings.push("attention 'batch' (the authors' published notebook): each prediction depends on the other images " +
      'in its batch and on the batch size');
  }
  return {
    file,
    config: {
      classes,
      classNames,
      attention,
      inputSize,
      patchFilters,
      denseUnits,
      dropout: num(arch?.dropout) ?? d.dropout,
      spatialDropout: num(arch?.spatialDropout) ?? d.spatialDropout,
      postAttentionDropout: num(arch?.postAttentionDropout) ?? d.postAttentionDropout,
    },
    weights,
    classNamesFrom,
    warnings,
    extra,
  };
}

/** Builds the PattLite and writes every weight into it (all must be there, in their sizes). */
export function instantiateCheckpoint(engine: Engine, ckpt: CheckpointModel): PattLite {
  const model = new PattLite(engine, { ...ckpt.config, classNames: [...ckpt.config.classNames] });
  const problems: string[] = [];
  for (const p of model.params.all()) {
    const w = ckpt.weights.get(p.name);
    if (!w) problems.push(`${p.name}: expected ${shapeString(p.tensor.shape)}, not found`);
    else if (w.length !== p.tensor.size) problems.push(`${p.name}: expected ${shapeString(p.tensor.shape)}, found ${w.length} values`);
  }
  if (problems.length) {
    model.dispose();
    throw new Error(`${ckpt.file}: the weights do not fit the model:\n  ${problems.join('\n  ')}`);
  }
  for (const p of model.params.all()) engine.write(p.tensor, ckpt.weights.get(p.name)!);
  return model;
}

/** readCheckpointBytes + instantiateCheckpoint. */
export function pattLiteFromBytes(
  engine: Engine, bytes: Uint8Array, file: string, opts: CheckpointBytesOptions = {},
): { model: PattLite; checkpoint: CheckpointModel } {
  const checkpoint = readCheckpointBytes(bytes, file, opts);
  return { model: instantiateCheckpoint(engine, checkpoint), checkpoint };
}
