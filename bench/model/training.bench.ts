// PAtt-Lite training step, seconds per step at batch 8 and 224x224: our compiled step
// (src/train/step.ts) next to TensorFlow.js WebGPU training the same network (the forward of
// test/reference/patt-lite-tf.ts) on the same adapter, in the same process, from the same weights.
//
//   npx tsx bench/model/training.bench.ts         (or import { runTrainingBench } from a suite)
//   env: BUDGET_S=600 (soft wall-clock budget)
//
// Phases: 1 = frozen backbone (only the head trains; the backbone still runs forward every step),
// 2 = backbone convolutions trainable, its BatchNorms frozen (moving statistics), as in the paper.
// What one timed step is, both sides: 8 uint8 224x224 RGB images on the CPU -> upload ->
// x / 127.5 - 1 -> forward (head BatchNorm on batch statistics) -> softmax cross-entropy ->
// gradients of the trainable weights -> Adam (lr 1e-4, eps 1e-7, no clipping) -> wait.
//   ours:  TrainStep.run (one recorded plan replayed; no augmentation), then engine.sync().
//   TF.js: tf.variable for each trainable weight (the rest are constant tensors),
//          tf.train.adam().minimize(loss, true, vars), then await the loss value.
// Both waits go through settle() (src/kernels/wait.ts; engine.sync uses it), so neither side's wait
// spins Node's main thread while the adapter works.
// Differences: our step also keeps running loss/accuracy sums, updates the head BN's moving
// statistics and applies dropout 0.1 before the pre-classification layer; the TF.js forward has
// no dropout. Both are small next to the backbone.
// Medians of interleaved steps (ours, TF.js, ours, …) after warm-up steps; the first step of each
// side is reported on its own (recording and pipeline compilation for ours, shader compilation
// for TF.js). Repeats shrink to fit the budget; TF.js phase 2 is skipped when its projected time
// does not fit (the decision and the projection are returned).
// Run one phase per process (the suite does): disposing phase 1's recorded step destroyed the
// per-device "matmul/no-bias" dummy buffer that phase 2's step then used (seen 2026-11-28), and a
// process per phase also gives each phase its own peak GPU bytes and RSS.
import { createGpu, describeGpu } from '../../src/gpu/device.js';
import { fileAutotuneCache } from '../../src/gpu/autotune-cache.js';
import { Engine } from '../../src/graph/engine.js';
import { PattLite } from '../../src/model/patt-lite.js';
import { modelWeights } from '../../src/model/weights.js';
import { Adam } from '../../src/train/optimizer.js';
import { TrainStep } from '../../src/train/step.js';
import { pattLiteTf } from '../../test/reference/patt-lite-tf.js';
import { tfjsWebgpu, releaseTfjsWebgpu } from '../lib/tfjs-webgpu.js';
import { median, table } from '../lib/timing.js';
import type { Decision, TrainingRow, TrainingSide } from '../suite/results.js';
import { settle } from '../../src/kernels/wait.js';
import { isScript } from '../lib/script.js';

type TfTensor = import('@tensorflow/tfjs').Tensor;

const SIZE = 224;
const CLASSES = 7;


const seconds = async (fn: () => Promise<unknown>): Promise<number> => {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
};

function noise(n: number, seed: number): Uint8Array {
  let a = seed >>> 0;
  return Uint8Array.from({ length: n }, () => {
    a = (Math.imul(a, 1664525) + 1013904223) >>> 0;
    return a >>> 24;
  });
}

export interface TrainingBenchResult {
  adapter: string;
  rows: TrainingRow[];
  decisions: Decision[];
}

export async function runTrainingBench(opts: {
  batchSize?: number;
  budgetS?: number;
  /** Untimed steps per side after the first one. */
  warmup?: number;
  maxRepeats?: number;
  phases?: (1 | 2)[];
  /** Phase 1 medians from an earlier process, for projecting TF.js phase 2 against the budget. */
  phase1?: { oursS: number; tfjsS?: number };
  log?: (s: string) => void;
} = {}): Promise<TrainingBenchResult> {
  const log = opts.log ?? console.log;
  const n = opts.batchSize ?? 8;
  const budget = opts.budgetS ?? 600;
  const warmup = opts.warmup ?? 1;
  const maxRepeats = opts.maxRepeats ?? 5;
  const phases = opts.phases ?? [1, 2];
  const start = performance.now();
  const left = () => budget - (performance.now() - start) / 1000;
  const decisions: Decision[] = [];
  const rows: TrainingRow[] = [];

  const gpu = await createGpu();
  const engine = await Engine.create(gpu.device, { autotuneCache: fileAutotuneCache() });
  const model = new PattLite(engine, { classes: CLASSES, attention: 'patch' }, 1);
  // No model.calibrate() here: after it, replaying a recorded train step failed with
  // "[Buffer "matmul/no-bias"] used in submit while destroyed" (seen 2026-11-28; the trainer
  // does not calibrate). Initial moving statistics (0, 1) are the same on both sides.
  const initial = await modelWeights(model);
  const tf = await tfjsWebgpu();
  const tfMemory = () => (tf.memory() as { numBytesAllocatedInGPU?: number }).numBytesAllocatedInGPU ?? 0;
  const poolBefore = tfMemory();

  const batch = {
    data: noise(n * SIZE * SIZE * 3, 7),
    labels: Int32Array.from({ length: n }, (_, i) => i % CLASSES),
    weights: new Float32Array(n).fill(1),
  };
  const oneHot = tf.oneHot(tf.tensor1d(batch.labels, 'int32'), CLASSES);
  let tfPhase1 = opts.phase1?.tfjsS;
  let oursPhase1 = opts.phase1?.oursS;

  for (const phase of phases) {
    model.setBackboneTrainable(phase === 2);
    const trainable = model.params.trainable();
    const names = new Set(trainable.map((p) => p.name));
    const what = phase === 1 ? 'frozen backbone' : 'backbone convs trainable, BN frozen';
    const adam = new Adam(engine, { learningRate: 1e-4 });
    const step = new TrainStep(engine, model, adam, n, { kind: 'pixels', height: SIZE, width: SIZE, augment: false }, 7);
    let i = 0;
    const ours = async () => {
      step.run(batch, i++);
      await engine.sync('bench/train');
    };
    const oursFirst = await seconds(ours);
    for (let k = 0; k < warmup; k++) await ours();
    const oursProbe = await seconds(ours);
    log(`phase ${phase} (${what}): ours first step ${oursFirst.toFixed(2)} s, then ${oursProbe.toFixed(2)} s`);

    // TF.js: trainable weights as variables, the rest as constants, all from the same start.
    let tfSkip: string | undefined;
    const projected = tfPhase1 !== undefined && oursPhase1 !== undefined ? tfPhase1 * (oursProbe / oursPhase1) : oursProbe;
    // First step (about two steps' time with compilation), warm-up, one timed step.
    const need = projected * (3 + warmup);
    if (need > left()) {
      tfSkip = `projected ${need.toFixed(0)} s for its first, warm-up and one timed step, ${Math.max(0, left()).toFixed(0)} s of the budget left`;
      decisions.push({ what: `training phase ${phase}: TF.js`, decision: 'skipped', why: tfSkip });
      log(`  TF.js phase ${phase}: skipped (${tfSkip})`);
    }
    const held: TfTensor[] = [];
    const vars: import('@tensorflow/tfjs').Variable[] = [];
    const w = new Map<string, TfTensor>();
    let tfSide: (() => Promise<void>) | undefined;
    let tfFirst = 0;
    const opt = tf.train.adam(1e-4, 0.9, 0.999, 1e-7);
    if (!tfSkip) {
      for (const [name, data] of initial) {
        const t = tf.tensor(data, model.params.get(name).shape as number[]);
        if (names.has(name)) {
          const v = tf.variable(t, true, `bench/phase${phase}/${name}`);
          t.dispose();
          vars.push(v);
          w.set(name, v);
        } else {
          held.push(t);
          w.set(name, t);
        }
      }
      const get = (name: string) => {
        const t = w.get(name);
        if (!t) throw new Error(`TF.js peer wants ${name}`);
        return t;
      };
      const loss = () => {
        const x = tf.sub(tf.div(tf.cast(tf.tensor4d(batch.data, [n, SIZE, SIZE, 3], 'int32'), 'float32'), 127.5), 1);
        const logits = pattLiteTf(tf, get, x, { attention: 'patch', training: true });
        return tf.losses.softmaxCrossEntropy(oneHot, logits) as import('@tensorflow/tfjs').Scalar;
      };
      tfSide = async () => {
        const cost = opt.minimize(loss, true, vars)!;
        await settle(cost.data());
        cost.dispose();
      };
      tfFirst = await seconds(tfSide);
      for (let k = 0; k < warmup; k++) await tfSide();
      log(`  TF.js first step ${tfFirst.toFixed(2)} s`);
    }

    // Timed, interleaved; as many rounds as this phase's share of the budget allows.
    const so = [await seconds(ours)];
    const st = tfSide ? [await seconds(tfSide)] : [];
    const round = so[0] + (st[0] ?? 0);
    const phasesLeft = phases.length - phases.indexOf(phase);
    const share = left() / phasesLeft;
    const runs = Math.max(1, Math.min(maxRepeats, 1 + Math.floor(share / round)));
    if (runs < maxRepeats) {
      decisions.push({ what: `training phase ${phase}`, decision: 'reduced',
        why: `${runs} timed steps per side instead of ${maxRepeats}: a round takes ${round.toFixed(1)} s, ${Math.max(0, share).toFixed(0)} s of the budget for this phase` });
    }
    for (let r = 1; r < runs; r++) {
      so.push(await seconds(ours));
      if (tfSide) st.push(await seconds(tfSide));
    }
    const stats = engine.stats();
    const oursSide: TrainingSide = {
      medianS: median(so), runs: so.length, firstStepS: oursFirst, gpuBytes: stats.peakBytes,
      gpuBytesNote: 'ours peak GPU: engine.stats().peakBytes, the pool high-water mark since the engine was created ' +
        '(weights, activations, gradients, Adam moments) in a process that ran this phase only',
    };
    const tfSideResult: TrainingSide | null = tfSide ? {
      medianS: median(st), runs: st.length, firstStepS: tfFirst, gpuBytes: tfMemory(),
      gpuBytesNote: 'TF.js GPU pool: tf.memory().numBytesAllocatedInGPU after the phase; TF.js keeps freed buffers pooled, ' +
        `so this is its high-water mark for the whole process (${(poolBefore / 2 ** 20).toFixed(0)} MiB before training began)`,
    } : null;
    if (phase === 1) {
      oursPhase1 = oursSide.medianS;
      tfPhase1 = tfSideResult?.medianS;
    }
    rows.push({
      phase, what, trainableTensors: trainable.length, trainableParams: trainable.reduce((a, p) => a + p.tensor.size, 0),
      ours: oursSide, tfjs: tfSideResult, tfjsSkipped: tfSkip,
    });
    log(`  phase ${phase}: ours ${oursSide.medianS.toFixed(2)} s/step` +
      (tfSideResult ? `, TF.js ${tfSideResult.medianS.toFixed(2)} s/step (${(tfSideResult.medianS / oursSide.medianS).toFixed(2)}x)` : '') +
      ` (${runs} timed steps each)`);
    step.dispose();
    adam.dispose();
    opt.dispose();
    vars.forEach((v) => v.dispose());
    held.forEach((t) => t.dispose());
  }
  oneHot.dispose();
  log(table(['phase', 'ours s/step', 'TF.js s/step', 'TF.js/ours', 'ours 1st s', 'TF.js 1st s', 'ours peak GPU MiB'],
    rows.map((r) => [String(r.phase), r.ours.medianS, r.tfjs?.medianS ?? '–', r.tfjs ? `${(r.tfjs.medianS / r.ours.medianS).toFixed(2)}x` : '–',
      r.ours.firstStepS, r.tfjs?.firstStepS ?? '–', r.ours.gpuBytes / 2 ** 20])));
  const adapter = describeGpu(gpu);
  model.dispose();
  gpu.close();
  releaseTfjsWebgpu();
  return { adapter, rows, decisions };
}

if (isScript(import.meta.url)) {
  const budgetS = process.env.BUDGET_S ? Number(process.env.BUDGET_S) : undefined;
  runTrainingBench({ budgetS }).catch((err) => {
    console.error(err);
    process.exitCode = 1;
  });
}
