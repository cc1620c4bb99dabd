// Keras padding and output-size arithmetic shared by the convolution families (conv2d,
// depthwise). DESIGN §2: Keras `same` with stride s pads max((ceil(H/s)-1)*s + k - H, 0) in total,
// the smaller half before (top/left = floor(total/2)); `valid` pads nothing; an explicit
// {top, bottom, left, right} is what ZeroPadding2D followed by `valid` amounts to.

/** Keras padding mode, or explicit zero padding per side. */
export type Padding = 'same' | 'valid' | ExplicitPadding;
export interface ExplicitPadding {
  readonly top: number;
  readonly bottom: number;
  readonly left: number;
  readonly right: number;
}

/** Fused activation applied to the output (after the bias). */
export type Activation = 'none' | 'relu' | 'relu6';
export const ACTIVATION_CODE: Readonly<Record<Activation, number>> = { none: 0, relu: 1, relu6: 2 };

/** Output length of a window of `k` with stride `s` over `size` padded by `before` + `after`. */
export function convOutputSize(size: number, k: number, s: number, before = 0, after = 0): number {
  return Math.floor((size + before + after - k) / s) + 1;
}

/** Keras `same` padding for one axis: [before, after], the smaller half before. */
export function samePadding(size: number, k: number, s: number): [before: number, after: number] {
  const total = Math.max((Math.ceil(size / s) - 1) * s + k - size, 0);
  const before = Math.floor(total / 2);
  return [before, total - before];
}

/** Resolved window geometry of a 2-D convolution: strides, pads and output size. */
export interface ConvGeometry {
  readonly sh: number;
  readonly sw: number;
  readonly top: number;
  readonly bottom: number;
  readonly left: number;
  readonly right: number;
  readonly oh: number;
  readonly ow: number;
}

/**
 * Resolves `padding` and `stride` for an h x w input and a kh x kw window. Throws a RangeError
 * naming `kernel` when the geometry is impossible (non-positive sizes, empty output).
 */
export function convGeometry(
  kernel: string,
  h: number,
  w: number,
  kh: number,
  kw: number,
  stride: number | readonly [number, number] = 1,
  padding: Padding = 'valid',
): ConvGeometry {
  const [sh, sw] = typeof stride === 'number' ? [stride, stride] : stride;
  for (const [name, v] of [['h', h], ['w', w], ['kh', kh], ['kw', kw], ['stride h', sh], ['stride w', sw]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`${kernel}: ${name} must be a positive integer, got ${v}`);
  }
  let top: number, bottom: number, left: number, right: number;
  if (padding === 'same') {
    [top, bottom] = samePadding(h, kh, sh);
    [left, right] = samePadding(w, kw, sw);
  } else if (padding === 'valid') {
    top = bottom = left = right = 0;
  } else {
    ({ top, bottom, left, right } = padding);
    for (const v of [top, bottom, left, right]) {
      if (!Number.isInteger(v) || v < 0) {
        throw new RangeError(`${kernel}: explicit padding must be non-negative integers, got ${JSON.stringify(padding)}`);
      }
    }
  }
  const oh = convOutputSize(h, kh, sh, top, bottom);
  const ow = convOutputSize(w, kw, sw, left, right);
  if (oh < 1 || ow < 1) {
    throw new RangeError(
      `${kernel}: a ${kh}x${kw} window with stride ${sh}x${sw} does not fit a ${h}x${w} input ` +
        `padded ${top},${bottom},${left},${right} (output would be ${oh}x${ow})`,
    );
  }
  return { sh, sw, top, bottom, left, right, oh, ow };
}

/** Throws a RangeError naming the kernel and binding when `buffer` holds fewer than `floats`. */
export function checkBuffer(kernel: string, name: string, buffer: GPUBuffer, floats: number, shape: readonly number[]): void {
  if (buffer.size < floats * 4) {
    throw new RangeError(
      `${kernel}: ${name} must hold [${shape.join(', ')}] = ${floats} floats (${floats * 4} bytes), ` +
        `its buffer has ${buffer.size} bytes`,
    );
  }
}

/**
 * Number of chunks a two-pass reduction over `items` positions is cut into: enough chunks that
 * `tiles` x chunks invocations keep the device busy, but each chunk at least `minChunk` long.
 */
export function reductionChunks(items: number, tiles: number, target = 8192, minChunk = 32): number {
  const byWork = Math.max(1, Math.ceil(target / Math.max(1, tiles)));
  const byLength = Math.max(1, Math.floor(items / minChunk));
  return Math.max(1, Math.min(byWork, byLength));
}
