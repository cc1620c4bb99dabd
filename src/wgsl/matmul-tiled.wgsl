// Matrix multiply, workgroup-memory tiled (the variant real GPUs favour): C[M,N] =
// act(op(A)·op(B) + bias (+ C)).
//
// A 16x16 workgroup computes a 64x64 tile of C, each invocation a 4x4 block (rows ty*4+r,
// columns tx+16*q so neighbouring invocations store neighbouring columns). Each step of 16 k
// stages a 64x16 slice of A and a 16x64 slice of B in workgroup memory (zero-filled past the
// edges), loaded along whichever axis is contiguous in storage, then two barriers.
//
// Params, bindings, override constants and the epilogue: matmul-common.wgsl, which the host
// prepends.
//
// Shapes: A [M,K] (TRANS_A: stored [K,M]), B [K,N] (TRANS_B: stored [N,K]), bias [N], C [M,N].

const TILE: u32 = 64u;
const KT: u32 = 16u;

var<workgroup> as_: array<f32, 1024>;  // [KT][TILE]: A(i0 + ii, k0 + kk) at kk * TILE + ii
var<workgroup> bs_: array<f32, 1024>;  // [KT][TILE]: B(k0 + kk, j0 + jj) at kk * TILE + jj

fn a_at(i: u32, k: u32) -> f32 {
  if (i >= p.m || k >= p.k) { return 0.0; }
  if (TRANS_A) { return a[k * p.m + i]; }
  return a[i * p.k + k];
}
fn b_at(k: u32, j: u32) -> f32 {
  if (k >= p.k || j >= p.n) { return 0.0; }
  if (TRANS_B) { return b[j * p.k + k]; }
  return b[k * p.n + j];
}

// Shapes: A [M,K], B [K,N] (see TRANS_A/TRANS_B), bias [N] -> C [M,N]; 64x64 per workgroup.
@compute @workgroup_size(16, 16)
fn matmul_tiled(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_id) lid3: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  // Uniform across the workgroup, so every invocation reaches the barriers.
  let t = tile_index(wid, nwg);
  let i0 = (t / p.tiles_n) * TILE;
  let j0 = (t % p.tiles_n) * TILE;
  let tx = lid3.x;
  let ty = lid3.y;
  var acc: array<vec4f, 4>;  // acc[r][q]: C(i0 + ty*4 + r, j0 + tx + 16*q)
  for (var k0 = 0u; k0 < p.k; k0 += KT) {
    for (var e = 0u; e < 4u; e++) {
      let idx = lid + e * 256u;
      // Load along the storage-contiguous axis.
      if (TRANS_A) {
        as_[idx] = a_at(i0 + idx % TILE, k0 + idx / TILE);
      } else {
        as_[(idx % KT) * TILE + idx / KT] = a_at(i0 + idx / KT, k0 + idx % KT);
      }
      if (TRANS_B) {
        bs_[(idx % KT) * TILE + idx / KT] = b_at(k0 + idx % KT, j0 + idx / KT);
      } else {
        bs_[idx] = b_at(k0 + idx / TILE, j0 + idx % TILE);
      }
    }
    workgroupBarrier();
    for (var kk = 0u; kk < KT; kk++) {
      let ab = kk * TILE + ty * 4u;
      let av = vec4f(as_[ab], as_[ab + 1u], as_[ab + 2u], as_[ab + 3u]);
      let bb = kk * TILE + tx;
      let bv = vec4f(bs_[bb], bs_[bb + 16u], bs_[bb + 32u], bs_[bb + 48u]);
      acc[0] = fma(vec4f(av.x), bv, acc[0]);
      acc[1] = fma(vec4f(av.y), bv, acc[1]);
      acc[2] = fma(vec4f(av.z), bv, acc[2]);
      acc[3] = fma(vec4f(av.w), bv, acc[3]);
    }
    workgroupBarrier();
  }
  if (i0 >= p.m) { return; }
  for (var r = 0u; r < 4u; r++) {
    let i = i0 + ty * 4u + r;
    for (var q = 0u; q < 4u; q++) {
      let j = j0 + tx + 16u * q;
      if (i < p.m && j < p.n) { c[i * p.n + j] = epilogue(i, j, acc[r][q]); }
    }
  }
}
