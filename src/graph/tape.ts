// Reverse-mode autodiff. Every differentiable op that runs while gradients are enabled and one
// of its inputs requires a gradient leaves a TapeNode on its output: the inputs, the tensors its
// backward needs (declared, and held until backward has used them), and the backward itself.
//
// backward(loss) walks the nodes in reverse topological order (built iteratively, parents kept
// in order), gives each node the gradient of its output, and adds what comes back into a
// container keyed by tensor id: the tape accumulates, ops do not. A node releases its saved
// tensors as soon as its backward has run.

import type { Engine } from './engine.js';
import type { Tensor } from './tensor.js';

export type Grads = (Tensor | undefined)[];

export interface TapeNode {
  readonly op: string;
  readonly inputs: readonly Tensor[];
  /** Runs backward: the gradient of each input whose `needs` flag is set, else undefined. */
  backward(dy: Tensor, needs: readonly boolean[]): Grads;
  /** Releases the saved tensors; the node cannot run backward after this. */
  free(): void;
  readonly freed: boolean;
}

/** Every node reachable from `roots` through the tape. */
export function reachableNodes(roots: readonly Tensor[]): Set<TapeNode> {
  const seen = new Set<TapeNode>();
  const stack = roots.map((t) => t.node).filter((n): n is TapeNode => !!n);
  while (stack.length) {
    const n = stack.pop()!;
    if (seen.has(n)) continue;
    seen.add(n);
    for (const t of n.inputs) if (t.node && !seen.has(t.node)) stack.push(t.node);
  }
  return seen;
}

/** Nodes in topological order (inputs before the ops that use them), iteratively. */
function topoOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const state = new Map<number, 1 | 2>(); // 1 = on the stack, 2 = done
  const stack: [Tensor, number][] = [[root, 0]];
  while (stack.length) {
    const top = stack[stack.length - 1];
    const [t, i] = top;
    const node = t.node;
    if (i === 0) {
      if (state.get(t.id) === 2) { stack.pop(); continue; }
      state.set(t.id, 1);
    }
    if (node && i < node.inputs.length) {
      top[1]++;
      const child = node.inputs[i];
      if (child.node && !state.has(child.id)) stack.push([child, 0]);
      continue;
    }
    state.set(t.id, 2);
    order.push(t);
    stack.pop();
  }
  return order;
}

/**
 * Computes d(loss)/d(leaf) for every leaf tensor that requires a gradient and adds it into
 * `leaf.grad` (created on first use). `loss` must hold one element.
 */
export function backward(loss: Tensor): void {
  const e: Engine = loss.engine;
  if (loss.size !== 1) throw new RangeError(`backward: loss must have one element, got shape [${loss.shape}]`);
  if (!loss.node) throw new Error('backward: the loss was not computed from anything that requires a gradient');
  const order = topoOrder(loss);
  const grads = new Map<number, Tensor>();
  e.noGrad(() => {
    grads.set(loss.id, e.keep(e.full(loss.shape, 1, 'backward/seed')));
    for (let k = order.length - 1; k >= 0; k--) {
      const t = order[k];
      const node = t.node;
      const dy = grads.get(t.id);
      grads.delete(t.id);
      if (!node) {
        dy?.dispose();
        continue;
      }
      if (!dy || node.freed) {
        dy?.dispose();
        node.free();
        continue;
      }
      const needs = node.inputs.map((x) => x.requiresGrad);
      const dxs = node.backward(dy, needs);
      dy.dispose();
      node.free();
      t.node = undefined;
      node.inputs.forEach((x, i) => {
        const g = dxs[i];
        if (!g) return;
        e.keep(g);
        if (!needs[i]) { g.dispose(); return; }
        if (!x.node) {
          // A leaf: accumulate into .grad, which outlives this backward.
          if (x.grad) { accumulate(e, x.grad, g); g.dispose(); } else x.grad = g;
          return;
        }
        const prev = grads.get(x.id);
        if (prev) { accumulate(e, prev, g); g.dispose(); } else grads.set(x.id, g);
      });
    }
  });
  for (const g of grads.values()) g.dispose();
}

/** acc += g, in place (acc is owned by the gradient container). */
function accumulate(e: Engine, acc: Tensor, g: Tensor): void {
  if (acc.size !== g.size) throw new RangeError(`gradient of ${acc.label}: ${acc.size} vs ${g.size} elements`);
  e.enqueue(e.kernels.elementwise.axpy(acc.size, g.buffer, acc.buffer, 1));
}
