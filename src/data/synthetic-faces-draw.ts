// Draws one face, described by `FaceParams`, onto a Canvas. All geometry is in face units: the
// face ellipse is centred on (0, 0) with half-height 1, y points down, and side -1 / +1 is the
// image's left / right. The caller sets the pose; features shift sideways with `yaw` times
// their depth, which fakes a small head turn.
import { type Affine, type Canvas, type RGB, mix, scaleRgb } from '../report/raster.js';
import {
  boundsOf, cubic, quad, sdCircle, sdEllipse, sdIntersect, sdPolygon, sdStroke, sdSubtract,
} from '../report/sdf.js';

/** Per-side values: [left, right] in the image. */
export type Pair = [number, number];

export interface FaceParams {
  // Identity.
  aspect: number; skin: RGB; hair: RGB; hairStyle: number; hairline: number; iris: RGB;
  lip: RGB; clothes: RGB; eyeX: number; eyeY: number; eyeW: number; eyeH: number;
  browY: number; browThick: number; mouthY: number; mouthW: number; lipU: number; lipL: number;
  // Expression. Vertical offsets are in face units, negative = up.
  browInner: Pair; browOuter: Pair; browIn: number; browArch: number;
  eyeOpen: Pair; lidSlant: number; lowerLid: Pair; gaze: Pair;
  mouthCorner: Pair; cornerOut: Pair; mouthWidth: number; mouthOpen: number; mouthRound: number;
  upperLipRaise: number; lipPress: number; teethUpper: number; teethLower: number;
  jawDrop: number; cheekRaise: number; noseWrinkle: number; nasolabial: number;
  foreheadLines: number; glabella: number; dimple: Pair;
}

const DARK: RGB = [0.1, 0.07, 0.06];
const SIDES = [-1, 1] as const;

/** Draws the head, hair and features. `pose` maps face units to pixels. */
export function drawFace(cv: Canvas, p: FaceParams, pose: Affine, yaw: number): void {
  const at = (depth: number) => {
    const dx = yaw * depth;
    cv.setTransform([pose[0], pose[1], pose[2] + pose[0] * dx, pose[3], pose[4],
      pose[5] + pose[3] * dx]);
  };
  const skin = p.skin;
  const rx = 0.74 * p.aspect;
  const face = sdEgg(rx);
  at(0);
  // Clothes, neck, back hair, ears, face.
  cv.fill(sdEllipse(0, 1.95, 1.7, 0.8), [-1.8, 1.1, 1.8, 2.8], p.clothes);
  cv.fill(sdEllipse(0, 1.1, rx * 0.5, 0.7), [-1, 0.4, 1, 1.9], scaleRgb(skin, 0.78));
  const hairPaint = (x: number, y: number): RGB => scaleRgb(p.hair, 0.85 + 0.25 * (-y - x * 0.2));
  if (p.hairStyle === 1) {
    cv.fill(sdEllipse(0, 0.25, rx * 1.35, 1.3), [-1.4, -1.1, 1.4, 1.6], hairPaint);
  } else if (p.hairStyle !== 2) {
    cv.fill(sdEllipse(0, -0.18, rx * 1.12, 0.96), [-1.2, -1.2, 1.2, 0.8], hairPaint);
  }
  for (const s of SIDES) cv.fill(sdEllipse(s * rx * 0.98, 0.08, 0.09, 0.17), [-1.2, -0.2, 1.2, 0.3], scaleRgb(skin, 0.88));
  cv.fill(face, [-1, -1.1, 1, 1.1], (x, y) => {
    const r2 = (x / rx) ** 2 + y * y;
    return scaleRgb(skin, 1.04 - 0.2 * r2 * r2 + 0.06 * (-x / rx - y * 0.5));
  });
  // Soft cheeks and jaw shading.
  for (const s of SIDES) {
    cv.fill(sdEllipse(s * 0.36, 0.22, 0.17, 0.1 + 0.02 * p.cheekRaise), [-0.6, 0, 0.6, 0.45],
      mix(skin, [0.95, 0.55, 0.5], 0.35), { opacity: 0.08 + 0.45 * p.cheekRaise, feather: 8 });
  }
  // Hair cap over the forehead.
  if (p.hairStyle !== 2) {
    const cap = sdSubtract(sdEllipse(0, -0.2, rx * 1.12, 0.95), sdEllipse(0, 0.25, rx * 0.98, 0.25 - p.hairline));
    cv.fill(cap, [-1.2, -1.2, 1.2, 0.6], hairPaint);
    if (p.hairStyle === 3) {
      const fringe = sdPolygon([-rx * 0.8, -0.8, rx * 0.8, -0.85, 0.25, -0.5, -0.3, -0.55, -rx * 0.95, -0.3]);
      cv.fill(fringe, [-1, -1, 1, -0.2], hairPaint);
    }
  }
  at(0.1);
  drawForehead(cv, p);
  for (const s of SIDES) drawEye(cv, p, s);
  for (const s of SIDES) drawBrow(cv, p, s);
  drawCheekFolds(cv, p);
  at(0.18);
  drawNose(cv, p);
  at(0.1);
  drawMouth(cv, p);
}

/** An egg-shaped face: the ellipse narrows towards the chin. */
function sdEgg(rx: number) {
  const e = sdEllipse(0, 0, rx, 1);
  return (x: number, y: number) => e(x / (1 - 0.14 * Math.max(0, y)), y);
}

function drawForehead(cv: Canvas, p: FaceParams): void {
  const ink = scaleRgb(p.skin, 0.7);
  const top = p.browY + Math.min(p.browInner[0], p.browInner[1], p.browOuter[0], p.browOuter[1]);
  for (let k = 0; k < 3 && p.foreheadLines > 0.05; k++) {
    const y = top - 0.1 - k * 0.07;
    if (y < p.hairline + 0.04) break;
    const w = 0.3 - k * 0.03;
    const pts = quad([-w, y + 0.02, 0, y - 0.02, w, y + 0.02]);
    cv.fill(sdStroke(pts, 0.018), boundsOf(pts, 0.05), ink, { opacity: 0.55 * p.foreheadLines });
  }
  for (const s of SIDES) {
    if (p.glabella < 0.05) break;
    const y = p.browY + 0.02;
    const pts = [s * 0.045, y + 0.1, s * 0.03, y - 0.03];
    cv.fill(sdStroke(pts, 0.018), boundsOf(pts, 0.05), ink, { opacity: 0.7 * p.glabella });
  }
}

function drawEye(cv: Canvas, p: FaceParams, s: number): void {
  const i = s < 0 ? 0 : 1;
  const cx = s * p.eyeX, cy = p.eyeY, w = p.eyeW;
  const h = p.eyeH * p.eyeOpen[i];
  const sl = p.lidSlant;
  const hIn = h * (1 - 0.6 * Math.max(sl, 0) + 0.3 * Math.max(-sl, 0));
  const hOut = h * (1 - 0.6 * Math.max(-sl, 0) + 0.3 * Math.max(sl, 0));
  const hLow = p.eyeH * 0.7 * (1 - 0.65 * p.lowerLid[i]);
  const xi = cx - s * w, xo = cx + s * w, yo = cy - 0.012;
  const k = 4 / 3;
  const upper = cubic([xi, cy, xi + (xo - xi) * 0.3, cy - hIn * k, xi + (xo - xi) * 0.7, cy - hOut * k, xo, yo]);
  const lower = cubic([xi, cy, xi + (xo - xi) * 0.3, cy + hLow * k, xi + (xo - xi) * 0.7, cy + hLow * k, xo, yo]);
  const eyePoly = upper.concat(reversePts(lower));
  const eye = sdPolygon(eyePoly);
  const box = boundsOf(eyePoly, 0.04);
  const skin = p.skin;
  // Socket shadow, lid crease, white, iris, pupil, glint, lash line, lower lid.
  cv.fill(sdEllipse(cx, cy - 0.03, w * 1.35, 0.12), [cx - 0.3, cy - 0.2, cx + 0.3, cy + 0.12],
    scaleRgb(skin, 0.8), { opacity: 0.45, feather: 6 });
  const crease = shiftPts(upper, 0, -0.035 - 0.25 * h);
  cv.fill(sdStroke(crease, 0.014), boundsOf(crease, 0.04), scaleRgb(skin, 0.72), { opacity: 0.5 });
  cv.fill(eye, box, [0.93, 0.91, 0.88]);
  const ir = p.eyeH * 0.88;
  const ix = cx + p.gaze[0], iy = cy + p.gaze[1] + 0.004;
  const ibox: [number, number, number, number] = [ix - ir, iy - ir, ix + ir, iy + ir];
  cv.fill(sdIntersect(sdCircle(ix, iy, ir), eye), ibox, (x, y) =>
    scaleRgb(p.iris, 0.7 + 0.5 * Math.hypot(x - ix, y - iy) / ir));
  cv.fill(sdIntersect(sdCircle(ix, iy, ir * 0.45), eye), ibox, [0.03, 0.03, 0.03]);
  cv.fill(sdIntersect(sdCircle(ix + ir * 0.35, iy - ir * 0.35, ir * 0.22), eye), ibox, [1, 1, 1], { opacity: 0.85 });
  const n = upper.length / 2;
  const widths = Array.from({ length: n }, (_, j) => 0.018 + 0.016 * (j / (n - 1)));
  cv.fill(sdStroke(upper, widths), boundsOf(upper, 0.04), DARK);
  cv.fill(sdStroke(lower, 0.011), boundsOf(lower, 0.03), scaleRgb(skin, 0.6), { opacity: 0.6 });
  if (p.cheekRaise > 0.05 || p.lowerLid[i] > 0.2) {
    const bag = shiftPts(lower, 0, 0.035);
    const o = Math.min(1, 0.6 * p.cheekRaise + 0.5 * p.lowerLid[i]);
    cv.fill(sdStroke(bag, 0.014), boundsOf(bag, 0.04), scaleRgb(skin, 0.72), { opacity: 0.6 * o });
  }
  if (p.cheekRaise > 0.05) {
    for (let j = -1; j <= 1; j++) {
      const pts = [xo + s * 0.03, yo + j * 0.03, xo + s * 0.1, yo + j * 0.06];
      cv.fill(sdStroke(pts, 0.012), boundsOf(pts, 0.03), scaleRgb(skin, 0.7), { opacity: 0.6 * p.cheekRaise });
    }
  }
}

function drawBrow(cv: Canvas, p: FaceParams, s: number): void {
  const i = s < 0 ? 0 : 1;
  const xin = s * (0.1 - p.browIn), yin = p.browY + p.browInner[i];
  const xout = s * (p.eyeX + p.eyeW + 0.02), yout = p.browY + 0.02 + p.browOuter[i];
  const pts = quad([xin, yin, (xin + xout) / 2, (yin + yout) / 2 - 0.05 - p.browArch, xout, yout], 10);
  const n = pts.length / 2;
  const t = p.browThick;
  const widths = Array.from({ length: n }, (_, j) => t * (1.1 - 0.55 * (j / (n - 1)) ** 1.5));
  const col = mix(scaleRgb(p.hair, 0.55), DARK, 0.3);
  cv.fill(sdStroke(pts, widths), boundsOf(pts, t), col);
}

function drawCheekFolds(cv: Canvas, p: FaceParams): void {
  if (p.nasolabial < 0.05) return;
  const mw = p.mouthW * p.mouthWidth;
  for (const s of SIDES) {
    const pts = quad([s * 0.12, 0.29, s * (mw + 0.12), 0.4, s * (mw + 0.07), p.mouthY + 0.12]);
    cv.fill(sdStroke(pts, 0.02), boundsOf(pts, 0.05), scaleRgb(p.skin, 0.7),
      { opacity: 0.65 * p.nasolabial, feather: 1.5 });
  }
}

function drawNose(cv: Canvas, p: FaceParams): void {
  const skin = p.skin;
  const lift = 0.02 * p.noseWrinkle;
  const bridge = [-0.06, p.eyeY + 0.06, -0.075, 0.24 - lift];
  cv.fill(sdStroke(bridge, 0.04), boundsOf(bridge, 0.08), scaleRgb(skin, 0.82), { opacity: 0.5, feather: 4 });
  cv.fill(sdEllipse(0.01, 0.26 - lift, 0.07, 0.05), [-0.1, 0.15, 0.12, 0.35], scaleRgb(skin, 1.1),
    { opacity: 0.5, feather: 4 });
  const flare = 1 + 0.25 * p.noseWrinkle;
  for (const s of SIDES) {
    const wing = quad([s * 0.05, 0.22 - lift, s * 0.11 * flare, 0.29 - lift, s * 0.05, 0.335 - lift]);
    cv.fill(sdStroke(wing, 0.016), boundsOf(wing, 0.04), scaleRgb(skin, 0.66), { opacity: 0.8 });
    cv.fill(sdEllipse(s * 0.045 * flare, 0.325 - lift, 0.026, 0.013), [-0.15, 0.25, 0.15, 0.4],
      scaleRgb(skin, 0.35));
  }
  for (let k = 0; k < 3 && p.noseWrinkle > 0.05; k++) {
    const y = p.eyeY + 0.05 + k * 0.04;
    const pts = quad([-0.07, y + 0.01, 0, y - 0.015, 0.07, y + 0.01]);
    cv.fill(sdStroke(pts, 0.016), boundsOf(pts, 0.04), scaleRgb(skin, 0.62), { opacity: 0.85 * p.noseWrinkle });
  }
}

function drawMouth(cv: Canvas, p: FaceParams): void {
  const my = p.mouthY + p.jawDrop;
  const mw = p.mouthW * p.mouthWidth;
  const L = [-mw - p.cornerOut[0], my + p.mouthCorner[0]] as const;
  const R = [mw + p.cornerOut[1], my + p.mouthCorner[1]] as const;
  const press = 1 - 0.8 * p.lipPress;
  const gapU = p.mouthOpen * 0.35 + p.upperLipRaise, gapL = p.mouthOpen * 0.65;
  const r = p.mouthRound;
  // A cubic from L to R through (0, mid); roundness moves the controls towards the corners.
  const curve = (mid: number): number[] => {
    const ends = (L[1] + R[1]) / 2;
    const cy = (mid - 0.25 * ends) / 0.75;
    const cxl = L[0] * (0.35 + 0.65 * r), cxr = R[0] * (0.35 + 0.65 * r);
    return cubic([L[0], L[1], cxl, cy, cxr, cy, R[0], R[1]], 14);
  };
  const skin = p.skin;
  const upperOuter = curve(my - gapU - p.lipU * press);
  const lowerOuter = curve(my + gapL + p.lipL * press);
  cv.fill(sdEllipse(0, my + gapL + p.lipL + 0.05, mw * 0.55, 0.03), [-0.5, my, 0.5, my + 0.3],
    scaleRgb(skin, 0.8), { opacity: 0.5, feather: 5 });
  const box = boundsOf(upperOuter.concat(lowerOuter), 0.04);
  if (gapU + gapL < 0.008) {
    const line = curve(my);
    cv.fill(sdPolygon(upperOuter.concat(reversePts(line))), box, scaleRgb(p.lip, 0.9));
    cv.fill(sdPolygon(line.concat(reversePts(lowerOuter))), box, p.lip);
    cv.fill(sdStroke(line, 0.016), box, mix(p.lip, DARK, 0.7));
  } else {
    const upperInner = curve(my - gapU);
    const lowerInner = curve(my + gapL);
    const inside = sdPolygon(upperInner.concat(reversePts(lowerInner)));
    cv.fill(inside, box, [0.22, 0.06, 0.07]);
    cv.fill(sdIntersect(inside, sdEllipse(0, my + gapL, mw * 0.6, gapL * 0.8 + 0.01)), box,
      [0.55, 0.2, 0.22], { opacity: 0.6 });
    const gap = gapU + gapL;
    if (p.teethUpper > 0.05) {
      const band = upperInner.concat(reversePts(shiftPts(upperInner, 0, Math.min(0.05, gap * 0.55))));
      cv.fill(sdIntersect(inside, sdPolygon(band)), box, [0.95, 0.93, 0.86], { opacity: p.teethUpper });
    }
    if (p.teethLower > 0.05) {
      const band = lowerInner.concat(reversePts(shiftPts(lowerInner, 0, -Math.min(0.035, gap * 0.35))));
      cv.fill(sdIntersect(inside, sdPolygon(band)), box, [0.9, 0.88, 0.8], { opacity: p.teethLower });
    }
    cv.fill(sdPolygon(upperOuter.concat(reversePts(upperInner))), box, scaleRgb(p.lip, 0.9));
    cv.fill(sdPolygon(lowerInner.concat(reversePts(lowerOuter))), box, p.lip);
  }
  for (const s of SIDES) {
    const c = s < 0 ? L : R;
    const j = s < 0 ? 0 : 1;
    cv.fill(sdCircle(c[0], c[1], 0.012), [c[0] - 0.03, c[1] - 0.03, c[0] + 0.03, c[1] + 0.03],
      mix(p.lip, DARK, 0.6), { opacity: 0.8 });
    if (p.dimple[j] > 0.05) {
      const pts = quad([c[0] + s * 0.025, c[1] - 0.035, c[0] + s * 0.05, c[1], c[0] + s * 0.03, c[1] + 0.035]);
      cv.fill(sdStroke(pts, 0.016), boundsOf(pts, 0.04), scaleRgb(skin, 0.66), { opacity: 0.8 * p.dimple[j] });
    }
  }
}

function reversePts(pts: readonly number[]): number[] {
  const out: number[] = [];
  for (let i = pts.length - 2; i >= 0; i -= 2) out.push(pts[i], pts[i + 1]);
  return out;
}

function shiftPts(pts: readonly number[], dx: number, dy: number): number[] {
  return pts.map((v, i) => v + (i % 2 === 0 ? dx : dy));
}
