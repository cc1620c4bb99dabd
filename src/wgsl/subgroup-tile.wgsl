// The subgroup-broadcast tile shared by the matrix multiply (matmul-sg.wgsl, matmul-sg-wide.wgsl)
// and attention (attention-sg.wgsl, attention-sg-bwd.wgsl); the host prepends it after
// `enable subgroups;` (WGSL has no includes).
//
// A workgroup is exactly one 8-lane subgroup; lane l owns rows r0 = i0+l and r1 = i0+8+l of a
// 16 x 8 output tile. Per k each lane loads one value of the right operand and the subgroup
// broadcasts the eight to every lane (a register shuffle on lavapipe, where every storage load is
// paid per lane): 8 FMAs per loaded left value instead of 1.

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
