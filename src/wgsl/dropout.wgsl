// Inverted dropout and spatial dropout (Keras Dropout / SpatialDropout2D over NHWC) with a
// counter-based RNG, so backward recomputes the mask from (seed, step) instead of storing it.
//
// RNG: Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11;
// Random123's philox4x32_10), key = (seed_lo, seed_hi), counter = (d >> 2, 0, step, 0), word d & 3,
// where d is the decision index: the element index (Dropout) or n * c + channel (SpatialDropout2D,
// one decision per channel map, constant over H, W). An element is kept when
// (word >> 8) >= threshold, threshold = ceil(rate * 2^24) (so P(keep) = 1 - rate up to 2^-24), and
// kept values are scaled by 1 / (1 - rate). Each invocation handles 4 consecutive elements.

struct DropoutParams {
  n: u32,
  c: u32,
  hw: u32,
  threshold: u32,
  scale: f32,
  seed_lo: u32,
  seed_hi: u32,
  step: u32,
}

override WG: u32 = 256u;
override SPATIAL: bool = false;

@group(0) @binding(0) var<uniform> p: DropoutParams;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;

// 32 x 32 -> 64-bit product as (hi, lo), from 16-bit halves (WGSL has no widening multiply).
fn mulhilo(a: u32, b: u32) -> vec2u {
  let al = a & 0xffffu;
  let ah = a >> 16u;
  let bl = b & 0xffffu;
  let bh = b >> 16u;
  let ll = al * bl;
  let hl = ah * bl;
  let cross = (ll >> 16u) + (hl & 0xffffu) + al * bh; // < 2^32, no overflow
  return vec2u(ah * bh + (hl >> 16u) + (cross >> 16u), a * b);
}

fn philox4x32_10(counter: vec4u, seed: vec2u) -> vec4u {
  var ctr = counter;
  var key = seed;
  for (var r = 0u; r < 10u; r++) {
    if (r > 0u) { key += vec2u(0x9E3779B9u, 0xBB67AE85u); }
    let m0 = mulhilo(0xD2511F53u, ctr.x);
    let m1 = mulhilo(0xCD9E8D57u, ctr.z);
    ctr = vec4u(m1.x ^ ctr.y ^ key.x, m1.y, m0.x ^ ctr.w ^ key.y, m0.y);
  }
  return ctr;
}

fn words(block: u32) -> vec4u {
  return philox4x32_10(vec4u(block, 0u, p.step, 0u), vec2u(p.seed_lo, p.seed_hi));
}

fn factor(word: u32) -> f32 {
  return select(0.0, p.scale, (word >> 8u) >= p.threshold);
}

// Shapes: src, dst (n) = x -> y (forward) or dy -> dx (backward): dst = src * mask / (1 - rate).
fn apply(gid: vec3u, nwg: vec3u) {
  let b = gid.x + (gid.y + gid.z * nwg.y) * nwg.x * WG;
  let e0 = b * 4u;
  if (e0 >= p.n) { return; }
  if (!SPATIAL) {
    let w = words(b);
    for (var k = 0u; k < 4u; k++) {
      if (e0 + k < p.n) { dst[e0 + k] = src[e0 + k] * factor(w[k]); }
    }
    return;
  }
  for (var k = 0u; k < 4u; k++) {
    let e = e0 + k;
    if (e < p.n) {
      let d = (e / (p.hw * p.c)) * p.c + e % p.c;
      dst[e] = src[e] * factor(words(d >> 2u)[d & 3u]);
    }
  }
}

// Shapes: x, y (n) or NHWC [n, h, w, c] when SPATIAL.
@compute @workgroup_size(WG)
fn dropout_fwd(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  apply(gid, nwg);
}

// Shapes: dy, dx as x, y; the mask is recomputed from the same seed and step.
@compute @workgroup_size(WG)
fn dropout_dx(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  apply(gid, nwg);
}
