// Depthwise Conv2D, the c % 4 == 0 variant of src/wgsl/depthwise.wgsl (same params struct, same
// entry point semantics, same binding order): every tensor is bound as array<vec4f>, so one
// invocation's 4 channels are one load with one bounds clamp instead of four. On lavapipe that
// index arithmetic, not the FMAs, is most of the cost. Indices below count vec4s (c4 = c / 4).
// Gradients take dy with respect to the PRE-activation output.

struct DepthwiseParams {
  n: u32, h: u32, w: u32, c: u32,
  kh: u32, kw: u32, sh: u32, sw: u32,
  pt: u32, pl: u32, oh: u32, ow: u32,
  items: u32, chunk: u32, chunks: u32, pad0: u32,
}

override WG: u32 = 64u;
override HAS_BIAS: bool = false;
override ACT: u32 = 0u;   // 0 none, 1 relu, 2 relu6
override PX: u32 = 4u;    // fwd: output columns per invocation (at most 4)
override TAPS: u32 = 9u;  // dw: filter taps per invocation (at most 9)

// Shape constants of the pipelines the host specialises at bind time (depthwise_fwd with PX = 1,
// depthwise_dx); 0 reads the params instead. lavapipe splits an integer division or modulo by a
// runtime value into one division per lane, and folds one by a constant into shifts and
// multiplies: measured 1.1-1.6x on the patch forward (index divisors) and 1.8-2.1x on the stride-2
// input gradient (strides). Constant strides in the forward measured slower (0.77-1.21x).
override SHAPE_C4: u32 = 0u;  // c / 4
override SHAPE_H: u32 = 0u;   // dx: input height and width
override SHAPE_W: u32 = 0u;
override SHAPE_SH: u32 = 0u;  // dx: strides
override SHAPE_SW: u32 = 0u;
override SHAPE_OH: u32 = 0u;  // fwd: output height and width
override SHAPE_OW: u32 = 0u;
fn fixed_or(fixed: u32, runtime: u32) -> u32 { return select(runtime, fixed, fixed != 0u); }

@group(0) @binding(0) var<uniform> p: DepthwiseParams;
@group(0) @binding(1) var<storage, read> in1: array<vec4f>;
@group(0) @binding(2) var<storage, read> in2: array<vec4f>;
// Signature (3 inputs, 1 output): fwd x, w, bias -> y.
@group(0) @binding(3) var<storage, read> bias3: array<vec4f>;
@group(0) @binding(4) var<storage, read_write> out4: array<vec4f>;
// Signature (2 inputs, 1 output): dx dy, w -> dx; dw x, dy -> partials.
@group(0) @binding(3) var<storage, read_write> out3: array<vec4f>;

fn flat(gid: vec3u, nwg: vec3u) -> u32 {
  return gid.x + (gid.y + gid.z * nwg.y) * nwg.x * WG;
}
fn act(v: vec4f) -> vec4f {
  if (ACT == 1u) { return max(v, vec4f(0.0)); }
  if (ACT == 2u) { return clamp(v, vec4f(0.0), vec4f(6.0)); }
  return v;
}

// Shapes: x [n, h, w, c], w [kh, kw, c, 1], bias [c] (HAS_BIAS) -> y [n, oh, ow, c].
// items = n * oh * ceil(ow / PX) * c4; the channel group is the fastest index.
@compute @workgroup_size(WG)
fn depthwise_fwd(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat(gid, nwg);
  if (i >= p.items) { return; }
  let c4 = fixed_or(SHAPE_C4, p.c / 4u);
  let oh = fixed_or(SHAPE_OH, p.oh);
  let ow = fixed_or(SHAPE_OW, p.ow);
  let owt = (ow + PX - 1u) / PX;
  let cg = i % c4;
  let r = i / c4;
  let ox0 = (r % owt) * PX;
  let oy = (r / owt) % oh;
  let n = r / (owt * oh);
  var acc: array<vec4f, 4>;
  for (var ky = 0u; ky < p.kh; ky++) {
    let iy = i32(oy * p.sh + ky) - i32(p.pt);
    if (iy < 0 || iy >= i32(p.h)) { continue; }
    let row = (n * p.h + u32(iy)) * p.w;
    for (var kx = 0u; kx < p.kw; kx++) {
      let wv = in2[(ky * p.kw + kx) * c4 + cg];
      for (var t = 0u; t < PX; t++) {
        let ix = i32((ox0 + t) * p.sw + kx) - i32(p.pl);
        if (ix >= 0 && ix < i32(p.w)) { acc[t] += in1[(row + u32(ix)) * c4 + cg] * wv; }
      }
    }
  }
  var b = vec4f(0.0);
  if (HAS_BIAS) { b = bias3[cg]; }
  for (var t = 0u; t < PX; t++) {
    if (ox0 + t >= ow) { break; }
    out4[((n * oh + oy) * ow + ox0 + t) * c4 + cg] = act(acc[t] + b);
  }
}

// Shapes: dy [n, oh, ow, c] (pre-activation), w [kh, kw, c, 1] -> dx [n, h, w, c].
// items = n * h * ceil(w / PX) * c4: PX input columns per invocation share each filter load.
@compute @workgroup_size(WG)
fn depthwise_dx(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat(gid, nwg);
  if (i >= p.items) { return; }
  let c4 = fixed_or(SHAPE_C4, p.c / 4u);
  let h = fixed_or(SHAPE_H, p.h);
  let w = fixed_or(SHAPE_W, p.w);
  let sh = fixed_or(SHAPE_SH, p.sh);
  let sw = fixed_or(SHAPE_SW, p.sw);
  let wt = (w + PX - 1u) / PX;
  let cg = i % c4;
  let r = i / c4;
  let ix0 = (r % wt) * PX;
  let iy = (r / wt) % h;
  let n = r / (wt * h);
  var acc: array<vec4f, 4>;
  for (var ky = 0u; ky < p.kh; ky++) {
    let ty = i32(iy + p.pt) - i32(ky);
    if (ty < 0 || ty % i32(sh) != 0) { continue; }
    let oy = u32(ty) / sh;
    if (oy >= p.oh) { continue; }
    let row = (n * p.oh + oy) * p.ow;
    for (var kx = 0u; kx < p.kw; kx++) {
      let wv = in2[(ky * p.kw + kx) * c4 + cg];
      for (var t = 0u; t < PX; t++) {
        let tx = i32(ix0 + t + p.pl) - i32(kx);
        // Stride 1 (the common case) skips the remainder test.
        if (tx >= 0 && (sw == 1u || tx % i32(sw) == 0)) {
          let ox = u32(tx) / sw;
          if (ox < p.ow) { acc[t] += in1[(row + ox) * c4 + cg] * wv; }
        }
      }
    }
  }
  for (var t = 0u; t < PX; t++) {
    if (ix0 + t >= w) { break; }
    out3[((n * h + iy) * w + ix0 + t) * c4 + cg] = acc[t];
  }
}

// Filter gradient for windows that do not overlap (stride = kernel, PAtt-Lite's 4x4 / 4 patch
// extraction), in one pass. Every input value meets exactly one tap, so there is nothing to share
// between taps but dy: one invocation owns one filter row (ky) of one channel group, loads each dy
// vec4 once for its up-to-4 taps and keeps the 4 sums in registers over all positions. The
// generic depthwise_dw instead indexes per-tap arrays at run time (per-lane stack traffic on
// lavapipe) and needs a second pass over partial sums.
override PKW: u32 = 4u;  // kw, at most 4

// Shapes: x [n, h, w, c], dy [n, oh, ow, c] (pre-activation) -> dw [kh, PKW, c, 1], with
// sh = kh, sw = PKW. items = kh * c4.
@compute @workgroup_size(WG)
fn depthwise_patch_dw(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat(gid, nwg);
  if (i >= p.items) { return; }
  let c4 = p.c / 4u;
  let cg = i % c4;
  let ky = i / c4;
  let h = i32(p.h);
  let w = i32(p.w);
  let oh = p.oh;
  let ow = p.ow;
  let pl = i32(p.pl);
  let ic4 = i32(c4);
  var a0 = vec4f(0.0);
  var a1 = vec4f(0.0);
  var a2 = vec4f(0.0);
  var a3 = vec4f(0.0);
  for (var n = 0u; n < p.n; n++) {
    for (var oy = 0u; oy < oh; oy++) {
      let iy = i32(oy * p.sh + ky) - i32(p.pt);
      if (iy < 0 || iy >= h) { continue; }
      let row = i32((n * p.h + u32(iy)) * p.w * c4 + cg);
      for (var ox = 0u; ox < ow; ox++) {
        let d = in2[((n * oh + oy) * ow + ox) * c4 + cg];
        let ix0 = i32(ox * PKW) - pl;
        let at = row + ix0 * ic4;
        // Taps past the image are skipped with an if, not loaded clamped and zeroed by a select:
        // lavapipe still walks the lanes of a masked-off load but touches no memory, and the
        // load, not the walk, is the cost (measured 1.13-1.68x over clamp + select, 4x4 / 4).
        if (ix0 >= 0 && ix0 < w) { a0 += in1[at] * d; }
        if (PKW > 1u && ix0 + 1 >= 0 && ix0 + 1 < w) { a1 += in1[at + ic4] * d; }
        if (PKW > 2u && ix0 + 2 >= 0 && ix0 + 2 < w) { a2 += in1[at + 2 * ic4] * d; }
        if (PKW > 3u && ix0 + 3 >= 0 && ix0 + 3 < w) { a3 += in1[at + 3 * ic4] * d; }
      }
    }
  }
  let o = ky * PKW * c4 + cg;
  out3[o] = a0;
  if (PKW > 1u) { out3[o + c4] = a1; }
  if (PKW > 2u) { out3[o + 2u * c4] = a2; }
  if (PKW > 3u) { out3[o + 3u * c4] = a3; }
}

// Pass 1 of the filter gradient. Shapes: x [n, h, w, c], dy [n, oh, ow, c] (pre-activation)
// -> partials [chunks, kh * kw * c]. items = chunks * ceil(kh * kw / TAPS) * c4.
@compute @workgroup_size(WG)
fn depthwise_dw(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat(gid, nwg);
  if (i >= p.items) { return; }
  let c4 = p.c / 4u;
  let taps = p.kh * p.kw;
  let ntg = (taps + TAPS - 1u) / TAPS;
  let cg = i % c4;
  let t0 = ((i / c4) % ntg) * TAPS;
  let s = i / (c4 * ntg);
  var oky: array<i32, 9>;
  var okx: array<i32, 9>;
  for (var t = 0u; t < TAPS; t++) {
    let tap = t0 + t;
    okx[t] = i32(tap % p.kw) - i32(p.pl);
    oky[t] = select(-1 - i32(p.oh * p.sh), i32(tap / p.kw) - i32(p.pt), tap < taps);
  }
  let p0 = s * p.chunk;
  let p1 = min(p0 + p.chunk, p.n * p.oh * p.ow);
  var ox = p0 % p.ow;
  var oy = (p0 / p.ow) % p.oh;
  var n = p0 / (p.ow * p.oh);
  var acc: array<vec4f, 9>;
  for (var q = p0; q < p1; q++) {
    let d = in2[q * c4 + cg];
    let by = i32(oy * p.sh);
    let bx = i32(ox * p.sw);
    for (var t = 0u; t < TAPS; t++) {
      let iy = by + oky[t];
      let ix = bx + okx[t];
      if (iy >= 0 && iy < i32(p.h) && ix >= 0 && ix < i32(p.w)) {
        acc[t] += in1[((n * p.h + u32(iy)) * p.w + u32(ix)) * c4 + cg] * d;
      }
    }
    ox++;
    if (ox == p.ow) { ox = 0u; oy++; if (oy == p.oh) { oy = 0u; n++; } }
  }
  for (var t = 0u; t < TAPS; t++) {
    if (t0 + t >= taps) { break; }
    out3[(s * taps + t0 + t) * c4 + cg] = acc[t];
  }
}

// ---- 3x3, stride 1: rolling rows (forward, and the input gradient as a flipped forward).
//
// Why: on lavapipe each lane pays ~8 cycles per loaded float, so the cost is loads per output.
// depthwise_fwd loads 3x3 inputs per output (with PX columns sharing nothing). Here an invocation
// owns 4 output columns of PY consecutive output rows of one channel group: it keeps its 9 filter
// taps in registers and walks down the input rows once, loading the 6 columns of each row a single
// time and adding them into the three output rows that use that row (kernel rows 2, 1, 0); the
// oldest row is then complete and stored. About 2 vec4 loads per vec4 output instead of 7:
// measured 2.2-3.4x faster than depthwise_fwd at MobileNet's stride-1 shapes (batch 8).
//
// Grid: x = ceil(C4 * ceil(ow / 4) / WG) (channel group fastest), y = ceil(oh / PY), z = n.
// FLIP reads the filter rotated by 180 degrees: with padding (2 - top, 2 - left) and dy as the
// input this is the stride-1 input gradient dx.

override C4: u32 = 8u;        // channels / 4 (a constant, so % and / are shifts or cheap)
override PY: u32 = 8u;        // output rows per invocation
override FLIP: bool = false;  // filter rotated by 180 degrees (input gradient)

struct Four { a: vec4f, b: vec4f, c: vec4f, d: vec4f }

// One kernel row (taps k0 k1 k2) over six input columns, added to four outputs.
fn taps3(x0: vec4f, x1: vec4f, x2: vec4f, x3: vec4f, x4: vec4f, x5: vec4f, k0: vec4f, k1: vec4f, k2: vec4f, acc: Four) -> Four {
  return Four(
    fma(x0, k0, fma(x1, k1, fma(x2, k2, acc.a))),
    fma(x1, k0, fma(x2, k1, fma(x3, k2, acc.b))),
    fma(x2, k0, fma(x3, k1, fma(x4, k2, acc.c))),
    fma(x3, k0, fma(x4, k1, fma(x5, k2, acc.d))));
}

fn tap3(t: u32, cg: u32) -> vec4f {
  return in2[select(t, 8u - t, FLIP) * C4 + cg];
}

// Shapes: x [n, h, w, c], w [3, 3, c, 1], bias [c] (HAS_BIAS) -> y [n, oh, ow, c]; stride 1.
@compute @workgroup_size(WG)
fn depthwise_3x3(@builtin(global_invocation_id) gid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  // Every param read once, outside the loop (uniform reads inside loops are not free on lavapipe).
  let h = i32(p.h);
  let w = i32(p.w);
  let ow = p.ow;
  let oh = p.oh;
  let lanes = C4 * ((ow + 3u) / 4u);
  let live = gid.x < lanes;
  let i = min(gid.x, lanes - 1u);
  let cg = i % C4;
  let ox0 = (i / C4) * 4u;
  let oy0 = wid.y * PY;
  let n = wid.z;
  // Input columns ix0 .. ix0+5, clamped for loading and masked to zero outside the image.
  let ix0 = i32(ox0) - i32(p.pl);
  let xs = vec4i(ix0) + vec4i(0, 1, 2, 3);
  let xt = vec2i(ix0 + 4, ix0 + 5);
  let col = vec4u(clamp(xs, vec4i(0), vec4i(w - 1))) * C4 + cg;
  let col2 = vec2u(clamp(xt, vec2i(0), vec2i(w - 1))) * C4 + cg;
  let okx = (xs >= vec4i(0)) & (xs < vec4i(w));
  let okx2 = (xt >= vec2i(0)) & (xt < vec2i(w));
  let k00 = tap3(0u, cg); let k01 = tap3(1u, cg); let k02 = tap3(2u, cg);
  let k10 = tap3(3u, cg); let k11 = tap3(4u, cg); let k12 = tap3(5u, cg);
  let k20 = tap3(6u, cg); let k21 = tap3(7u, cg); let k22 = tap3(8u, cg);
  var b = vec4f(0.0);
  if (HAS_BIAS) { b = bias3[cg]; }
  let zero = Four(vec4f(0.0), vec4f(0.0), vec4f(0.0), vec4f(0.0));
  var next = zero;  // output row oy0 + j - 1: kernel row 0 added
  var prev = zero;  // output row oy0 + j - 2: kernel rows 0 and 1 added
  let iy0 = i32(oy0) - i32(p.pt);
  for (var j = 0u; j < PY + 2u; j++) {
    let iy = iy0 + i32(j);
    let oky = iy >= 0 && iy < h;
    let row = (n * p.h + u32(clamp(iy, 0, h - 1))) * p.w * C4;
    let x0 = select(vec4f(0.0), in1[row + col.x], okx.x && oky);
    let x1 = select(vec4f(0.0), in1[row + col.y], okx.y && oky);
    let x2 = select(vec4f(0.0), in1[row + col.z], okx.z && oky);
    let x3 = select(vec4f(0.0), in1[row + col.w], okx.w && oky);
    let x4 = select(vec4f(0.0), in1[row + col2.x], okx2.x && oky);
    let x5 = select(vec4f(0.0), in1[row + col2.y], okx2.y && oky);
    let done = taps3(x0, x1, x2, x3, x4, x5, k20, k21, k22, prev);
    prev = taps3(x0, x1, x2, x3, x4, x5, k10, k11, k12, next);
    next = taps3(x0, x1, x2, x3, x4, x5, k00, k01, k02, zero);
    let oy = oy0 + j - 2u;  // wraps for j < 2, which the test below excludes
    if (j >= 2u && oy < oh && live) {
      let o = ((n * oh + oy) * ow + ox0) * C4 + cg;
      out4[o] = act(done.a + b);
      if (ox0 + 1u < ow) { out4[o + C4] = act(done.b + b); }
      if (ox0 + 2u < ow) { out4[o + 2u * C4] = act(done.c + b); }
      if (ox0 + 3u < ow) { out4[o + 3u * C4] = act(done.d + b); }
    }
  }
}

// ---- 3x3, stride 2: the same walk down the input rows, one output column per invocation. Output
// column ox reads input columns 2ox, 2ox+1, 2ox+2. Input row j adds kernel row 1 to output row
// (j - 1) / 2 when j is odd; when j is even it completes output row j/2 - 1 (kernel row 2) and
// starts row j/2 (kernel row 0), so the shared row is loaded once: 3 vec4 loads per row.
//
// Why one column and not four like depthwise_3x3: four columns share the overlap column (9 loads
// per row for 4 outputs instead of 12) but keep ~100 vec4-lanes live (taps, 9 loaded columns, 4+4
// sums) against x86's 16 SIMD registers. lavapipe builds each per-lane load by inserting lane after
// lane into a vector; under that pressure about half of those inserts went through stack slots
// (GALLIVM_DEBUG=asm), and the loads cost ~3x what they cost in a plain stream. One column per
// invocation ran 1.5-2.2x faster at all four MobileNet stride-2 shapes (interleaved, 2026-11-29),
// two columns 1.1-1.7x. (Written as one flat loop: a version built from helper functions
// returning nine-vec4 structs hung SwiftShader.)
//
// Grid: x = ceil(C4 * ow / WG) (channel group fastest), y = ceil(oh / PY), z = n.

// Where a stride-2 invocation works: its lane's channel group and output column, and its three
// input columns 2ox - left .. 2ox - left + 2, clamped for loading (col) and masked (okx).
struct S2Column { live: bool, cg: u32, ox: u32, col: vec3u, okx: vec3<bool> }

fn s2_column(gid: vec3u) -> S2Column {
  let w = i32(p.w);
  let lanes = C4 * p.ow;
  let i = min(gid.x, lanes - 1u);
  let cg = i % C4;
  let ox = i / C4;
  let xs = vec3i(i32(ox * 2u) - i32(p.pl)) + vec3i(0, 1, 2);
  let col = vec3u(clamp(xs, vec3i(0), vec3i(w - 1))) * C4 + cg;
  return S2Column(gid.x < lanes, cg, ox, col, (xs >= vec3i(0)) & (xs < vec3i(w)));
}

// Shapes: x [n, h, w, c], w [3, 3, c, 1], bias [c] (HAS_BIAS) -> y [n, oh, ow, c]; stride 2.
@compute @workgroup_size(WG)
fn depthwise_3x3s2(@builtin(global_invocation_id) gid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let h = i32(p.h);
  let ow = p.ow;
  let oh = p.oh;
  let at = s2_column(gid);
  let oy0 = wid.y * PY;
  let n = wid.z;
  let k00 = tap3(0u, at.cg); let k01 = tap3(1u, at.cg); let k02 = tap3(2u, at.cg);
  let k10 = tap3(3u, at.cg); let k11 = tap3(4u, at.cg); let k12 = tap3(5u, at.cg);
  let k20 = tap3(6u, at.cg); let k21 = tap3(7u, at.cg); let k22 = tap3(8u, at.cg);
  var b = vec4f(0.0);
  if (HAS_BIAS) { b = bias3[at.cg]; }
  var cur = vec4f(0.0);  // output row oy0 + j/2 (kernel rows added so far)
  let iy0 = i32(oy0 * 2u) - i32(p.pt);
  let rows = 2u * min(PY, oh - oy0) + 1u;
  for (var j = 0u; j < rows; j++) {
    let iy = iy0 + i32(j);
    let oky = iy >= 0 && iy < h;
    let row = (n * p.h + u32(clamp(iy, 0, h - 1))) * p.w * C4;
    let v0 = select(vec4f(0.0), in1[row + at.col.x], at.okx.x && oky);
    let v1 = select(vec4f(0.0), in1[row + at.col.y], at.okx.y && oky);
    let v2 = select(vec4f(0.0), in1[row + at.col.z], at.okx.z && oky);
    if ((j & 1u) == 1u) {
      cur = fma(v0, k10, fma(v1, k11, fma(v2, k12, cur)));
    } else {
      if (j > 0u && at.live) {
        out4[((n * oh + oy0 + j / 2u - 1u) * ow + at.ox) * C4 + at.cg] = act(fma(v0, k20, fma(v1, k21, fma(v2, k22, cur))) + b);
      }
      cur = fma(v0, k00, fma(v1, k01, v2 * k02));
    }
  }
}
