// float64 CPU reference for src/wgsl/attention.wgsl: Keras Attention(use_scale=True), dot scores,
// no mask: out = softmax(scale * q k^T) v per batch item, and its gradients.
import type { AttentionShape } from '../../src/kernels/attention.js';

type N = ArrayLike<number>;

export function forward(s: AttentionShape, q: N, k: N, v: N, scale: number): { out: Float64Array; probs: Float64Array } {
  const out = new Float64Array(s.batch * s.tq * s.d);
  const probs = new Float64Array(s.batch * s.tq * s.tv);
  for (let b = 0; b < s.batch; b++) {
    for (let i = 0; i < s.tq; i++) {
      const row = b * s.tq + i;
      const z = new Float64Array(s.tv);
      for (let j = 0; j < s.tv; j++) {
        let r = 0;
        for (let c = 0; c < s.d; c++) r += q[row * s.d + c] * k[(b * s.tv + j) * s.d + c];
        z[j] = scale * r;
      }
      const m = Math.max(...z);
      let sum = 0;
      for (let j = 0; j < s.tv; j++) sum += Math.exp(z[j] - m);
      for (let j = 0; j < s.tv; j++) {
        const a = Math.exp(z[j] - m) / sum;
        probs[row * s.tv + j] = a;
        for (let c = 0; c < s.d; c++) out[row * s.d + c] += a * v[(b * s.tv + j) * s.d + c];
      }
    }
  }
  return { out, probs };
}

export interface Grads { dq: Float64Array; dk: Float64Array; dv: Float64Array; dscale: number }

export function backward(s: AttentionShape, q: N, k: N, v: N, scale: number, dout: N): Grads {
  const { probs } = forward(s, q, k, v, scale);
  const dq = new Float64Array(s.batch * s.tq * s.d);
  const dk = new Float64Array(s.batch * s.tv * s.d);
  const dv = new Float64Array(s.batch * s.tv * s.d);
  let dscale = 0;
  for (let b = 0; b < s.batch; b++) {
    for (let i = 0; i < s.tq; i++) {
      const row = b * s.tq + i;
      const da = new Float64Array(s.tv);
      let rowdot = 0;
      for (let j = 0; j < s.tv; j++) {
        for (let c = 0; c < s.d; c++) da[j] += dout[row * s.d + c] * v[(b * s.tv + j) * s.d + c];
        rowdot += probs[row * s.tv + j] * da[j];
      }
      for (let j = 0; j < s.tv; j++) {
        const a = probs[row * s.tv + j];
        const dz = a * (da[j] - rowdot);
        let r = 0;
        for (let c = 0; c < s.d; c++) {
          const qi = row * s.d + c;
          const kj = (b * s.tv + j) * s.d + c;
          r += q[qi] * k[kj];
          dq[qi] += scale * dz * k[kj];
          dk[kj] += scale * dz * q[qi];
          dv[kj] += a * dout[qi];
        }
        dscale += dz * r;
      }
    }
  }
  return { dq, dk, dv, dscale };
}

/** Self-attention: dx = dq + dk + dv with q = k = v = x. */
export function backwardSelf(s: AttentionShape, x: N, scale: number, dout: N): { dx: Float64Array; dscale: number } {
  const g = backward(s, x, x, x, scale, dout);
  return { dx: g.dq.map((v, i) => v + g.dk[i] + g.dv[i]), dscale: g.dscale };
}

/** sum(out * w): the scalar loss the gradient checks differentiate (dout = w). */
export function loss(s: AttentionShape, x: N, scale: number, w: N): number {
  const { out } = forward(s, x, x, x, scale);
  return out.reduce((acc, o, i) => acc + o * w[i], 0);
}
