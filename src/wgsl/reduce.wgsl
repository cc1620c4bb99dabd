// Reductions of flat f32 arrays to one scalar: sum, sum of squares, and the global L2 norm of
// many buffers (Keras `global_clipnorm`). Two passes, never one serial thread over the data:
//   reduce_partial: `groups` workgroups (at most WG) each fold a grid-strided share of x into one
//                   partial, written to out[offset + workgroup]. Several arrays can write their
//                   partials side by side into one scratch buffer (the global-norm case).
//   reduce_final:   one workgroup folds the n partials and writes out[offset] (sqrt if SQRT).
//
// Shapes: x (n) -> partials (groups) -> out (1).

struct ReduceParams {
  n: u32,
  offset: u32,
  groups: u32,
  pad0: u32,
}

override WG: u32 = 256u;
// reduce_partial: square each element before summing.
override SQUARE: bool = false;
// reduce_final: write sqrt(sum) (an L2 norm from a sum of squares).
override SQRT: bool = false;

@group(0) @binding(0) var<uniform> p: ReduceParams;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

var<workgroup> acc: array<f32, WG>;

// Tree-sums acc[0..WG) into acc[0]; every invocation of the workgroup must call it.
fn fold(lid: u32) {
  workgroupBarrier();
  for (var k = WG / 2u; k > 0u; k = k >> 1u) {
    if (lid < k) { acc[lid] = acc[lid] + acc[lid + k]; }
    workgroupBarrier();
  }
}

// Shapes: x (n) -> out[offset + w] for w < groups. Dispatch exactly `groups` workgroups.
@compute @workgroup_size(WG)
fn reduce_partial(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  var s = 0.0;
  let stride = p.groups * WG;
  for (var i = wid.x * WG + lid.x; i < p.n; i = i + stride) {
    let v = x[i];
    s = s + select(v, v * v, SQUARE);
  }
  acc[lid.x] = s;
  fold(lid.x);
  if (lid.x == 0u) { out[p.offset + wid.x] = acc[0]; }
}

// Shapes: partials (n) -> out[offset] = sum (or its sqrt). One workgroup.
@compute @workgroup_size(WG)
fn reduce_final(@builtin(local_invocation_id) lid: vec3u) {
  var s = 0.0;
  for (var i = lid.x; i < p.n; i = i + WG) { s = s + x[i]; }
  acc[lid.x] = s;
  fold(lid.x);
  if (lid.x == 0u) { out[p.offset] = select(acc[0], sqrt(acc[0]), SQRT); }
}
