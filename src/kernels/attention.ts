// Dot-product attention with a learned scalar scale (Keras `Attention(use_scale=True)`), forward
// and backward. WGSL: src/wgsl/attention.wgsl.
//
// Forms (DESIGN §2): `batchShape(b, d)` is the published model's attention over a 2-D [b, d]
// tensor (scores b x b across the batch: results depend on batch composition);
// `tokenShape(B, T, D)` is the corrected per-image attention over T tokens ([8, 4, 32] in
// PAtt-Lite). The general form takes separate Q, K, V; self-attention binds one buffer to all
// three and gets dX = dQ + dK + dV from one fused kernel.

import { attentionWgsl } from '../wgsl/index.js';
import { dispatch1d } from './dispatch.js';
import { bindIo, createStorage, getPipeline, GpuError, paramsBuffer, type BoundDispatch } from './runtime.js';

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

const ENTRIES = {
  attention_probs: [3, 1], attention_fwd: [2, 1], attention_dz: [5, 2], attention_dq: [3, 1],
  attention_dk: [3, 1], attention_dv: [2, 1], attention_dx: [5, 1], attention_dscale: [1, 1],
} as const;
type Entry = keyof typeof ENTRIES;

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
export async function createAttention(device: GPUDevice): Promise<Attention> {
  const { WG, RWG } = ATTENTION_CONSTANTS;
  const pipelines = new Map<Entry, GPUComputePipeline>();
  await Promise.all((Object.keys(ENTRIES) as Entry[]).map(async (entry) => {
    const [inputs, outputs] = ENTRIES[entry];
    const constants: Record<string, number> = entry === 'attention_dscale' ? { RWG } : { WG };
    pipelines.set(entry, await getPipeline(device, { family: FAMILY, entry, code: attentionWgsl, inputs, outputs, constants }));
  }));

  const bind = (entry: Entry, s: AttentionShape, items: number, buffers: GPUBuffer[]): BoundDispatch => {
    const label = `${FAMILY}/${entry}`;
    const pipeline = pipelines.get(entry)!;
    const params = paramsBuffer(device, label, [['batch', 'u32', s.batch], ['tq', 'u32', s.tq], ['tv', 'u32', s.tv], ['d', 'u32', s.d]]);
    const workgroups = entry === 'attention_dscale'
      ? [1, 1, 1] as [number, number, number]
      : dispatch1d(items, WG, device.limits.maxComputeWorkgroupsPerDimension);
    return { label, pipeline, bindGroup: bindIo(device, label, pipeline, params, buffers), workgroups };
  };

  const sizes = (s: AttentionShape) => ({
    q: s.batch * s.tq * s.d, kv: s.batch * s.tv * s.d, scores: s.batch * s.tq * s.tv, rows: s.batch * s.tq,
  });

  // dZ and the per-row dscale partials: scratch owned by the plan.
  const dz = (s: AttentionShape, what: string, q: GPUBuffer, k: GPUBuffer, v: GPUBuffer, probs: GPUBuffer, dout: GPUBuffer, dscale?: GPUBuffer) => {
    const n = sizes(s);
    const dzBuf = createStorage(device, n.scores * 4, `${FAMILY}/${what}/dz`);
    const part = createStorage(device, n.rows * 4, `${FAMILY}/${what}/partials`);
    const dispatches = [bind('attention_dz', s, n.rows, [q, k, v, probs, dout, dzBuf, part])];
    if (dscale) dispatches.push(bind('attention_dscale', s, 1, [part, dscale]));
    return { dzBuf, part, dispatches };
  };

  return {
    forward(s, b) {
      checkShape(s, 'forward');
      const n = sizes(s);
      checkSize('forward', 'q', b.q, n.q, '[batch, tq, d]');
      for (const [name, buf] of [['k', b.k], ['v', b.v]] as const) checkSize('forward', name, buf, n.kv, '[batch, tv, d]');
      checkSize('forward', 'probs', b.probs, n.scores, '[batch, tq, tv]');
      checkSize('forward', 'out', b.out, n.q, '[batch, tq, d]');
      checkSize('forward', 'scale', b.scale, 1, '(1)');
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
      if (b.dq) dispatches.push(bind('attention_dq', s, n.q, [z.dzBuf, b.k, b.scale, b.dq]));
      if (b.dk) dispatches.push(bind('attention_dk', s, n.kv, [z.dzBuf, b.q, b.scale, b.dk]));
      if (b.dv) dispatches.push(bind('attention_dv', s, n.kv, [b.probs, b.dout, b.dv]));
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
      if (b.dx) dispatches.push(bind('attention_dx', s, n.q, [z.dzBuf, b.x, b.probs, b.dout, b.scale, b.dx]));
      return { dispatches, scratch: [z.dzBuf, z.part] };
    },
  };
}
