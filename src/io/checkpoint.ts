// Checkpoints: weights as float32 safetensors, with JSON metadata for the architecture, the
// class names and the training state (epoch, optimizer step, best metric, …).

import {
  f32Tensor, readSafetensors, toFloat32, writeSafetensors, type SafeTensor,
} from './safetensors.js';
import { matchWeights, type FoundWeights, type MatchResult } from './weight-match.js';
import type { WeightSpec } from './weight-specs.js';

export const CHECKPOINT_FORMAT = 'patt-lite-webgpu/checkpoint';
export const CHECKPOINT_VERSION = '1';

export interface CheckpointTensor {
  shape: number[];
  data: Float32Array;
}

export interface Checkpoint {
  /** Canonical `layer/weight` (and optimizer slots, e.g. `adam_m/conv1/kernel`) -> values. */
  tensors: Map<string, CheckpointTensor>;
  architecture?: unknown;
  classNames?: string[];
  training?: unknown;
  /** Further string metadata, kept as is. */
  extra?: Record<string, string>;
}

const RESERVED = ['format', 'format_version', 'architecture', 'class_names', 'training_state'];

/** Writes a checkpoint atomically. */
export function saveCheckpoint(path: string, ckpt: Checkpoint): void {
  const tensors = new Map<string, SafeTensor>();
  for (const [k, t] of ckpt.tensors) tensors.set(k, f32Tensor(t.data, t.shape));
  const meta: Record<string, string> = { ...(ckpt.extra ?? {}) };
  for (const k of RESERVED) delete meta[k];
  meta.format = CHECKPOINT_FORMAT;
  meta.format_version = CHECKPOINT_VERSION;
  if (ckpt.architecture !== undefined) meta.architecture = JSON.stringify(ckpt.architecture);
  if (ckpt.classNames !== undefined) meta.class_names = JSON.stringify(ckpt.classNames);
  if (ckpt.training !== undefined) meta.training_state = JSON.stringify(ckpt.training);
  writeSafetensors(path, tensors, meta);
}

function parseJson(path: string, key: string, text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`${path}: checkpoint metadata ${key} is not valid JSON (${(e as Error).message})`);
  }
}

/** Reads a checkpoint; any safetensors file loads, its tensors converted to float32. */
export function loadCheckpoint(path: string): Checkpoint {
  const { tensors, metadata } = readSafetensors(path);
  const out = new Map<string, CheckpointTensor>();
  for (const [k, t] of tensors) out.set(k, { shape: t.shape, data: toFloat32(t) });
  const classNames = parseJson(path, 'class_names', metadata.class_names);
  const strings = Array.isArray(classNames) && classNames.every((c) => typeof c === 'string');
  if (classNames !== undefined && !strings) {
    throw new Error(`${path}: checkpoint metadata class_names is not a list of strings`);
  }
  const extra: Record<string, string> = {};
  for (const [k, v] of Object.entries(metadata)) if (!RESERVED.includes(k)) extra[k] = v;
  return {
    tensors: out,
    architecture: parseJson(path, 'architecture', metadata.architecture),
    classNames: classNames as string[] | undefined,
    training: parseJson(path, 'training_state', metadata.training_state),
    extra,
  };
}

/** Checks a checkpoint's weights against the network's specs (see matchWeights). */
export function matchCheckpoint(specs: readonly WeightSpec[], ckpt: Checkpoint, file: string): MatchResult {
  const found: FoundWeights = new Map();
  for (const [k, t] of ckpt.tensors) {
    found.set(k, { shape: t.shape, data: t.data, dtype: 'F32', source: k });
  }
  return matchWeights(specs, found, file);
}
