// Matrix multiply, register-tiled: C[M,N] = act(op(A)·op(B) + bias (+ C)), and the bias
// gradient db[N] = column sums of dC[M,N] (two-pass).
//
// Why this shape: on lavapipe (llvmpipe) every storage-buffer load is a per-lane scalar load and
// workgroup barriers are costly, so each invocation keeps an 8x8 block of C in registers
// (16 vec4 accumulators) and loads 8 values of A and 8 of B per k: 64 FMAs per 16 loads, no
// workgroup memory, no barriers. A workgroup is WG invocations side by side along N (WG*8
// columns) sharing the same 8 rows. Tiles are numbered t = tm * tiles_n + tn and the flat tile
// index folds y/z of a large dispatch (M up to 100352 rows). Out-of-range rows/columns are
// clamped for loads and skipped for stores, so any M, K, N works.
//
// Params, bindings, override constants and the epilogue: matmul-common.wgsl, which the host
// prepends.
//
// Shapes: A [M,K] (TRANS_A: stored [K,M]), B [K,N] (TRANS_B: stored [N,K]), bias [N], C [M,N].

override WG: u32 = 32u;          // invocations per workgroup, all along N (host picks 8..32)

// A(i, k) and B(k, j) whatever the storage order.
fn a_at(i: u32, k: u32) -> f32 {
  if (TRANS_A) { return a[k * p.m + i]; }
  return a[i * p.k + k];
}
fn b_at(k: u32, j: u32) -> f32 {
  if (TRANS_B) { return b[j * p.k + k]; }
  return b[k * p.n + j];
}

// Shapes: A [M,K], B [K,N] (see TRANS_A/TRANS_B), bias [N] -> C [M,N]; 8x8 outputs per invocation.
@compute @workgroup_size(WG)
fn matmul_reg(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let t = tile_index(wid, nwg);
  let i0 = (t / p.tiles_n) * 8u;
  if (i0 >= p.m) { return; }
  let j0 = ((t % p.tiles_n) * WG + lid) * 8u;
  // Clamped coordinates: loads stay inside A and B; stores check the real ones.
  let ri = min(vec4u(i0) + vec4u(0u, 1u, 2u, 3u), vec4u(p.m - 1u));
  let rj = min(vec4u(i0) + vec4u(4u, 5u, 6u, 7u), vec4u(p.m - 1u));
  let ci = min(vec4u(j0) + vec4u(0u, 1u, 2u, 3u), vec4u(p.n - 1u));
  let cj = min(vec4u(j0) + vec4u(4u, 5u, 6u, 7u), vec4u(p.n - 1u));
  var acc0l = vec4f(0.0);
  var acc0h = vec4f(0.0);
  var acc1l = vec4f(0.0);
  var acc1h = vec4f(0.0);
  var acc2l = vec4f(0.0);
  var acc2h = vec4f(0.0);
  var acc3l = vec4f(0.0);
  var acc3h = vec4f(0.0);
  var acc4l = vec4f(0.0);
  var acc4h = vec4f(0.0);
  var acc5l = vec4f(0.0);
  var acc5h = vec4f(0.0);
  var acc6l = vec4f(0.0);
  var acc6h = vec4f(0.0);
  var acc7l = vec4f(0.0);
  var acc7h = vec4f(0.0);
  for (var k = 0u; k < p.k; k++) {
    let bl = vec4f(b_at(k, ci.x), b_at(k, ci.y), b_at(k, ci.z), b_at(k, ci.w));
    let bh = vec4f(b_at(k, cj.x), b_at(k, cj.y), b_at(k, cj.z), b_at(k, cj.w));
    let a0 = vec4f(a_at(ri.x, k));
    acc0l = fma(a0, bl, acc0l);
    acc0h = fma(a0, bh, acc0h);
    let a1 = vec4f(a_at(ri.y, k));
    acc1l = fma(a1, bl, acc1l);
    acc1h = fma(a1, bh, acc1h);
    let a2 = vec4f(a_at(ri.z, k));
    acc2l = fma(a2, bl, acc2l);
    acc2h = fma(a2, bh, acc2h);
    let a3 = vec4f(a_at(ri.w, k));
    acc3l = fma(a3, bl, acc3l);
    acc3h = fma(a3, bh, acc3h);
    let a4 = vec4f(a_at(rj.x, k));
    acc4l = fma(a4, bl, acc4l);
    acc4h = fma(a4, bh, acc4h);
    let a5 = vec4f(a_at(rj.y, k));
    acc5l = fma(a5, bl, acc5l);
    acc5h = fma(a5, bh, acc5h);
    let a6 = vec4f(a_at(rj.z, k));
    acc6l = fma(a6, bl, acc6l);
    acc6h = fma(a6, bh, acc6h);
    let a7 = vec4f(a_at(rj.w, k));
    acc7l = fma(a7, bl, acc7l);
    acc7h = fma(a7, bh, acc7h);
  }
  store4(i0 + 0u, j0, acc0l);
  store4(i0 + 0u, j0 + 4u, acc0h);
  store4(i0 + 1u, j0, acc1l);
  store4(i0 + 1u, j0 + 4u, acc1h);
  store4(i0 + 2u, j0, acc2l);
  store4(i0 + 2u, j0 + 4u, acc2h);
  store4(i0 + 3u, j0, acc3l);
  store4(i0 + 3u, j0 + 4u, acc3h);
  store4(i0 + 4u, j0, acc4l);
  store4(i0 + 4u, j0 + 4u, acc4h);
  store4(i0 + 5u, j0, acc5l);
  store4(i0 + 5u, j0 + 4u, acc5h);
  store4(i0 + 6u, j0, acc6l);
  store4(i0 + 6u, j0 + 4u, acc6h);
  store4(i0 + 7u, j0, acc7l);
  store4(i0 + 7u, j0 + 4u, acc7h);
}

// ---- Bias gradient: db[j] = sum_i dC[i, j], in two passes so no thread walks all M rows.

struct DbParams {
  m: u32,
  n: u32,
  rows: u32,    // rows per chunk in the first pass
  chunks: u32,  // ceil(m / rows)
}

override DB_WG: u32 = 64u;
override DB_ACCUM: bool = false;  // the last pass adds to db instead of overwriting it

@group(0) @binding(0) var<uniform> q: DbParams;
@group(0) @binding(1) var<storage, read> db_in: array<f32>;
@group(0) @binding(2) var<storage, read_write> db_out: array<f32>;

// Pass 1. Shapes: dC [M,N] -> partial [chunks, N]; one invocation per (chunk, column).
@compute @workgroup_size(DB_WG)
fn matmul_db_partial(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let idx = gid.x + (gid.y + gid.z * nwg.y) * nwg.x * DB_WG;
  if (idx >= q.chunks * q.n) { return; }
  let j = idx % q.n;
  let chunk = idx / q.n;
  let r0 = chunk * q.rows;
  let r1 = min(r0 + q.rows, q.m);
  var s = 0.0;
  for (var i = r0; i < r1; i++) { s += db_in[i * q.n + j]; }
  if (DB_ACCUM && q.chunks == 1u) { s += db_out[idx]; }
  db_out[idx] = s;
}

// Pass 2. Shapes: partial [chunks, N] -> db [N]; one invocation per column.
@compute @workgroup_size(DB_WG)
fn matmul_db_sum(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let j = gid.x + (gid.y + gid.z * nwg.y) * nwg.x * DB_WG;
  if (j >= q.n) { return; }
  var s = 0.0;
  for (var r = 0u; r < q.chunks; r++) { s += db_in[r * q.n + j]; }
  if (DB_ACCUM) { s += db_out[j]; }
  db_out[j] = s;
}

// ---- Transpose: x [m, n] -> y [n, m] (q.m, q.n), e.g. a pointwise filter [cin, cout] into the
// [cout, cin] layout matmul_sg8_v4 reads as vec4s. One element per invocation, reads contiguous.
@compute @workgroup_size(DB_WG)
fn matmul_transpose(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let idx = gid.x + (gid.y + gid.z * nwg.y) * nwg.x * DB_WG;
  if (idx >= q.m * q.n) { return; }
  db_out[(idx % q.n) * q.m + idx / q.n] = db_in[idx];
}
