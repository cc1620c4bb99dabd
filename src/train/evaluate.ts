// Inference over a split in fixed batches through recorded plans (one per batch size): the
// logits come back per batch, and the metrics are computed on the CPU.
import type { Engine, Plan } from '../graph/engine.js';
import type { Tensor } from '../graph/tensor.js';
import { packBytes } from '../kernels/input.js';
import type { PattLite } from '../model/patt-lite.js';
import type { StepSource } from './step.js';
import type { SplitData } from './trainer.js';
import { argmaxRows, classificationReport, type ClassificationReport } from './metrics.js';

export interface Evaluation {
  report: ClassificationReport;
  /** Mean cross-entropy of the softmax probabilities. */
  loss: number;
  /** Softmax probabilities [count, classes]. */
  probs: Float32Array;
}

export class Evaluator {
  private plans = new Map<number, { plan: Plan; input: Tensor; logits: Tensor }>();
  constructor(readonly engine: Engine, readonly model: PattLite, readonly source: StepSource) {}

  async evaluate(split: SplitData, batchSize: number, onProgress?: (done: number, total: number) => void): Promise<Evaluation> {
    const k = this.model.config.classes;
    const per = split.data.length / split.count;
    const probs = new Float32Array(split.count * k);
    for (let from = 0; from < split.count; from += batchSize) {
      const n = Math.min(batchSize, split.count - from);
      const p = this.plan(n);
      const chunk = split.data.subarray(from * per, (from + n) * per);
      this.engine.write(p.input, p.input.dtype === 'u32' ? packBytes(chunk as Uint8Array) : (chunk as Float32Array));
      p.plan.run();
      probs.set(softmaxRows(await p.logits.readF32(), k), from * k);
      onProgress?.(from + n, split.count);
    }
    let loss = 0;
    for (let i = 0; i < split.count; i++) loss -= Math.log(Math.max(probs[i * k + split.labels[i]], 1e-12));
    return { report: classificationReport(argmaxRows(probs, k), split.labels, k), loss: loss / Math.max(1, split.count), probs };
  }

  private plan(n: number) {
    let p = this.plans.get(n);
    if (p) return p;
    const e = this.engine;
    const m = this.model;
    const size = m.config.inputSize;
    const ctx = { training: false, seed: 0, step: 0 };
    const src = this.source;
    const input = src.kind === 'pixels'
      ? e.keep(e.empty([Math.ceil((n * src.height * src.width * 3) / 4)], 'u32', 'eval/pixels'))
      : e.keep(e.empty([n, ...src.shape], 'f32', 'eval/features'));
    const { plan, result } = e.record(`eval/b${n}`, () => e.noGrad(() => {
      if (src.kind === 'features') return m.headFromFeatures(input, ctx);
      const x = e.empty([n, size, size, 3], 'f32', 'eval/x');
      e.binding(() => e.enqueue(e.kernels.input.inference({ n, hin: src.height, win: src.width, hout: size, wout: size }, input.buffer, x.buffer)));
      return m.forward(x, ctx);
    }));
    p = { plan, input, logits: e.keep(result) };
    this.plans.set(n, p);
    return p;
  }

  dispose(): void {
    for (const p of this.plans.values()) {
      p.plan.dispose();
      p.input.dispose();
      p.logits.dispose();
    }
    this.plans.clear();
  }
}

export function softmaxRows(logits: Float32Array, k: number): Float32Array {
  const out = new Float32Array(logits.length);
  for (let r = 0; r < logits.length / k; r++) {
    let max = -Infinity;
    for (let j = 0; j < k; j++) max = Math.max(max, logits[r * k + j]);
    let sum = 0;
    for (let j = 0; j < k; j++) sum += (out[r * k + j] = Math.exp(logits[r * k + j] - max));
    for (let j = 0; j < k; j++) out[r * k + j] /= sum;
  }
  return out;
}
