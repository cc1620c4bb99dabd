// Conv2D with 3 input channels and a 3x3 filter (MobileNet's conv1 on RGB), any stride and
// padding, up to 32 output channels (a multiple of 4). Params and bindings as conv2d.wgsl.
//
// Why a kernel of its own: with cin = 3 the generic conv2d_fwd spends its time on index math and
// per-lane loads for 27 multiply-adds per output. Here one invocation is one output pixel: it
// loads its 27 input values (the only per-lane loads) and multiplies them with all COUT filters.
// The filter index never depends on the lane and the body has no loop or branch around the loads,
// so lavapipe reads each filter vec4 once per 8 lanes (its uniform fast path). The pixel index is
// clamped instead of returning early for the same reason; the store is guarded.

struct Conv2dParams {
  n: u32, h: u32, w: u32, cin: u32,
  cout: u32, kh: u32, kw: u32, sh: u32,
  sw: u32, pt: u32, pl: u32, oh: u32,
  ow: u32, items: u32, chunk: u32, chunks: u32,
}

override WG: u32 = 64u;
override HAS_BIAS: bool = false;
override ACT: u32 = 0u;    // 0 none, 1 relu, 2 relu6
override COUT4: u32 = 8u;  // output channels / 4, at most 8

@group(0) @binding(0) var<uniform> p: Conv2dParams;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w4: array<vec4f>;
@group(0) @binding(3) var<storage, read> bias4: array<vec4f>;
@group(0) @binding(4) var<storage, read_write> y4: array<vec4f>;

struct Acc { g0: vec4f, g1: vec4f, g2: vec4f, g3: vec4f, g4: vec4f, g5: vec4f, g6: vec4f, g7: vec4f }

fn act(v: vec4f) -> vec4f {
  if (ACT == 1u) { return max(v, vec4f(0.0)); }
  if (ACT == 2u) { return clamp(v, vec4f(0.0), vec4f(6.0)); }
  return v;
}

fn bias_at(g: u32) -> vec4f {
  if (HAS_BIAS) { return bias4[g]; }
  return vec4f(0.0);
}

// The 3 channels of input pixel (iy, ix) of image `base` (set by the caller), zero outside.
var<private> base: u32;
fn pix(iy: i32, ix: i32) -> vec3f {
  let h = i32(p.h);
  let w = i32(p.w);
  let ok = iy >= 0 && iy < h && ix >= 0 && ix < w;
  let o = (base + u32(clamp(iy, 0, h - 1)) * p.w + u32(clamp(ix, 0, w - 1))) * 3u;
  return select(vec3f(0.0), vec3f(x[o], x[o + 1u], x[o + 2u]), ok);
}

// Filter tap t (ky * 3 + kx) for one input pixel v: filter layout [3, 3, 3, COUT] as vec4s.
fn tap(a: ptr<function, Acc>, t: u32, v: vec3f) {
  if (COUT4 > 0u) { a.g0 = fma(vec4f(v.x), w4[(t * 3u) * COUT4 + 0u], fma(vec4f(v.y), w4[(t * 3u + 1u) * COUT4 + 0u], fma(vec4f(v.z), w4[(t * 3u + 2u) * COUT4 + 0u], a.g0))); }
  if (COUT4 > 1u) { a.g1 = fma(vec4f(v.x), w4[(t * 3u) * COUT4 + 1u], fma(vec4f(v.y), w4[(t * 3u + 1u) * COUT4 + 1u], fma(vec4f(v.z), w4[(t * 3u + 2u) * COUT4 + 1u], a.g1))); }
  if (COUT4 > 2u) { a.g2 = fma(vec4f(v.x), w4[(t * 3u) * COUT4 + 2u], fma(vec4f(v.y), w4[(t * 3u + 1u) * COUT4 + 2u], fma(vec4f(v.z), w4[(t * 3u + 2u) * COUT4 + 2u], a.g2))); }
  if (COUT4 > 3u) { a.g3 = fma(vec4f(v.x), w4[(t * 3u) * COUT4 + 3u], fma(vec4f(v.y), w4[(t * 3u + 1u) * COUT4 + 3u], fma(vec4f(v.z), w4[(t * 3u + 2u) * COUT4 + 3u], a.g3))); }
  if (COUT4 > 4u) { a.g4 = fma(vec4f(v.x), w4[(t * 3u) * COUT4 + 4u], fma(vec4f(v.y), w4[(t * 3u + 1u) * COUT4 + 4u], fma(vec4f(v.z), w4[(t * 3u + 2u) * COUT4 + 4u], a.g4))); }
  if (COUT4 > 5u) { a.g5 = fma(vec4f(v.x), w4[(t * 3u) * COUT4 + 5u], fma(vec4f(v.y), w4[(t * 3u + 1u) * COUT4 + 5u], fma(vec4f(v.z), w4[(t * 3u + 2u) * COUT4 + 5u], a.g5))); }
  if (COUT4 > 6u) { a.g6 = fma(vec4f(v.x), w4[(t * 3u) * COUT4 + 6u], fma(vec4f(v.y), w4[(t * 3u + 1u) * COUT4 + 6u], fma(vec4f(v.z), w4[(t * 3u + 2u) * COUT4 + 6u], a.g6))); }
  if (COUT4 > 7u) { a.g7 = fma(vec4f(v.x), w4[(t * 3u) * COUT4 + 7u], fma(vec4f(v.y), w4[(t * 3u + 1u) * COUT4 + 7u], fma(vec4f(v.z), w4[(t * 3u + 2u) * COUT4 + 7u], a.g7))); }
}

// Shapes: x [n, h, w, 3], w [3, 3, 3, cout], bias [cout] (HAS_BIAS) -> y [n, oh, ow, cout].
// items = n * oh * ow (one pixel per invocation).
@compute @workgroup_size(WG)
fn conv_rgb3x3(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let flat = gid.x + (gid.y + gid.z * nwg.y) * nwg.x * WG;
  let live = flat < p.items;
  let i = min(flat, p.items - 1u);
  let ox = i % p.ow;
  let oy = (i / p.ow) % p.oh;
  let n = i / (p.ow * p.oh);
  base = n * p.h * p.w;
  let row0 = i32(oy * p.sh) - i32(p.pt);
  let col0 = i32(ox * p.sw) - i32(p.pl);
  var acc: Acc;
  tap(&acc, 0u, pix(row0 + 0, col0 + 0));
  tap(&acc, 1u, pix(row0 + 0, col0 + 1));
  tap(&acc, 2u, pix(row0 + 0, col0 + 2));
  tap(&acc, 3u, pix(row0 + 1, col0 + 0));
  tap(&acc, 4u, pix(row0 + 1, col0 + 1));
  tap(&acc, 5u, pix(row0 + 1, col0 + 2));
  tap(&acc, 6u, pix(row0 + 2, col0 + 0));
  tap(&acc, 7u, pix(row0 + 2, col0 + 1));
  tap(&acc, 8u, pix(row0 + 2, col0 + 2));
  if (!live) { return; }
  let o = i * COUT4;
  if (COUT4 > 0u) { y4[o + 0u] = act(acc.g0 + bias_at(0u)); }
  if (COUT4 > 1u) { y4[o + 1u] = act(acc.g1 + bias_at(1u)); }
  if (COUT4 > 2u) { y4[o + 2u] = act(acc.g2 + bias_at(2u)); }
  if (COUT4 > 3u) { y4[o + 3u] = act(acc.g3 + bias_at(3u)); }
  if (COUT4 > 4u) { y4[o + 4u] = act(acc.g4 + bias_at(4u)); }
  if (COUT4 > 5u) { y4[o + 5u] = act(acc.g5 + bias_at(5u)); }
  if (COUT4 > 6u) { y4[o + 6u] = act(acc.g6 + bias_at(6u)); }
  if (COUT4 > 7u) { y4[o + 7u] = act(acc.g7 + bias_at(7u)); }
}

// ---- Input gradient ----------------------------------------------------------------------------
// dx[n, y, x, ci] = sum over taps (ky, kx) and co of dy[n, oy, ox, co] * w[ky, kx, ci, co], where
// (oy, ox) = ((y + pt - ky) / S, (x + pl - kx) / S) when both divide exactly and lie inside dy.
//
// Why a kernel of its own: the generic conv2d_dx loads one dy value and four filter values per
// multiply-add group (cin = 3 leaves a quarter of its vec4 unused). Here one invocation is one input
// pixel: per tap it loads COUT4 dy vec4s (its only per-lane loads) and the filter index is a
// constant after inlining, so lavapipe reads each filter vec4 once per subgroup. Item order puts
// x = r + S * j with j fastest, so the lanes of a subgroup share x mod S and y, hence the same taps.

override STRIDE: u32 = 2u;  // sh == sw

@group(0) @binding(1) var<storage, read> dy4: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> dx3: array<f32>;

// Sum over the output channels of dy at `db` (a pixel's first vec4) times filter tap t, per input
// channel.
fn dx_sum(db: u32, t: u32) -> vec3f {
  var s = vec3f(0.0);
  let w0 = t * 3u * COUT4;
  if (COUT4 > 0u) { let d = dy4[db + 0u]; s += vec3f(dot(d, w4[w0 + 0u]), dot(d, w4[w0 + COUT4 + 0u]), dot(d, w4[w0 + 2u * COUT4 + 0u])); }
  if (COUT4 > 1u) { let d = dy4[db + 1u]; s += vec3f(dot(d, w4[w0 + 1u]), dot(d, w4[w0 + COUT4 + 1u]), dot(d, w4[w0 + 2u * COUT4 + 1u])); }
  if (COUT4 > 2u) { let d = dy4[db + 2u]; s += vec3f(dot(d, w4[w0 + 2u]), dot(d, w4[w0 + COUT4 + 2u]), dot(d, w4[w0 + 2u * COUT4 + 2u])); }
  if (COUT4 > 3u) { let d = dy4[db + 3u]; s += vec3f(dot(d, w4[w0 + 3u]), dot(d, w4[w0 + COUT4 + 3u]), dot(d, w4[w0 + 2u * COUT4 + 3u])); }
  if (COUT4 > 4u) { let d = dy4[db + 4u]; s += vec3f(dot(d, w4[w0 + 4u]), dot(d, w4[w0 + COUT4 + 4u]), dot(d, w4[w0 + 2u * COUT4 + 4u])); }
  if (COUT4 > 5u) { let d = dy4[db + 5u]; s += vec3f(dot(d, w4[w0 + 5u]), dot(d, w4[w0 + COUT4 + 5u]), dot(d, w4[w0 + 2u * COUT4 + 5u])); }
  if (COUT4 > 6u) { let d = dy4[db + 6u]; s += vec3f(dot(d, w4[w0 + 6u]), dot(d, w4[w0 + COUT4 + 6u]), dot(d, w4[w0 + 2u * COUT4 + 6u])); }
  if (COUT4 > 7u) { let d = dy4[db + 7u]; s += vec3f(dot(d, w4[w0 + 7u]), dot(d, w4[w0 + COUT4 + 7u]), dot(d, w4[w0 + 2u * COUT4 + 7u])); }
  return s;
}

// Tap (ky, kx)'s contribution to input pixel (y, x) of image n; zero when no output pixel reaches it.
fn dx_tap(n: u32, y: u32, x: u32, ky: u32, kx: u32) -> vec3f {
  let ty = i32(y + p.pt) - i32(ky);
  let tx = i32(x + p.pl) - i32(kx);
  if (ty < 0 || tx < 0) { return vec3f(0.0); }
  let oy = u32(ty) / STRIDE;
  let ox = u32(tx) / STRIDE;
  if (oy * STRIDE != u32(ty) || ox * STRIDE != u32(tx) || oy >= p.oh || ox >= p.ow) { return vec3f(0.0); }
  return dx_sum(((n * p.oh + oy) * p.ow + ox) * COUT4, ky * 3u + kx);
}

// Shapes: dy [n, oh, ow, cout] (pre-activation), w [3, 3, 3, cout] -> dx [n, h, w, 3].
// items = n * h * STRIDE * ceil(w / STRIDE); item (n, y, r, j) is input pixel (y, r + STRIDE * j).
@compute @workgroup_size(WG)
fn conv_rgb3x3_dx(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let flat = gid.x + (gid.y + gid.z * nwg.y) * nwg.x * WG;
  let i = min(flat, p.items - 1u);
  let per = (p.w + STRIDE - 1u) / STRIDE;
  let j = i % per;
  let rest = i / per;
  let x = rest % STRIDE + STRIDE * j;
  let row = rest / STRIDE;
  let y = row % p.h;
  let n = row / p.h;
  var s = dx_tap(n, y, x, 0u, 0u);
  s += dx_tap(n, y, x, 0u, 1u);
  s += dx_tap(n, y, x, 0u, 2u);
  s += dx_tap(n, y, x, 1u, 0u);
  s += dx_tap(n, y, x, 1u, 1u);
  s += dx_tap(n, y, x, 1u, 2u);
  s += dx_tap(n, y, x, 2u, 0u);
  s += dx_tap(n, y, x, 2u, 1u);
  s += dx_tap(n, y, x, 2u, 2u);
  if (flat >= p.items || x >= p.w) { return; }
  let o = (row * p.w + x) * 3u;
  dx3[o] = s.x;
  dx3[o + 1u] = s.y;
  dx3[o + 2u] = s.z;
}
