// Loading and saving PAtt-Lite weights.
//
// Two halves. The file half is CPU-only (no GPU needed): it reads a model file into a
// `ModelFile` (architecture, class names, weights by canonical `layer/weight` name) and writes
// one; `patt-lite import` / `export` convert with it alone. The model half puts a ModelFile on
// the GPU as a PattLite (`instantiate`, `loadModel`) or reads a PattLite's weights back
// (`saveModel`, `exportKerasModel`).
//
// Sources:
// - our checkpoint (safetensors; metadata `architecture` and `class_names`, src/io/checkpoint.ts);
// - Keras (src/io/keras-h5.ts): a TF 2.x `model.save('model.h5')` of the authors' notebook
//   (model_config gives classes, input size and the attention wiring), a legacy weights .h5, a
//   Keras 3 `.weights.h5` or `.keras` archive. Without a model config the class count is read
//   from the classifier's kernel shape;
// - the MobileNet ImageNet no-top file (`mobilenet_1_0_224_tf_no_top.h5`), into the backbone only
//   (`loadImagenetBackbone`): the starting point for training, not a classifier.
//
// Attention wiring (DESIGN §2). The notebook applies Attention to the (batch, 32) output of
// GlobalAveragePooling -> Dense -> BN, so its predictions depend on the rest of the batch; a
// model trained that way only behaves as trained with attention 'batch', and loading one warns.
// The weights are the same in both wirings, so a file alone cannot tell them apart: a model
// config with a GlobalAveragePooling2D before the Attention means 'batch'; a weights file we
// exported carries our own root attribute `patt_lite_webgpu` (JSON: attention, class names,
// input size), which Keras ignores; any other Keras file is assumed to come from the notebook
// ('batch', with a warning saying so). `attention` in the options overrides all of this.

import { closeSync, openSync, readSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { HDF5_DEFAULT_CLASSES } from '../data/hdf5.js';
import type { Engine } from '../graph/engine.js';
import { loadCheckpoint, matchCheckpoint, saveCheckpoint } from '../io/checkpoint.js';
import type { KerasModelFacts } from '../io/keras-config.js';
import type { KerasFormat, KerasImport } from '../io/keras-h5.js';
import { matchWeights } from '../io/weight-match.js';
import {
  elementCount, mobileNetSpecs, pattLiteSpecs, shapeString, specKey, type WeightSpec,
} from '../io/weight-specs.js';
import { PattLite, PATT_LITE_DEFAULTS, type AttentionMode, type PattLiteConfig } from './patt-lite.js';

export type ModelFormat = 'checkpoint' | KerasFormat;

/** The `architecture` metadata of a PAtt-Lite checkpoint. */
export interface PattLiteArchitecture {
  model: 'patt-lite';
  classes: number;
  attention: AttentionMode;
  inputSize: number;
  patchFilters: number;
  denseUnits: number;
  dropout: number;
  spatialDropout: number;
  postAttentionDropout: number;
}

/** A model read from a file, still on the CPU. */
export interface ModelFile {
  file: string;
  format: ModelFormat;
  kerasVersion?: string;
  /** Everything PattLite needs, classNames included (one per class). */
  config: PattLiteConfig & { classNames: string[]; attention: AttentionMode; inputSize: number };
  /** Canonical `layer/weight` -> values, every weight of pattLiteSpecs(config). */
  weights: Map<string, Float32Array>;
  /** How the class names and the attention mode were decided, for the user to read. */
  classNamesFrom: string;
  attentionFrom: string;
  /** Things the user must know (batch-dependent predictions, assumptions). */
  warnings: string[];
  /** Weights in the file that the network does not use (optimizer slots, MobileNet's top, …). */
  extra: string[];
}

export interface ReadModelOptions {
  /** Class names (their count must match the file's classifier). */
  classNames?: string[];
  /** Overrides the attention wiring the file implies. */
  attention?: AttentionMode;
  /** Overrides the input size (square side) the file implies. */
  inputSize?: number;
}

export interface LoadModelOptions extends ReadModelOptions {
  /** Receives each warning; default: printed to stderr as `warning: …`. */
  warn?: (message: string) => void;
  /** Initialisation seed of the model before the weights are written (irrelevant to results). */
  seed?: number;
}

/** The root attribute our Keras export adds (Keras ignores unknown root attributes). */
export const KERAS_MARKER_ATTRIBUTE = 'patt_lite_webgpu';

export const BATCH_ATTENTION_WARNING =
  "attention 'batch' (the authors' published notebook): the classifier attends across the images of a batch, " +
  'so each prediction depends on the other images in its batch and on the batch size; ' +
  "use attention 'patch' models for per-image predictions";

/**
 * The Keras readers and writer, loaded on first use: they pull in the HDF5 library (WASM), which
 * takes seconds to load, and a checkpoint needs none of it.
 */
async function kerasIo() {
  const [h5, reader, writer] = await Promise.all([
    import('../io/h5.js'), import('../io/keras-h5.js'), import('../io/keras-h5-export.js'),
  ]);
  return { ...h5, ...reader, ...writer };
}

const HDF5_SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

const CHECKPOINT_WHAT = 'a PAtt-Lite checkpoint (.safetensors) or a Keras file (.h5, .weights.h5, .keras)';

// ---- file kinds -------------------------------------------------------------------------------

/** 'checkpoint' (safetensors), 'keras' (HDF5 or a zip archive) or undefined, by content. */
export function sniffModelFile(path: string): 'checkpoint' | 'keras' | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(code === 'ENOENT' ? `${path}: no such file` : `${path}: cannot open (${(e as Error).message})`);
  }
  const head = Buffer.alloc(9);
  let hdf5 = false;
  let n: number;
  try {
    n = readSync(fd, head, 0, 9, 0);
    // HDF5 allows a user block: the signature may sit at 0, 512, 1024, 2048, …
    const sig = Buffer.alloc(8);
    for (let off = 0; off < 1 << 20 && readSync(fd, sig, 0, 8, off) === 8; off = off === 0 ? 512 : off * 2) {
      if (HDF5_SIGNATURE.every((b, i) => sig[i] === b)) {
        hdf5 = true;
        break;
      }
    }
  } finally {
    closeSync(fd);
  }
  if (n >= 4 && head.readUInt32LE(0) === 0x04034b50) return 'keras';
  // safetensors: u64 header length, then the JSON header's '{'.
  if (n === 9 && head.readUInt32LE(4) === 0 && head.readUInt32LE(0) > 1 && head[8] === 0x7b) return 'checkpoint';
  return hdf5 ? 'keras' : undefined;
}

/** Default class names for k classes: the notebook's alphabetical lists for 7 and 8. */
export function defaultClassNames(k: number): { names: string[]; from: string } {
  const known = HDF5_DEFAULT_CLASSES[k];
  if (known) return { names: [...known], from: `assumed: the authors' ${k}-class list in alphabetical order (pass class names to change)` };
  return { names: Array.from({ length: k }, (_, i) => `class_${i}`), from: 'none in the file: numbered class_0 …' };
}

function checkClassNames(file: string, names: string[] | undefined, classes: number, where: string): string[] | undefined {
  if (!names) return undefined;
  if (names.length !== classes) {
    throw new Error(
      `${file}: ${names.length} class names given (${names.join(', ')}), but the ${where} has ${classes} classes`,
    );
  }
  const seen = new Set<string>();
  for (const n of names) {
    if (!n.trim()) throw new Error(`${file}: class names must not be empty`);
    if (seen.has(n)) throw new Error(`${file}: class name "${n}" is given twice`);
    seen.add(n);
  }
  return names;
}

function checkInputSize(file: string, size: number, from: string): number {
  // Whether the patch extraction still fits is PattLite's check (it needs about 80 pixels).
  if (!Number.isInteger(size) || size < 1 || size > 4096) {
    throw new Error(`${file}: input size ${size} (${from}) is not supported: expected a square side in 1..4096`);
  }
  return size;
}

// ---- reading ----------------------------------------------------------------------------------

/** Reads a checkpoint or a Keras PAtt-Lite file (see the file comment). */
export async function readModelFile(path: string, opts: ReadModelOptions = {}): Promise<ModelFile> {
  const kind = sniffModelFile(path);
  if (kind === 'checkpoint') return readCheckpointModel(path, opts);
  if (kind === 'keras') return readKerasModel(path, opts);
  throw new Error(`${path}: not ${CHECKPOINT_WHAT} (unrecognised content)`);
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** Reads one of our checkpoints (see saveModel); the architecture comes from its metadata. */
export function readCheckpointModel(path: string, opts: ReadModelOptions = {}): ModelFile {
  const ckpt = loadCheckpoint(path);
  const arch = ckpt.architecture as Partial<PattLiteArchitecture> | undefined;
  let classes: number;
  let archFrom: string;
  if (arch && typeof arch === 'object') {
    if (arch.model !== undefined && arch.model !== 'patt-lite') {
      throw new Error(`${path}: checkpoint of a "${String(arch.model)}" model, not patt-lite`);
    }
    const k = num(arch.classes);
    if (k === undefined) throw new Error(`${path}: checkpoint architecture has no class count (metadata architecture.classes)`);
    classes = k;
    archFrom = 'checkpoint metadata';
  } else {
    const bias = ckpt.tensors.get('classification_head/bias');
    if (!bias) {
      throw new Error(
        `${path}: safetensors file without PAtt-Lite architecture metadata and without classification_head/bias; ` +
          'is it a PAtt-Lite checkpoint?',
      );
    }
    classes = bias.shape[0];
    archFrom = 'classifier shape (no architecture metadata)';
  }
  const d = PATT_LITE_DEFAULTS;
  const patchFilters = num(arch?.patchFilters) ?? d.patchFilters;
  const denseUnits = num(arch?.denseUnits) ?? d.denseUnits;
  const specs = pattLiteSpecs({ classes, patchFilters, denseUnits });
  const { weights, extra } = matchCheckpoint(specs, ckpt, path);
  const fileAttention = arch?.attention === 'batch' || arch?.attention === 'patch' ? arch.attention : undefined;
  const attention = opts.attention ?? fileAttention ?? d.attention;
  const attentionFrom = opts.attention
    ? `given${fileAttention && fileAttention !== opts.attention ? ` (the checkpoint says '${fileAttention}')` : ''}`
    : fileAttention ? 'checkpoint metadata' : `default ('${d.attention}'; the checkpoint does not say)`;
  const given = checkClassNames(path, opts.classNames, classes, 'checkpoint');
  const stored = checkClassNames(path, ckpt.classNames, classes, 'checkpoint classifier (metadata class_names)');
  const fallback = defaultClassNames(classes);
  const inputSize = checkInputSize(path, opts.inputSize ?? num(arch?.inputSize) ?? d.inputSize, 'input size');
  const warnings: string[] = [];
  if (attention === 'batch') warnings.push(BATCH_ATTENTION_WARNING);
  return {
    file: path,
    format: 'checkpoint',
    config: {
      classes,
      classNames: given ?? stored ?? fallback.names,
      attention,
      inputSize,
      patchFilters,
      denseUnits,
      dropout: num(arch?.dropout) ?? d.dropout,
      spatialDropout: num(arch?.spatialDropout) ?? d.spatialDropout,
      postAttentionDropout: num(arch?.postAttentionDropout) ?? d.postAttentionDropout,
    },
    weights,
    classNamesFrom: given ? 'given' : stored ? 'checkpoint metadata' : fallback.from,
    attentionFrom: `${attentionFrom}; architecture from the ${archFrom}`,
    warnings,
    extra,
  };
}

interface OurMarker {
  attention?: AttentionMode;
  classNames?: string[];
  inputSize?: number;
}

async function readMarker(path: string): Promise<OurMarker | undefined> {
  const { closeH5, hasHdf5Signature, openH5, readStringAttr } = await kerasIo();
  if (!hasHdf5Signature(path)) return undefined;
  const f = await openH5(path);
  try {
    const text = readStringAttr(path, f, KERAS_MARKER_ATTRIBUTE);
    if (text === undefined) return undefined;
    try {
      const v = JSON.parse(text) as OurMarker;
      return v && typeof v === 'object' ? v : undefined;
    } catch {
      throw new Error(`${path}: root attribute ${KERAS_MARKER_ATTRIBUTE} is not valid JSON`);
    }
  } finally {
    closeH5(f);
  }
}

/** The notebook's wiring: a GlobalAveragePooling2D outside the backbone, before the Attention. */
function attentionFromFacts(facts: KerasModelFacts): { mode: AttentionMode; why: string } | undefined {
  const att = facts.layers.findIndex((l) => l.className === 'Attention');
  if (att < 0) return undefined;
  const backbone = facts.backbone?.name;
  const gap = facts.layers.slice(0, att).some(
    (l) => l.className === 'GlobalAveragePooling2D' && !(backbone && l.parents.includes(backbone)),
  );
  return gap
    ? { mode: 'batch', why: 'model config: GlobalAveragePooling2D feeds the Attention a (batch, 32) tensor (the published notebook)' }
    : undefined;
}

/** The classifier's class count from raw weight shapes: the one 2-D kernel [denseUnits, k]. */
function classesFromShapes(raw: KerasImport, denseUnits: number): number | undefined {
  const head = raw.weights.get('classification_head/kernel');
  if (head && head.shape.length === 2) return head.shape[1];
  const candidates = [...raw.weights.values()].filter((w) => w.shape.length === 2 && w.shape[0] === denseUnits);
  return candidates.length === 1 ? candidates[0].shape[1] : undefined;
}

function isMobileNetFile(raw: KerasImport): boolean {
  const keys = [...raw.weights.keys()];
  return keys.some((k) => k.startsWith('conv_pw_13/') || k.startsWith('conv_preds/')) &&
    !keys.some((k) => k.startsWith('classification_head/') || /attention/.test(k));
}

/** Reads a Keras PAtt-Lite file (model.save .h5, weights .h5, .weights.h5, .keras). */
export async function readKerasModel(path: string, opts: ReadModelOptions = {}): Promise<ModelFile> {
  const { readKerasWeights } = await kerasIo();
  // First pass without specs: formats, config facts, shapes (the values are small: ~1.1 M floats).
  const raw = await readKerasWeights(path);
  if (isMobileNetFile(raw)) {
    throw new Error(
      `${path}: this is a MobileNet weights file (it has conv_pw_13 / conv_preds and no PAtt-Lite head), not a ` +
        'PAtt-Lite model: it can initialise the backbone for training (loadImagenetBackbone), but it cannot ' +
        'classify expressions. Expected a PAtt-Lite model saved by the authors\' notebook or by `patt-lite export`.',
    );
  }
  const facts = raw.facts;
  const marker = raw.format === 'legacy-weights' || raw.format === 'legacy-model' ? await readMarker(path) : undefined;
  const d = PATT_LITE_DEFAULTS;
  if (facts?.backbone?.alpha !== undefined && facts.backbone.alpha !== 1) {
    throw new Error(`${path}: the backbone is MobileNet alpha ${facts.backbone.alpha}; PAtt-Lite uses alpha 1.0`);
  }
  if (facts?.attention && facts.attention.scoreMode && facts.attention.scoreMode !== 'dot') {
    throw new Error(`${path}: Attention score_mode '${facts.attention.scoreMode}' is not supported (expected 'dot')`);
  }

  let classes = facts?.classes;
  let classesFrom = 'model config';
  if (classes === undefined) {
    classes = classesFromShapes(raw, d.denseUnits);
    classesFrom = 'classifier kernel shape';
  }
  if (classes === undefined && opts.classNames) {
    classes = opts.classNames.length;
    classesFrom = 'the class names given';
  }
  if (classes === undefined) {
    throw new Error(
      `${path}: cannot tell the number of classes: no model config, and no single classifier kernel of shape ` +
        `(${d.denseUnits}, classes) among ${raw.weights.size} weights. Give the class names.`,
    );
  }
  const specs = pattLiteSpecs({ classes });
  // Second pass: read and check exactly the weights the network needs.
  const source = await readKerasWeights(path, { specs });
  const { weights, extra } = matchWeights(specs, source.weights, path);

  // Attention wiring.
  const fromFacts = facts ? attentionFromFacts(facts) : undefined;
  let fileMode: AttentionMode;
  let why: string;
  const warnings: string[] = [];
  if (marker?.attention === 'batch' || marker?.attention === 'patch') {
    fileMode = marker.attention;
    why = `written by patt-lite export (root attribute ${KERAS_MARKER_ATTRIBUTE})`;
  } else if (fromFacts) {
    fileMode = fromFacts.mode;
    why = fromFacts.why;
  } else {
    fileMode = 'batch';
    why = facts
      ? 'assumed: the model config shows no GlobalAveragePooling2D before the Attention; taking the published wiring'
      : 'assumed: a Keras file without a model config is taken to come from the authors\' notebook';
    if (!opts.attention) {
      warnings.push(`${path}: the file does not say how the attention is wired; ${why}. Override with attention 'patch' if it was trained per image.`);
    }
  }
  const attention = opts.attention ?? fileMode;
  const attentionFrom = opts.attention ? `given${opts.attention !== fileMode ? ` (the file implies '${fileMode}': ${why})` : ''}` : why;
  if (attention === 'batch') warnings.push(BATCH_ATTENTION_WARNING);

  // Input size: the Resizing layer of the notebook, else our marker, else 224.
  const resizing = facts?.layers.find((l) => l.className === 'Resizing');
  let fileSize: number | undefined;
  let sizeFrom = 'default';
  if (resizing) {
    const h = num(resizing.config.height);
    const w = num(resizing.config.width);
    if (h !== undefined && w !== undefined && h !== w) {
      throw new Error(`${path}: the model resizes to ${h}x${w}; PAtt-Lite here takes square inputs`);
    }
    fileSize = h;
    sizeFrom = `Resizing layer '${resizing.name}'`;
  } else if (num(marker?.inputSize) !== undefined) {
    fileSize = marker!.inputSize;
    sizeFrom = KERAS_MARKER_ATTRIBUTE;
  }
  const inputSize = checkInputSize(path, opts.inputSize ?? fileSize ?? d.inputSize, opts.inputSize ? 'given' : sizeFrom);

  const given = checkClassNames(path, opts.classNames, classes, `file's classifier (${classesFrom})`);
  const markerNames = Array.isArray(marker?.classNames) && marker!.classNames.every((n) => typeof n === 'string')
    ? checkClassNames(path, marker!.classNames, classes, 'classifier') : undefined;
  const fallback = defaultClassNames(classes);
  return {
    file: path,
    format: source.format,
    kerasVersion: source.kerasVersion,
    config: {
      classes,
      classNames: given ?? markerNames ?? fallback.names,
      attention,
      inputSize,
      dropout: facts?.dropoutRates[0] ?? d.dropout,
      spatialDropout: facts?.spatialDropoutRates[0] ?? d.spatialDropout,
      postAttentionDropout: facts?.dropoutRates[1] ?? d.postAttentionDropout,
    },
    weights,
    classNamesFrom: given ? 'given' : markerNames ? `written by patt-lite export` : fallback.from,
    attentionFrom,
    warnings,
    extra,
  };
}

// ---- writing ----------------------------------------------------------------------------------

export function architectureOf(config: PattLite['config']): PattLiteArchitecture {
  return {
    model: 'patt-lite',
    classes: config.classes,
    attention: config.attention,
    inputSize: config.inputSize,
    patchFilters: config.patchFilters,
    denseUnits: config.denseUnits,
    dropout: config.dropout,
    spatialDropout: config.spatialDropout,
    postAttentionDropout: config.postAttentionDropout,
  };
}

function specsFor(config: PattLite['config']): WeightSpec[] {
  return pattLiteSpecs({ classes: config.classes, patchFilters: config.patchFilters, denseUnits: config.denseUnits });
}

/** What the writers need: an architecture and its weights (a ModelFile is one). */
export interface ModelData {
  config: PattLiteConfig;
  weights: ReadonlyMap<string, Float32Array>;
}

/** Writes a model as our checkpoint (architecture and class names in the metadata). */
export function writeCheckpointModel(
  path: string,
  mf: ModelData,
  more: { training?: unknown; extra?: Record<string, string> } = {},
): void {
  const config = { ...PATT_LITE_DEFAULTS, ...mf.config };
  const specs = specsFor(config);
  const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const s of specs) {
    const data = mf.weights.get(specKey(s));
    if (!data) throw new Error(`${path}: cannot save, weight ${specKey(s)} ${shapeString(s.shape)} is missing`);
    if (data.length !== elementCount(s.shape)) {
      throw new Error(`${path}: cannot save ${specKey(s)}: ${data.length} values for shape ${shapeString(s.shape)}`);
    }
    tensors.set(specKey(s), { shape: [...s.shape], data });
  }
  saveCheckpoint(path, {
    tensors,
    architecture: architectureOf(config),
    classNames: mf.config.classNames ?? defaultClassNames(config.classes).names,
    training: more.training,
    extra: more.extra,
  });
}

/**
 * Writes a ModelFile in the Keras legacy HDF5 weights layout (keras-h5-export.ts: nested groups
 * as the notebook saves them), plus our root attribute with the attention mode and class names.
 * Returns warnings (a 'patch' model does not behave as trained in the notebook's Keras model).
 */
export async function writeKerasModel(path: string, mf: ModelData): Promise<string[]> {
  const config = { ...PATT_LITE_DEFAULTS, ...mf.config };
  const specs = specsFor(config);
  const { h5Ready, writeKerasH5 } = await kerasIo();
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.export.tmp`);
  try {
    await writeKerasH5(tmp, specs, mf.weights);
    const h5 = await h5Ready();
    const f = new h5.File(tmp, 'a');
    try {
      const marker: OurMarker = { attention: config.attention, classNames: mf.config.classNames, inputSize: config.inputSize };
      f.create_attribute(KERAS_MARKER_ATTRIBUTE, JSON.stringify(marker));
    } finally {
      f.close();
    }
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  const warnings: string[] = [];
  if (config.attention === 'patch') {
    warnings.push(
      "this model uses attention 'patch' (per image); the authors' Keras notebook wires the same weights with " +
        'attention across the batch, so a Keras model built from that notebook will not reproduce its predictions',
    );
  }
  if (config.inputSize !== 224) warnings.push(`the model was built for ${config.inputSize}x${config.inputSize} inputs; the notebook resizes to 224x224`);
  return warnings;
}

// ---- the model on the GPU --------------------------------------------------------------------

/** Writes `weights` into the model's parameters; every parameter must be there in its size. */
export function assignWeights(model: PattLite, weights: ReadonlyMap<string, Float32Array>, file: string): void {
  const problems: string[] = [];
  for (const p of model.params.all()) {
    const w = weights.get(p.name);
    if (!w) problems.push(`${p.name}: expected ${shapeString(p.tensor.shape)}, not found`);
    else if (w.length !== p.tensor.size) problems.push(`${p.name}: expected ${shapeString(p.tensor.shape)} (${p.tensor.size} values), found ${w.length} values`);
  }
  if (problems.length) throw new Error(`${file}: the weights do not fit the model:\n  ${problems.join('\n  ')}`);
  for (const p of model.params.all()) model.engine.write(p.tensor, weights.get(p.name)!);
}

/** Builds a PattLite from a ModelFile on `engine`. */
export function instantiate(engine: Engine, mf: ModelFile, seed = 0): PattLite {
  const model = new PattLite(engine, { ...mf.config, classNames: [...mf.config.classNames] }, seed);
  try {
    assignWeights(model, mf.weights, mf.file);
  } catch (e) {
    model.dispose();
    throw e;
  }
  return model;
}

const stderrWarn = (m: string): void => {
  process.stderr.write(`warning: ${m}\n`);
};

/** Reads a checkpoint or Keras file and builds the model; warnings go to `opts.warn`. */
export async function loadModel(engine: Engine, path: string, opts: LoadModelOptions = {}): Promise<{ model: PattLite; file: ModelFile }> {
  const file = await readModelFile(path, opts);
  for (const w of file.warnings) (opts.warn ?? stderrWarn)(w);
  return { model: instantiate(engine, file, opts.seed), file };
}

/** Reads every parameter of the model back from the GPU, by canonical name. */
export async function modelWeights(model: PattLite): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  for (const p of model.params.all()) out.set(p.name, await p.tensor.readF32());
  return out;
}

async function asModelFile(model: PattLite): Promise<ModelData> {
  return { config: model.config, weights: await modelWeights(model) };
}

/** Saves the model as our checkpoint (see writeCheckpointModel). */
export async function saveModel(
  model: PattLite,
  path: string,
  more: { training?: unknown; extra?: Record<string, string> } = {},
): Promise<void> {
  writeCheckpointModel(path, await asModelFile(model), more);
}

/** Exports the model as a Keras legacy HDF5 weights file; returns warnings (see writeKerasModel). */
export async function exportKerasModel(model: PattLite, path: string): Promise<string[]> {
  return writeKerasModel(path, await asModelFile(model));
}

/**
 * Loads the Keras MobileNet ImageNet weights (`mobilenet_1_0_224_tf_no_top.h5`, alpha 1.0; a file
 * with the top works too) into the model's truncated backbone (conv1 .. conv_dw_9_bn). The whole
 * file is checked against MobileNet's layout; the blocks PAtt-Lite drops are returned in `unused`.
 */
export async function loadImagenetBackbone(model: PattLite, path: string): Promise<{ loaded: string[]; unused: string[] }> {
  const { readKerasWeights } = await kerasIo();
  const specs = mobileNetSpecs({ alpha: 1.0, includeTop: false });
  const raw = await readKerasWeights(path, { specs });
  const { weights, extra } = matchWeights(specs, raw.weights, path);
  const backbone = new Set(model.backbone.flat().map((l) => l.name));
  const loaded: string[] = [];
  const unused: string[] = [...extra];
  for (const [key, values] of weights) {
    const layer = key.slice(0, key.lastIndexOf('/'));
    if (!backbone.has(layer)) {
      unused.push(key);
      continue;
    }
    const t = model.params.get(key);
    if (t.size !== values.length) {
      throw new Error(`${path}: ${key} holds ${values.length} values, the backbone expects ${shapeString(t.shape)}`);
    }
    model.engine.write(t, values);
    loaded.push(key);
  }
  const missing = model.params.all().filter((p) => backbone.has(p.layer) && !loaded.includes(p.name));
  if (missing.length) {
    throw new Error(`${path}: the backbone weights ${missing.map((p) => p.name).join(', ')} are not in the file`);
  }
  return { loaded, unused };
}
