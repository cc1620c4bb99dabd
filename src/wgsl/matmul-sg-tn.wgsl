// C = act(A^T·B + bias (+ C)) for 8-lane subgroups with A stored [K,M] and B [K,N], both read as
// vec4s along their rows (M % 4 == 0, N % 4 == 0): the weight gradient of a dense or pointwise
// layer, dW = X^T·dY, where K is the batch's pixel count and M, N are the channels.
//
// Why its own kernel: matmul_sg8 reads a transposed A and an untransposed B one scalar at a time,
// with a stride of M or N between consecutive k (12 scalar loads per 4 k for 16 x 8 outputs), and
// lavapipe pays for every storage load lane by lane (docs/KERNELS.md). Here the contiguous axis is
// the one each lane loads as a vec4.
//
// A workgroup is one 8-lane subgroup (the host checks the size is 8) and owns 32 rows x 8*G columns
// of C, G = TN_GROUPS (1, 2 or 4): lane l owns rows i0+4l .. i0+4l+3 (one vec4 of A's row k) and
// all 8*G columns. Per 4 k, lane l also loads G vec4s of B: row k + l/2, columns
// j0 + 8g + 4(l%2) .. +3 for g < G; the subgroup broadcasts each to every lane (a register shuffle
// on lavapipe). So 4 + G vec4 loads per 4 k cover 32 x 8G outputs: each A load feeds 8G
// multiply-adds. G = 4 measured 1.4-2.3x faster than G = 1 at PAtt-Lite's pointwise shapes, G = 2
// between them (the host picks G, matmul.ts).
//
// Edges: columns of A and B past M and N are clamped for loads and skipped for stores; K need not
// be a multiple of 4 (rows past K are read as zero).
//
// Params, bindings, override constants: matmul-common.wgsl; put4, bias8 and the vec4 views of A,
// B, C: matmul-sg.wgsl. The host prepends both.

override TN_GROUPS: u32 = 1u;  // G above: 8-column groups per subgroup

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

// B's row k + lane/2 at group g's vec4 column for this lane, clamped inside N.
fn tn_bcol(j0: u32, g: u32, lane: u32, n4: u32) -> u32 { return min(j0 / 4u + 2u * g + (lane & 1u), n4 - 1u); }

// Group g's two vec4 columns of C (j0 + 8g ..) for the lane's 4 rows, when inside N.
fn tn_store(t: TnTile, r: u32, j0: u32, g: u32, lane_bias: Bias8, n4: u32) {
  let j = j0 + 8u * g;
  if (j >= p.n) { return; }
  let hi = j + 4u < p.n;  // N % 8 == 4 leaves the last group half wide
  for (var ii = 0u; ii < 4u; ii++) {
    put4((r + ii) * n4 + j / 4u, tn_row_lo(t, ii), lane_bias.lo);
    if (hi) { put4((r + ii) * n4 + j / 4u + 1u, tn_row_hi(t, ii), lane_bias.hi); }
  }
}

// Shapes: A stored [K,M], B [K,N], M % 4 == 0, N % 4 == 0, bias [N] -> C [M,N]; 32 x 8G outputs
// per workgroup, tiles_n counts 8G-column tiles.
@compute @workgroup_size(8)
fn matmul_sg8_tn(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(subgroup_invocation_id) lane: u32,
) {
  let tile = tile_index(wid, nwg);
  let i0 = (tile / p.tiles_n) * 32u;
  let j0 = (tile % p.tiles_n) * 8u * TN_GROUPS;
  if (i0 >= p.m) { return; }
  let m4 = p.m / 4u;
  let n4 = p.n / 4u;
  // This lane's vec4 column of A (its 4 rows of C) and of B per group, clamped inside A and B;
  // and which of the 4 rows of B it loads per step.
  let ai = min(i0 / 4u + lane, m4 - 1u);
  let bj0 = tn_bcol(j0, 0u, lane, n4);
  let bj1 = tn_bcol(j0, 1u, lane, n4);
  let bj2 = tn_bcol(j0, 2u, lane, n4);
  let bj3 = tn_bcol(j0, 3u, lane, n4);
  let q = lane >> 1u;
  let k_end = p.k;
  let k4_end = k_end & ~3u;
  let zero = TnTile(vec4f(0.0), vec4f(0.0), vec4f(0.0), vec4f(0.0), vec4f(0.0), vec4f(0.0), vec4f(0.0), vec4f(0.0));
  // One accumulator tile per group; the unused ones fold away (TN_GROUPS is a constant).
  var t0 = zero;
  var t1 = zero;
  var t2 = zero;
  var t3 = zero;
  // Offsets advance by whole rows; computed once per lane outside the loop (uniform reads inside
  // a loop are not free on lavapipe).
  var ao = ai;
  var bo = q * n4;
  let a_step = 4u * m4;
  let b_step = 4u * n4;
  for (var k = 0u; k < k4_end; k += 4u) {
    let a0 = a_v4[ao];
    let a1 = a_v4[ao + m4];
    let a2 = a_v4[ao + 2u * m4];
    let a3 = a_v4[ao + 3u * m4];
    // Every load of the step before its multiply-adds: with B's loads between the groups' steps
    // this loop ran 1.5-1.9x slower on lavapipe (interleaved, G = 4), whose loads then overlap less.
    let y0 = b_v4[bo + bj0];
    var y1 = vec4f(0.0);
    var y2 = vec4f(0.0);
    var y3 = vec4f(0.0);
    if (TN_GROUPS > 1u) { y1 = b_v4[bo + bj1]; }
    if (TN_GROUPS > 2u) {
      y2 = b_v4[bo + bj2];
      y3 = b_v4[bo + bj3];
    }
    t0 = tn_step4(t0, y0, a0, a1, a2, a3);
    if (TN_GROUPS > 1u) { t1 = tn_step4(t1, y1, a0, a1, a2, a3); }
    if (TN_GROUPS > 2u) {
      t2 = tn_step4(t2, y2, a0, a1, a2, a3);
      t3 = tn_step4(t3, y3, a0, a1, a2, a3);
    }
    ao += a_step;
    bo += b_step;
  }
  if (k4_end < k_end) {
    // The last 1-3 rows: rows past K read as zero (B's, so A's clamped rows add nothing).
    let last = k_end - 1u;
    let a0 = a_v4[min(k4_end, last) * m4 + ai];
    let a1 = a_v4[min(k4_end + 1u, last) * m4 + ai];
    let a2 = a_v4[min(k4_end + 2u, last) * m4 + ai];
    let a3 = a_v4[min(k4_end + 3u, last) * m4 + ai];
    let in_k = k4_end + q < k_end;
    var bv = vec4f(0.0);
    if (in_k) { bv = b_v4[bo + bj0]; }
    t0 = tn_step4(t0, bv, a0, a1, a2, a3);
    if (TN_GROUPS > 1u) {
      if (in_k) { bv = b_v4[bo + bj1]; }
      t1 = tn_step4(t1, bv, a0, a1, a2, a3);
    }
    if (TN_GROUPS > 2u) {
      if (in_k) { bv = b_v4[bo + bj2]; }
      t2 = tn_step4(t2, bv, a0, a1, a2, a3);
      if (in_k) { bv = b_v4[bo + bj3]; }
      t3 = tn_step4(t3, bv, a0, a1, a2, a3);
    }
  }
  // The biases before any lane returns: bias8 broadcasts across the subgroup.
  let b0 = bias8(j0, lane);
  let b1 = bias8(j0 + 8u, lane);
  let b2 = bias8(j0 + 16u, lane);
  let b3 = bias8(j0 + 24u, lane);
  let r = i0 + 4u * lane;
  if (r >= p.m) { return; }
  tn_store(t0, r, j0, 0u, b0, n4);
  if (TN_GROUPS > 1u) { tn_store(t1, r, j0, 1u, b1, n4); }
  if (TN_GROUPS > 2u) {
    tn_store(t2, r, j0, 2u, b2, n4);
    tn_store(t3, r, j0, 3u, b3, n4);
  }
}
