// Filter gradient of the 3x3 depthwise convolution at strides 1 and 2, pass 1: rolling rows, like the
// forward (depthwise_3x3 in depthwise-vec4.wgsl, which the host prepends: params, bindings, C4,
// PY and Four come from there).
//
// Why: the generic depthwise_dw loads dy once and the input once per tap, 10 vec4 loads per output
// position, and lavapipe's cost is its per-lane loads (docs/KERNELS.md). Here an invocation owns
// 4 output columns of PY output rows of one channel group, as in the forward: it walks down the
// input rows, loads each row's 6 columns once and each dy row once, and adds row x dy into the
// three accumulators of every kernel row that pairs them, keeping the 9 taps' sums in registers:
// 10 loads per 4 output positions instead of 40. Each invocation writes its 9 tap sums to its own
// chunk of the partials; depthwise_sum_partials adds the chunks. Measured at 8x112x112x32
// (interleaved, 2026-11-29): 1.58-1.66x over depthwise_dw, PY 8, 16 and 32 within 5%.
// At stride 2 the same walk with 4 columns (9 columns and two rows per dy row, 5.5 loads per
// position) ran 0.63-0.76x of depthwise_dw: too many live vectors (see depthwise_3x3s2_dw below).
//
// Grid: x = ceil(C4 * ceil(ow / 4) / WG) (channel group fastest), y = ceil(oh / PY), z = n.
// Partials: [chunks, 9, c] with chunks = n * ceil(oh / PY) * ceil(ow / 4),
// chunk = (n * ceil(oh / PY) + block) * ceil(ow / 4) + strip.

// One kernel row's three taps (kx = 0, 1, 2) of the filter gradient.
struct Taps3 { k0: vec4f, k1: vec4f, k2: vec4f }

const ZERO_TAPS3 = Taps3(vec4f(0.0), vec4f(0.0), vec4f(0.0));

// Where a rolling dw invocation works: its lane's channel group and strip, where its block of
// output rows and input columns start, and the params its loop needs (read once: uniform reads
// inside a loop are not free on lavapipe).
struct DwRun {
  live: bool, cg: u32, ox0: u32, oy0: u32, ix0: i32,
  h: i32, w: i32, ow: u32,
  x0: u32,   // x at (n, 0, 0, cg)
  dy0: u32,  // dy at (n, 0, ox0, cg)
  chunk: u32,  // where its 9 tap sums go in the partials
}

fn dw_run(gid: vec3u, wid: vec3u) -> DwRun {
  let strips = (p.ow + 3u) / 4u;
  let lanes = C4 * strips;
  let i = min(gid.x, lanes - 1u);
  let cg = i % C4;
  let ox0 = (i / C4) * 4u;
  let n = wid.z;
  let chunk = (n * ((p.oh + PY - 1u) / PY) + wid.y) * strips + i / C4;
  return DwRun(gid.x < lanes, cg, ox0, wid.y * PY, i32(ox0) - i32(p.pl),
    i32(p.h), i32(p.w), p.ow, n * p.h * p.w * C4 + cg, (n * p.oh * p.ow + ox0) * C4 + cg, chunk);
}

// dy at output row oy, columns ox0..ox0+3 (zero past ow).
fn dy_row(r: DwRun, oy: u32) -> Four {
  let ow = r.ow;
  let at = r.dy0 + oy * ow * C4;
  let last = (ow - 1u - r.ox0) * C4;  // clamps the loads inside the row
  return Four(
    in2[at],
    select(vec4f(0.0), in2[at + min(C4, last)], r.ox0 + 1u < ow),
    select(vec4f(0.0), in2[at + min(2u * C4, last)], r.ox0 + 2u < ow),
    select(vec4f(0.0), in2[at + min(3u * C4, last)], r.ox0 + 3u < ow));
}

// x at input row iy, column ix0 + t: zero outside the image, the load clamped inside it.
fn x_at(row: u32, w: i32, ix: i32, oky: bool) -> vec4f {
  return select(vec4f(0.0), in1[row + u32(clamp(ix, 0, w - 1)) * C4], oky && ix >= 0 && ix < w);
}

fn row_base(r: DwRun, iy: i32) -> u32 {
  return r.x0 + u32(clamp(iy, 0, r.h - 1)) * u32(r.w) * C4;
}

fn store_taps(r: DwRun, ky: u32, t: Taps3) {
  let at = (r.chunk * 9u + ky * 3u) * C4 + r.cg;
  out3[at] = t.k0;
  out3[at + C4] = t.k1;
  out3[at + 2u * C4] = t.k2;
}

// Input columns ix0 .. ix0+5 feed output columns ox0 .. ox0+3.
struct Row6 { v0: vec4f, v1: vec4f, v2: vec4f, v3: vec4f, v4: vec4f, v5: vec4f }

fn row6(r: DwRun, iy: i32) -> Row6 {
  let row = row_base(r, iy);
  let oky = iy >= 0 && iy < r.h;
  let x = r.ix0;
  let w = r.w;
  return Row6(x_at(row, w, x, oky), x_at(row, w, x + 1, oky), x_at(row, w, x + 2, oky),
              x_at(row, w, x + 3, oky), x_at(row, w, x + 4, oky), x_at(row, w, x + 5, oky));
}

// One kernel row: tap kx gathers x[ox + kx] * dy[ox] over the 4 output columns.
fn dw_s1(acc: Taps3, x: Row6, d: Four) -> Taps3 {
  return Taps3(
    fma(x.v0, d.a, fma(x.v1, d.b, fma(x.v2, d.c, fma(x.v3, d.d, acc.k0)))),
    fma(x.v1, d.a, fma(x.v2, d.b, fma(x.v3, d.c, fma(x.v4, d.d, acc.k1)))),
    fma(x.v2, d.a, fma(x.v3, d.b, fma(x.v4, d.c, fma(x.v5, d.d, acc.k2)))));
}

// Shapes: x [n, h, w, c], dy [n, oh, ow, c] (pre-activation) -> partials [chunks, 9, c]; stride 1.
@compute @workgroup_size(WG)
fn depthwise_3x3_dw(@builtin(global_invocation_id) gid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let r = dw_run(gid, wid);
  let iy0 = i32(r.oy0) - i32(p.pt);
  // Output row oy0 + t meets input rows iy0 + t + ky for ky = 0, 1, 2: keep the two rows above.
  var x0 = row6(r, iy0);
  var x1 = row6(r, iy0 + 1);
  var a0 = ZERO_TAPS3;
  var a1 = ZERO_TAPS3;
  var a2 = ZERO_TAPS3;
  let outs = min(PY, p.oh - r.oy0);
  for (var t = 0u; t < outs; t++) {
    let x2 = row6(r, iy0 + i32(t) + 2);
    let d = dy_row(r, r.oy0 + t);
    a0 = dw_s1(a0, x0, d);
    a1 = dw_s1(a1, x1, d);
    a2 = dw_s1(a2, x2, d);
    x0 = x1;
    x1 = x2;
  }
  if (r.live) { store_taps(r, 0u, a0); store_taps(r, 1u, a1); store_taps(r, 2u, a2); }
}

// ---- Stride 2, pass 1: the same walk, one output column per invocation (as depthwise_3x3s2, and
// for the same reason: few live vectors, so lavapipe's per-lane loads stay in registers). Input row
// j (3 columns, 2ox .. 2ox+2) meets dy row (j - 1) / 2 through kernel row 1 when j is odd; when j
// is even it meets dy row j/2 - 1 through kernel row 2 and dy row j/2 through kernel row 0, so
// each input row and each dy row is loaded once: 7 vec4 loads per output position instead of the
// generic kernel's 10, and 9 sums + 4 loaded vec4s live. Measured at the four MobileNet stride-2
// shapes (interleaved, 2026-11-29): 1.2-1.6x over depthwise_dw with 16 rows per invocation,
// 1.3-2.0x with 64 (one block per image there: fewer partial sums for pass 2 to add).
//
// Grid: x = ceil(C4 * ow / WG) (channel group fastest), y = ceil(oh / PY), z = n.
// Partials: [chunks, 9, c] with chunks = n * ceil(oh / PY) * ow, chunk = (n * ceil(oh / PY) + block) * ow + ox.

// Shapes: x [n, h, w, c], dy [n, oh, ow, c] (pre-activation) -> partials [chunks, 9, c]; stride 2.
@compute @workgroup_size(WG)
fn depthwise_3x3s2_dw(@builtin(global_invocation_id) gid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let h = i32(p.h);
  let ow = p.ow;
  let at = s2_column(gid);
  let n = wid.z;
  let oy0 = wid.y * PY;
  let outs = min(PY, p.oh - oy0);
  let x0 = n * p.h * p.w * C4;
  let dy0 = ((n * p.oh + oy0) * ow + at.ox) * C4 + at.cg;
  let dstep = ow * C4;
  var a00 = vec4f(0.0); var a01 = vec4f(0.0); var a02 = vec4f(0.0);
  var a10 = vec4f(0.0); var a11 = vec4f(0.0); var a12 = vec4f(0.0);
  var a20 = vec4f(0.0); var a21 = vec4f(0.0); var a22 = vec4f(0.0);
  var d = vec4f(0.0);  // dy of the output row the last even input row started (zero before it)
  let iy0 = i32(oy0 * 2u) - i32(p.pt);
  for (var j = 0u; j < 2u * outs + 1u; j++) {
    let iy = iy0 + i32(j);
    let oky = iy >= 0 && iy < h;
    let row = x0 + u32(clamp(iy, 0, h - 1)) * p.w * C4;
    let v0 = select(vec4f(0.0), in1[row + at.col.x], at.okx.x && oky);
    let v1 = select(vec4f(0.0), in1[row + at.col.y], at.okx.y && oky);
    let v2 = select(vec4f(0.0), in1[row + at.col.z], at.okx.z && oky);
    if ((j & 1u) == 1u) {
      a10 = fma(v0, d, a10); a11 = fma(v1, d, a11); a12 = fma(v2, d, a12);
    } else {
      a20 = fma(v0, d, a20); a21 = fma(v1, d, a21); a22 = fma(v2, d, a22);
      let r = j / 2u;
      d = select(vec4f(0.0), in2[dy0 + min(r, outs - 1u) * dstep], r < outs);
      a00 = fma(v0, d, a00); a01 = fma(v1, d, a01); a02 = fma(v2, d, a02);
    }
  }
  if (at.live) {
    let o = (((n * ((p.oh + PY - 1u) / PY) + wid.y) * ow + at.ox) * 9u) * C4 + at.cg;
    out3[o] = a00; out3[o + C4] = a01; out3[o + 2u * C4] = a02;
    out3[o + 3u * C4] = a10; out3[o + 4u * C4] = a11; out3[o + 5u * C4] = a12;
    out3[o + 6u * C4] = a20; out3[o + 7u * C4] = a21; out3[o + 8u * C4] = a22;
  }
}
