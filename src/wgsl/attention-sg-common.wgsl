enable subgroups;

// Shared by attention-sg.wgsl and attention-sg-bwd.wgsl (the host prepends this fragment, then
// subgroup-tile.wgsl, to each; WGSL has no includes): params, the masked score and the row helpers.
// The 16 x 8 subgroup-broadcast tile both kernels compute with is subgroup-tile.wgsl, the same as
// the matrix multiply's.
//
// Shapes: q [batch, tq, d]; k, v [batch, tv, d]; scale (1); A, dZ [batch, tq, tv].

struct AttentionParams {
  batch: u32,
  tq: u32,
  tv: u32,
  d: u32,
}

@group(0) @binding(0) var<uniform> p: AttentionParams;

// A masked score: exp() of it minus any real maximum is 0.
const MASKED = -3.0e38;

// The workgroup's flat index over a dispatch folded into y/z.
fn flat_wg(wid: vec3u, nwg: vec3u) -> u32 {
  return wid.x + (wid.y + wid.z * nwg.y) * nwg.x;
}

// Whether a workgroup of the row-block kernels (probs, dz; ceil(tq / 16) blocks of rows per batch
// item) lies past the dispatch. Kept apart from rows_of: a struct holding a per-lane value is
// non-uniform as a whole, and the subgroup broadcasts after this early return need it uniform.
fn past_rows(wid: vec3u, nwg: vec3u) -> bool {
  return flat_wg(wid, nwg) >= p.batch * ((p.tq + 15u) / 16u);
}

// Where a row-block workgroup works: batch item bi, this lane's rows r0 and r1 = r0 + 8 (ok0, ok1:
// below tq), where they start in a [batch, tq, width] operand (q0, q1: clamped, for loads) and in
// A or dZ (o0, o1).
struct Rows { bi: u32, r0: u32, r1: u32, ok0: bool, ok1: bool, q0: u32, q1: u32, o0: u32, o1: u32 }
fn rows_of(wid: vec3u, nwg: vec3u, lane: u32, width: u32) -> Rows {
  let tq = p.tq;
  let blocks = (tq + 15u) / 16u;
  let w = flat_wg(wid, nwg);
  let bi = w / blocks;
  let r0 = (w % blocks) * 16u + lane;
  let r1 = r0 + 8u;
  let q0 = (bi * tq + min(r0, tq - 1u)) * width;
  let q1 = (bi * tq + min(r1, tq - 1u)) * width;
  return Rows(bi, r0, r1, r0 < tq, r1 < tq, q0, q1, (bi * tq + r0) * p.tv, (bi * tq + r1) * p.tv);
}
