// A tiny anti-aliased CPU rasteriser over an RGB float canvas: shapes are signed-distance
// functions (SDFs, ./sdf.ts) in local coordinates, mapped to pixels by an affine transform, so a shape is
// drawn rotated or squashed without being re-tessellated. Also: a bitmap-font text renderer and
// PNG encoding. Used by the report plots and the synthetic face generator.
import { PNG } from 'pngjs';
import { CHAR_ADVANCE, GLYPH_H, GLYPH_W, glyph, textWidth } from './font5x7.js';
import { type Box, type Sdf, setFarThreshold } from './sdf.js';

export type { Box, Sdf } from './sdf.js';

/** A colour with channels in [0, 1]. */
export type RGB = readonly [number, number, number];
/** A colour that varies with the local position (for gradients and shading). */
export type Paint = (x: number, y: number) => RGB;
/** Local -> pixel: `px = a*x + b*y + c`, `py = d*x + e*y + f`. */
export type Affine = readonly [number, number, number, number, number, number];

/** An 8-bit RGB image, rows top to bottom, 3 bytes per pixel. */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}

export const IDENTITY: Affine = [1, 0, 0, 0, 1, 0];

/** Rotate by `angle` (radians), scale x by `sx` and y by `sy`, then translate to (tx, ty). */
export function affine(tx: number, ty: number, sx: number, sy: number, angle = 0): Affine {
  const c = Math.cos(angle);
  const s = Math.sin(angle);
  return [c * sx, -s * sy, tx, s * sx, c * sy, ty];
}

export interface FillOptions {
  /** Overall opacity in [0, 1]. */
  opacity?: number;
  /** Width of the soft edge in pixels (1 = plain anti-aliasing). */
  feather?: number;
}

export class Canvas {
  readonly data: Float32Array;
  private t: Affine = IDENTITY;
  private inv: Affine = IDENTITY;
  private unit = 1;

  constructor(readonly width: number, readonly height: number, background: RGB = [1, 1, 1]) {
    this.data = new Float32Array(width * height * 3);
    this.fillRect(0, 0, width, height, background);
  }

  /** Sets the local -> pixel transform used by `fill`. */
  setTransform(t: Affine): void {
    const [a, b, c, d, e, f] = t;
    const det = a * e - b * d;
    if (det === 0) throw new Error('Canvas.setTransform: the transform is singular');
    this.t = t;
    this.inv = [e / det, -b / det, (b * f - c * e) / det, -d / det, a / det, (c * d - a * f) / det];
    this.unit = Math.sqrt(Math.abs(det));
  }

  /** Fills the shape `sdf` (local coordinates, inside `bounds`) with a colour or a paint. */
  fill(sdf: Sdf, bounds: Box, paint: RGB | Paint, opts: FillOptions = {}): void {
    const opacity = opts.opacity ?? 1;
    if (opacity <= 0) return;
    const feather = Math.max(1, opts.feather ?? 1);
    setFarThreshold((feather + 1) / this.unit);
    const [x0, y0, x1, y1] = this.pixelBounds(bounds, feather / 2 + 1);
    const [ia, ib, ic, id, ie, iff] = this.inv;
    const unit = this.unit;
    const fixed = typeof paint === 'function' ? null : paint;
    const d = this.data;
    // Tiles of TxT pixels: one SDF sample at the tile centre decides whether the whole tile is
    // clearly outside (skip) or clearly inside (full alpha); only edge tiles sample per pixel.
    // The margin allows for SDFs that are only approximate distances (ellipses, intersections).
    const T = 4;
    const margin = 1.5 * T * Math.SQRT1_2 + feather / 2 + 0.5;
    for (let ty = y0; ty < y1; ty += T) {
      for (let tx = x0; tx < x1; tx += T) {
        const tcx = tx + T / 2, tcy = ty + T / 2;
        const dt = sdf(ia * tcx + ib * tcy + ic, id * tcx + ie * tcy + iff) * unit;
        if (dt > margin) continue;
        const solid = dt < -margin;
        const ey = Math.min(ty + T, y1), ex = Math.min(tx + T, x1);
        for (let py = ty; py < ey; py++) {
          for (let px = tx; px < ex; px++) {
            const cx = px + 0.5;
            const cy = py + 0.5;
            const u = ia * cx + ib * cy + ic;
            const v = id * cx + ie * cy + iff;
            let alpha = 1;
            if (!solid) {
              alpha = 0.5 - (sdf(u, v) * unit) / feather;
              if (alpha <= 0) continue;
              if (alpha > 1) alpha = 1;
            }
            alpha *= opacity;
            const col = fixed ?? (paint as Paint)(u, v);
            const i = (py * this.width + px) * 3;
            d[i] += (col[0] - d[i]) * alpha;
            d[i + 1] += (col[1] - d[i + 1]) * alpha;
            d[i + 2] += (col[2] - d[i + 2]) * alpha;
          }
        }
      }
    }
  }

  /** Fills a pixel-aligned rectangle (pixel coordinates, no transform, no anti-aliasing). */
  fillRect(x: number, y: number, w: number, h: number, color: RGB): void {
    const x0 = Math.max(0, Math.round(x));
    const y0 = Math.max(0, Math.round(y));
    const x1 = Math.min(this.width, Math.round(x + w));
    const y1 = Math.min(this.height, Math.round(y + h));
    for (let py = y0; py < y1; py++) {
      for (let px = x0; px < x1; px++) {
        const i = (py * this.width + px) * 3;
        this.data[i] = color[0];
        this.data[i + 1] = color[1];
        this.data[i + 2] = color[2];
      }
    }
  }

  /** Draws `text` in the 5x7 font with its top-left (or top-centre/right) at pixel (x, y). */
  text(str: string, x: number, y: number, color: RGB, opts: TextOptions = {}): void {
    const scale = Math.max(1, Math.round(opts.scale ?? 1));
    const w = textWidth(str, scale);
    const shift = opts.align === 'center' ? w / 2 : opts.align === 'right' ? w : 0;
    const vertical = opts.vertical ?? false;
    // Vertical text reads bottom to top; (x, y) is then its left edge and centre/end as aligned.
    let ox = Math.round(vertical ? x : x - shift);
    let oy = Math.round(vertical ? y + shift : y);
    for (const ch of str) {
      const bits = glyph(ch);
      for (let r = 0; r < GLYPH_H; r++) {
        for (let c = 0; c < GLYPH_W; c++) {
          if (!bits[r * GLYPH_W + c]) continue;
          const gx = vertical ? ox + r * scale : ox + c * scale;
          const gy = vertical ? oy - (c + 1) * scale : oy + r * scale;
          this.fillRect(gx, gy, scale, scale, color);
        }
      }
      if (vertical) oy -= CHAR_ADVANCE * scale;
      else ox += CHAR_ADVANCE * scale;
    }
  }

  /** Copies an 8-bit image to pixel (x, y), scaled by an integer factor (nearest neighbour). */
  blit(img: RgbImage, x: number, y: number, scale = 1): void {
    for (let py = 0; py < img.height * scale; py++) {
      const ty = y + py;
      if (ty < 0 || ty >= this.height) continue;
      const sy = Math.floor(py / scale);
      for (let px = 0; px < img.width * scale; px++) {
        const tx = x + px;
        if (tx < 0 || tx >= this.width) continue;
        const s = (sy * img.width + Math.floor(px / scale)) * 3;
        const i = (ty * this.width + tx) * 3;
        this.data[i] = img.data[s] / 255;
        this.data[i + 1] = img.data[s + 1] / 255;
        this.data[i + 2] = img.data[s + 2] / 255;
      }
    }
  }

  /** Quantises to 8-bit RGB (round to nearest, clamped). */
  toImage(): RgbImage {
    // A Uint8ClampedArray rounds half to even and clamps, in one store.
    const out = new Uint8ClampedArray(this.data.length);
    const d = this.data;
    for (let i = 0; i < out.length; i++) out[i] = d[i] * 255;
    return { width: this.width, height: this.height, data: new Uint8Array(out.buffer) };
  }

  toPng(): Buffer {
    return encodePng(this.toImage());
  }

  private pixelBounds(b: Box, pad: number): [number, number, number, number] {
    const [a, bb, c, d, e, f] = this.t;
    let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
    for (const [u, v] of [[b[0], b[1]], [b[2], b[1]], [b[0], b[3]], [b[2], b[3]]]) {
      const px = a * u + bb * v + c;
      const py = d * u + e * v + f;
      x0 = Math.min(x0, px); x1 = Math.max(x1, px);
      y0 = Math.min(y0, py); y1 = Math.max(y1, py);
    }
    return [
      Math.max(0, Math.floor(x0 - pad)), Math.max(0, Math.floor(y0 - pad)),
      Math.min(this.width, Math.ceil(x1 + pad)), Math.min(this.height, Math.ceil(y1 + pad)),
    ];
  }
}

export interface TextOptions {
  /** Integer pixel scale of the 5x7 font. */
  scale?: number;
  align?: 'left' | 'center' | 'right';
  /** Rotate 90° counter-clockwise (for y-axis titles). */
  vertical?: boolean;
}

/** Encodes 8-bit RGB as a PNG (colour type 2). Deterministic: same pixels -> same bytes. */
export function encodePng(img: RgbImage, level = 6): Buffer {
  if (img.data.length !== img.width * img.height * 3) {
    throw new Error(`encodePng: ${img.data.length} bytes for ${img.width}x${img.height} RGB`);
  }
  const data = Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength);
  const meta = { width: img.width, height: img.height, data } as unknown as PNG;
  return PNG.sync.write(meta, { colorType: 2, inputColorType: 2, deflateLevel: level });
}

/** Linear interpolation of two colours. */
export function mix(a: RGB, b: RGB, t: number): RGB {
  return [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t];
}

export function scaleRgb(a: RGB, k: number): RGB {
  return [a[0] * k, a[1] * k, a[2] * k];
}
