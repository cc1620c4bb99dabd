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
// Edges: rows and columns past M and N are clamped for loads and skipped for stores; K need not be
// a multiple of 4 (a scalar tail loop finishes it).
//
// Params, bindings, override constants and the epilogue: matmul-common.wgsl, which the host
// prepends after `enable subgroups;`.
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

// Lanes 0..3 and 4..7 of x, as seen by every lane.
fn lanes_lo(x: f32) -> vec4f {
  return vec4f(subgroupBroadcast(x, 0u), subgroupBroadcast(x, 1u), subgroupBroadcast(x, 2u), subgroupBroadcast(x, 3u));
}
fn lanes_hi(x: f32) -> vec4f {
  return vec4f(subgroupBroadcast(x, 4u), subgroupBroadcast(x, 5u), subgroupBroadcast(x, 6u), subgroupBroadcast(x, 7u));
}

// Shapes: A [M,K], B [K,N] (see TRANS_A/TRANS_B), bias [N] -> C [M,N]; 16x8 outputs per workgroup.
@compute @workgroup_size(8)
fn matmul_sg8(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(subgroup_invocation_id) lane: u32,
) {
  let t = wid.x + (wid.y + wid.z * nwg.y) * nwg.x;
  let i0 = (t / p.tiles_n) * 16u;
  if (i0 >= p.m) { return; }
  let j0 = (t % p.tiles_n) * 8u;
  // This lane's two rows and the one column of B it loads, clamped inside A and B.
  let r0 = min(i0 + lane, p.m - 1u);
  let r1 = min(i0 + 8u + lane, p.m - 1u);
  let col = min(j0 + lane, p.n - 1u);
  var acc0l = vec4f(0.0);
  var acc0h = vec4f(0.0);
  var acc1l = vec4f(0.0);
  var acc1h = vec4f(0.0);
  // Where k = 0 lies for each operand, and the step from one k to the next.
  let ka = select(1u, p.m, TRANS_A);
  let kb = select(p.n, 1u, TRANS_B);
  let a0_base = select(r0 * p.k, r0, TRANS_A);
  let a1_base = select(r1 * p.k, r1, TRANS_A);
  let b_base = select(col, col * p.k, TRANS_B);
  let k_end = p.k;
  let k4_end = k_end & ~3u;
  var k = 0u;
  for (; k < k4_end; k += 4u) {
    let a0 = a4_at(a0_base, ka, k);
    let a1 = a4_at(a1_base, ka, k);
    let bv = b4_at(b_base, kb, k);
    let bl0 = lanes_lo(bv.x);
    let bh0 = lanes_hi(bv.x);
    acc0l = fma(vec4f(a0.x), bl0, acc0l);
    acc0h = fma(vec4f(a0.x), bh0, acc0h);
    acc1l = fma(vec4f(a1.x), bl0, acc1l);
    acc1h = fma(vec4f(a1.x), bh0, acc1h);
    let bl1 = lanes_lo(bv.y);
    let bh1 = lanes_hi(bv.y);
    acc0l = fma(vec4f(a0.y), bl1, acc0l);
    acc0h = fma(vec4f(a0.y), bh1, acc0h);
    acc1l = fma(vec4f(a1.y), bl1, acc1l);
    acc1h = fma(vec4f(a1.y), bh1, acc1h);
    let bl2 = lanes_lo(bv.z);
    let bh2 = lanes_hi(bv.z);
    acc0l = fma(vec4f(a0.z), bl2, acc0l);
    acc0h = fma(vec4f(a0.z), bh2, acc0h);
    acc1l = fma(vec4f(a1.z), bl2, acc1l);
    acc1h = fma(vec4f(a1.z), bh2, acc1h);
    let bl3 = lanes_lo(bv.w);
    let bh3 = lanes_hi(bv.w);
    acc0l = fma(vec4f(a0.w), bl3, acc0l);
    acc0h = fma(vec4f(a0.w), bh3, acc0h);
    acc1l = fma(vec4f(a1.w), bl3, acc1l);
    acc1h = fma(vec4f(a1.w), bh3, acc1h);
  }
  for (; k < k_end; k++) {
    let a0 = a[a0_base + k * ka];
    let a1 = a[a1_base + k * ka];
    let bv = b[b_base + k * kb];
    let bl = lanes_lo(bv);
    let bh = lanes_hi(bv);
    acc0l = fma(vec4f(a0), bl, acc0l);
    acc0h = fma(vec4f(a0), bh, acc0h);
    acc1l = fma(vec4f(a1), bl, acc1l);
    acc1h = fma(vec4f(a1), bh, acc1h);
  }
  store4(i0 + lane, j0, acc0l);
  store4(i0 + lane, j0 + 4u, acc0h);
  store4(i0 + 8u + lane, j0, acc1l);
  store4(i0 + 8u + lane, j0 + 4u, acc1h);
}
