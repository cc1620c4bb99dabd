// Zero padding of NHWC tensors (Keras ZeroPadding2D) and its gradient, a crop.
//
// Shapes: x [n, h, w, c] -> y [n, h + top + bottom, w + left + right, c]; the gradient maps
// dy [n, oh, ow, c] -> dx [n, h, w, c]. One invocation per output element.

struct PadParams {
  n: u32,
  h: u32,
  w: u32,
  c: u32,
  oh: u32,
  ow: u32,
  top: u32,
  left: u32,
}

override WG: u32 = 256u;

@group(0) @binding(0) var<uniform> p: PadParams;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;

fn flat(gid: vec3u, nwg: vec3u) -> u32 {
  return gid.x + (gid.y + gid.z * nwg.y) * nwg.x * WG;
}

// y[b, i, j, ch] = x[b, i - top, j - left, ch] inside, 0 outside.
@compute @workgroup_size(WG)
fn pad_fwd(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let o = flat(gid, nwg);
  if (o >= p.n * p.oh * p.ow * p.c) { return; }
  let ch = o % p.c;
  let j = (o / p.c) % p.ow;
  let i = (o / (p.c * p.ow)) % p.oh;
  let b = o / (p.c * p.ow * p.oh);
  let si = i32(i) - i32(p.top);
  let sj = i32(j) - i32(p.left);
  var v = 0.0;
  if (si >= 0 && si < i32(p.h) && sj >= 0 && sj < i32(p.w)) {
    v = src[((b * p.h + u32(si)) * p.w + u32(sj)) * p.c + ch];
  }
  dst[o] = v;
}

// dx[b, i, j, ch] = dy[b, i + top, j + left, ch]
@compute @workgroup_size(WG)
fn pad_dx(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let o = flat(gid, nwg);
  if (o >= p.n * p.h * p.w * p.c) { return; }
  let ch = o % p.c;
  let j = (o / p.c) % p.w;
  let i = (o / (p.c * p.w)) % p.h;
  let b = o / (p.c * p.w * p.h);
  dst[o] = src[((b * p.oh + i + p.top) * p.ow + j + p.left) * p.c + ch];
}
