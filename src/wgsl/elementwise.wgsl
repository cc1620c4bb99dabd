// Element-wise kernels over flat f32 arrays: fill, add, axpy, scale, ReLU and ReLU6 with their
// input gradients, and scaling by / broadcasting a scalar that lives on the GPU. One invocation per element; the flat index folds y/z of a large dispatch
// (see src/kernels/dispatch.ts).
//
// Shapes: every array has `n` elements; `alpha`, `beta` are the scalars of the entry point.

alias Elem = f32;  // what the arrays of elementwise-common.wgsl hold

// out = alpha
@compute @workgroup_size(WG)
fn fill(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat(gid, nwg);
  if (i >= p.n) { return; }
  out0[i] = p.alpha;
}

// y = alpha * a + beta * b
@compute @workgroup_size(WG)
fn add(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat(gid, nwg);
  if (i >= p.n) { return; }
  y2[i] = p.alpha * a2[i] + p.beta * b2[i];
}

// y += alpha * x (gradient accumulation)
@compute @workgroup_size(WG)
fn axpy(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat(gid, nwg);
  if (i >= p.n) { return; }
  y1[i] = y1[i] + p.alpha * x1[i];
}

// y = alpha * x
@compute @workgroup_size(WG)
fn scale(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat(gid, nwg);
  if (i >= p.n) { return; }
  y1[i] = p.alpha * x1[i];
}

// y = max(x, 0)
@compute @workgroup_size(WG)
fn relu_fwd(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat(gid, nwg);
  if (i >= p.n) { return; }
  y1[i] = max(x1[i], 0.0);
}

// dx = dy where x > 0 (inputs: x, dy)
@compute @workgroup_size(WG)
fn relu_dx(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat(gid, nwg);
  if (i >= p.n) { return; }
  y2[i] = select(0.0, b2[i], a2[i] > 0.0);
}

// y = min(max(x, 0), 6)
@compute @workgroup_size(WG)
fn relu6_fwd(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat(gid, nwg);
  if (i >= p.n) { return; }
  y1[i] = clamp(x1[i], 0.0, 6.0);
}

// dx = dy where 0 < x < 6 (inputs: x, dy; Keras/TF give 0 at both kinks)
@compute @workgroup_size(WG)
fn relu6_dx(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat(gid, nwg);
  if (i >= p.n) { return; }
  let x = a2[i];
  y2[i] = select(0.0, b2[i], x > 0.0 && x < 6.0);
}

// y = alpha * x * s[0] (inputs: x, s) — scales by a scalar that lives on the GPU.
@compute @workgroup_size(WG)
fn scale_by(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat(gid, nwg);
  if (i >= p.n) { return; }
  y2[i] = p.alpha * a2[i] * b2[0];
}

// y = alpha * s[0] (input: s) — broadcasts a GPU scalar, e.g. the gradient of a sum.
@compute @workgroup_size(WG)
fn broadcast(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat(gid, nwg);
  if (i >= p.n) { return; }
  y1[i] = p.alpha * x1[0];
}
