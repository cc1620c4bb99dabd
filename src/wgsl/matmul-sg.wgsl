// Matrix multiply for CPU adapters with 8-lane subgroups (lavapipe on AVX2): C[M,N] =
// act(op(A)·op(B) + bias (+ C)).
//
// Why this shape: lavapipe runs a subgroup as one 8-wide SIMD register and pays per lane for every
// storage load, while moving a value between lanes (subgroupBroadcast with a constant lane) is a
// register shuffle. So each lane loads one value of B per k, the subgroup broadcasts the eight
// values to every lane, and each lane multiplies them with its own A values: 8 FMAs per loaded
// value of A instead of 1. A workgroup is exactly one subgroup (the host checks the size is 8), so
// lane l = subgroup_invocation_id owns rows i0+l and i0+8+l and all 8 columns j0..j0+7: 16 output
// values in 4 vec4 accumulators, which fit the 16 SIMD registers. k advances 4 at a time, unrolled
// by hand (lavapipe runs every loop under a lane mask, so fewer iterations is less mask
// work). Measured at 1024^3 on lavapipe, 2 cores: 6.8-9 GFLOP/s vs 4.4-4.8 for matmul.wgsl.
//
// Two entry points: matmul_sg8 (any layout, 4 scalar loads per operand and step of 4 k) and
// matmul_sg8_v4 for A [M,K] and B stored [N,K] with K % 4 == 0 and N % 4 == 0, where both operands
// are read as vec4s along k and C is written as vec4s (a vec4 costs ~1.7 scalar loads: measured
// 1.4x faster at 1024^3). The host uses it for dA = dC·B^T as is and, behind a small transpose of
// the filter, for the forward.
//
// Edges: rows and columns past M and N are clamped for loads and skipped for stores; K need not be
// a multiple of 4 in matmul_sg8 (a scalar tail loop finishes it).
//
// Params, bindings, override constants and the epilogue: matmul-common.wgsl; the tile and its
// steps: subgroup-tile.wgsl. The host prepends both after `enable subgroups;`.
//
// Shapes: A [M,K] (TRANS_A: stored [K,M]), B [K,N] (TRANS_B: stored [N,K]), bias [N], C [M,N].

// Four values along k from `base` (the element at k = 0) with `stride` between consecutive k. The
// offsets are computed once per lane outside the k loop: uniform-buffer reads inside a loop are
// not free on lavapipe.
fn a4_at(base: u32, stride: u32, k: u32) -> vec4f {
  let o = base + k * stride;
  return vec4f(a[o], a[o + stride], a[o + 2u * stride], a[o + 3u * stride]);
}
fn b4_at(base: u32, stride: u32, k: u32) -> vec4f {
  let o = base + k * stride;
  return vec4f(b[o], b[o + stride], b[o + 2u * stride], b[o + 3u * stride]);
}

// lanes_lo / lanes_hi, Tile, ZERO_TILE, step and step4: subgroup-tile.wgsl, prepended by the host.

// Where a workgroup's tile lies: rows i0.., columns j0.. (flat tile index t = tm * tiles_n + tn,
// folded over y/z of a large dispatch).
struct Origin { i0: u32, j0: u32 }
fn origin(wid: vec3u, nwg: vec3u) -> Origin {
  let t = tile_index(wid, nwg);
  return Origin((t / p.tiles_n) * 16u, (t % p.tiles_n) * 8u);
}

fn store_tile(o: Origin, lane: u32, t: Tile) {
  store4(o.i0 + lane, o.j0, t.r0l);
  store4(o.i0 + lane, o.j0 + 4u, t.r0h);
  store4(o.i0 + 8u + lane, o.j0, t.r1l);
  store4(o.i0 + 8u + lane, o.j0 + 4u, t.r1h);
}

// Shapes: A [M,K], B [K,N] (see TRANS_A/TRANS_B), bias [N] -> C [M,N]; 16x8 outputs per workgroup.
@compute @workgroup_size(8)
fn matmul_sg8(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(subgroup_invocation_id) lane: u32,
) {
  let o = origin(wid, nwg);
  if (o.i0 >= p.m) { return; }
  // This lane's two rows and the one column of B it loads, clamped inside A and B.
  let r0 = min(o.i0 + lane, p.m - 1u);
  let r1 = min(o.i0 + 8u + lane, p.m - 1u);
  let col = min(o.j0 + lane, p.n - 1u);
  // Where k = 0 lies for each operand, and the step from one k to the next.
  let ka = select(1u, p.m, TRANS_A);
  let kb = select(p.n, 1u, TRANS_B);
  let a0_base = select(r0 * p.k, r0, TRANS_A);
  let a1_base = select(r1 * p.k, r1, TRANS_A);
  let b_base = select(col, col * p.k, TRANS_B);
  let k_end = p.k;
  let k4_end = k_end & ~3u;
  var t = ZERO_TILE;
  var k = 0u;
  for (; k < k4_end; k += 4u) {
    t = step4(t, a4_at(a0_base, ka, k), a4_at(a1_base, ka, k), b4_at(b_base, kb, k));
  }
  for (; k < k_end; k++) {
    t = step(t, a[a0_base + k * ka], a[a1_base + k * ka], b[b_base + k * kb]);
  }
  store_tile(o, lane, t);
}

// The same operands and C as vec4 arrays (another entry point may bind a buffer with another type).
@group(0) @binding(1) var<storage, read> a_v4: array<vec4f>;
@group(0) @binding(2) var<storage, read> b_v4: array<vec4f>;
@group(0) @binding(4) var<storage, read_write> c_v4: array<vec4f>;

// act(acc + bias (+ C)) for four columns, written as one vec4.
fn put4(at: u32, acc: vec4f, b: vec4f) {
  var v = acc + b;
  if (ACCUM) { v += c_v4[at]; }
  if (ACT == 1u) { v = max(v, vec4f(0.0)); }
  if (ACT == 2u) { v = clamp(v, vec4f(0.0), vec4f(6.0)); }
  c_v4[at] = v;
}

// The tile's epilogue with N % 4 == 0: each lane loads the bias of one column and the subgroup
// broadcasts it (1 load per lane instead of 16), and C is written as vec4s (lavapipe pays per lane
// for each store as for each load: 4 vec4 stores instead of 16 scalar ones). Measured on the
// backbone's first pointwise layer (K = 32), where the epilogue is a third of the work: see
// docs/KERNELS.md.
// bias[j0..j0+3] (lo) and bias[j0+4..j0+7] (hi) in every lane, or zeros without bias: lane l loads
// column j0+l (clamped inside N) and the subgroup broadcasts. Call in uniform control flow.
struct Bias8 { lo: vec4f, hi: vec4f }
fn bias8(j0: u32, lane: u32) -> Bias8 {
  if (!HAS_BIAS) { return Bias8(vec4f(0.0), vec4f(0.0)); }
  let bv = bias[min(j0 + lane, p.n - 1u)];
  return Bias8(lanes_lo(bv), lanes_hi(bv));
}

fn store_tile_v4(o: Origin, lane: u32, t: Tile) {
  let b8 = bias8(o.j0, lane);
  let bl = b8.lo;
  let bh = b8.hi;
  let n4 = p.n / 4u;
  let q = o.j0 / 4u;
  let hi = o.j0 + 4u < p.n;  // N % 8 == 4 leaves the last tile half wide
  let r0 = o.i0 + lane;
  let r1 = r0 + 8u;
  if (r0 < p.m) {
    put4(r0 * n4 + q, t.r0l, bl);
    if (hi) { put4(r0 * n4 + q + 1u, t.r0h, bh); }
  }
  if (r1 < p.m) {
    put4(r1 * n4 + q, t.r1l, bl);
    if (hi) { put4(r1 * n4 + q + 1u, t.r1h, bh); }
  }
}

// Shapes: A [M,K], B stored [N,K] (TRANS_B), K % 4 == 0, N % 4 == 0, bias [N] -> C [M,N]; 16x8 per
// workgroup.
@compute @workgroup_size(8)
fn matmul_sg8_v4(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(subgroup_invocation_id) lane: u32,
) {
  let o = origin(wid, nwg);
  if (o.i0 >= p.m) { return; }
  let k4 = p.k / 4u;
  let a0_base = min(o.i0 + lane, p.m - 1u) * k4;
  let a1_base = min(o.i0 + 8u + lane, p.m - 1u) * k4;
  let b_base = min(o.j0 + lane, p.n - 1u) * k4;
  var t = ZERO_TILE;
  for (var k = 0u; k < k4; k++) {
    t = step4(t, a_v4[a0_base + k], a_v4[a1_base + k], b_v4[b_base + k]);
  }
  store_tile_v4(o, lane, t);
}
