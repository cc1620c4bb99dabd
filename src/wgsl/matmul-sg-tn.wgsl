// C = act(A^T·B + bias (+ C)) for 8-lane subgroups with A stored [K,M] and B [K,N], both read as
// vec4s along their rows (M % 4 == 0, N % 4 == 0): the weight gradient of a dense or pointwise
// layer, dW = X^T·dY, where K is the batch's pixel count and M, N are the channels.
//
// Why its own kernel: matmul_sg8 reads a transposed A and an untransposed B one scalar at a time,
// with a stride of M or N between consecutive k (12 scalar loads per 4 k for 16 x 8 outputs), and
// lavapipe pays for every storage load lane by lane (docs/KERNELS.md). Here the contiguous axis is
// the one each lane loads as a vec4, so 5 vec4 loads per 4 k cover 32 x 8 outputs.
//
// A workgroup is one 8-lane subgroup (the host checks the size is 8) and owns 32 rows x 8 columns
// of C: lane l owns rows i0+4l .. i0+4l+3 (one vec4 of A's row k) and all 8 columns j0..j0+7. Per
// 4 k, lane l also loads one vec4 of B: row k + l/2, columns j0 + 4(l%2) .. +3; the subgroup
// broadcasts each to every lane (a register shuffle on lavapipe).
//
// Edges: columns of A and B past M and N are clamped for loads and skipped for stores; K need not
// be a multiple of 4 (rows past K are read as zero).
//
// Params, bindings, override constants: matmul-common.wgsl; put4, bias8 and the vec4 views of A,
// B, C: matmul-sg.wgsl. The host prepends both.

// The lane's 32 outputs: column j0+c of C over its 4 rows in c`c`.
struct TnTile { c0: vec4f, c1: vec4f, c2: vec4f, c3: vec4f, c4: vec4f, c5: vec4f, c6: vec4f, c7: vec4f }

// One k: the lane's 4 values of A's row k times B[k, j0..j0+3] (lo) and B[k, j0+4..j0+7] (hi).
fn tn_step(t: TnTile, av: vec4f, lo: vec4f, hi: vec4f) -> TnTile {
  return TnTile(
    fma(av, vec4f(lo.x), t.c0), fma(av, vec4f(lo.y), t.c1), fma(av, vec4f(lo.z), t.c2), fma(av, vec4f(lo.w), t.c3),
    fma(av, vec4f(hi.x), t.c4), fma(av, vec4f(hi.y), t.c5), fma(av, vec4f(hi.z), t.c6), fma(av, vec4f(hi.w), t.c7),
  );
}

// Four k from one vec4 of B per lane (lanes 2q, 2q+1 hold row k + q) and the lane's A at each k.
fn tn_step4(t: TnTile, bv: vec4f, a0: vec4f, a1: vec4f, a2: vec4f, a3: vec4f) -> TnTile {
  let t0 = tn_step(t, a0, subgroupBroadcast(bv, 0u), subgroupBroadcast(bv, 1u));
  let t1 = tn_step(t0, a1, subgroupBroadcast(bv, 2u), subgroupBroadcast(bv, 3u));
  let t2 = tn_step(t1, a2, subgroupBroadcast(bv, 4u), subgroupBroadcast(bv, 5u));
  return tn_step(t2, a3, subgroupBroadcast(bv, 6u), subgroupBroadcast(bv, 7u));
}

// Row ii of the lane's four, as C's columns j0..j0+3 (lo) or j0+4..j0+7 (hi).
fn tn_row_lo(t: TnTile, ii: u32) -> vec4f { return vec4f(t.c0[ii], t.c1[ii], t.c2[ii], t.c3[ii]); }
fn tn_row_hi(t: TnTile, ii: u32) -> vec4f { return vec4f(t.c4[ii], t.c5[ii], t.c6[ii], t.c7[ii]); }

// Shapes: A stored [K,M], B [K,N], M % 4 == 0, N % 4 == 0, bias [N] -> C [M,N]; 32 x 8 outputs per
// workgroup, tiles_n counts 8-column tiles.
@compute @workgroup_size(8)
fn matmul_sg8_tn(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(subgroup_invocation_id) lane: u32,
) {
  let tile = tile_index(wid, nwg);
  let i0 = (tile / p.tiles_n) * 32u;
  let j0 = (tile % p.tiles_n) * 8u;
  if (i0 >= p.m) { return; }
  let m4 = p.m / 4u;
  let n4 = p.n / 4u;
  // This lane's vec4 column of A (its 4 rows of C) and of B (the half of the 8 columns it loads),
  // clamped inside A and B; and which of the 4 rows of B it loads per step.
  let ai = min(i0 / 4u + lane, m4 - 1u);
  let bj = min(j0 / 4u + (lane & 1u), n4 - 1u);
  let q = lane >> 1u;
  let k_end = p.k;
  let k4_end = k_end & ~3u;
  var t = TnTile(vec4f(0.0), vec4f(0.0), vec4f(0.0), vec4f(0.0), vec4f(0.0), vec4f(0.0), vec4f(0.0), vec4f(0.0));
  // Offsets advance by whole rows; computed once per lane outside the loop (uniform reads inside
  // a loop are not free on lavapipe).
  var ao = ai;
  var bo = q * n4 + bj;
  let a_step = 4u * m4;
  let b_step = 4u * n4;
  for (var k = 0u; k < k4_end; k += 4u) {
    t = tn_step4(t, b_v4[bo], a_v4[ao], a_v4[ao + m4], a_v4[ao + 2u * m4], a_v4[ao + 3u * m4]);
    ao += a_step;
    bo += b_step;
  }
  if (k4_end < k_end) {
    // The last 1-3 rows: rows past K read as zero (B's, so A's clamped rows add nothing).
    let last = k_end - 1u;
    var bv = vec4f(0.0);
    if (k4_end + q < k_end) { bv = b_v4[bo]; }
    t = tn_step4(t, bv,
      a_v4[min(k4_end, last) * m4 + ai], a_v4[min(k4_end + 1u, last) * m4 + ai],
      a_v4[min(k4_end + 2u, last) * m4 + ai], a_v4[min(k4_end + 3u, last) * m4 + ai]);
  }
  let b8 = bias8(j0, lane);  // before any lane returns: it broadcasts across the subgroup
  let r = i0 + 4u * lane;
  if (r >= p.m) { return; }
  let jq = j0 / 4u;
  let hi = j0 + 4u < p.n;  // N % 8 == 4 leaves the last tile half wide
  for (var ii = 0u; ii < 4u; ii++) {
    put4((r + ii) * n4 + jq, tn_row_lo(t, ii), b8.lo);
    if (hi) { put4((r + ii) * n4 + jq + 1u, tn_row_hi(t, ii), b8.hi); }
  }
}
