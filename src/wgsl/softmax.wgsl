// Row-wise softmax over the last axis and its input gradient. One invocation per row (rows are
// short here: class scores, attention over 4 tokens or a batch of 8), three passes over the row:
// max, sum of exp(x - max), then the write (numerically stable for any logit range).

struct SoftmaxParams {
  rows: u32,
  cols: u32,
  pad0: u32,
  pad1: u32,
}

override WG: u32 = 64u;

@group(0) @binding(0) var<uniform> p: SoftmaxParams;
// softmax_fwd: x -> y
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
// softmax_dx: y, dy -> dx
@group(0) @binding(1) var<storage, read> b_y: array<f32>;
@group(0) @binding(2) var<storage, read> b_dy: array<f32>;
@group(0) @binding(3) var<storage, read_write> b_dx: array<f32>;

fn row_of(gid: vec3u, nwg: vec3u) -> u32 {
  return gid.x + (gid.y + gid.z * nwg.y) * nwg.x * WG;
}

// Shapes: x, y (rows, cols).
@compute @workgroup_size(WG)
fn softmax_fwd(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let r = row_of(gid, nwg);
  if (r >= p.rows) { return; }
  let base = r * p.cols;
  var m = x[base];
  for (var j = 1u; j < p.cols; j++) { m = max(m, x[base + j]); }
  var s = 0.0;
  for (var j = 0u; j < p.cols; j++) { s += exp(x[base + j] - m); }
  let inv = 1.0 / s;
  for (var j = 0u; j < p.cols; j++) { y[base + j] = exp(x[base + j] - m) * inv; }
}

// dx = y * (dy - sum(dy * y)). Shapes: y, dy, dx (rows, cols).
@compute @workgroup_size(WG)
fn softmax_dx(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let r = row_of(gid, nwg);
  if (r >= p.rows) { return; }
  let base = r * p.cols;
  var s = 0.0;
  for (var j = 0u; j < p.cols; j++) { s += b_dy[base + j] * b_y[base + j]; }
  for (var j = 0u; j < p.cols; j++) { b_dx[base + j] = b_y[base + j] * (b_dy[base + j] - s); }
}
