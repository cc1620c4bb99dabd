// One training step of a PAtt-Lite model for a fixed batch size, recorded once and replayed:
// the GPU input stage (resize, augmentation, preprocessing) or cached backbone features, the
// forward pass, the fused loss, backward, global-norm clipping and Adam, and the running sums of
// loss and correct predictions. Per replay the host writes only the batch (pixels or features,
// labels, sample weights) and the dropout step counters.
import type { Engine, Plan } from '../graph/engine.js';
import type { Tensor } from '../graph/tensor.js';
import { backward } from '../graph/tape.js';
import { softmaxCrossEntropy } from '../graph/ops/loss.js';
import { packBytes, rngState } from '../kernels/input.js';
import type { DropoutBinding } from '../kernels/dropout.js';
import type { PattLite } from '../model/patt-lite.js';
import type { Adam } from './optimizer.js';

export type StepSource =
  /** Raw uint8 RGB images of one size, resized and preprocessed on the GPU. */
  | { kind: 'pixels'; height: number; width: number; augment: boolean }
  /** Backbone features computed once (frozen backbone): [h, w, c] per sample. */
  | { kind: 'features'; shape: readonly number[] };

export interface StepBatch {
  /** pixels: n*h*w*3 bytes; features: n*h*w*c floats. */
  data: Uint8Array | Float32Array;
  labels: Int32Array;
  weights: Float32Array;
}

export class TrainStep {
  private readonly inputs: Tensor;
  private readonly labels: Tensor;
  private readonly weights: Tensor;
  private readonly rng: Tensor | undefined;
  /** [sum of batch losses, correct predictions] since the last reset. */
  readonly running: Tensor;
  private plan: Plan | undefined;
  private dropouts: DropoutBinding[] = [];

  constructor(
    readonly engine: Engine,
    readonly model: PattLite,
    readonly optimizer: Adam,
    readonly batchSize: number,
    readonly source: StepSource,
    readonly seed: number,
    /** Record once and replay (true) or run op by op every step (false, for debugging). */
    readonly compiled = true,
  ) {
    const e = engine;
    const n = batchSize;
    if (source.kind === 'pixels') {
      this.inputs = e.keep(e.empty([Math.ceil((n * source.height * source.width * 3) / 4)], 'u32', 'step/pixels'));
      this.rng = e.keep(e.tensor(rngState(seed, 0), [2], { label: 'step/rng' }));
    } else {
      this.inputs = e.keep(e.empty([n, ...source.shape], 'f32', 'step/features'));
    }
    this.labels = e.keep(e.empty([n], 'i32', 'step/labels'));
    this.weights = e.keep(e.empty([n], 'f32', 'step/weights'));
    this.running = e.keep(e.full([2], 0, 'step/running'));
  }

  /** The ops of one step; run eagerly or recorded into the plan. */
  private build(step: number): void {
    const e = this.engine;
    const m = this.model;
    const size = m.config.inputSize;
    const ctx = { training: true, seed: this.seed, step, onDropout: (b: DropoutBinding) => this.dropouts.push(b) };
    let logits: Tensor;
    if (this.source.kind === 'pixels') {
      const s = this.source;
      const x = e.empty([this.batchSize, size, size, 3], 'f32', 'step/x');
      const shape = { n: this.batchSize, hin: s.height, win: s.width, hout: size, wout: size };
      e.binding(() => {
        if (s.augment) {
          const bound = e.kernels.input.training(shape, this.inputs.buffer, this.rng!.buffer, x.buffer);
          e.enqueue(...bound.dispatches, e.kernels.input.advance(this.rng!.buffer));
        } else {
          e.enqueue(e.kernels.input.inference(shape, this.inputs.buffer, x.buffer));
        }
      });
      logits = m.forward(x, ctx);
    } else {
      logits = m.headFromFeatures(this.inputs, ctx);
    }
    const { loss, stats } = softmaxCrossEntropy(logits, this.labels, this.weights);
    backward(loss);
    this.optimizer.enqueueUpdate(m.params);
    e.enqueue(e.kernels.elementwise.axpy(2, stats.buffer, this.running.buffer, 1));
  }

  /** Writes the batch and runs one step (replaying the recorded plan when compiled). */
  run(batch: StepBatch, step: number): void {
    const e = this.engine;
    if (batch.labels.length !== this.batchSize) {
      throw new RangeError(`step for batch ${this.batchSize} got ${batch.labels.length} samples`);
    }
    if (this.source.kind === 'pixels') {
      e.write(this.inputs, packBytes(batch.data as Uint8Array));
    } else {
      e.write(this.inputs, batch.data as Float32Array);
    }
    e.write(this.labels, batch.labels);
    e.write(this.weights, batch.weights);
    if (!this.compiled) {
      this.clearGrads();
      this.dropouts = [];
      e.scope(() => this.build(step));
      e.flush();
      this.optimizer.applied();
      return;
    }
    if (!this.plan) {
      this.clearGrads();
      this.optimizer.prepare(this.model.params);
      this.dropouts = [];
      this.plan = e.record(`train-step/b${this.batchSize}`, () => this.build(step)).plan;
    }
    for (const d of this.dropouts) d.setStep(step);
    this.plan.run();
    this.optimizer.applied();
  }

  /** Sets the augmentation counter (resume continues the random stream exactly). */
  setRandomStep(step: number): void {
    if (this.rng) this.engine.write(this.rng, rngState(this.seed, step));
  }

  private clearGrads(): void {
    for (const p of this.model.params.all()) {
      p.tensor.grad?.dispose();
      p.tensor.grad = undefined;
    }
  }

  /** Reads and resets the running sums: [sum of batch mean losses, correct predictions]. */
  async takeRunning(): Promise<[number, number]> {
    const v = await this.running.readF32();
    this.engine.write(this.running, new Float32Array(2));
    return [v[0], v[1]];
  }

  dispose(): void {
    this.plan?.dispose();
    for (const t of [this.inputs, this.labels, this.weights, this.running, this.rng]) t?.dispose();
  }
}
