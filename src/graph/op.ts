// defineOp: one record per differentiable op, its forward, what it saves and its backward side
// by side (tinygrad's function.py, Burn's Backward::State). The returned function runs forward
// and, when gradients are enabled and an input requires one, leaves a TapeNode on the output.

import type { Engine } from './engine.js';
import type { Grads, TapeNode } from './tape.js';
import { Tensor } from './tensor.js';

export interface ForwardResult {
  y: Tensor;
  /** Extra tensors made by forward for backward only (e.g. batch statistics); owned by the node. */
  extra?: Tensor[];
}

export interface OpDef<A> {
  name: string;
  forward(e: Engine, inputs: readonly Tensor[], attrs: A): Tensor | ForwardResult;
  /** Which of the inputs / output backward needs; they are held until backward has run. */
  saves?(inputs: readonly Tensor[], y: Tensor, attrs: A): Tensor[];
  /**
   * `saved` are the tensors from `saves` followed by `extra`. Return one gradient per input,
   * undefined where `needs` is false.
   */
  backward(e: Engine, dy: Tensor, saved: readonly Tensor[], needs: readonly boolean[], attrs: A): Grads;
}

export type Op<A> = (inputs: readonly Tensor[], attrs: A) => Tensor;

export function defineOp<A = undefined>(def: OpDef<A>): Op<A> {
  return (inputs, attrs) => {
    if (inputs.length === 0) throw new Error(`${def.name}: no inputs`);
    const e = inputs[0].engine;
    const out = e.binding(() => def.forward(e, inputs, attrs));
    const { y, extra = [] } = out instanceof Tensor ? { y: out } : out;
    const track = e.gradEnabled && inputs.some((x) => x.requiresGrad);
    if (!track) {
      for (const t of extra) t.dispose();
      return y;
    }
    y.requiresGrad = true;
    // The node holds its own views of what it saves, so the user may dispose their handles.
    const saved = (def.saves?.(inputs, y, attrs) ?? []).map((t) => e.keep(e.view(t, t.shape, false)));
    for (const t of extra) e.keep(t);
    const held = [...saved, ...extra];
    let freed = false;
    const node: TapeNode = {
      op: def.name,
      inputs: [...inputs],
      get freed() {
        return freed;
      },
      backward: (dy, needs) => e.binding(() => def.backward(e, dy, held, needs, attrs)),
      free() {
        if (freed) return;
        freed = true;
        for (const t of held) t.dispose();
      },
    };
    y.node = node;
    return y;
  };
}
