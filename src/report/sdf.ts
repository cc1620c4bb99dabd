// Signed-distance shapes in local units (negative inside, positive outside) for the rasteriser
// in ./raster.ts, plus Bézier sampling. Exact for circles, rectangles, polygons and strokes;
// first-order for ellipses, which is accurate near the edge where anti-aliasing needs it.

/** Signed distance to a shape's edge in local units: negative inside, positive outside. */
export type Sdf = (x: number, y: number) => number;
/** An axis-aligned box `[x0, y0, x1, y1]`. */
export type Box = readonly [number, number, number, number];


export function sdEllipse(cx: number, cy: number, rx: number, ry: number): Sdf {
  return (x, y) => {
    const u = (x - cx) / rx;
    const v = (y - cy) / ry;
    const k = Math.sqrt(u * u + v * v);
    // First-order distance: (k - 1) / |grad k|, exact for circles, good near the edge.
    const gx = u / (rx * (k || 1));
    const gy = v / (ry * (k || 1));
    return (k - 1) / Math.max(1e-9, Math.sqrt(gx * gx + gy * gy));
  };
}

export function sdCircle(cx: number, cy: number, r: number): Sdf {
  return (x, y) => Math.hypot(x - cx, y - cy) - r;
}

export function sdRect(x0: number, y0: number, x1: number, y1: number): Sdf {
  const cx = (x0 + x1) / 2, cy = (y0 + y1) / 2, hx = (x1 - x0) / 2, hy = (y1 - y0) / 2;
  return (x, y) => {
    const dx = Math.abs(x - cx) - hx;
    const dy = Math.abs(y - cy) - hy;
    return Math.hypot(Math.max(dx, 0), Math.max(dy, 0)) + Math.min(Math.max(dx, dy), 0);
  };
}

/** A filled polygon, points flattened `[x0, y0, x1, y1, ...]` (even-odd rule). */
export function sdPolygon(pts: readonly number[]): Sdf {
  const n = pts.length / 2;
  const far = farFromBox(boundsOf(pts));
  return (x, y) => {
    const db = far(x, y);
    if (db > 0) return db;
    let best = Infinity;
    let inside = false;
    for (let i = 0, j = n - 1; i < n; j = i++) {
      const xi = pts[2 * i], yi = pts[2 * i + 1], xj = pts[2 * j], yj = pts[2 * j + 1];
      best = Math.min(best, segDist2(x, y, xj, yj, xi, yi).d2);
      if ((yi > y) !== (yj > y) && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
    }
    const d = Math.sqrt(best);
    return inside ? -d : d;
  };
}

/** A stroke along a polyline with round caps; `width` is one value or one per point. */
export function sdStroke(pts: readonly number[], width: number | readonly number[]): Sdf {
  const n = pts.length / 2;
  const w = (i: number) => (typeof width === 'number' ? width : width[i]) / 2;
  const wmax = typeof width === 'number' ? width : Math.max(...width);
  const far = farFromBox(boundsOf(pts, wmax / 2));
  return (x, y) => {
    const db = far(x, y);
    if (db > 0) return db;
    let best = Infinity;
    for (let i = 0; i + 1 < n; i++) {
      const s = segDist2(x, y, pts[2 * i], pts[2 * i + 1], pts[2 * i + 2], pts[2 * i + 3]);
      const d = Math.sqrt(s.d2) - (w(i) + (w(i + 1) - w(i)) * s.t);
      if (d < best) best = d;
    }
    return best;
  };
}

export const sdUnion = (a: Sdf, b: Sdf): Sdf => (x, y) => Math.min(a(x, y), b(x, y));
export const sdIntersect = (a: Sdf, b: Sdf): Sdf => (x, y) => Math.max(a(x, y), b(x, y));
export const sdSubtract = (a: Sdf, b: Sdf): Sdf => (x, y) => Math.max(a(x, y), -b(x, y));

/** Past this distance (local units) a shape is fully transparent; `Canvas.fill` sets it. */
let farThreshold = 1;
export function setFarThreshold(d: number): void {
  farThreshold = d;
}

/** Distance to a box when it is past `farThreshold` (a lower bound of the shape's distance, and
 * far enough out that the pixel is transparent either way), else 0: a cheap early exit. */
function farFromBox(b: Box): (x: number, y: number) => number {
  return (x, y) => {
    const dx = Math.max(b[0] - x, x - b[2], 0);
    const dy = Math.max(b[1] - y, y - b[3], 0);
    return dx > farThreshold || dy > farThreshold ? Math.hypot(dx, dy) : 0;
  };
}

const seg = { d2: 0, t: 0 };
function segDist2(x: number, y: number, ax: number, ay: number, bx: number, by: number) {
  const dx = bx - ax, dy = by - ay;
  const len2 = dx * dx + dy * dy;
  let t = len2 > 0 ? ((x - ax) * dx + (y - ay) * dy) / len2 : 0;
  t = t < 0 ? 0 : t > 1 ? 1 : t;
  const ex = x - ax - t * dx, ey = y - ay - t * dy;
  seg.d2 = ex * ex + ey * ey;
  seg.t = t;
  return seg;
}

/** Samples a cubic Bézier (p0, c1, c2, p3) into `n + 1` flattened points. */
export function cubic(p: readonly number[], n = 12): number[] {
  const [x0, y0, x1, y1, x2, y2, x3, y3] = p;
  const out: number[] = [];
  for (let i = 0; i <= n; i++) {
    const t = i / n, s = 1 - t;
    const a = s * s * s, b = 3 * s * s * t, c = 3 * s * t * t, d = t * t * t;
    out.push(a * x0 + b * x1 + c * x2 + d * x3, a * y0 + b * y1 + c * y2 + d * y3);
  }
  return out;
}

/** Samples a quadratic Bézier (p0, control, p2) into `n + 1` flattened points. */
export function quad(p: readonly number[], n = 10): number[] {
  const [x0, y0, x1, y1, x2, y2] = p;
  return cubic([x0, y0, x0 + (2 / 3) * (x1 - x0), y0 + (2 / 3) * (y1 - y0),
    x2 + (2 / 3) * (x1 - x2), y2 + (2 / 3) * (y1 - y2), x2, y2], n);
}

/** The bounding box of flattened points, grown by `pad`. */
export function boundsOf(pts: readonly number[], pad = 0): Box {
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (let i = 0; i < pts.length; i += 2) {
    x0 = Math.min(x0, pts[i]); x1 = Math.max(x1, pts[i]);
    y0 = Math.min(y0, pts[i + 1]); y1 = Math.max(y1, pts[i + 1]);
  }
  return [x0 - pad, y0 - pad, x1 + pad, y1 + pad];
}
