// matmul_sg8_v4 with B^T read through a uniform binding and 16 x 16 outputs per workgroup, for a B^T
// of at most 64 KiB (the backbone's first pointwise filters, 32x64 to 128x128). The host appends
// this fragment after matmul-sg.wgsl with B_U_LEN replaced by N*K/4: a uniform array needs a fixed
// size, so each size is its own module.
//
// Why: for a storage load with a per-lane offset lavapipe emits a loop over the lanes with a bounds
// check each; a uniform-binding load is a straight-line gather, about half the cost
// (docs/KERNELS.md). With B that cheap, 16 columns per workgroup pay: each lane loads two B vec4s
// per step of 4 k, and each A vec4 feeds 32 multiply-adds instead of 16. Measured on lavapipe
// against matmul_sg8_v4 (interleaved, bias + relu6): 1.27x at M100352 K32 N64, 1.06x at M25088
// K64 N128, 1.39x at M25088 K128 N128. With B in storage the wider tile alone was within noise.
//
// Shapes: A [M,K], B stored [N,K], K % 4 == 0, N % 4 == 0, N*K <= 16384, bias [N] -> C [M,N].

@group(0) @binding(2) var<uniform> b_u: array<vec4f, B_U_LEN>;

@compute @workgroup_size(8)
fn matmul_sg8_v4wu(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(subgroup_invocation_id) lane: u32,
) {
  // tiles_n counts 16-column tiles here.
  let tile = wid.x + (wid.y + wid.z * nwg.y) * nwg.x;
  let o = Origin((tile / p.tiles_n) * 16u, (tile % p.tiles_n) * 16u);
  if (o.i0 >= p.m) { return; }
  let k4 = p.k / 4u;
  let a0_base = min(o.i0 + lane, p.m - 1u) * k4;
  let a1_base = min(o.i0 + 8u + lane, p.m - 1u) * k4;
  let b0_base = min(o.j0 + lane, p.n - 1u) * k4;
  let b1_base = min(o.j0 + 8u + lane, p.n - 1u) * k4;
  var left = Tile(vec4f(0.0), vec4f(0.0), vec4f(0.0), vec4f(0.0));
  var right = Tile(vec4f(0.0), vec4f(0.0), vec4f(0.0), vec4f(0.0));
  for (var k = 0u; k < k4; k++) {
    let a0 = a_v4[a0_base + k];
    let a1 = a_v4[a1_base + k];
    left = step4(left, a0, a1, b_u[b0_base + k]);
    right = step4(right, a0, a1, b_u[b1_base + k]);
  }
  store_tile_v4(o, lane, left);
  if (o.j0 + 8u < p.n) { store_tile_v4(Origin(o.i0, o.j0 + 8u), lane, right); }
}
