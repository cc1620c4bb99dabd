// matmul_sg8_v4 with 16 x 16 outputs per workgroup: each lane loads two B vec4s per step of 4 k
// and each A vec4 feeds 32 multiply-adds instead of 16. B comes through `load_b`, defined by the
// fragment the host appends after this one: matmul-sg-ubo.wgsl (B^T of at most 64 KiB in a
// uniform binding, which lavapipe loads with a straight-line gather instead of its per-lane
// storage-load loop) or matmul-sg-bstorage.wgsl (B^T in storage, for K and N >= 256).
//
// Measured on lavapipe against matmul_sg8_v4 (interleaved, bias + relu6). Uniform B: 1.27x at
// M100352 K32 N64, 1.06x at M25088 K64 N128, 1.39x at M25088 K128 N128. Storage B: 1.05x at
// M6272 K256 N256, 1.02x at M1568 K256 N512, 1.19x at M1568 K512 N512, 0.98x at 1024^3; with
// smaller K it ranged 0.9-1.14x, so the host keeps matmul_sg8_v4 there.
//
// Shapes: A [M,K], B stored [N,K], K % 4 == 0, N % 4 == 0, bias [N] -> C [M,N]; tiles_n counts
// 16-column tiles.

@compute @workgroup_size(8)
fn matmul_sg8_v4w(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(subgroup_invocation_id) lane: u32,
) {
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
    left = step4(left, a0, a1, load_b(b0_base + k));
    right = step4(right, a0, a1, load_b(b1_base + k));
  }
  store_tile_v4(o, lane, left);
  if (o.j0 + 8u < p.n) { store_tile_v4(Origin(o.i0, o.j0 + 8u), lane, right); }
}
