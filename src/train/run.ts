// A training run in a folder: load data, build or load the model, (optionally) cache backbone
// features, train with the DESIGN §2 recipe, evaluate, and write everything a user wants to
// look at: settings.json, metrics.jsonl (one line per epoch), checkpoints written atomically
// (last + best, with optimizer state for --resume), curves.png, confusion.png, predictions.png
// and metrics.json.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Engine } from '../graph/engine.js';
import { loadDataset } from '../data/load.js';
import { balancedClassWeights } from '../data/class-weights.js';
import { PattLite, type AttentionMode } from '../model/patt-lite.js';
import { loadModel, writeCheckpointModel, modelWeights } from '../model/weights.js';
import { loadFaceApiBackbone } from '../io/faceapi-mobilenet.js';
import { readSafetensors, writeSafetensors, f32Tensor, toFloat32 } from '../io/safetensors.js';
import { loadCheckpoint } from '../io/checkpoint.js';
import { plotConfusionMatrix, plotPredictionGrid, plotTrainingCurves, writePlot } from '../report/plot.js';
import { computeFeatures, packDataset } from './data.js';
import { Trainer, type EpochLog, type SplitData, type TrainState } from './trainer.js';
import type { StepSource } from './step.js';
import type { ClassificationReport } from './metrics.js';

export interface RunSettings {
  data: string;
  out: string;
  /** Backbone initialisation: 'faceapi' (face-trained MobileNetV1 shipped in npm), a Keras or checkpoint file, or 'random'. */
  weights: string;
  attention: AttentionMode;
  inputSize: number;
  phase: 'head' | 'finetune';
  /** Phase 2 as intended (convolutions trainable, BN frozen) or as the notebook behaves (backbone stays frozen). */
  finetune: 'intended' | 'faithful';
  /** Cache backbone features once (head phase with no augmentation); much faster on a CPU adapter. */
  featureCache: boolean;
  augment: boolean;
  epochs: number;
  batchSize: number;
  learningRate: number;
  clipnorm: number;
  dropout: number;
  spatialDropout: number;
  postAttentionDropout: number;
  patience: number;
  minDelta: number;
  plateauPatience: number;
  seed: number;
  valFraction: number;
  resume: boolean;
}

/** DESIGN §2 phase 1 ("train head") defaults. */
export const HEAD_DEFAULTS: Omit<RunSettings, 'data' | 'out'> = {
  weights: 'faceapi', attention: 'patch', inputSize: 224, phase: 'head', finetune: 'intended', featureCache: false,
  augment: true, epochs: 100, batchSize: 8, learningRate: 1e-3, clipnorm: 3.0, dropout: 0.1, spatialDropout: 0,
  postAttentionDropout: 0, patience: 5, minDelta: 0.003, plateauPatience: 3, seed: 0, valFraction: 0.1, resume: false,
};

/** DESIGN §2 phase 2 ("fine-tune") overrides. */
export const FINETUNE_OVERRIDES: Partial<RunSettings> = {
  phase: 'finetune', epochs: 500, learningRate: 1e-5, dropout: 0.2, spatialDropout: 0.2, postAttentionDropout: 0.2, patience: 20,
  minDelta: 0, featureCache: false,
};

export interface RunResult {
  history: EpochLog[];
  test?: ClassificationReport;
  val?: ClassificationReport;
  classNames: string[];
  files: Record<string, string>;
  notes: string[];
}

export interface RunHooks {
  log(line: string): void;
  /** Receives the trainer before the first epoch (tests, custom callbacks). */
  onTrainer?(trainer: Trainer): void;
  /** Called after each epoch's checkpoint is written. */
  onEpochSaved?(log: EpochLog, trainer: Trainer): Promise<void> | void;
  progress?(label: string, done: number, total: number, extra?: string): void;
}

function optimizerPath(ckpt: string): string {
  return ckpt.replace(/\.safetensors$/, '.optimizer.safetensors');
}

export async function runTraining(engine: Engine, s: RunSettings, hooks: RunHooks): Promise<RunResult> {
  const notes: string[] = [];
  mkdirSync(s.out, { recursive: true });
  const files = {
    settings: join(s.out, 'settings.json'), metricsLog: join(s.out, 'metrics.jsonl'), metrics: join(s.out, 'metrics.json'),
    last: join(s.out, 'last.safetensors'), best: join(s.out, 'best.safetensors'), curves: join(s.out, 'curves.png'),
    confusion: join(s.out, 'confusion.png'), predictions: join(s.out, 'predictions.png'),
  };
  writeFileSync(files.settings, JSON.stringify(s, null, 2) + '\n');

  hooks.log(`data: ${s.data}`);
  const ds = await loadDataset({ path: s.data, valFraction: s.valFraction, seed: s.seed });
  const k = ds.classNames.length;
  const packed = packDataset(ds);
  notes.push(...ds.notes, ...packed.notes);
  const train = packed.splits.train;
  if (!train) throw new Error(`${s.data}: no training split found`);
  const val = packed.splits.val;
  const test = packed.splits.test;
  hooks.log(`classes (${k}): ${ds.classNames.join(', ')}; train ${train.count}, val ${val?.count ?? 0}, test ${test?.count ?? 0}; images ${packed.height}x${packed.width}`);

  // Model: a checkpoint or Keras model file gives everything; otherwise build and initialise.
  let model: PattLite;
  const resumeFrom = s.resume && existsSync(files.last) ? files.last : undefined;
  if (resumeFrom || /\.(safetensors|h5|keras)$/i.test(s.weights)) {
    const path = resumeFrom ?? s.weights;
    const loaded = await loadModel(engine, path, { warn: (m) => hooks.log(`warning: ${m}`) });
    model = loaded.model;
    if (model.config.classes !== k) throw new Error(`${path}: the model has ${model.config.classes} classes, the data ${k}`);
    hooks.log(`model: loaded ${path}`);
  } else {
    model = new PattLite(engine, {
      classes: k, classNames: ds.classNames, attention: s.attention, inputSize: s.inputSize,
      dropout: s.dropout, spatialDropout: s.spatialDropout, postAttentionDropout: s.postAttentionDropout,
    }, s.seed);
    if (s.weights === 'faceapi') {
      const n = await loadFaceApiBackbone(model, { onWarning: (m) => hooks.log(`warning: ${m}`) });
      hooks.log(`backbone: ${n} weights of the face-trained MobileNetV1 from @vladmandic/face-api`);
      notes.push('backbone initialised from the face-trained MobileNetV1 in @vladmandic/face-api (not ImageNet)');
    } else if (s.weights === 'random') {
      // A random backbone with frozen BN shrinks activations to nothing: calibrate its statistics.
      const n = Math.min(train.count, 32);
      const bytes = packed.height * packed.width * 3;
      const x = engine.keep(engine.tensor(Float32Array.from((train.data as Uint8Array).subarray(0, n * bytes), (v) => v / 127.5 - 1), [n, packed.height, packed.width, 3]));
      if (packed.height !== s.inputSize || packed.width !== s.inputSize) {
        x.dispose();
        throw new Error(`--weights random needs images of the input size (${s.inputSize}) for BN calibration`);
      }
      model.calibrate(x, { training: false, seed: 0, step: 0 });
      x.dispose();
      notes.push('backbone randomly initialised; BatchNorm statistics calibrated on training images');
    } else {
      throw new Error(`--weights ${s.weights}: expected faceapi, random, or a .h5 / .keras / .safetensors file`);
    }
  }
  model.config.classNames = ds.classNames;

  const trainBackbone = s.phase === 'finetune' && s.finetune === 'intended';
  model.setBackboneTrainable(trainBackbone);
  if (s.phase === 'finetune') {
    notes.push(trainBackbone
      ? 'phase 2 as intended: backbone convolutions trainable, backbone BatchNorms frozen (inference mode)'
      : "phase 2 as the notebook behaves: unfreeze=59 exceeds the 58 backbone layers, so the backbone stays frozen");
  }

  let source: StepSource = { kind: 'pixels', height: packed.height, width: packed.width, augment: s.augment };
  let trainData: SplitData = train;
  let valData = val;
  let testData = test;
  if (s.featureCache) {
    if (trainBackbone) throw new Error('--feature-cache needs a frozen backbone (phase head, or finetune faithful)');
    notes.push('backbone features computed once and cached (frozen backbone, no augmentation)');
    const feat = async (name: string, d: SplitData | undefined) =>
      d && computeFeatures(engine, model, d, packed.height, packed.width, (a, b) => hooks.progress?.(`features ${name}`, a, b));
    trainData = (await feat('train', train))!;
    valData = await feat('val', val);
    testData = await feat('test', test);
    source = { kind: 'features', shape: model.featureShape };
  }

  const cw = balancedClassWeights(train.labels, k);
  const trainer = new Trainer(engine, model, source, trainData, valData, {
    epochs: s.epochs, batchSize: s.batchSize, learningRate: s.learningRate, clipnorm: s.clipnorm, seed: s.seed,
    classWeights: Float32Array.from(cw.weights), monitor: val ? 'val_accuracy' : 'accuracy',
    earlyStopping: { patience: s.patience, minDelta: s.minDelta, restoreBest: true },
    plateau: s.phase === 'head' ? { factor: 0.1, patience: s.plateauPatience, minLr: 1e-6 } : undefined,
    inverseTimeDecay: s.phase === 'finetune' ? { decaySteps: 80, decayRate: 1 } : undefined,
  });

  if (resumeFrom) {
    const ck = loadCheckpoint(resumeFrom);
    const st = ck.training as TrainState | undefined;
    if (!st || typeof st.epoch !== 'number') throw new Error(`${resumeFrom}: no training state to resume from`);
    const opt = readSafetensors(optimizerPath(resumeFrom));
    if (opt.metadata.step !== undefined && opt.metadata.step !== String(st.step)) {
      throw new Error(`${optimizerPath(resumeFrom)} holds the optimizer state of step ${opt.metadata.step}, ` +
        `but ${resumeFrom} is at step ${st.step} (the run was killed between the two writes): resume from ` +
        `${files.best} with --weights instead, or start over with --force`);
    }
    const moments = new Map<string, Float32Array>();
    for (const [name, t] of opt.tensors) moments.set(name, toFloat32(t));
    trainer.optimizer.loadStateDict(model.params, moments, st.step);
    trainer.resumeFrom(st);
    hooks.log(`resumed at epoch ${st.epoch}, step ${st.step}`);
  } else if (existsSync(files.metricsLog)) {
    writeFileSync(files.metricsLog, '');
  }

  const save = async (path: string) => {
    const weights = await modelWeights(model);
    const moments = await trainer.optimizer.stateDict();
    const tensors = new Map([...moments].map(([n, d]) => [n, f32Tensor(d, [d.length])]));
    try {
      // Optimizer first, tagged with its step: resume checks the tag, so a crash between the two
      // writes is reported instead of resuming with moments from another step.
      writeSafetensors(optimizerPath(path), tensors, { for: path, step: String(trainer.state.step) });
      writeCheckpointModel(path, { config: model.config, weights }, { training: trainer.state });
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      const why = err.code === 'ENOSPC' ? 'the disk is full' : err.code === 'EACCES' ? 'permission denied' : err.message;
      throw new Error(`writing checkpoint ${path} failed: ${why}; the previous checkpoint there is intact`);
    }
  };

  const batches = Math.floor(trainData.count / s.batchSize);
  hooks.onTrainer?.(trainer);
  const history = await trainer.fit({
    onBatch: (b) => hooks.progress?.(`epoch ${b.epoch + 1}/${s.epochs}`, b.batch, batches, `${b.imagesPerSecond.toFixed(1)} img/s`),
    onEpoch: async (log) => {
      const { valReport, ...flat } = log;
      await appendFile(files.metricsLog, JSON.stringify({
        ...flat, valRecall: valReport?.recall, valMacroF1: valReport?.macroF1, valConfusion: valReport?.confusion,
      }) + '\n');
      hooks.log(`epoch ${log.epoch}: loss ${log.loss.toFixed(4)} acc ${log.accuracy.toFixed(4)}` +
        (log.valAccuracy !== undefined ? ` val_loss ${log.valLoss!.toFixed(4)} val_acc ${log.valAccuracy.toFixed(4)}` : '') +
        ` lr ${log.learningRate.toExponential(1)} ${log.imagesPerSecond.toFixed(1)} img/s${log.best ? ' (best)' : ''}`);
      await save(files.last);
      if (log.best) await save(files.best);
      await hooks.onEpochSaved?.(log, trainer);
    },
  });

  // Best weights were restored by EarlyStopping; write the final pictures and metrics.
  if (!existsSync(files.best)) await save(files.best);
  const result: RunResult = { history, classNames: ds.classNames, files, notes };
  const evalSet = testData ?? valData;
  if (evalSet) {
    const r = await trainer.evaluate(evalSet);
    if (testData) result.test = r.report;
    else result.val = r.report;
    const report = r.report;
    writePlot(files.confusion, plotConfusionMatrix({
      matrix: report.confusion, classNames: ds.classNames, title: `${testData ? 'Test' : 'Validation'} confusion (accuracy ${(report.accuracy * 100).toFixed(1)}%)`,
    }));
    const raw = testData ? test! : val!;
    const bytes = packed.height * packed.width * 3;
    const pick = Array.from({ length: Math.min(24, raw.count) }, (_, i) => Math.floor((i * raw.count) / Math.min(24, raw.count)));
    writePlot(files.predictions, plotPredictionGrid({
      classNames: ds.classNames,
      title: 'Sample predictions',
      samples: pick.map((i) => {
        const p = r.probs.subarray(i * k, (i + 1) * k);
        const pred = p.indexOf(Math.max(...p));
        return {
          image: { width: packed.width, height: packed.height, data: (raw.data as Uint8Array).subarray(i * bytes, (i + 1) * bytes) },
          trueLabel: raw.labels[i], predLabel: pred, prob: p[pred],
        };
      }),
    }));
  }
  writePlot(files.curves, plotTrainingCurves({
    trainLoss: history.map((h) => h.loss), trainAcc: history.map((h) => h.accuracy),
    ...(history.every((h) => h.valLoss !== undefined)
      ? { valLoss: history.map((h) => h.valLoss!), valAcc: history.map((h) => h.valAccuracy!) } : {}),
  }));
  writeFileSync(files.metrics, JSON.stringify({
    classNames: ds.classNames, epochs: history.length, notes, settings: s,
    final: history[history.length - 1], test: result.test, val: result.val,
  }, null, 2) + '\n');
  trainer.dispose();
  model.dispose();
  return result;
}
