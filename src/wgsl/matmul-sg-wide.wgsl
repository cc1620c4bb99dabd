// matmul_sg8_v4 with 16 x 16 outputs per workgroup: each lane loads two B vec4s per step of 4 k
// and each A vec4 feeds 32 multiply-adds instead of 16.
//
// B^T is read by `b_loops`, which the host appends (src/kernels/matmul-windows.ts): it picks, by
// the tile's first column, the k loop (matmul-sg-bloop.wgsl) of the uniform window that holds
// those columns of B^T (matmul-sg-window.wgsl) or the loop over storage for columns no window
// holds. Why windows: lavapipe loads a uniform binding with a straight-line gather, about half the
// cost of its per-lane storage-load loop (docs/KERNELS.md), but a binding holds only 64 KiB and a
// stage has only 12 uniform bindings.
// The choice is made once per tile, outside the k loop: lavapipe runs both sides of a branch
// under a lane mask, and a loop whose lanes are all masked off ends at once.
//
// Measured on lavapipe (interleaved, bias + relu6), windows against B^T from storage in this
// kernel: one window 1.27x at M100352 K32 N64, 1.39x at M25088 K128 N128; 2 windows 1.16-1.24x at
// M6272 K128 N256; 4 windows 1.14x at M6272 K256 N256; 8 windows 1.15x at M1568 K256 N512 and
// 1.27x at M1568 K512 N256. The storage loop alone: 1.02-1.19x over matmul_sg8_v4 for K and
// N >= 256, 0.9-1.14x below, so without a window the host keeps matmul_sg8_v4 there.
//
// Shapes: A [M,K], B stored [N,K], K % 4 == 0, N % 4 == 0, bias [N] -> C [M,N]; tiles_n counts
// 16-column tiles.

// Where this lane's two rows of A start (in vec4s) and the columns of C (rows of B^T) of its two
// B loads. K / 4 goes beside it: a loop around subgroupBroadcast needs a uniform bound, and WGSL's
// uniformity analysis sees a struct with one per-lane field as per-lane as a whole.
struct WideRun { a0: u32, a1: u32, j0: u32, j1: u32 }
// The lane's 32 outputs: columns j0..j0+7 (left) and j0+8..j0+15 (right).
struct Wide { left: Tile, right: Tile }

fn wide_zero() -> Wide {
  return Wide(ZERO_TILE, ZERO_TILE);
}

@compute @workgroup_size(8)
fn matmul_sg8_v4w(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(subgroup_invocation_id) lane: u32,
) {
  let tile = tile_index(wid, nwg);
  let o = Origin((tile / p.tiles_n) * 16u, (tile % p.tiles_n) * 16u);
  if (o.i0 >= p.m) { return; }
  let k4 = p.k / 4u;
  let run = WideRun(
    min(o.i0 + lane, p.m - 1u) * k4, min(o.i0 + 8u + lane, p.m - 1u) * k4,
    min(o.j0 + lane, p.n - 1u), min(o.j0 + 8u + lane, p.n - 1u),
  );
  let t = b_loops(o.j0, run, k4);
  store_tile_v4(o, lane, t.left);
  if (o.j0 + 8u < p.n) { store_tile_v4(Origin(o.i0, o.j0 + 8u), lane, t.right); }
}
