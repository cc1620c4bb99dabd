// Conv2D, NHWC, filter in Keras axes [kh, kw, cin, cout], any window, stride and zero padding
// (pads resolved on the host: src/kernels/padding.ts). Forward with optional bias and fused
// ReLU / ReLU6; gradients for the input (dx), filter (dw, two-pass) and bias (db, two-pass).
// The gradient entry points take dy with respect to the PRE-activation output: the caller
// applies the activation derivative first (elementwise relu_dx / relu6_dx).
//
// Register tiles (lavapipe runs each workgroup on one CPU thread, 8 invocations per SIMD op, and
// every storage load is a gather, so the win is more FMAs per load):
//   fwd: PX output columns x 8 output channels per invocation; lanes walk pixels, so the filter
//        loads are the same for every lane of a workgroup.
//   dw:  RT filter rows (ky, kx, ci) x 8 output channels per invocation over one chunk of the
//        n*oh*ow positions; conv2d_sum_partials then adds the chunks (no serial full reduction).
// Channel groups past cout / cin read clamped or neighbouring (finite) values and are never
// stored, so loads need no per-lane guard; stores are guarded.

struct Conv2dParams {
  n: u32, h: u32, w: u32, cin: u32,
  cout: u32, kh: u32, kw: u32, sh: u32,
  sw: u32, pt: u32, pl: u32, oh: u32,
  ow: u32, items: u32, chunk: u32, chunks: u32,
}

override WG: u32 = 64u;
override HAS_BIAS: bool = false;
override ACT: u32 = 0u;  // 0 none, 1 relu, 2 relu6
override PX: u32 = 4u;   // fwd: output columns per invocation (at most 4)
override RT: u32 = 4u;   // dw: filter rows per invocation (at most 4)

@group(0) @binding(0) var<uniform> p: Conv2dParams;
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
// Stores the first min(4, lim - c) lanes of v at out[i..], c being the channel of lane 0.
fn st4(i: u32, c: u32, lim: u32, v: vec4f) {
  for (var j = 0u; j < 4u; j++) { if (c + j < lim) { out4[i + j] = v[j]; } }
}
fn st3(i: u32, c: u32, lim: u32, v: vec4f) {
  for (var j = 0u; j < 4u; j++) { if (c + j < lim) { out3[i + j] = v[j]; } }
}
fn st2(i: u32, c: u32, lim: u32, v: vec4f) {
  for (var j = 0u; j < 4u; j++) { if (c + j < lim) { out2[i + j] = v[j]; } }
}

// Shapes: x [n, h, w, cin], w [kh, kw, cin, cout], bias [cout] (HAS_BIAS) -> y [n, oh, ow, cout].
// items = n * oh * ceil(ow / PX) * ceil(cout / 8); the channel group is the slowest index.
@compute @workgroup_size(WG)
fn conv2d_fwd(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat(gid, nwg);
  if (i >= p.items) { return; }
  let owt = (p.ow + PX - 1u) / PX;
  let npix = p.n * p.oh * owt;
  let pix = i % npix;
  let co = (i / npix) * 8u;
  let ox0 = (pix % owt) * PX;
  let oy = (pix / owt) % p.oh;
  let n = pix / (owt * p.oh);
  var a0: array<vec4f, 4>;
  var a1: array<vec4f, 4>;
  for (var ky = 0u; ky < p.kh; ky++) {
    let iy = i32(oy * p.sh + ky) - i32(p.pt);
    if (iy < 0 || iy >= i32(p.h)) { continue; }
    let row = (n * p.h + u32(iy)) * p.w;
    for (var kx = 0u; kx < p.kw; kx++) {
      var xb: array<u32, 4>;
      var ok: array<bool, 4>;
      for (var t = 0u; t < PX; t++) {
        let ix = i32((ox0 + t) * p.sw + kx) - i32(p.pl);
        ok[t] = ix >= 0 && ix < i32(p.w) && ox0 + t < p.ow;
        xb[t] = (row + u32(max(ix, 0))) * p.cin;
      }
      let wb = (ky * p.kw + kx) * p.cin * p.cout + co;
      for (var ci = 0u; ci < p.cin; ci++) {
        let wi = wb + ci * p.cout;
        let w0 = ld2(wi);
        let w1 = ld2(wi + 4u);
        for (var t = 0u; t < PX; t++) {
          let xv = select(0.0, in1[xb[t] + ci], ok[t]);
          a0[t] += xv * w0;
          a1[t] += xv * w1;
        }
      }
    }
  }
  var b0 = vec4f(0.0);
  var b1 = vec4f(0.0);
  if (HAS_BIAS) {
    for (var j = 0u; j < 4u; j++) {
      if (co + j < p.cout) { b0[j] = bias3[co + j]; }
      if (co + 4u + j < p.cout) { b1[j] = bias3[co + 4u + j]; }
    }
  }
  for (var t = 0u; t < PX; t++) {
    if (ox0 + t >= p.ow) { break; }
    let yi = ((n * p.oh + oy) * p.ow + ox0 + t) * p.cout + co;
    st4(yi, co, p.cout, act(a0[t] + b0));
    st4(yi + 4u, co + 4u, p.cout, act(a1[t] + b1));
  }
}

// Shapes: dy [n, oh, ow, cout] (pre-activation), w [kh, kw, cin, cout] -> dx [n, h, w, cin].
// items = n * h * w * ceil(cin / 4); 4 input channels per invocation.
@compute @workgroup_size(WG)
fn conv2d_dx(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat(gid, nwg);
  if (i >= p.items) { return; }
  let ncg = (p.cin + 3u) / 4u;
  let ci = (i % ncg) * 4u;
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
      let db = ((n * p.oh + oy) * p.ow + ox) * p.cout;
      let wb = ((ky * p.kw + kx) * p.cin + ci) * p.cout;
      let c1 = p.cout;
      for (var co = 0u; co < p.cout; co++) {
        let d = in1[db + co];
        let wi = wb + co;
        acc += d * vec4f(in2[wi], in2[wi + c1], in2[wi + 2u * c1], in2[wi + 3u * c1]);
      }
    }
  }
  st3(pix * p.cin + ci, ci, p.cin, acc);
}

// Pass 1 of the filter gradient. Shapes: x [n, h, w, cin], dy [n, oh, ow, cout] (pre-activation)
// -> partials [chunks, kh * kw * cin * cout]; chunk s sums positions [s * chunk, (s+1) * chunk)
// of n * oh * ow. items = chunks * ceil(kh * kw * cin / RT) * ceil(cout / 8).
@compute @workgroup_size(WG)
fn conv2d_dw(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat(gid, nwg);
  if (i >= p.items) { return; }
  let rows = p.kh * p.kw * p.cin;
  let nrg = (rows + RT - 1u) / RT;
  let ncg = (p.cout + 7u) / 8u;
  let tile = i % (nrg * ncg);
  let s = i / (nrg * ncg);
  let r0 = (tile % nrg) * RT;
  let co = (tile / nrg) * 8u;
  // Per row t: the window offset (ky - pt, kx - pl) and the input channel.
  var oky: array<i32, 4>;
  var okx: array<i32, 4>;
  var rci: array<u32, 4>;
  for (var t = 0u; t < RT; t++) {
    let r = r0 + t;
    rci[t] = r % p.cin;
    okx[t] = i32((r / p.cin) % p.kw) - i32(p.pl);
    // A row past the filter gets an offset that is never inside the input.
    oky[t] = select(-1 - i32(p.oh * p.sh), i32(r / (p.cin * p.kw)) - i32(p.pt), r < rows);
  }
  let total = p.n * p.oh * p.ow;
  let p0 = s * p.chunk;
  let p1 = min(p0 + p.chunk, total);
  var ox = p0 % p.ow;
  var oy = (p0 / p.ow) % p.oh;
  var n = p0 / (p.ow * p.oh);
  var a0: array<vec4f, 4>;
  var a1: array<vec4f, 4>;
  for (var q = p0; q < p1; q++) {
    let d0 = ld2(q * p.cout + co);
    let d1 = ld2(q * p.cout + co + 4u);
    let by = i32(oy * p.sh);
    let bx = i32(ox * p.sw);
    for (var t = 0u; t < RT; t++) {
      let iy = by + oky[t];
      let ix = bx + okx[t];
      if (iy >= 0 && iy < i32(p.h) && ix >= 0 && ix < i32(p.w)) {
        let xv = in1[((n * p.h + u32(iy)) * p.w + u32(ix)) * p.cin + rci[t]];
        a0[t] += xv * d0;
        a1[t] += xv * d1;
      }
    }
    ox++;
    if (ox == p.ow) { ox = 0u; oy++; if (oy == p.oh) { oy = 0u; n++; } }
  }
  let base = s * rows * p.cout;
  for (var t = 0u; t < RT; t++) {
    if (r0 + t >= rows) { break; }
    let oi = base + (r0 + t) * p.cout + co;
    st3(oi, co, p.cout, a0[t]);
    st3(oi + 4u, co + 4u, p.cout, a1[t]);
  }
}

// Pass 1 of the bias gradient. Shapes: dy [n * oh * ow, cout] -> partials [chunks, cout].
// items = chunks * ceil(cout / 4).
@compute @workgroup_size(WG)
fn conv2d_db(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat(gid, nwg);
  if (i >= p.items) { return; }
  let ncg = (p.cout + 3u) / 4u;
  let co = (i % ncg) * 4u;
  let s = i / ncg;
  let total = p.n * p.oh * p.ow;
  let p0 = s * p.chunk;
  let p1 = min(p0 + p.chunk, total);
  var acc = vec4f(0.0);
  for (var q = p0; q < p1; q++) { acc += ld1(q * p.cout + co); }
  st2(s * p.cout + co, co, p.cout, acc);
}

// Pass 2 of dw / db. Shapes: partials [chunks, items] -> out [items], out[k] = sum_s partials.
@compute @workgroup_size(WG)
fn conv2d_sum_partials(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let k = flat(gid, nwg);
  if (k >= p.items) { return; }
  var acc = 0.0;
  for (var s = 0u; s < p.chunks; s++) { acc += in1[s * p.items + k]; }
  out2[k] = acc;
}
