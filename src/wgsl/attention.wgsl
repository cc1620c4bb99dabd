// Dot-product attention with a learned scalar scale (Keras `Attention(use_scale=True)`,
// keras/src/layers/attention/attention.py, score_mode "dot", no mask, no dropout):
//   z = scale * Q K^T,  A = softmax(z) over the last axis,  out = A V.
// PAtt-Lite calls it with Q = K = V = X. Batch form (the published model, X [b, d]) is
// batch = 1, tq = tv = b; token form (X [B, T, D]) is batch = B, tq = tv = T.
//
// Backward, per batch item (R = Q K^T unscaled, dOut given):
//   dA = dOut V^T;  dZ = A * (dA - rowsum(A * dA));  dQ = scale dZ K;  dK = scale dZ^T Q;
//   dV = A^T dOut;  dscale = sum(dZ * R);  self-attention: dX = dQ + dK + dV.
// The softmax weights A are saved by the forward pass; dZ and the per-row dscale partials are
// scratch written by attention_dz.
//
// Shapes: q [batch, tq, d]; k, v [batch, tv, d]; scale (1); A, dZ [batch, tq, tv];
//         out, dq [batch, tq, d]; dk, dv [batch, tv, d]; partial (batch * tq); dscale (1).

struct AttentionParams {
  batch: u32,
  tq: u32,
  tv: u32,
  d: u32,
}

override WG: u32 = 64u;
override RWG: u32 = 256u;

@group(0) @binding(0) var<uniform> p: AttentionParams;

// Signature (3 inputs, 1 output): probs [q, k, scale -> A]; dq [dZ, k, scale -> dq];
// dk [dZ, q, scale -> dk].
@group(0) @binding(1) var<storage, read> in3a: array<f32>;
@group(0) @binding(2) var<storage, read> in3b: array<f32>;
@group(0) @binding(3) var<storage, read> in3s: array<f32>;
@group(0) @binding(4) var<storage, read_write> out3: array<f32>;
// Signature (2 inputs, 1 output): fwd [A, v -> out]; dv [A, dOut -> dv].
@group(0) @binding(1) var<storage, read> in2a: array<f32>;
@group(0) @binding(2) var<storage, read> in2b: array<f32>;
@group(0) @binding(3) var<storage, read_write> out2: array<f32>;
// Signature (5 inputs, 2 outputs): dz [q, k, v, A, dOut -> dZ, partial].
@group(0) @binding(1) var<storage, read> zq: array<f32>;
@group(0) @binding(2) var<storage, read> zk: array<f32>;
@group(0) @binding(3) var<storage, read> zv: array<f32>;
@group(0) @binding(4) var<storage, read> za: array<f32>;
@group(0) @binding(5) var<storage, read> zdout: array<f32>;
@group(0) @binding(6) var<storage, read_write> zdz: array<f32>;
@group(0) @binding(7) var<storage, read_write> zpart: array<f32>;
// Signature (5 inputs, 1 output): dx [dZ, x, A, dOut, scale -> dx].
@group(0) @binding(1) var<storage, read> xdz: array<f32>;
@group(0) @binding(2) var<storage, read> xx: array<f32>;
@group(0) @binding(3) var<storage, read> xa: array<f32>;
@group(0) @binding(4) var<storage, read> xdout: array<f32>;
@group(0) @binding(5) var<storage, read> xscale: array<f32>;
@group(0) @binding(6) var<storage, read_write> xdx: array<f32>;
// Signature (1 input, 1 output): dscale [partial -> dscale].
@group(0) @binding(1) var<storage, read> spart: array<f32>;
@group(0) @binding(2) var<storage, read_write> sout: array<f32>;

var<workgroup> acc: array<f32, RWG>;

fn flat(gid: vec3u, nwg: vec3u) -> u32 {
  return gid.x + (gid.y + gid.z * nwg.y) * nwg.x * WG;
}

// Shapes: q [batch, tq, d], k [batch, tv, d], scale (1) -> A [batch, tq, tv]. One row per invocation.
@compute @workgroup_size(WG)
fn attention_probs(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let row = flat(gid, nwg);
  if (row >= p.batch * p.tq) { return; }
  let b = row / p.tq;
  let qo = row * p.d;
  let ao = row * p.tv;
  let scale = in3s[0];
  var zmax = -3.0e38;
  for (var j = 0u; j < p.tv; j++) {
    let ko = (b * p.tv + j) * p.d;
    var r = 0.0;
    for (var c = 0u; c < p.d; c++) { r = r + in3a[qo + c] * in3b[ko + c]; }
    let z = scale * r;
    out3[ao + j] = z;
    zmax = max(zmax, z);
  }
  var sum = 0.0;
  for (var j = 0u; j < p.tv; j++) {
    let e = exp(out3[ao + j] - zmax);
    out3[ao + j] = e;
    sum = sum + e;
  }
  let inv = 1.0 / sum;
  for (var j = 0u; j < p.tv; j++) { out3[ao + j] = out3[ao + j] * inv; }
}

// Shapes: A [batch, tq, tv], v [batch, tv, d] -> out [batch, tq, d]. One element per invocation.
@compute @workgroup_size(WG)
fn attention_fwd(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let e = flat(gid, nwg);
  if (e >= p.batch * p.tq * p.d) { return; }
  let row = e / p.d;
  let c = e % p.d;
  let b = row / p.tq;
  var s = 0.0;
  for (var j = 0u; j < p.tv; j++) { s = s + in2a[row * p.tv + j] * in2b[(b * p.tv + j) * p.d + c]; }
  out2[e] = s;
}

// Shapes: q, k, v, A, dOut -> dZ [batch, tq, tv], partial (batch * tq) = sum_j dZ * R.
// One row per invocation; dZ first holds dA, then is overwritten in place.
@compute @workgroup_size(WG)
fn attention_dz(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let row = flat(gid, nwg);
  if (row >= p.batch * p.tq) { return; }
  let b = row / p.tq;
  let qo = row * p.d;
  let ao = row * p.tv;
  var rowdot = 0.0;
  for (var j = 0u; j < p.tv; j++) {
    let vo = (b * p.tv + j) * p.d;
    var da = 0.0;
    for (var c = 0u; c < p.d; c++) { da = da + zdout[qo + c] * zv[vo + c]; }
    zdz[ao + j] = da;
    rowdot = rowdot + za[ao + j] * da;
  }
  var part = 0.0;
  for (var j = 0u; j < p.tv; j++) {
    let ko = (b * p.tv + j) * p.d;
    var r = 0.0;
    for (var c = 0u; c < p.d; c++) { r = r + zq[qo + c] * zk[ko + c]; }
    let dz = za[ao + j] * (zdz[ao + j] - rowdot);
    zdz[ao + j] = dz;
    part = part + dz * r;
  }
  zpart[row] = part;
}

// Shapes: dZ [batch, tq, tv], k [batch, tv, d], scale -> dq [batch, tq, d].
@compute @workgroup_size(WG)
fn attention_dq(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let e = flat(gid, nwg);
  if (e >= p.batch * p.tq * p.d) { return; }
  let row = e / p.d;
  let c = e % p.d;
  let b = row / p.tq;
  var s = 0.0;
  for (var j = 0u; j < p.tv; j++) { s = s + in3a[row * p.tv + j] * in3b[(b * p.tv + j) * p.d + c]; }
  out3[e] = in3s[0] * s;
}

// Shapes: dZ [batch, tq, tv], q [batch, tq, d], scale -> dk [batch, tv, d].
@compute @workgroup_size(WG)
fn attention_dk(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let e = flat(gid, nwg);
  if (e >= p.batch * p.tv * p.d) { return; }
  let col = e / p.d;
  let c = e % p.d;
  let b = col / p.tv;
  let j = col % p.tv;
  var s = 0.0;
  for (var i = 0u; i < p.tq; i++) {
    let row = b * p.tq + i;
    s = s + in3a[row * p.tv + j] * in3b[row * p.d + c];
  }
  out3[e] = in3s[0] * s;
}

// Shapes: A [batch, tq, tv], dOut [batch, tq, d] -> dv [batch, tv, d].
@compute @workgroup_size(WG)
fn attention_dv(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let e = flat(gid, nwg);
  if (e >= p.batch * p.tv * p.d) { return; }
  let col = e / p.d;
  let c = e % p.d;
  let b = col / p.tv;
  let j = col % p.tv;
  var s = 0.0;
  for (var i = 0u; i < p.tq; i++) {
    let row = b * p.tq + i;
    s = s + in2a[row * p.tv + j] * in2b[row * p.d + c];
  }
  out2[e] = s;
}

// Self-attention (q = k = v = x, tq = tv = t): dx = dQ + dK + dV in one pass.
// Shapes: dZ, A [batch, t, t], x, dOut [batch, t, d], scale -> dx [batch, t, d].
@compute @workgroup_size(WG)
fn attention_dx(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let e = flat(gid, nwg);
  if (e >= p.batch * p.tq * p.d) { return; }
  let row = e / p.d;
  let c = e % p.d;
  let b = row / p.tq;
  let t = row % p.tq;
  var sqk = 0.0;
  var sv = 0.0;
  for (var j = 0u; j < p.tq; j++) {
    let other = b * p.tq + j;
    let xo = other * p.d + c;
    // dQ: dZ[t, j] x[j];  dK: dZ[j, t] x[j];  dV: A[j, t] dOut[j]
    sqk = sqk + (xdz[row * p.tq + j] + xdz[other * p.tq + t]) * xx[xo];
    sv = sv + xa[other * p.tq + t] * xdout[xo];
  }
  xdx[e] = xscale[0] * sqk + sv;
}

// Shapes: partial (n = batch * tq) -> dscale (1). One workgroup, tree reduction.
@compute @workgroup_size(RWG)
fn attention_dscale(@builtin(local_invocation_id) lid: vec3u) {
  let n = p.batch * p.tq;
  var s = 0.0;
  for (var i = lid.x; i < n; i = i + RWG) { s = s + spart[i]; }
  acc[lid.x] = s;
  workgroupBarrier();
  for (var k = RWG / 2u; k > 0u; k = k >> 1u) {
    if (lid.x < k) { acc[lid.x] = acc[lid.x] + acc[lid.x + k]; }
    workgroupBarrier();
  }
  if (lid.x == 0u) { sout[0] = acc[0]; }
}
