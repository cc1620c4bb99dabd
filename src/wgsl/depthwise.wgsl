// Depthwise Conv2D (channel multiplier 1), NHWC, filter [kh, kw, c, 1] (Keras axes), any window,
// stride and zero padding (pads resolved on the host: src/kernels/padding.ts; MobileNet's
// ZeroPadding2D((0,1),(0,1)) + `valid` is the explicit padding top 0, bottom 1, left 0, right 1).
// Forward with optional bias and fused ReLU / ReLU6; gradients for the input (dx), the filter (dw,
// two-pass) and the bias (db, two-pass). The gradient entry points take dy with respect to the
// PRE-activation output: the caller applies the activation derivative first.
//
// Every invocation handles 4 adjacent channels (vec4 arithmetic; lanes of a workgroup walk the
// channels first, so neighbouring lanes read neighbouring addresses). Channel lanes past c read
// neighbouring or clamped (finite) values and are never stored; stores are guarded.
//   fwd: PX output columns per invocation share each filter load.
//   dw:  TAPS filter taps per invocation over one chunk of the n*oh*ow positions share each dy
//        load; depthwise_sum_partials then adds the chunks (no serial full reduction).

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

@group(0) @binding(0) var<uniform> p: DepthwiseParams;
// Every signature reads binding 1.
@group(0) @binding(1) var<storage, read> in1: array<f32>;
// Signature (3 inputs, 1 output): fwd x, w, bias -> y.
@group(0) @binding(2) var<storage, read> in2: array<f32>;
@group(0) @binding(3) var<storage, read> bias3: array<f32>;
@group(0) @binding(4) var<storage, read_write> out4: array<f32>;
// Signature (2 inputs, 1 output): dx dy, w -> dx; dw x, dy -> partials.
@group(0) @binding(3) var<storage, read_write> out3: array<f32>;
// Signature (1 input, 1 output): db dy -> partials; sum partials -> out.
@group(0) @binding(2) var<storage, read_write> out2: array<f32>;

fn flat(gid: vec3u, nwg: vec3u) -> u32 {
  return gid.x + (gid.y + gid.z * nwg.y) * nwg.x * WG;
}
fn ld1(i: u32) -> vec4f { return vec4f(in1[i], in1[i + 1u], in1[i + 2u], in1[i + 3u]); }
fn ld2(i: u32) -> vec4f { return vec4f(in2[i], in2[i + 1u], in2[i + 2u], in2[i + 3u]); }
fn act(v: vec4f) -> vec4f {
  if (ACT == 1u) { return max(v, vec4f(0.0)); }
  if (ACT == 2u) { return clamp(v, vec4f(0.0), vec4f(6.0)); }
  return v;
}
fn st4(i: u32, c0: u32, v: vec4f) {
  for (var j = 0u; j < 4u; j++) { if (c0 + j < p.c) { out4[i + j] = v[j]; } }
}
fn st3(i: u32, c0: u32, v: vec4f) {
  for (var j = 0u; j < 4u; j++) { if (c0 + j < p.c) { out3[i + j] = v[j]; } }
}
fn st2(i: u32, c0: u32, v: vec4f) {
  for (var j = 0u; j < 4u; j++) { if (c0 + j < p.c) { out2[i + j] = v[j]; } }
}

// Shapes: x [n, h, w, c], w [kh, kw, c, 1], bias [c] (HAS_BIAS) -> y [n, oh, ow, c].
// items = n * oh * ceil(ow / PX) * ceil(c / 4); the channel group is the fastest index.
@compute @workgroup_size(WG)
fn depthwise_fwd(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat(gid, nwg);
  if (i >= p.items) { return; }
  let ncg = (p.c + 3u) / 4u;
  let owt = (p.ow + PX - 1u) / PX;
  let c0 = (i % ncg) * 4u;
  let r = i / ncg;
  let ox0 = (r % owt) * PX;
  let oy = (r / owt) % p.oh;
  let n = r / (owt * p.oh);
  var acc: array<vec4f, 4>;
  for (var ky = 0u; ky < p.kh; ky++) {
    let iy = i32(oy * p.sh + ky) - i32(p.pt);
    if (iy < 0 || iy >= i32(p.h)) { continue; }
    let row = (n * p.h + u32(iy)) * p.w;
    for (var kx = 0u; kx < p.kw; kx++) {
      let wv = ld2((ky * p.kw + kx) * p.c + c0);
      for (var t = 0u; t < PX; t++) {
        let ix = i32((ox0 + t) * p.sw + kx) - i32(p.pl);
        if (ix >= 0 && ix < i32(p.w)) { acc[t] += ld1((row + u32(ix)) * p.c + c0) * wv; }
      }
    }
  }
  var b = vec4f(0.0);
  if (HAS_BIAS) {
    for (var j = 0u; j < 4u; j++) { if (c0 + j < p.c) { b[j] = bias3[c0 + j]; } }
  }
  for (var t = 0u; t < PX; t++) {
    if (ox0 + t >= p.ow) { break; }
    st4(((n * p.oh + oy) * p.ow + ox0 + t) * p.c + c0, c0, act(acc[t] + b));
  }
}

// Shapes: dy [n, oh, ow, c] (pre-activation), w [kh, kw, c, 1] -> dx [n, h, w, c].
// items = n * h * w * ceil(c / 4).
@compute @workgroup_size(WG)
fn depthwise_dx(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat(gid, nwg);
  if (i >= p.items) { return; }
  let ncg = (p.c + 3u) / 4u;
  let c0 = (i % ncg) * 4u;
  let pix = i / ncg;
  let ix = pix % p.w;
  let iy = (pix / p.w) % p.h;
  let n = pix / (p.w * p.h);
  var acc = vec4f(0.0);
  for (var ky = 0u; ky < p.kh; ky++) {
    let ty = i32(iy + p.pt) - i32(ky);
    if (ty < 0 || ty % i32(p.sh) != 0) { continue; }
    let oy = u32(ty) / p.sh;
    if (oy >= p.oh) { continue; }
    for (var kx = 0u; kx < p.kw; kx++) {
      let tx = i32(ix + p.pl) - i32(kx);
      if (tx < 0 || tx % i32(p.sw) != 0) { continue; }
      let ox = u32(tx) / p.sw;
      if (ox >= p.ow) { continue; }
      acc += ld1(((n * p.oh + oy) * p.ow + ox) * p.c + c0) * ld2((ky * p.kw + kx) * p.c + c0);
    }
  }
  st3(pix * p.c + c0, c0, acc);
}

// Pass 1 of the filter gradient. Shapes: x [n, h, w, c], dy [n, oh, ow, c] (pre-activation)
// -> partials [chunks, kh * kw * c]; chunk s sums positions [s * chunk, (s+1) * chunk) of
// n * oh * ow. items = chunks * ceil(kh * kw / TAPS) * ceil(c / 4).
@compute @workgroup_size(WG)
fn depthwise_dw(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat(gid, nwg);
  if (i >= p.items) { return; }
  let taps = p.kh * p.kw;
  let ntg = (taps + TAPS - 1u) / TAPS;
  let ncg = (p.c + 3u) / 4u;
  let c0 = (i % ncg) * 4u;
  let t0 = ((i / ncg) % ntg) * TAPS;
  let s = i / (ncg * ntg);
  // Per tap t: the window offset (ky - pt, kx - pl); a tap past the filter is never inside.
  var oky: array<i32, 9>;
  var okx: array<i32, 9>;
  for (var t = 0u; t < TAPS; t++) {
    let tap = t0 + t;
    okx[t] = i32(tap % p.kw) - i32(p.pl);
    oky[t] = select(-1 - i32(p.oh * p.sh), i32(tap / p.kw) - i32(p.pt), tap < taps);
  }
  let total = p.n * p.oh * p.ow;
  let p0 = s * p.chunk;
  let p1 = min(p0 + p.chunk, total);
  var ox = p0 % p.ow;
  var oy = (p0 / p.ow) % p.oh;
  var n = p0 / (p.ow * p.oh);
  var acc: array<vec4f, 9>;
  for (var q = p0; q < p1; q++) {
    let d = ld2(q * p.c + c0);
    let by = i32(oy * p.sh);
    let bx = i32(ox * p.sw);
    for (var t = 0u; t < TAPS; t++) {
      let iy = by + oky[t];
      let ix = bx + okx[t];
      if (iy >= 0 && iy < i32(p.h) && ix >= 0 && ix < i32(p.w)) {
        acc[t] += ld1(((n * p.h + u32(iy)) * p.w + u32(ix)) * p.c + c0) * d;
      }
    }
    ox++;
    if (ox == p.ow) { ox = 0u; oy++; if (oy == p.oh) { oy = 0u; n++; } }
  }
  for (var t = 0u; t < TAPS; t++) {
    if (t0 + t >= taps) { break; }
    st3((s * taps + t0 + t) * p.c + c0, c0, acc[t]);
  }
}

// Pass 1 of the bias gradient. Shapes: dy [n * oh * ow, c] -> partials [chunks, c].
// items = chunks * ceil(c / 4).
@compute @workgroup_size(WG)
fn depthwise_db(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat(gid, nwg);
  if (i >= p.items) { return; }
  let ncg = (p.c + 3u) / 4u;
  let c0 = (i % ncg) * 4u;
  let s = i / ncg;
  let p0 = s * p.chunk;
  let p1 = min(p0 + p.chunk, p.n * p.oh * p.ow);
  var acc = vec4f(0.0);
  for (var q = p0; q < p1; q++) { acc += ld1(q * p.c + c0); }
  st2(s * p.c + c0, c0, acc);
}

// Pass 2 of dw / db. Shapes: partials [chunks, items] -> out [items], out[k] = sum_s partials.
@compute @workgroup_size(WG)
fn depthwise_sum_partials(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let k = flat(gid, nwg);
  if (k >= p.items) { return; }
  var acc = 0.0;
  for (var s = 0u; s < p.chunks; s++) { acc += in1[s * p.items + k]; }
  out2[k] = acc;
}
