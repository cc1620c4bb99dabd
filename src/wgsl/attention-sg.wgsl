// Attention for CPU adapters with 8-lane subgroups (lavapipe on AVX2): the forward of
// attention.wgsl (z = scale * Q K^T, A = softmax(z), out = A V) and the batched products of the
// backward, computed the way matmul-sg.wgsl computes a matrix product. attention-sg-common.wgsl
// (params, the 16 x 8 broadcast tile) is prepended by the host.
//
// attention_probs_sg8 / _v4: one workgroup per (batch item, 16 query rows) walks all tv keys 8 at
// a time: scores go to A as they are made, and each lane keeps an online softmax of its two rows
// (running max m and sum s of exp(z - m), rescaled when m grows), so the scores are made once and
// A is read back once. A last pass over the lane's own rows turns the stored z into
// exp(z - m) / s; a lane reads only what it wrote, so no barrier. _v4 reads Q and K as vec4s
// along d (d % 4 == 0).
//
// attention_av_sg8: C = alpha * op(A) B per batch item, a 16 x 8 tile per workgroup; lane l loads
// B[k, j0+l] and broadcasts it. op(A) = A [tq, tv] (C [tq, d], B [tv, d]: out = A V, dQ) or with
// TRANS_A A^T [tv, tq] (C [tv, d], B [tq, d]: dK, dV); alpha = scale with USE_SCALE; ACCUM adds
// into C (self-attention sums dQ + dK + dV into dX).
//
// Edges: rows past tq (tv) and columns past tv (d) are clamped for loads and skipped for stores;
// masked scores are MASKED so that exp() makes them 0.
//
// Shapes: q [batch, tq, d]; k, v [batch, tv, d]; scale (1); A [batch, tq, tv]; out [batch, tq, d].

override TRANS_A: bool = false;
override USE_SCALE: bool = false;
override ACCUM: bool = false;

// Signature [left, right, scale -> dst]: probs [q, k, scale -> A]; av [A, B, scale -> C].
@group(0) @binding(1) var<storage, read> left: array<f32>;
@group(0) @binding(2) var<storage, read> right: array<f32>;
@group(0) @binding(1) var<storage, read> left_v4: array<vec4f>;
@group(0) @binding(2) var<storage, read> right_v4: array<vec4f>;
@group(0) @binding(3) var<storage, read> scale: array<f32>;
@group(0) @binding(4) var<storage, read_write> dst: array<f32>;

// Online softmax state of a lane's two rows: running max and sum of exp(z - max).
struct Stats { m0: f32, m1: f32, s0: f32, s1: f32 }

fn max8(l: vec4f, h: vec4f) -> f32 {
  let v = max(l, h);
  return max(max(v.x, v.y), max(v.z, v.w));
}
fn sum_exp8(l: vec4f, h: vec4f, m: f32) -> f32 {
  return dot(exp(l - vec4f(m)) + exp(h - vec4f(m)), vec4f(1.0));
}

// alpha * v (+ C with ACCUM, which the probs pipelines never set) for up to 8 columns of one row
// of C from column j0 (at offset o), skipping columns past n.
fn put8(o: u32, j0: u32, n: u32, alpha: f32, l: vec4f, h: vec4f) {
  var vl = alpha * l;
  var vh = alpha * h;
  for (var c = 0u; c < 4u; c++) {
    if (j0 + c < n) { dst[o + c] = select(vl[c], vl[c] + dst[o + c], ACCUM); }
    if (j0 + 4u + c < n) { dst[o + 4u + c] = select(vh[c], vh[c] + dst[o + 4u + c], ACCUM); }
  }
}

// A finished 16 x 8 tile of raw products: scale, mask columns past tv, store, update the stats.
fn scores_tile(st: Stats, t: Tile, s: f32, j0: u32, tv: u32, r: Rows) -> Stats {
  let cols = vec4u(j0) + vec4u(0u, 1u, 2u, 3u);
  let vl = cols < vec4u(tv);
  let vh = cols + vec4u(4u) < vec4u(tv);
  let z0l = select(vec4f(MASKED), t.r0l * s, vl);
  let z0h = select(vec4f(MASKED), t.r0h * s, vh);
  let z1l = select(vec4f(MASKED), t.r1l * s, vl);
  let z1h = select(vec4f(MASKED), t.r1h * s, vh);
  if (r.ok0) { put8(r.o0 + j0, j0, tv, 1.0, z0l, z0h); }
  if (r.ok1) { put8(r.o1 + j0, j0, tv, 1.0, z1l, z1h); }
  let m0 = max(st.m0, max8(z0l, z0h));
  let m1 = max(st.m1, max8(z1l, z1h));
  return Stats(m0, m1, st.s0 * exp(st.m0 - m0) + sum_exp8(z0l, z0h, m0), st.s1 * exp(st.m1 - m1) + sum_exp8(z1l, z1h, m1));
}

// z -> exp(z - m) / s over the lane's own rows (rows past tq are skipped).
fn normalise(st: Stats, tv: u32, r: Rows) {
  let inv0 = 1.0 / st.s0;
  let inv1 = 1.0 / st.s1;
  for (var j = 0u; j < tv; j++) {
    if (r.ok0) { dst[r.o0 + j] = exp(dst[r.o0 + j] - st.m0) * inv0; }
    if (r.ok1) { dst[r.o1 + j] = exp(dst[r.o1 + j] - st.m1) * inv1; }
  }
}

// Shapes: q [batch, tq, d], k [batch, tv, d], scale (1) -> A [batch, tq, tv]; 16 rows per workgroup.
@compute @workgroup_size(8)
fn attention_probs_sg8(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(subgroup_invocation_id) lane: u32,
) {
  let tv = p.tv;
  let d = p.d;
  if (past_rows(wid, nwg)) { return; }
  let r = rows_of(wid, nwg, lane, d);
  let s = scale[0];
  let d4 = d & ~3u;
  var st = Stats(MASKED, MASKED, 0.0, 0.0);
  for (var j0 = 0u; j0 < tv; j0 += 8u) {
    let ko = (r.bi * tv + min(j0 + lane, tv - 1u)) * d;
    var t = ZERO_TILE;
    var c = 0u;
    for (; c < d4; c += 4u) {
      let a0 = vec4f(left[r.q0 + c], left[r.q0 + c + 1u], left[r.q0 + c + 2u], left[r.q0 + c + 3u]);
      let a1 = vec4f(left[r.q1 + c], left[r.q1 + c + 1u], left[r.q1 + c + 2u], left[r.q1 + c + 3u]);
      t = step4(t, a0, a1, vec4f(right[ko + c], right[ko + c + 1u], right[ko + c + 2u], right[ko + c + 3u]));
    }
    for (; c < d; c++) { t = step(t, left[r.q0 + c], left[r.q1 + c], right[ko + c]); }
    st = scores_tile(st, t, s, j0, tv, r);
  }
  normalise(st, tv, r);
}

// Shapes: as attention_probs_sg8, d % 4 == 0 (q and k read as vec4s along d).
@compute @workgroup_size(8)
fn attention_probs_sg8_v4(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(subgroup_invocation_id) lane: u32,
) {
  let tv = p.tv;
  let d4 = p.d / 4u;
  if (past_rows(wid, nwg)) { return; }
  let r = rows_of(wid, nwg, lane, d4);
  let s = scale[0];
  var st = Stats(MASKED, MASKED, 0.0, 0.0);
  for (var j0 = 0u; j0 < tv; j0 += 8u) {
    let ko = (r.bi * tv + min(j0 + lane, tv - 1u)) * d4;
    var t = ZERO_TILE;
    for (var c = 0u; c < d4; c++) { t = step4(t, left_v4[r.q0 + c], left_v4[r.q1 + c], right_v4[ko + c]); }
    st = scores_tile(st, t, s, j0, tv, r);
  }
  normalise(st, tv, r);
}

// Shapes: A [batch, tq, tv], B [batch, kk, d], scale (1) -> C [batch, m, d], where m, kk = tq, tv
// (or tv, tq with TRANS_A); 16 x 8 outputs per workgroup.
@compute @workgroup_size(8)
fn attention_av_sg8(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(subgroup_invocation_id) lane: u32,
) {
  let m = select(p.tq, p.tv, TRANS_A);
  let kk = select(p.tv, p.tq, TRANS_A);
  let d = p.d;
  let blocks = (m + 15u) / 16u;
  let tiles_n = (d + 7u) / 8u;
  let per_item = blocks * tiles_n;
  let w = flat_wg(wid, nwg);
  if (w >= p.batch * per_item) { return; }
  let bi = w / per_item;
  let tile = w % per_item;
  let r0 = (tile / tiles_n) * 16u + lane;
  let r1 = r0 + 8u;
  let j0 = (tile % tiles_n) * 8u;
  // Where k = 0 lies in A for each of the lane's rows, and the step from one k to the next.
  let ka = select(1u, m, TRANS_A);
  let a0 = bi * m * kk + select(min(r0, m - 1u) * kk, min(r0, m - 1u), TRANS_A);
  let a1 = bi * m * kk + select(min(r1, m - 1u) * kk, min(r1, m - 1u), TRANS_A);
  let bo = bi * kk * d + min(j0 + lane, d - 1u);
  let k4 = kk & ~3u;
  var t = ZERO_TILE;
  var k = 0u;
  for (; k < k4; k += 4u) {
    let x0 = vec4f(left[a0 + k * ka], left[a0 + (k + 1u) * ka], left[a0 + (k + 2u) * ka], left[a0 + (k + 3u) * ka]);
    let x1 = vec4f(left[a1 + k * ka], left[a1 + (k + 1u) * ka], left[a1 + (k + 2u) * ka], left[a1 + (k + 3u) * ka]);
    let o = bo + k * d;
    t = step4(t, x0, x1, vec4f(right[o], right[o + d], right[o + 2u * d], right[o + 3u * d]));
  }
  for (; k < kk; k++) { t = step(t, left[a0 + k * ka], left[a1 + k * ka], right[bo + k * d]); }
  let alpha = select(1.0, scale[0], USE_SCALE);
  if (r0 < m) { put8((bi * m + r0) * d + j0, j0, d, alpha, t.r0l, t.r0h); }
  if (r1 < m) { put8((bi * m + r1) * d + j0, j0, d, alpha, t.r1l, t.r1h); }
}
