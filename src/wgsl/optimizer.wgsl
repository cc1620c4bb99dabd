// Adam with Keras semantics and global gradient-norm clipping, all state on the GPU.
//
// `state` is a small f32 buffer the optimiser owns: [lr, t, beta1^t, beta2^t]. A schedule changes
// the learning rate by writing state[0]; `adam_advance` (one invocation, encoded once per step
// before the per-parameter `adam_step`s) does t += 1 and updates the beta powers by one
// multiplication each (no pow() and its error near t = 1).
//
// Keras 3 `Adam.update_step` (keras/src/optimizers/adam.py), epsilon "hat" outside the sqrt:
//   m += (g - m) * (1 - beta1);  v += (g^2 - v) * (1 - beta2)
//   alpha = lr * sqrt(1 - beta2^t) / (1 - beta1^t);  p -= alpha * m / (sqrt(v) + epsilon)
// With CLIP, g is first scaled by clipnorm / max(norm, clipnorm), `norm` being the global L2
// norm of every gradient (src/wgsl/reduce.wgsl), as Keras `clip_by_global_norm` does.
//
// Shapes: p, g, m, v (n); state (4); norm (1).

struct AdamParams {
  n: u32,
  beta1: f32,
  beta2: f32,
  epsilon: f32,
  clipnorm: f32,
  pad0: u32,
  pad1: u32,
  pad2: u32,
}

override WG: u32 = 256u;
// Scale the gradient by the global norm in norm[0].
override CLIP: bool = false;

@group(0) @binding(0) var<uniform> p: AdamParams;

// adam_step (3 inputs, 3 outputs).
@group(0) @binding(1) var<storage, read> grad: array<f32>;
@group(0) @binding(2) var<storage, read> state3: array<f32>;
@group(0) @binding(3) var<storage, read> norm: array<f32>;
@group(0) @binding(4) var<storage, read_write> param: array<f32>;
@group(0) @binding(5) var<storage, read_write> mom: array<f32>;
@group(0) @binding(6) var<storage, read_write> vel: array<f32>;
// adam_advance (0 inputs, 1 output).
@group(0) @binding(1) var<storage, read_write> state0: array<f32>;

// Shapes: state (4), in place. One invocation.
@compute @workgroup_size(1)
fn adam_advance() {
  state0[1] = state0[1] + 1.0;
  state0[2] = state0[2] * p.beta1;
  state0[3] = state0[3] * p.beta2;
}

// Shapes: grad (n), state (4), norm (1) -> param, mom, vel (n), in place.
@compute @workgroup_size(WG)
fn adam_step(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + (gid.y + gid.z * nwg.y) * nwg.x * WG;
  if (i >= p.n) { return; }
  var g = grad[i];
  if (CLIP) { g = g * (p.clipnorm / max(norm[0], p.clipnorm)); }
  let lr = state3[0];
  let alpha = lr * sqrt(1.0 - state3[3]) / (1.0 - state3[2]);
  let m = mom[i] + (g - mom[i]) * (1.0 - p.beta1);
  let v = vel[i] + (g * g - vel[i]) * (1.0 - p.beta2);
  mom[i] = m;
  vel[i] = v;
  param[i] = param[i] - alpha * m / (sqrt(v) + p.epsilon);
}
