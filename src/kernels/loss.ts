// Sparse softmax cross-entropy from logits (Keras SparseCategoricalCrossentropy(from_logits=True)
// with sample weights, reduction 'sum_over_batch_size'), its logit gradient fused in the same
// pass, and the count of correct argmax predictions. WGSL: src/wgsl/loss.wgsl.
//
// Reduction: Keras 3 `reduce_values` (keras/src/losses/loss.py) divides the weighted sum by the
// number of loss elements for 'sum_over_batch_size' (only 'mean_with_sample_weight' divides by
// the sum of weights); tf.keras 2.x's SUM_OVER_BATCH_SIZE is the same. So class weights change
// the loss scale, exactly as in Keras.

import { lossWgsl } from '../wgsl/index.js';
import { dispatch1d } from './dispatch.js';
import { bindIo, createStorage, getPipeline, paramsBuffer, type BoundDispatch } from './runtime.js';

const FAMILY = 'loss';
/** Override constants: rows per workgroup, and the threads of the single reduce workgroup. */
export const LOSS_CONSTANTS = { WG: 64 } as const;

export interface SoftmaxCrossEntropyIo {
  /** (b, k) float32. */
  logits: GPUBuffer;
  /** (b) int32 or uint32 class indices in [0, k). */
  labels: GPUBuffer;
  /** (b) float32 per-sample weights (e.g. class weights looked up per label); omitted = 1. */
  weights?: GPUBuffer;
  /** (b, k) float32, overwritten: d loss / d logits. */
  dlogits: GPUBuffer;
  /** (2) float32, overwritten: [loss, number of correct argmax predictions]. */
  out: GPUBuffer;
  /** (2, b) float32 scratch: [w_i * loss_i..., correct_i...]; allocated at bind time if omitted. */
  perSample?: GPUBuffer;
}

export interface Loss {
  /** Two dispatches: per-row loss + gradient + correctness, then the batch reduction. */
  softmaxCrossEntropy(b: number, k: number, io: SoftmaxCrossEntropyIo): BoundDispatch[];
}

/** Compiles the loss pipelines for `device` (cached per device). */
export async function createLoss(device: GPUDevice): Promise<Loss> {
  const spec = { family: FAMILY, code: lossWgsl };
  const [rowsW, rowsU, reduce] = await Promise.all([
    getPipeline(device, { ...spec, entry: 'loss_fwd_dx', inputs: 3, outputs: 2, constants: { ...LOSS_CONSTANTS, HAS_WEIGHTS: true } }),
    getPipeline(device, { ...spec, entry: 'loss_fwd_dx', inputs: 3, outputs: 2, constants: { ...LOSS_CONSTANTS, HAS_WEIGHTS: false } }),
    getPipeline(device, { ...spec, entry: 'loss_reduce', inputs: 1, outputs: 1, constants: LOSS_CONSTANTS }),
  ]);
  return {
    softmaxCrossEntropy(b, k, io) {
      if (!(Number.isInteger(b) && b > 0 && Number.isInteger(k) && k > 0)) {
        throw new RangeError(`loss/softmaxCrossEntropy: expected logits (b, k) with b, k > 0, got (${b}, ${k})`);
      }
      const label = `${FAMILY}/loss_fwd_dx`;
      const params = paramsBuffer(device, label, [['b', 'u32', b], ['k', 'u32', k], ['inv_b', 'f32', 1 / b], ['pad0', 'u32', 0]]);
      const perSample = io.perSample ?? createStorage(device, 2 * b * 4, `${FAMILY}/per-sample`);
      const rows = io.weights ? rowsW : rowsU;
      // Without weights the binding still needs a buffer: the logits stand in (never read).
      const fwd = [io.logits, io.labels, io.weights ?? io.logits, io.dlogits, perSample];
      return [
        {
          label, pipeline: rows, bindGroup: bindIo(device, label, rows, params, fwd),
          workgroups: dispatch1d(b, LOSS_CONSTANTS.WG, device.limits.maxComputeWorkgroupsPerDimension),
        },
        {
          label: `${FAMILY}/loss_reduce`, pipeline: reduce,
          bindGroup: bindIo(device, `${FAMILY}/loss_reduce`, reduce, params, [perSample, io.out]), workgroups: [1, 1, 1],
        },
      ];
    },
  };
}
