// Sparse softmax cross-entropy from logits with per-sample weights, Keras reduction
// `sum_over_batch_size`: loss = sum_i w_i * (logsumexp(z_i) - z_i[label_i]) / b (the divisor is
// the batch size, not the sum of weights). The forward and the logit gradient are fused in one
// pass per row: dlogits_i = w_i * (softmax(z_i) - onehot(label_i)) / b. Each row also records
// whether argmax(z_i) (first maximum) equals the label, for accuracy without reading logits back.
// A label outside [0, k) gives a NaN per-sample loss (so the reported loss shows it) and a zero
// gradient row.

struct LossParams {
  b: u32,
  k: u32,
  inv_b: f32,
  pad0: u32,
}

override WG: u32 = 64u;  // rows per workgroup (loss_fwd_dx); threads of the one reduce workgroup
override HAS_WEIGHTS: bool = false;

@group(0) @binding(0) var<uniform> p: LossParams;
// loss_fwd_dx: logits, labels, weights -> dlogits, per_sample (2, b): [w_i * loss_i..., correct_i...]
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read> labels: array<i32>;
@group(0) @binding(3) var<storage, read> weights: array<f32>;
@group(0) @binding(4) var<storage, read_write> dlogits: array<f32>;
@group(0) @binding(5) var<storage, read_write> per_sample: array<f32>;
// loss_reduce: per_sample -> out (2): [loss, correct count]
@group(0) @binding(1) var<storage, read> r_per_sample: array<f32>;
@group(0) @binding(2) var<storage, read_write> r_out: array<f32>;

var<workgroup> red_loss: array<f32, WG>;
var<workgroup> red_correct: array<f32, WG>;

// Shapes: logits, dlogits (b, k); labels, weights (b); per_sample (2, b).
@compute @workgroup_size(WG)
fn loss_fwd_dx(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let r = gid.x + (gid.y + gid.z * nwg.y) * nwg.x * WG;
  if (r >= p.b) { return; }
  let base = r * p.k;
  var m = logits[base];
  var arg = 0u;
  for (var j = 1u; j < p.k; j++) {
    let z = logits[base + j];
    if (z > m) { m = z; arg = j; }
  }
  var s = 0.0;
  for (var j = 0u; j < p.k; j++) { s += exp(logits[base + j] - m); }
  let label = labels[r];
  let valid = label >= 0 && u32(label) < p.k;
  let y = select(0u, u32(label), valid);
  var w = 1.0;
  if (HAS_WEIGHTS) { w = weights[r]; }
  let g = select(0.0, w * p.inv_b, valid);
  let inv = 1.0 / s;
  for (var j = 0u; j < p.k; j++) {
    let prob = exp(logits[base + j] - m) * inv;
    dlogits[base + j] = g * (prob - select(0.0, 1.0, j == y));
  }
  let nan = bitcast<f32>(0x7fc00000u | p.pad0); // pad0 = 0; a runtime value, not a constant NaN
  per_sample[r] = select(nan, w * (m + log(s) - logits[base + y]), valid);
  per_sample[p.b + r] = select(0.0, 1.0, valid && arg == y);
}

// Shapes: per_sample (2, b) -> out (2) = [sum(w_i * loss_i) / b, number correct]. One workgroup.
@compute @workgroup_size(WG)
fn loss_reduce(@builtin(local_invocation_index) lid: u32) {
  var l = 0.0;
  var c = 0.0;
  for (var i = lid; i < p.b; i += WG) {
    l += r_per_sample[i];
    c += r_per_sample[p.b + i];
  }
  red_loss[lid] = l;
  red_correct[lid] = c;
  workgroupBarrier();
  for (var half = WG / 2u; half > 0u; half /= 2u) {
    if (lid < half) {
      red_loss[lid] += red_loss[lid + half];
      red_correct[lid] += red_correct[lid + half];
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    r_out[0] = red_loss[0] * p.inv_b;
    r_out[1] = red_correct[0];
  }
}
