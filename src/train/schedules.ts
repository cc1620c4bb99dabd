// Keras callbacks and schedules, driven once per epoch on the CPU: ReduceLROnPlateau,
// InverseTimeDecay (applied per epoch, as DESIGN §2 describes the notebook), EarlyStopping with
// restore-best. Each is plain state that a checkpoint can save and restore.

export type Mode = 'max' | 'min';

function improved(mode: Mode, value: number, best: number, minDelta: number): boolean {
  return mode === 'max' ? value > best + minDelta : value < best - minDelta;
}

export interface PlateauState { best: number; wait: number; cooldown: number }

/** keras.callbacks.ReduceLROnPlateau(monitor, factor, patience, min_lr, min_delta=1e-4, mode). */
export class ReduceLROnPlateau {
  state: PlateauState;
  constructor(readonly opts: { mode: Mode; factor: number; patience: number; minLr: number; minDelta?: number; cooldown?: number }) {
    this.state = { best: opts.mode === 'max' ? -Infinity : Infinity, wait: 0, cooldown: 0 };
  }
  /** Returns the new learning rate (or the same). */
  update(value: number, lr: number): number {
    const s = this.state;
    if (s.cooldown > 0) s.cooldown--;
    if (improved(this.opts.mode, value, s.best, this.opts.minDelta ?? 1e-4)) {
      s.best = value;
      s.wait = 0;
      return lr;
    }
    if (s.cooldown > 0) return lr;
    s.wait++;
    if (s.wait >= this.opts.patience && lr > this.opts.minLr) {
      s.wait = 0;
      s.cooldown = this.opts.cooldown ?? 0;
      return Math.max(lr * this.opts.factor, this.opts.minLr);
    }
    return lr;
  }
}

/** keras.optimizers.schedules.InverseTimeDecay(initial, decay_steps, decay_rate), stepped per epoch. */
export function inverseTimeDecay(initial: number, epoch: number, decaySteps: number, decayRate: number): number {
  return initial / (1 + (decayRate * epoch) / decaySteps);
}

export interface EarlyStoppingState { best: number; bestEpoch: number; wait: number }

/** keras.callbacks.EarlyStopping(monitor, patience, min_delta, mode, restore_best_weights). */
export class EarlyStopping {
  state: EarlyStoppingState;
  constructor(readonly opts: { mode: Mode; patience: number; minDelta?: number }) {
    this.state = { best: opts.mode === 'max' ? -Infinity : Infinity, bestEpoch: -1, wait: 0 };
  }
  /** Records the epoch's value; returns whether it is the new best and whether to stop. */
  update(value: number, epoch: number): { isBest: boolean; stop: boolean } {
    const s = this.state;
    if (improved(this.opts.mode, value, s.best, this.opts.minDelta ?? 0)) {
      s.best = value;
      s.bestEpoch = epoch;
      s.wait = 0;
      return { isBest: true, stop: false };
    }
    s.wait++;
    return { isBest: false, stop: s.wait >= this.opts.patience };
  }
}
