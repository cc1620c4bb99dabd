// A registry of named parameters (Keras weight names such as `conv_dw_1/depthwise_kernel`),
// kept in creation order, where weights are frozen and unfrozen by exact name, prefix, or a
// range of layers. Frozen parameters do not require gradients, so backward skips them and the
// optimiser never touches them.
//
// Non-trainable state (BatchNorm moving statistics) is registered too, with `trainable: false`
// from the start; freezing rules never make it trainable.

import type { Tensor } from './tensor.js';

export interface ParamEntry {
  /** `layer/weight`, e.g. `conv1_bn/gamma`. */
  readonly name: string;
  readonly layer: string;
  readonly tensor: Tensor;
  /** False for state that is never trained (moving mean and variance). */
  readonly trainableKind: boolean;
}

export type Selector = string | RegExp | ((name: string, layer: string) => boolean);

export class ParamRegistry {
  private readonly entries = new Map<string, ParamEntry>();
  private readonly layerOrder: string[] = [];

  add(layer: string, weight: string, tensor: Tensor, trainable = true): Tensor {
    const name = `${layer}/${weight}`;
    if (this.entries.has(name)) throw new Error(`parameter ${name} is registered twice`);
    if (!this.layerOrder.includes(layer)) this.layerOrder.push(layer);
    this.entries.set(name, { name, layer, tensor, trainableKind: trainable });
    tensor.requiresGrad = trainable;
    return tensor;
  }

  get(name: string): Tensor {
    const e = this.entries.get(name);
    if (!e) throw new Error(`no parameter named ${name}; known: ${this.names().slice(0, 8).join(', ')}…`);
    return e.tensor;
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  names(): string[] {
    return [...this.entries.keys()];
  }

  layers(): readonly string[] {
    return this.layerOrder;
  }

  all(): ParamEntry[] {
    return [...this.entries.values()];
  }

  /** Parameters that currently receive gradients. */
  trainable(): ParamEntry[] {
    return this.all().filter((e) => e.tensor.requiresGrad);
  }

  private select(sel: Selector): ParamEntry[] {
    const match = (e: ParamEntry): boolean => {
      if (typeof sel === 'string') return e.name === sel || e.layer === sel || e.name.startsWith(sel.endsWith('/') ? sel : `${sel}/`) || e.layer.startsWith(sel);
      if (sel instanceof RegExp) return sel.test(e.name);
      return sel(e.name, e.layer);
    };
    const found = this.all().filter(match);
    if (found.length === 0) throw new Error(`no parameter matches ${String(sel)}`);
    return found;
  }

  /** Layers from `first` to `last` inclusive, in creation order. */
  range(first: string, last: string): Selector {
    const i = this.layerOrder.indexOf(first);
    const j = this.layerOrder.indexOf(last);
    if (i < 0 || j < 0 || j < i) throw new Error(`bad layer range ${first} .. ${last}`);
    const chosen = new Set(this.layerOrder.slice(i, j + 1));
    return (_name, layer) => chosen.has(layer);
  }

  freeze(sel: Selector): number {
    const found = this.select(sel);
    for (const e of found) e.tensor.requiresGrad = false;
    return found.length;
  }

  unfreeze(sel: Selector): number {
    const found = this.select(sel).filter((e) => e.trainableKind);
    for (const e of found) e.tensor.requiresGrad = true;
    return found.length;
  }

  /** Frees every parameter's GPU memory. */
  dispose(): void {
    for (const e of this.entries.values()) e.tensor.dispose();
    this.entries.clear();
  }
}
