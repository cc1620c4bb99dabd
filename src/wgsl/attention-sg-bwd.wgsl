// The score-gradient kernel of the attention backward for 8-lane subgroups: attention_dz of
// attention.wgsl as two passes of the broadcast tile (attention-sg-common.wgsl, prepended by the
// host). The products dQ, dK, dV / dX are attention_av_sg8 (attention-sg.wgsl).
//
// Per batch item, with R = Q K^T (unscaled) and dOut given:
//   dA = dOut V^T;  rowdot = rowsum(A * dA);  dZ = A * (dA - rowdot);  partial = rowsum(dZ * R).
// One workgroup per (batch item, 16 query rows) walks all tv keys 8 at a time, twice: pass 1 makes
// dA tiles, stores them in dZ and sums rowdot; pass 2 makes R tiles and turns the stored dA into
// dZ. A lane reads back only the rows it wrote, so no barrier. Rows past tq and columns past tv
// are clamped for loads and skipped for stores.
//
// Shapes: q, dOut [batch, tq, d]; k, v [batch, tv, d]; A, dZ [batch, tq, tv]; partial (batch * tq).

@group(0) @binding(1) var<storage, read> zq: array<f32>;
@group(0) @binding(2) var<storage, read> zk: array<f32>;
@group(0) @binding(3) var<storage, read> zv: array<f32>;
@group(0) @binding(4) var<storage, read> za: array<f32>;
@group(0) @binding(5) var<storage, read> zdout: array<f32>;
@group(0) @binding(6) var<storage, read_write> zdz: array<f32>;
@group(0) @binding(7) var<storage, read_write> zpart: array<f32>;

// Pass 1 for one row's up to 8 columns from j0 (at offset o): stores dA, returns sum A * dA.
fn put_da(o: u32, j0: u32, tv: u32, l: vec4f, h: vec4f) -> f32 {
  var s = 0.0;
  for (var c = 0u; c < 4u; c++) {
    if (j0 + c < tv) { zdz[o + c] = l[c]; s += za[o + c] * l[c]; }
    if (j0 + 4u + c < tv) { zdz[o + 4u + c] = h[c]; s += za[o + 4u + c] * h[c]; }
  }
  return s;
}

// Pass 2: dA (stored) -> dZ = A (dA - rowdot); returns sum dZ * R (l, h: the R tile row).
fn put_dz(o: u32, j0: u32, tv: u32, rowdot: f32, l: vec4f, h: vec4f) -> f32 {
  var s = 0.0;
  for (var c = 0u; c < 4u; c++) {
    if (j0 + c < tv) {
      let dz = za[o + c] * (zdz[o + c] - rowdot);
      zdz[o + c] = dz;
      s += dz * l[c];
    }
    if (j0 + 4u + c < tv) {
      let dz = za[o + 4u + c] * (zdz[o + 4u + c] - rowdot);
      zdz[o + 4u + c] = dz;
      s += dz * h[c];
    }
  }
  return s;
}

// Shapes: q, k, v, A, dOut -> dZ [batch, tq, tv], partial (batch * tq); 16 rows per workgroup.
@compute @workgroup_size(8)
fn attention_dz_sg8(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(subgroup_invocation_id) lane: u32,
) {
  let tv = p.tv;
  let d = p.d;
  if (past_rows(wid, nwg)) { return; }
  let r = rows_of(wid, nwg, lane, d);
  let d4 = d & ~3u;
  var rowdot0 = 0.0;
  var rowdot1 = 0.0;
  for (var j0 = 0u; j0 < tv; j0 += 8u) {
    let ko = (r.bi * tv + min(j0 + lane, tv - 1u)) * d;
    var t = ZERO_TILE;
    var c = 0u;
    for (; c < d4; c += 4u) {
      let a0 = vec4f(zdout[r.q0 + c], zdout[r.q0 + c + 1u], zdout[r.q0 + c + 2u], zdout[r.q0 + c + 3u]);
      let a1 = vec4f(zdout[r.q1 + c], zdout[r.q1 + c + 1u], zdout[r.q1 + c + 2u], zdout[r.q1 + c + 3u]);
      t = step4(t, a0, a1, vec4f(zv[ko + c], zv[ko + c + 1u], zv[ko + c + 2u], zv[ko + c + 3u]));
    }
    for (; c < d; c++) { t = step(t, zdout[r.q0 + c], zdout[r.q1 + c], zv[ko + c]); }
    if (r.ok0) { rowdot0 += put_da(r.o0 + j0, j0, tv, t.r0l, t.r0h); }
    if (r.ok1) { rowdot1 += put_da(r.o1 + j0, j0, tv, t.r1l, t.r1h); }
  }
  var part0 = 0.0;
  var part1 = 0.0;
  for (var j0 = 0u; j0 < tv; j0 += 8u) {
    let ko = (r.bi * tv + min(j0 + lane, tv - 1u)) * d;
    var t = ZERO_TILE;
    var c = 0u;
    for (; c < d4; c += 4u) {
      let a0 = vec4f(zq[r.q0 + c], zq[r.q0 + c + 1u], zq[r.q0 + c + 2u], zq[r.q0 + c + 3u]);
      let a1 = vec4f(zq[r.q1 + c], zq[r.q1 + c + 1u], zq[r.q1 + c + 2u], zq[r.q1 + c + 3u]);
      t = step4(t, a0, a1, vec4f(zk[ko + c], zk[ko + c + 1u], zk[ko + c + 2u], zk[ko + c + 3u]));
    }
    for (; c < d; c++) { t = step(t, zq[r.q0 + c], zq[r.q1 + c], zk[ko + c]); }
    if (r.ok0) { part0 += put_dz(r.o0 + j0, j0, tv, rowdot0, t.r0l, t.r0h); }
    if (r.ok1) { part1 += put_dz(r.o1 + j0, j0, tv, rowdot1, t.r1l, t.r1h); }
  }
  if (r.ok0) { zpart[r.bi * p.tq + r.r0] = part0; }
  if (r.ok1) { zpart[r.bi * p.tq + r.r1] = part1; }
}
