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
  let c4 = p.c / 4u;
  let owt = (p.ow + PX - 1u) / PX;
  let cg = i % c4;
  let r = i / c4;
  let ox0 = (r % owt) * PX;
  let oy = (r / owt) % p.oh;
  let n = r / (owt * p.oh);
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
    if (ox0 + t >= p.ow) { break; }
    out4[((n * p.oh + oy) * p.ow + ox0 + t) * c4 + cg] = act(acc[t] + b);
  }
}

// Shapes: dy [n, oh, ow, c] (pre-activation), w [kh, kw, c, 1] -> dx [n, h, w, c].
// items = n * h * ceil(w / PX) * c4: PX input columns per invocation share each filter load.
@compute @workgroup_size(WG)
fn depthwise_dx(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat(gid, nwg);
  if (i >= p.items) { return; }
  let c4 = p.c / 4u;
  let wt = (p.w + PX - 1u) / PX;
  let cg = i % c4;
  let r = i / c4;
  let ix0 = (r % wt) * PX;
  let iy = (r / wt) % p.h;
  let n = r / (wt * p.h);
  var acc: array<vec4f, 4>;
  for (var ky = 0u; ky < p.kh; ky++) {
    let ty = i32(iy + p.pt) - i32(ky);
    if (ty < 0 || ty % i32(p.sh) != 0) { continue; }
    let oy = u32(ty) / p.sh;
    if (oy >= p.oh) { continue; }
    let row = (n * p.oh + oy) * p.ow;
    for (var kx = 0u; kx < p.kw; kx++) {
      let wv = in2[(ky * p.kw + kx) * c4 + cg];
      for (var t = 0u; t < PX; t++) {
        let tx = i32(ix0 + t + p.pl) - i32(kx);
        // Stride 1 (the common case) skips the remainder test.
        if (tx >= 0 && (p.sw == 1u || tx % i32(p.sw) == 0)) {
          let ox = u32(tx) / p.sw;
          if (ox < p.ow) { acc[t] += in1[(row + ox) * c4 + cg] * wv; }
        }
      }
    }
  }
  for (var t = 0u; t < PX; t++) {
    if (ix0 + t >= p.w) { break; }
    out3[((n * p.h + iy) * p.w + ix0 + t) * c4 + cg] = acc[t];
  }
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
