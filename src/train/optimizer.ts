// Adam over the trainable parameters of a registry, with Keras global-norm clipping computed on
// the GPU. Everything it does is enqueued on the engine, so a compiled training step records it
// and replays it with no host involvement. The learning rate and step count live in a small GPU
// state buffer [lr, t, beta1^t, beta2^t]: schedules change the rate with one write.
import type { Engine } from '../graph/engine.js';
import type { ParamEntry, ParamRegistry } from '../graph/params.js';
import type { Tensor } from '../graph/tensor.js';
import { ADAM_DEFAULTS, adamState, type AdamConfig } from '../kernels/optimizer.js';

export interface AdamOptions extends Partial<AdamConfig> {
  learningRate: number;
}

interface Slot {
  entry: ParamEntry;
  m: Tensor;
  v: Tensor;
}

export class Adam {
  readonly config: AdamConfig;
  private readonly state: Tensor;
  private readonly norm: Tensor;
  private readonly slots = new Map<string, Slot>();
  private lr: number;
  /** Steps taken (mirrors the GPU counter; advanced by `applied`). */
  step = 0;

  constructor(readonly engine: Engine, opts: AdamOptions) {
    this.config = { ...ADAM_DEFAULTS, ...opts };
    this.lr = opts.learningRate;
    this.state = engine.keep(engine.tensor(adamState(this.lr, 0, this.config), [4], { label: 'adam/state' }));
    this.norm = engine.keep(engine.full([1], 0, 'adam/global-norm'));
  }

  get learningRate(): number {
    return this.lr;
  }

  /** Takes effect for steps submitted afterwards (one small write, no rebuild). */
  setLearningRate(lr: number): void {
    if (!(lr > 0)) throw new RangeError(`learning rate must be > 0, got ${lr}`);
    this.lr = lr;
    // Only the rate: t and the beta powers accumulate on the GPU and must not be recomputed.
    this.engine.flush();
    this.engine.device.queue.writeBuffer(this.state.buffer, 0, Float32Array.of(lr));
  }

  /**
   * Creates the moments of every trainable parameter now (zeros, written immediately). Call it
   * before recording a step: moments made inside a recording would be re-zeroed by each replay.
   */
  prepare(params: ParamRegistry): void {
    for (const p of params.trainable()) this.slot(p);
  }

  private slot(entry: ParamEntry): Slot {
    let s = this.slots.get(entry.name);
    if (!s) {
      const e = this.engine;
      if (e.isRecording) throw new Error(`Adam: no moments for ${entry.name}; call prepare() before recording a step`);
      s = {
        entry,
        m: e.keep(e.tensor(new Float32Array(entry.tensor.size), entry.tensor.shape, { label: `${entry.name}/m` })),
        v: e.keep(e.tensor(new Float32Array(entry.tensor.size), entry.tensor.shape, { label: `${entry.name}/v` })),
      };
      this.slots.set(entry.name, s);
    }
    return s;
  }

  /**
   * Enqueues one update of every trainable parameter that has a gradient: global norm (when
   * clipping), t += 1, then Adam per parameter. Call `applied()` after the step is submitted.
   */
  enqueueUpdate(params: ParamRegistry): number {
    const e = this.engine;
    const live = params.trainable().filter((p) => p.tensor.grad);
    if (live.length === 0) return 0;
    e.binding(() => {
      if (this.config.clipnorm !== undefined) {
        const r = e.kernels.reduce.globalNorm(live.map((p) => ({ n: p.tensor.size, buffer: p.tensor.grad!.buffer })), this.norm.buffer);
        e.enqueue(...r.dispatches);
      }
      e.enqueue(e.kernels.optimizer.adamAdvance(this.state.buffer, this.config));
      for (const p of live) {
        const s = this.slot(p);
        e.enqueue(e.kernels.optimizer.adamStep(p.tensor.size, {
          param: p.tensor.buffer, grad: p.tensor.grad!.buffer, m: s.m.buffer, v: s.v.buffer,
          state: this.state.buffer, norm: this.config.clipnorm !== undefined ? this.norm.buffer : undefined,
        }, this.config));
        e.updatesInPlace(p.tensor, s.m, s.v);
      }
    });
    return live.length;
  }

  /** Records that one more step was submitted (keeps the CPU mirror of t). */
  applied(steps = 1): void {
    this.step += steps;
  }

  /** Moments by parameter name and the GPU step state, for checkpoints. */
  async stateDict(): Promise<Map<string, Float32Array>> {
    // The beta powers are products accumulated in float32 on the GPU; saving them (rather than
    // recomputing beta^t on resume) keeps a resumed run bit-identical to an uninterrupted one.
    const out = new Map<string, Float32Array>([['adam/state', await this.state.readF32()]]);
    for (const [name, s] of this.slots) {
      out.set(`${name}/adam_m`, await s.m.readF32());
      out.set(`${name}/adam_v`, await s.v.readF32());
    }
    return out;
  }

  /** Restores moments and the step count saved by stateDict (resume). */
  loadStateDict(params: ParamRegistry, saved: Map<string, Float32Array>, step: number): void {
    for (const p of params.all()) {
      const m = saved.get(`${p.name}/adam_m`);
      const v = saved.get(`${p.name}/adam_v`);
      if (!m || !v) continue;
      const s = this.slot(p);
      this.engine.write(s.m, m);
      this.engine.write(s.v, v);
    }
    this.step = step;
    const state = saved.get('adam/state');
    if (state && state.length === 4) {
      this.lr = state[0];
      this.engine.write(this.state, state);
    } else {
      this.engine.write(this.state, adamState(this.lr, step, this.config));
    }
  }

  dispose(): void {
    for (const s of this.slots.values()) {
      s.m.dispose();
      s.v.dispose();
    }
    this.slots.clear();
    this.state.dispose();
    this.norm.dispose();
  }
}
