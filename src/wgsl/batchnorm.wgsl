// Batch normalisation over the last axis (NHWC: per channel over N, H, W), with an optional fused
// ReLU / ReLU6 after it. `rows` = N*H*W (any leading shape), `c` = channels.
//
//   inference: y = act(gamma * (x - mean) * inverseSqrt(var + eps) + beta), moving statistics
//   training:  the same with the batch statistics (biased variance), computed by a two-pass
//              reduction: batchnorm_stats writes per-chunk partial sums (one workgroup per chunk
//              of rows and block of CB channels, RL row lanes), batchnorm_stats_final adds the
//              chunks per channel, saves mean and inverse std, and updates the moving averages.
//   backward:  batchnorm_dstats / batchnorm_dstats_final reduce sum(dz) and sum(dz * xhat)
//              (dz = dy * act'(z), z recomputed from x) into dbeta, dgamma and a per-channel
//              coefficient record for batchnorm_dx; batchnorm_dx_inference is the frozen-BN dx.
// Sums use a shift K = x[row 0, c] (the shifted-data variance), so var = E[(x-K)^2] - E[x-K]^2
// does not cancel catastrophically when |mean| >> std.

struct BatchnormParams {
  rows: u32,
  c: u32,
  chunk_rows: u32,
  chunks: u32,
  eps: f32,
  momentum: f32,
  var_factor: f32, // applied to the batch variance in the moving-variance update (Bessel or 1)
  inv_rows: f32,
}

override WG: u32 = 256u; // element-wise and per-channel entry points
override PER: u32 = 4u;  // element-wise entry points: consecutive elements per invocation
override CB: u32 = 64u;  // reduction: channels per workgroup
override RL: u32 = 4u;   // reduction: row lanes per workgroup
override RWG: u32 = CB * RL;
override ACT: u32 = 0u;  // 0 none, 1 relu, 2 relu6
override TRAINING: bool = false; // stat input is the inverse std (training) or the variance

@group(0) @binding(0) var<uniform> p: BatchnormParams;

// batchnorm_fwd: x, gamma, beta, mean, stat -> y
@group(0) @binding(1) var<storage, read> f_x: array<f32>;
@group(0) @binding(2) var<storage, read> f_gamma: array<f32>;
@group(0) @binding(3) var<storage, read> f_beta: array<f32>;
@group(0) @binding(4) var<storage, read> f_mean: array<f32>;
@group(0) @binding(5) var<storage, read> f_stat: array<f32>;
@group(0) @binding(6) var<storage, read_write> f_y: array<f32>;
// batchnorm_stats: x -> partials [chunks][2][c]
@group(0) @binding(2) var<storage, read_write> s_part: array<f32>;
// batchnorm_stats_final: partials, x -> mean, invstd, moving_mean, moving_var
@group(0) @binding(1) var<storage, read> sf_part: array<f32>;
@group(0) @binding(2) var<storage, read> sf_x: array<f32>;
@group(0) @binding(3) var<storage, read_write> sf_mean: array<f32>;
@group(0) @binding(4) var<storage, read_write> sf_invstd: array<f32>;
@group(0) @binding(5) var<storage, read_write> sf_mmean: array<f32>;
@group(0) @binding(6) var<storage, read_write> sf_mvar: array<f32>;
// batchnorm_dstats: x, dy, gamma, beta, mean, stat -> partials;
// batchnorm_dx_inference: the same inputs -> dx
@group(0) @binding(2) var<storage, read> d_dy: array<f32>;
@group(0) @binding(3) var<storage, read> d_gamma: array<f32>;
@group(0) @binding(4) var<storage, read> d_beta: array<f32>;
@group(0) @binding(5) var<storage, read> d_mean: array<f32>;
@group(0) @binding(6) var<storage, read> d_stat: array<f32>;
@group(0) @binding(7) var<storage, read_write> d_out: array<f32>;
// batchnorm_dstats_final: partials (sf_part), gamma, beta, mean, stat (f_*) -> dgamma, dbeta,
// coef [c][8]
@group(0) @binding(6) var<storage, read_write> g_dgamma: array<f32>;
@group(0) @binding(7) var<storage, read_write> g_dbeta: array<f32>;
@group(0) @binding(8) var<storage, read_write> g_coef: array<f32>;
// batchnorm_dx: x, dy, coef -> dx
@group(0) @binding(3) var<storage, read> x_coef: array<f32>;
@group(0) @binding(4) var<storage, read_write> x_dx: array<f32>;

var<workgroup> red1: array<f32, RWG>;
var<workgroup> red2: array<f32, RWG>;

fn flat(gid: vec3u, nwg: vec3u) -> u32 {
  return gid.x + (gid.y + gid.z * nwg.y) * nwg.x * WG;
}

fn act(z: f32) -> f32 {
  if (ACT == 1u) { return max(z, 0.0); }
  if (ACT == 2u) { return clamp(z, 0.0, 6.0); }
  return z;
}

// dz = dy * act'(z); zero at the kinks, as Keras/TF.
fn act_grad(z: f32, dy: f32) -> f32 {
  if (ACT == 1u) { return select(0.0, dy, z > 0.0); }
  if (ACT == 2u) { return select(0.0, dy, z > 0.0 && z < 6.0); }
  return dy;
}

fn invstd_of(stat: f32) -> f32 {
  if (TRAINING) { return stat; }
  return inverseSqrt(stat + p.eps);
}

// Shapes: x, y (rows, c); gamma, beta, mean, stat (c).
@compute @workgroup_size(WG)
fn batchnorm_fwd(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i0 = flat(gid, nwg) * PER;
  let n = p.rows * p.c;
  for (var i = i0; i < min(i0 + PER, n); i++) {
    let ch = i % p.c;
    let xhat = (f_x[i] - f_mean[ch]) * invstd_of(f_stat[ch]);
    f_y[i] = act(f_gamma[ch] * xhat + f_beta[ch]);
  }
}

// Shapes: x (rows, c) -> partials (chunks, 2, c). Workgroups: (ceil(c / CB), chunks).
@compute @workgroup_size(RWG)
fn batchnorm_stats(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let ch = wid.x * CB + lid % CB;
  let lane = lid / CB;
  let start = wid.y * p.chunk_rows;
  let end = min(start + p.chunk_rows, p.rows);
  var s1 = 0.0;
  var s2 = 0.0;
  if (ch < p.c) {
    let k = f_x[ch];
    for (var r = start + lane; r < end; r += RL) {
      let d = f_x[r * p.c + ch] - k;
      s1 += d;
      s2 += d * d;
    }
  }
  red1[lid] = s1;
  red2[lid] = s2;
  workgroupBarrier();
  if (lane == 0u && ch < p.c) {
    var t1 = 0.0;
    var t2 = 0.0;
    for (var l = 0u; l < RL; l++) {
      t1 += red1[l * CB + lid];
      t2 += red2[l * CB + lid];
    }
    s_part[(wid.y * 2u) * p.c + ch] = t1;
    s_part[(wid.y * 2u + 1u) * p.c + ch] = t2;
  }
}

// Shapes: partials (chunks, 2, c), x (rows, c) -> mean, invstd (c); moving_mean, moving_var (c)
// updated in place: moving = momentum * moving + (1 - momentum) * batch.
@compute @workgroup_size(WG)
fn batchnorm_stats_final(@builtin(global_invocation_id) gid: vec3u) {
  let ch = gid.x;
  if (ch >= p.c) { return; }
  var t1 = 0.0;
  var t2 = 0.0;
  for (var k = 0u; k < p.chunks; k++) {
    t1 += sf_part[(k * 2u) * p.c + ch];
    t2 += sf_part[(k * 2u + 1u) * p.c + ch];
  }
  let shift = t1 * p.inv_rows;
  let v = max(t2 * p.inv_rows - shift * shift, 0.0);
  let m = sf_x[ch] + shift;
  sf_mean[ch] = m;
  sf_invstd[ch] = inverseSqrt(v + p.eps);
  sf_mmean[ch] = p.momentum * sf_mmean[ch] + (1.0 - p.momentum) * m;
  sf_mvar[ch] = p.momentum * sf_mvar[ch] + (1.0 - p.momentum) * (v * p.var_factor);
}

// Shapes: x, dy (rows, c); gamma, beta, mean, stat (c) -> partials (chunks, 2, c) holding
// sum(dz) and sum(dz * xhat). Workgroups: (ceil(c / CB), chunks).
@compute @workgroup_size(RWG)
fn batchnorm_dstats(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let ch = wid.x * CB + lid % CB;
  let lane = lid / CB;
  let start = wid.y * p.chunk_rows;
  let end = min(start + p.chunk_rows, p.rows);
  var s1 = 0.0;
  var s2 = 0.0;
  if (ch < p.c) {
    let m = d_mean[ch];
    let istd = invstd_of(d_stat[ch]);
    let g = d_gamma[ch];
    let b = d_beta[ch];
    for (var r = start + lane; r < end; r += RL) {
      let i = r * p.c + ch;
      let xhat = (f_x[i] - m) * istd;
      let dz = act_grad(g * xhat + b, d_dy[i]);
      s1 += dz;
      s2 += dz * xhat;
    }
  }
  red1[lid] = s1;
  red2[lid] = s2;
  workgroupBarrier();
  if (lane == 0u && ch < p.c) {
    var t1 = 0.0;
    var t2 = 0.0;
    for (var l = 0u; l < RL; l++) {
      t1 += red1[l * CB + lid];
      t2 += red2[l * CB + lid];
    }
    d_out[(wid.y * 2u) * p.c + ch] = t1;
    d_out[(wid.y * 2u + 1u) * p.c + ch] = t2;
  }
}

// Shapes: partials (chunks, 2, c); gamma, beta, mean, stat (c) -> dgamma, dbeta (c);
// coef (c, 8) = [mean, invstd, gamma, beta, mean(dz), mean(dz * xhat), 0, 0] (the two means are
// 0 in inference mode, where mean and variance are constants).
@compute @workgroup_size(WG)
fn batchnorm_dstats_final(@builtin(global_invocation_id) gid: vec3u) {
  let ch = gid.x;
  if (ch >= p.c) { return; }
  var t1 = 0.0;
  var t2 = 0.0;
  for (var k = 0u; k < p.chunks; k++) {
    t1 += sf_part[(k * 2u) * p.c + ch];
    t2 += sf_part[(k * 2u + 1u) * p.c + ch];
  }
  g_dbeta[ch] = t1;
  g_dgamma[ch] = t2;
  let o = ch * 8u;
  g_coef[o] = f_mean[ch];
  g_coef[o + 1u] = invstd_of(f_stat[ch]);
  g_coef[o + 2u] = f_gamma[ch];
  g_coef[o + 3u] = f_beta[ch];
  g_coef[o + 4u] = select(0.0, t1 * p.inv_rows, TRAINING);
  g_coef[o + 5u] = select(0.0, t2 * p.inv_rows, TRAINING);
  g_coef[o + 6u] = 0.0;
  g_coef[o + 7u] = 0.0;
}

// Shapes: x, dy (rows, c); coef (c, 8) -> dx (rows, c).
// dx = gamma * invstd * (dz - mean(dz) - xhat * mean(dz * xhat)).
@compute @workgroup_size(WG)
fn batchnorm_dx(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i0 = flat(gid, nwg) * PER;
  let n = p.rows * p.c;
  for (var i = i0; i < min(i0 + PER, n); i++) {
    let o = (i % p.c) * 8u;
    let istd = x_coef[o + 1u];
    let g = x_coef[o + 2u];
    let xhat = (f_x[i] - x_coef[o]) * istd;
    let dz = act_grad(g * xhat + x_coef[o + 3u], d_dy[i]);
    x_dx[i] = g * istd * (dz - x_coef[o + 4u] - xhat * x_coef[o + 5u]);
  }
}

// Frozen (inference-mode) BN, dx only: dx = dz * gamma * inverseSqrt(var + eps).
// Shapes: x, dy (rows, c); gamma, beta, mean, var (c) -> dx (rows, c).
@compute @workgroup_size(WG)
fn batchnorm_dx_inference(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i0 = flat(gid, nwg) * PER;
  let n = p.rows * p.c;
  for (var i = i0; i < min(i0 + PER, n); i++) {
    let ch = i % p.c;
    let istd = invstd_of(d_stat[ch]);
    let g = d_gamma[ch];
    let xhat = (f_x[i] - d_mean[ch]) * istd;
    d_out[i] = g * istd * act_grad(g * xhat + d_beta[ch], d_dy[i]);
  }
}
