// Uniform windows of B^T for matmul_sg8_v4w (src/wgsl/matmul-sg-wide.wgsl): B^T [N,K] is cut
// along N into slices of at most 64 KiB, each bound as its own uniform buffer, because lavapipe
// loads a uniform binding about twice as cheaply as storage (docs/KERNELS.md). A slice holds a
// multiple of 16 rows of B^T, so each 16-column tile of C reads one window; columns past the last
// window (a stage has only 12 uniform bindings, one of them the params) are read from storage.

import { matmulSgBloopWgsl, matmulSgWindowWgsl } from '../wgsl/index.js';

/** Binding of window 0: after params (0), A (1), B (2), bias (3) and C (4). */
const FIRST_WINDOW_BINDING = 5;

export interface BWindows {
  /** [first, end) rows of B^T (columns of C) of each window, from row 0; a multiple of 16 each but the last. */
  readonly ranges: readonly (readonly [number, number])[];
  /** Whether the windows hold every row of B^T (else the rest is read from storage). */
  readonly complete: boolean;
}

/** The windows for B^T [n, k] on `device`; undefined when a window would hold under 16 rows. */
export function planWindows(device: GPUDevice, k: number, n: number): BWindows | undefined {
  const bytes = Math.min(65536, device.limits.maxUniformBufferBindingSize);
  const cols = Math.floor(bytes / (k * 4) / 16) * 16;
  const slots = device.limits.maxUniformBuffersPerShaderStage - 1;
  if (cols < 16 || slots < 1) return undefined;
  const count = Math.min(slots, Math.ceil(n / cols));
  const ranges = Array.from({ length: count }, (_, i) => [i * cols, Math.min(n, (i + 1) * cols)] as const);
  return { ranges, complete: count * cols >= n };
}

/** `template` with its placeholders (upper-case words from `fill`) replaced. */
function instantiate(template: string, fill: Record<string, string | number>): string {
  return template.replace(new RegExp(Object.keys(fill).join('|'), 'g'), (m) => String(fill[m]));
}

/** A window's binding (matmul-sg-window.wgsl) and its k loop (matmul-sg-bloop.wgsl). */
function windowWgsl(id: number, k: number, [j0, j1]: readonly [number, number]): string {
  const binding = instantiate(matmulSgWindowWgsl, { WIN_ID: id, WIN_BINDING: FIRST_WINDOW_BINDING + id, WIN_LEN: ((j1 - j0) * k) / 4 });
  return binding + instantiate(matmulSgBloopWgsl, { LOOP_ID: `w${id}`, B_SRC: `b_w${id}`, B_J0: j0 });
}

/**
 * WGSL appended after matmul-sg-wide.wgsl: the k loop of each window and, unless the windows
 * hold all of B^T, the storage loop, then `b_loops`, which picks one by the tile's first column.
 */
export function wideLoopsWgsl(k: number, w?: BWindows): string {
  const parts: string[] = [];
  const chain: string[] = [];
  const ranges = w?.ranges ?? [];
  ranges.forEach((range, i) => {
    parts.push(windowWgsl(i, k, range));
    const last = w!.complete && i === ranges.length - 1;
    chain.push(last ? `  return b_loop_w${i}(r, k4);` : `  if (j0 < ${range[1]}u) { return b_loop_w${i}(r, k4); }`);
  });
  if (!w?.complete) {
    parts.push(instantiate(matmulSgBloopWgsl, { LOOP_ID: 'storage', B_SRC: 'b_v4', B_J0: 0 }));
    chain.push('  return b_loop_storage(r, k4);');
  }
  parts.push(`fn b_loops(j0: u32, r: WideRun, k4: u32) -> Wide {\n${chain.join('\n')}\n}\n`);
  return parts.join('\n');
}

/** The window bindings, ranges of `b` in window order (bound after C). */
export function windowBindings(b: GPUBuffer, k: number, w: BWindows): GPUBufferBinding[] {
  return w.ranges.map(([j0, j1]) => ({ buffer: b, offset: j0 * k * 4, size: (j1 - j0) * k * 4 }));
}
