// float64 CPU reference for src/wgsl/optimizer.wgsl: Keras 3 Adam (keras/src/optimizers/adam.py)
// with `global_clipnorm` (g *= clip / max(global_norm, clip)).
import { globalNorm } from './reduce.js';

export interface AdamRefConfig { lr: number; beta1: number; beta2: number; epsilon: number; clipnorm?: number }

/** Applies one step at step count t (1-based) to every parameter array, in place. */
export function adamStep(
  params: Float64Array[], grads: ArrayLike<number>[], m: Float64Array[], v: Float64Array[], t: number, cfg: AdamRefConfig,
): void {
  const scale = cfg.clipnorm === undefined ? 1 : cfg.clipnorm / Math.max(globalNorm(grads), cfg.clipnorm);
  const alpha = (cfg.lr * Math.sqrt(1 - cfg.beta2 ** t)) / (1 - cfg.beta1 ** t);
  params.forEach((p, k) => {
    for (let i = 0; i < p.length; i++) {
      const g = grads[k][i] * scale;
      m[k][i] += (g - m[k][i]) * (1 - cfg.beta1);
      v[k][i] += (g * g - v[k][i]) * (1 - cfg.beta2);
      p[i] -= (alpha * m[k][i]) / (Math.sqrt(v[k][i]) + cfg.epsilon);
    }
  });
}
