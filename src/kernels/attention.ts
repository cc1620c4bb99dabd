// Dot-product attention with a learned scalar scale (Keras `Attention(use_scale=True)`), forward
// and backward. WGSL: src/wgsl/attention.wgsl (naive), attention-sg*.wgsl (sg8).
//
// Forms (DESIGN §2): `batchShape(b, d)` is the published model's attention over a 2-D [b, d]
// tensor (scores b x b across the batch: results depend on batch composition);
// `tokenShape(B, T, D)` is the corrected per-image attention over T tokens ([8, 4, 32] in
// PAtt-Lite). The general form takes separate Q, K, V; self-attention binds one buffer to all
// three and gets dX = dQ + dK + dV in place (one fused naive kernel, or three sg8 products).
//
// Variants: 'naive' (attention.wgsl, one row or element per invocation; runs anywhere) and 'sg8'
// (attention-sg*.wgsl: scores, dZ and the products as subgroup-broadcast tiles for 8-lane
// subgroups; on lavapipe at batch 8, 196 tokens of 64, interleaved: forward 12.6 vs 76 ms naive
// and 62 ms TF.js WebGPU, backward 37 vs 172 ms). 'auto' takes sg8 where it runs.

import { attentionSgBwdWgsl, attentionSgCommonWgsl, attentionSgWgsl, attentionWgsl, subgroupTileWgsl } from '../wgsl/index.js';
import { dispatch1d } from './dispatch.js';
import { bindIo, createStorage, getPipeline, getPipelineSync, GpuError, paramsBuffer, type BoundDispatch } from './runtime.js';
import { hasSubgroupSize } from './subgroups.js';

const FAMILY = 'attention';
/** Override constants (also passed to the pipelines): element-wise WG, reduction RWG. */
export const ATTENTION_CONSTANTS = { WG: 64, RWG: 256 } as const;

/** q [batch, tq, d]; k, v [batch, tv, d]; scores [batch, tq, tv]. */
export interface AttentionShape {
  readonly batch: number;
  readonly tq: number;
  readonly tv: number;
  readonly d: number;
}
/** The published (defective) form: X [b, d], scores b x b across the whole batch. */
export const batchShape = (b: number, d: number): AttentionShape => ({ batch: 1, tq: b, tv: b, d });
/** The per-image form: X [B, T, D], scores T x T per image. */
export const tokenShape = (batch: number, t: number, d: number): AttentionShape => ({ batch, tq: t, tv: t, d });

export interface AttentionForwardBuffers {
  q: GPUBuffer; k: GPUBuffer; v: GPUBuffer;
  /** The learned scalar (1 float). */
  scale: GPUBuffer;
  /** Softmax weights [batch, tq, tv], written here and saved for the backward pass. */
  probs: GPUBuffer;
  out: GPUBuffer;
}

export interface AttentionBackwardBuffers {
  q: GPUBuffer; k: GPUBuffer; v: GPUBuffer; scale: GPUBuffer;
  probs: GPUBuffer;
  dout: GPUBuffer;
  /** Gradients to write; any left out is skipped. */
  dq?: GPUBuffer; dk?: GPUBuffer; dv?: GPUBuffer; dscale?: GPUBuffer;
}

export interface AttentionSelfBackwardBuffers {
  x: GPUBuffer; scale: GPUBuffer; probs: GPUBuffer; dout: GPUBuffer;
  dx?: GPUBuffer; dscale?: GPUBuffer;
}

/** Dispatches plus the scratch buffers the plan owns (dZ, dscale partials). */
export interface BoundAttention {
  readonly dispatches: readonly BoundDispatch[];
  readonly scratch: readonly GPUBuffer[];
}

export interface Attention {
  /** probs = softmax(scale * q k^T), out = probs v. Shapes: see AttentionShape. */
  forward(shape: AttentionShape, bufs: AttentionForwardBuffers): BoundDispatch[];
  /** Gradients w.r.t. q, k, v (separate tensors) and scale. */
  backward(shape: AttentionShape, bufs: AttentionBackwardBuffers): BoundAttention;
  /** Self-attention (q = k = v = x, tq = tv): dx = dq + dk + dv, and dscale. */
  backwardSelf(shape: AttentionShape, bufs: AttentionSelfBackwardBuffers): BoundAttention;
}

export type AttentionVariant = 'naive' | 'sg8';
export interface AttentionOptions {
  /** 'auto' (default): sg8 where the device has 8-lane subgroups, else naive. */
  variant?: AttentionVariant | 'auto';
}

const ENTRIES = {
  attention_probs: [3, 1], attention_fwd: [2, 1], attention_dz: [5, 2], attention_dq: [3, 1],
  attention_dk: [3, 1], attention_dv: [2, 1], attention_dx: [5, 1], attention_dscale: [1, 1],
} as const;
type Entry = keyof typeof ENTRIES;
// sg8: probs and dz take 16 query rows per workgroup of 8 lanes; av makes 16 x 8 of C per workgroup.
const SG_ENTRIES = { attention_probs_sg8: [3, 1], attention_probs_sg8_v4: [3, 1], attention_av_sg8: [3, 1], attention_dz_sg8: [5, 2] } as const;
type SgEntry = keyof typeof SG_ENTRIES;
const SG_CODE = attentionSgCommonWgsl + subgroupTileWgsl + attentionSgWgsl;
const SG_BWD_CODE = attentionSgCommonWgsl + subgroupTileWgsl + attentionSgBwdWgsl;
/** attention_av_sg8 specialisations: C = alpha * op(A) B (+ C). */
interface AvMode { readonly TRANS_A: boolean; readonly USE_SCALE: boolean; readonly ACCUM: boolean }
const AV = {
  out: { TRANS_A: false, USE_SCALE: false, ACCUM: false }, // out = A V
  dq: { TRANS_A: false, USE_SCALE: true, ACCUM: false }, // dQ = scale dZ K
  dk: { TRANS_A: true, USE_SCALE: true, ACCUM: false }, // dK = scale dZ^T Q
  dv: { TRANS_A: true, USE_SCALE: false, ACCUM: false }, // dV = A^T dOut
  dkAcc: { TRANS_A: true, USE_SCALE: true, ACCUM: true }, // dX += scale dZ^T X
  dvAcc: { TRANS_A: true, USE_SCALE: false, ACCUM: true }, // dX += A^T dOut
} as const satisfies Record<string, AvMode>;
type AvName = keyof typeof AV;

function checkShape(s: AttentionShape, what: string): void {
  for (const k of ['batch', 'tq', 'tv', 'd'] as const) {
    if (!Number.isInteger(s[k]) || s[k] < 1) {
      throw new RangeError(`${FAMILY}/${what}: shape ${k} must be a positive integer, got ${s[k]}`);
    }
  }
}

function checkSize(what: string, name: string, b: GPUBuffer | undefined, floats: number, dims: string): void {
  if (b && b.size < floats * 4) {
    throw new GpuError(`${FAMILY}/${what}: ${name} must hold ${dims} = ${floats} floats, got ${b.size / 4}`, FAMILY);
  }
}

/** Compiles the attention pipelines for `device` (cached per device). */
export async function createAttention(device: GPUDevice, options: AttentionOptions = {}): Promise<Attention> {
  const { WG, RWG } = ATTENTION_CONSTANTS;
  const choice = options.variant ?? 'auto';
  const sg8 = await hasSubgroupSize(device, 8);
  if (choice === 'sg8' && !sg8) {
    throw new GpuError(`${FAMILY}: variant 'sg8' needs the 'subgroups' feature with 8-lane subgroups; this device has ` +
      (device.features.has('subgroups') ? 'subgroups of another size' : 'no subgroups') + ". Use 'naive' or 'auto'.", FAMILY);
  }
  const variant: AttentionVariant = choice === 'auto' ? (sg8 ? 'sg8' : 'naive') : choice;
  const pipelines = new Map<string, GPUComputePipeline>();
  const compile = async (key: string, entry: Entry | SgEntry, code: string, io: readonly [number, number], constants: Record<string, number | boolean>) => {
    const [inputs, outputs] = io;
    pipelines.set(key, await getPipeline(device, { family: FAMILY, entry, code, inputs, outputs, constants }));
  };
  await Promise.all((Object.keys(ENTRIES) as Entry[]).map((e) => compile(e, e, attentionWgsl, ENTRIES[e], e === 'attention_dscale' ? { RWG } : { WG })));
  // The sg8 pipelines compile on first bind (an inference run needs 2 of the 9; ~160 ms saved at
  // start-up on lavapipe).
  const sgPipeline = (entry: SgEntry, constants: Record<string, number | boolean> = {}) => {
    const [inputs, outputs] = SG_ENTRIES[entry];
    const code = entry === 'attention_dz_sg8' ? SG_BWD_CODE : SG_CODE;
    return getPipelineSync(device, { family: FAMILY, entry, code, inputs, outputs, constants });
  };

  const params = (label: string, s: AttentionShape) =>
    paramsBuffer(device, label, [['batch', 'u32', s.batch], ['tq', 'u32', s.tq], ['tv', 'u32', s.tv], ['d', 'u32', s.d]]);
  const maxPerDim = device.limits.maxComputeWorkgroupsPerDimension;
  const bind = (entry: Entry, s: AttentionShape, items: number, buffers: GPUBuffer[]): BoundDispatch => {
    const label = `${FAMILY}/${entry}`;
    const pipeline = pipelines.get(entry)!;
    const workgroups = entry === 'attention_dscale' ? [1, 1, 1] as [number, number, number] : dispatch1d(items, WG, maxPerDim);
    return { label, pipeline, bindGroup: bindIo(device, label, pipeline, params(label, s), buffers), workgroups };
  };
  // sg8 kernels: one subgroup per workgroup. probs / dz: a workgroup per (batch item, 16 rows).
  const bindRows = (entry: SgEntry, s: AttentionShape, buffers: GPUBuffer[]): BoundDispatch => {
    const label = `${FAMILY}/${entry}`;
    const pipeline = sgPipeline(entry);
    const workgroups = dispatch1d(s.batch * Math.ceil(s.tq / 16), 1, maxPerDim);
    return { label, pipeline, bindGroup: bindIo(device, label, pipeline, params(label, s), buffers), workgroups };
  };
  // av: a workgroup per (batch item, 16 rows of C, 8 columns of d); C has tq rows, or tv with TRANS_A.
  const bindAv = (mode: AvName, s: AttentionShape, a: GPUBuffer, b: GPUBuffer, scale: GPUBuffer, c: GPUBuffer): BoundDispatch => {
    const label = `${FAMILY}/attention_av_sg8(${mode})`;
    const pipeline = sgPipeline('attention_av_sg8', { ...AV[mode] });
    const rows = AV[mode].TRANS_A ? s.tv : s.tq;
    const workgroups = dispatch1d(s.batch * Math.ceil(rows / 16) * Math.ceil(s.d / 8), 1, maxPerDim);
    return { label, pipeline, bindGroup: bindIo(device, label, pipeline, params(label, s), [a, b, scale, c]), workgroups };
  };

  const sizes = (s: AttentionShape) => ({
    q: s.batch * s.tq * s.d, kv: s.batch * s.tv * s.d, scores: s.batch * s.tq * s.tv, rows: s.batch * s.tq,
  });

  // dZ and the per-row dscale partials: scratch owned by the plan.
  const dz = (s: AttentionShape, what: string, q: GPUBuffer, k: GPUBuffer, v: GPUBuffer, probs: GPUBuffer, dout: GPUBuffer, dscale?: GPUBuffer) => {
    const n = sizes(s);
    const dzBuf = createStorage(device, n.scores * 4, `${FAMILY}/${what}/dz`);
    const part = createStorage(device, n.rows * 4, `${FAMILY}/${what}/partials`);
    const io = [q, k, v, probs, dout, dzBuf, part];
    const dispatches = [sgBackward(s) ? bindRows('attention_dz_sg8', s, io) : bind('attention_dz', s, n.rows, io)];
    if (dscale) dispatches.push(bind('attention_dscale', s, 1, [part, dscale]));
    return { dzBuf, part, dispatches };
  };

  // Below one block of 16 query rows the sg8 backward's five dispatches cost more than the naive
  // three (launch-bound: PAtt-Lite's 4 tokens measured 1.0 vs 0.7 ms), so it keeps the naive ones.
  const sgBackward = (s: AttentionShape) => variant === 'sg8' && s.tq >= 16;

  return {
    forward(s, b) {
      checkShape(s, 'forward');
      const n = sizes(s);
      checkSize('forward', 'q', b.q, n.q, '[batch, tq, d]');
      for (const [name, buf] of [['k', b.k], ['v', b.v]] as const) checkSize('forward', name, buf, n.kv, '[batch, tv, d]');
      checkSize('forward', 'probs', b.probs, n.scores, '[batch, tq, tv]');
      checkSize('forward', 'out', b.out, n.q, '[batch, tq, d]');
      checkSize('forward', 'scale', b.scale, 1, '(1)');
      if (variant === 'sg8') {
        return [
          bindRows(s.d % 4 === 0 ? 'attention_probs_sg8_v4' : 'attention_probs_sg8', s, [b.q, b.k, b.scale, b.probs]),
          bindAv('out', s, b.probs, b.v, b.scale, b.out),
        ];
      }
      return [
        bind('attention_probs', s, n.rows, [b.q, b.k, b.scale, b.probs]),
        bind('attention_fwd', s, n.q, [b.probs, b.v, b.out]),
      ];
    },
    backward(s, b) {
      checkShape(s, 'backward');
      const n = sizes(s);
      checkSize('backward', 'q', b.q, n.q, '[batch, tq, d]');
      checkSize('backward', 'dout', b.dout, n.q, '[batch, tq, d]');
      checkSize('backward', 'dq', b.dq, n.q, '[batch, tq, d]');
      for (const [name, buf] of [['k', b.k], ['v', b.v], ['dk', b.dk], ['dv', b.dv]] as const) {
        checkSize('backward', name, buf, n.kv, '[batch, tv, d]');
      }
      checkSize('backward', 'probs', b.probs, n.scores, '[batch, tq, tv]');
      const z = dz(s, 'backward', b.q, b.k, b.v, b.probs, b.dout, b.dscale);
      const dispatches = [...z.dispatches];
      if (sgBackward(s)) {
        if (b.dq) dispatches.push(bindAv('dq', s, z.dzBuf, b.k, b.scale, b.dq));
        if (b.dk) dispatches.push(bindAv('dk', s, z.dzBuf, b.q, b.scale, b.dk));
        if (b.dv) dispatches.push(bindAv('dv', s, b.probs, b.dout, b.scale, b.dv));
      } else {
        if (b.dq) dispatches.push(bind('attention_dq', s, n.q, [z.dzBuf, b.k, b.scale, b.dq]));
        if (b.dk) dispatches.push(bind('attention_dk', s, n.kv, [z.dzBuf, b.q, b.scale, b.dk]));
        if (b.dv) dispatches.push(bind('attention_dv', s, n.kv, [b.probs, b.dout, b.dv]));
      }
      return { dispatches, scratch: [z.dzBuf, z.part] };
    },
    backwardSelf(s, b) {
      checkShape(s, 'backwardSelf');
      if (s.tq !== s.tv) throw new RangeError(`${FAMILY}/backwardSelf: self-attention needs tq = tv, got ${s.tq} and ${s.tv}`);
      const n = sizes(s);
      for (const [name, buf] of [['x', b.x], ['dout', b.dout], ['dx', b.dx]] as const) checkSize('backwardSelf', name, buf, n.q, '[batch, t, d]');
      checkSize('backwardSelf', 'probs', b.probs, n.scores, '[batch, t, t]');
      const z = dz(s, 'backwardSelf', b.x, b.x, b.x, b.probs, b.dout, b.dscale);
      const dispatches = [...z.dispatches];
      if (b.dx && sgBackward(s)) {
        // dX = scale dZ X + scale dZ^T X + A^T dOut, summed in place by three products.
        dispatches.push(bindAv('dq', s, z.dzBuf, b.x, b.scale, b.dx), bindAv('dkAcc', s, z.dzBuf, b.x, b.scale, b.dx),
          bindAv('dvAcc', s, b.probs, b.dout, b.scale, b.dx));
      } else if (b.dx) {
        dispatches.push(bind('attention_dx', s, n.q, [z.dzBuf, b.x, b.probs, b.dout, b.scale, b.dx]));
      }
      return { dispatches, scratch: [z.dzBuf, z.part] };
    },
  };
}
