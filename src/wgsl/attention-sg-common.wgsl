enable subgroups;

// Shared by attention-sg.wgsl and attention-sg-bwd.wgsl (the host prepends this fragment to each;
// WGSL has no includes): params, and the subgroup-broadcast tile of matmul-sg.wgsl.
//
// Why the tile: lavapipe pays per lane for every storage load while subgroupBroadcast with a
// constant lane is a register shuffle. A workgroup is exactly one 8-lane subgroup (the host checks
// the size); lane l owns rows r0 = i0+l and r1 = i0+8+l of a 16 x 8 output tile, loads one value
// of the right operand per k and broadcasts it: 8 FMAs per loaded left value instead of 1.
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

// Lanes 0..3 and 4..7 of x, as seen by every lane.
fn lanes_lo(x: f32) -> vec4f {
  return vec4f(subgroupBroadcast(x, 0u), subgroupBroadcast(x, 1u), subgroupBroadcast(x, 2u), subgroupBroadcast(x, 3u));
}
fn lanes_hi(x: f32) -> vec4f {
  return vec4f(subgroupBroadcast(x, 4u), subgroupBroadcast(x, 5u), subgroupBroadcast(x, 6u), subgroupBroadcast(x, 7u));
}

// A lane's 16 outputs: rows r0 (lo: columns j0..j0+3, hi: j0+4..j0+7) and r1.
struct Tile { r0l: vec4f, r0h: vec4f, r1l: vec4f, r1h: vec4f }

const ZERO_TILE = Tile(vec4f(0.0), vec4f(0.0), vec4f(0.0), vec4f(0.0));

// One k: this lane's left values of its two rows times the 8 right values of the subgroup's lanes.
fn step(t: Tile, a0: f32, a1: f32, bv: f32) -> Tile {
  let bl = lanes_lo(bv);
  let bh = lanes_hi(bv);
  return Tile(fma(vec4f(a0), bl, t.r0l), fma(vec4f(a0), bh, t.r0h), fma(vec4f(a1), bl, t.r1l), fma(vec4f(a1), bh, t.r1h));
}
// Four k at once (unrolled: lavapipe runs every loop under a lane mask).
fn step4(t: Tile, a0: vec4f, a1: vec4f, bv: vec4f) -> Tile {
  return step(step(step(step(t, a0.x, a1.x, bv.x), a0.y, a1.y, bv.y), a0.z, a1.z, bv.z), a0.w, a1.w, bv.w);
}

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
