// The element-wise kernels of elementwise.wgsl for n % 4 == 0 (the host picks): the arrays are
// bound as array<vec4f> and one invocation handles 4 consecutive elements. On lavapipe a vec4
// load costs about 1.7 scalar loads (measured), so these run about twice as fast over the big
// activation tensors of a training step. Same params struct, binding order and semantics; `p.n`
// still counts floats. Indices below count vec4s.

alias Elem = vec4f;  // what the arrays of elementwise-common.wgsl hold

// out = alpha
@compute @workgroup_size(WG)
fn fill(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat(gid, nwg);
  if (i >= p.n / 4u) { return; }
  out0[i] = vec4f(p.alpha);
}

// y = alpha * a + beta * b
@compute @workgroup_size(WG)
fn add(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat(gid, nwg);
  if (i >= p.n / 4u) { return; }
  y2[i] = p.alpha * a2[i] + p.beta * b2[i];
}

// y += alpha * x (gradient accumulation)
@compute @workgroup_size(WG)
fn axpy(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat(gid, nwg);
  if (i >= p.n / 4u) { return; }
  y1[i] = y1[i] + p.alpha * x1[i];
}

// y = alpha * x
@compute @workgroup_size(WG)
fn scale(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat(gid, nwg);
  if (i >= p.n / 4u) { return; }
  y1[i] = p.alpha * x1[i];
}

// y = max(x, 0)
@compute @workgroup_size(WG)
fn relu_fwd(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat(gid, nwg);
  if (i >= p.n / 4u) { return; }
  y1[i] = max(x1[i], vec4f(0.0));
}

// dx = dy where x > 0 (inputs: x, dy)
@compute @workgroup_size(WG)
fn relu_dx(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat(gid, nwg);
  if (i >= p.n / 4u) { return; }
  y2[i] = select(vec4f(0.0), b2[i], a2[i] > vec4f(0.0));
}

// y = min(max(x, 0), 6)
@compute @workgroup_size(WG)
fn relu6_fwd(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat(gid, nwg);
  if (i >= p.n / 4u) { return; }
  y1[i] = clamp(x1[i], vec4f(0.0), vec4f(6.0));
}

// dx = dy where 0 < x < 6 (inputs: x, dy; Keras/TF give 0 at both kinks)
@compute @workgroup_size(WG)
fn relu6_dx(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat(gid, nwg);
  if (i >= p.n / 4u) { return; }
  let x = a2[i];
  y2[i] = select(vec4f(0.0), b2[i], (x > vec4f(0.0)) & (x < vec4f(6.0)));
}
