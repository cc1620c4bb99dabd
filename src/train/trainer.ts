// The training loop: epochs of shuffled batches through a compiled TrainStep, evaluation,
// Keras-style callbacks, per-epoch metrics and atomic checkpoints, and exact resume.
//
// Batches: every epoch reshuffles (seeded by seed and epoch) and drops the last partial batch,
// so one recorded step serves the whole run. Sample weights are the balanced class weights.
import type { Engine } from '../graph/engine.js';
import type { PattLite } from '../model/patt-lite.js';
import { Adam } from './optimizer.js';
import { TrainStep, type StepSource } from './step.js';
import { EarlyStopping, ReduceLROnPlateau, inverseTimeDecay, type EarlyStoppingState, type PlateauState } from './schedules.js';
import type { ClassificationReport } from './metrics.js';
import { Evaluator, type Evaluation } from './evaluate.js';
import { settle } from '../kernels/wait.js';

/** One split held in memory: packed images of one size, or cached features. */
export interface SplitData {
  count: number;
  labels: Int32Array;
  /** pixels: count*h*w*3 bytes (h, w from `source`); features: count*prod(shape) floats. */
  data: Uint8Array | Float32Array;
}

export interface TrainConfig {
  epochs: number;
  batchSize: number;
  learningRate: number;
  clipnorm?: number;
  seed: number;
  classWeights: Float32Array;
  /** Monitored metric for EarlyStopping / ReduceLROnPlateau. */
  monitor: 'val_accuracy' | 'accuracy';
  earlyStopping?: { patience: number; minDelta: number; restoreBest: boolean };
  plateau?: { factor: number; patience: number; minLr: number };
  inverseTimeDecay?: { decaySteps: number; decayRate: number };
  compiled?: boolean;
  /** Steps between checks that the running loss is finite (a small read; never per step). */
  checkEvery?: number;
}

export interface EpochLog {
  epoch: number;
  loss: number;
  accuracy: number;
  valLoss?: number;
  valAccuracy?: number;
  valReport?: ClassificationReport;
  learningRate: number;
  seconds: number;
  imagesPerSecond: number;
  best: boolean;
}

export interface TrainState {
  epoch: number;
  step: number;
  learningRate: number;
  plateau?: PlateauState;
  early?: EarlyStoppingState;
  history: EpochLog[];
}

/** Training produced a non-finite loss or gradient; the weights of this epoch are not saved. */
export class NonFiniteError extends Error {
  constructor(readonly epoch: number, readonly step: number) {
    super(`the loss became NaN or infinite at epoch ${epoch}, by step ${step}: training stopped ` +
      '(lower the learning rate, check the data for NaN, or keep gradient clipping on)');
    this.name = 'NonFiniteError';
  }
}

export interface TrainHooks {
  onBatch?(info: { epoch: number; batch: number; batches: number; step: number; imagesPerSecond: number }): void;
  onEpoch?(log: EpochLog, trainer: Trainer): Promise<void> | void;
}

/** Seeded Fisher-Yates shuffle of 0..n-1. */
export function shuffled(n: number, seed: number): Int32Array {
  const idx = Int32Array.from({ length: n }, (_, i) => i);
  let s = seed >>> 0 || 1;
  for (let i = n - 1; i > 0; i--) {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    const j = s % (i + 1);
    [idx[i], idx[j]] = [idx[j], idx[i]];
  }
  return idx;
}

export class Trainer {
  readonly optimizer: Adam;
  readonly step: TrainStep;
  state: TrainState;
  private readonly plateau?: ReduceLROnPlateau;
  private readonly early?: EarlyStopping;
  private bestWeights: Map<string, Float32Array> | undefined;
  private readonly evaluator: Evaluator;

  constructor(
    readonly engine: Engine,
    readonly model: PattLite,
    readonly source: StepSource,
    readonly train: SplitData,
    readonly val: SplitData | undefined,
    readonly config: TrainConfig,
  ) {
    if (train.count < config.batchSize) {
      throw new RangeError(`training split has ${train.count} samples, fewer than one batch of ${config.batchSize}`);
    }
    this.optimizer = new Adam(engine, { learningRate: config.learningRate, clipnorm: config.clipnorm });
    this.step = new TrainStep(engine, model, this.optimizer, config.batchSize, source, config.seed, config.compiled ?? true);
    if (config.plateau) this.plateau = new ReduceLROnPlateau({ mode: 'max', ...config.plateau });
    if (config.earlyStopping) this.early = new EarlyStopping({ mode: 'max', ...config.earlyStopping });
    this.state = { epoch: 0, step: 0, learningRate: config.learningRate, history: [] };
    this.evaluator = new Evaluator(engine, model, source);
  }

  private sampleBytes(split: SplitData): number {
    return split.data.length / split.count;
  }

  private gather(split: SplitData, idx: ArrayLike<number>, from: number, n: number) {
    const per = this.sampleBytes(split);
    const data = split.data instanceof Float32Array ? new Float32Array(n * per) : new Uint8Array(n * per);
    const labels = new Int32Array(n);
    const weights = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const s = idx[from + i];
      data.set(split.data.subarray(s * per, (s + 1) * per), i * per);
      labels[i] = split.labels[s];
      weights[i] = this.config.classWeights[split.labels[s]] ?? 1;
    }
    return { data, labels, weights };
  }

  /** Runs epochs until `epochs` or early stopping; returns the history. */
  async fit(hooks: TrainHooks = {}): Promise<EpochLog[]> {
    const c = this.config;
    const batches = Math.floor(this.train.count / c.batchSize);
    while (this.state.epoch < c.epochs) {
      const epoch = this.state.epoch;
      if (c.inverseTimeDecay) {
        this.setLearningRate(inverseTimeDecay(c.learningRate, epoch, c.inverseTimeDecay.decaySteps, c.inverseTimeDecay.decayRate));
      }
      const t0 = performance.now();
      const order = shuffled(this.train.count, c.seed * 1000003 + epoch);
      let inFlight: Promise<void> | undefined;
      for (let b = 0; b < batches; b++) {
        this.step.run(this.gather(this.train, order, b * c.batchSize, c.batchSize), this.state.step);
        this.state.step++;
        // Keep at most two steps queued: enough to overlap host work, bounded memory.
        const done = this.engine.device.queue.onSubmittedWorkDone();
        if (inFlight) await settle(inFlight);
        inFlight = done;
        // NaN or Inf anywhere in a step's loss (or in weights, through the next loss) poisons the
        // running sum on the GPU; reading it every few steps finds it without a per-step stall.
        if ((b + 1) % (c.checkEvery ?? 25) === 0) await this.checkFinite(epoch);
        const secs = (performance.now() - t0) / 1000;
        hooks.onBatch?.({ epoch, batch: b + 1, batches, step: this.state.step, imagesPerSecond: ((b + 1) * c.batchSize) / secs });
      }
      if (inFlight) await settle(inFlight);
      await this.checkFinite(epoch);
      const [lossSum, correct] = await this.step.takeRunning();
      const seconds = (performance.now() - t0) / 1000;
      const log: EpochLog = {
        epoch: epoch + 1,
        loss: lossSum / batches,
        accuracy: correct / (batches * c.batchSize),
        learningRate: this.optimizer.learningRate,
        seconds,
        imagesPerSecond: (batches * c.batchSize) / seconds,
        best: false,
      };
      if (this.val && this.val.count > 0) {
        const r = await this.evaluate(this.val);
        log.valAccuracy = r.report.accuracy;
        log.valLoss = r.loss;
        log.valReport = r.report;
      }
      const monitored = c.monitor === 'val_accuracy' ? log.valAccuracy ?? log.accuracy : log.accuracy;
      let stop = false;
      if (this.early) {
        const r = this.early.update(monitored, epoch + 1);
        log.best = r.isBest;
        stop = r.stop;
        if (r.isBest && c.earlyStopping?.restoreBest) this.bestWeights = await this.snapshot();
      }
      if (this.plateau) this.setLearningRate(this.plateau.update(monitored, this.optimizer.learningRate));
      this.state.epoch++;
      this.state.learningRate = this.optimizer.learningRate;
      this.state.plateau = this.plateau?.state;
      this.state.early = this.early?.state;
      this.state.history.push(log);
      await hooks.onEpoch?.(log, this);
      if (stop) break;
    }
    if (this.bestWeights) this.restore(this.bestWeights);
    return this.state.history;
  }

  private async checkFinite(epoch: number): Promise<void> {
    const [loss] = await this.step.running.readF32();
    if (!Number.isFinite(loss)) throw new NonFiniteError(epoch + 1, this.state.step);
  }

  setLearningRate(lr: number): void {
    if (lr !== this.optimizer.learningRate) this.optimizer.setLearningRate(lr);
  }

  /** Inference over a split in fixed batches: loss, predictions and the report. */
  evaluate(split: SplitData, batchSize = this.config.batchSize): Promise<Evaluation> {
    return this.evaluator.evaluate(split, batchSize);
  }

  /** Copies every parameter (and BN statistics) to the CPU. */
  async snapshot(): Promise<Map<string, Float32Array>> {
    const out = new Map<string, Float32Array>();
    for (const p of this.model.params.all()) out.set(p.name, await p.tensor.readF32());
    return out;
  }

  restore(weights: Map<string, Float32Array>): void {
    for (const p of this.model.params.all()) {
      const w = weights.get(p.name);
      if (w) this.engine.write(p.tensor, w);
    }
  }

  /** Restores the loop position (after loading weights and optimizer moments). */
  resumeFrom(state: TrainState): void {
    this.state = { ...state, history: [...state.history] };
    this.optimizer.step = state.step;
    this.setLearningRate(state.learningRate);
    if (this.plateau && state.plateau) this.plateau.state = { ...state.plateau };
    if (this.early && state.early) this.early.state = { ...state.early };
    this.step.setRandomStep(state.step);
  }

  dispose(): void {
    this.step.dispose();
    this.optimizer.dispose();
    this.evaluator.dispose();
  }
}
