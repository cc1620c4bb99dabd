// The k loop of matmul_sg8_v4w (matmul-sg-wide.wgsl) over one source of B^T: rows B_J0.. of B^T
// (columns of C) in the array B_SRC. The host (src/kernels/matmul-windows.ts) instantiates this
// text once per source, replacing LOOP_ID, B_SRC and B_J0: for each uniform window
// (matmul-sg-window.wgsl) and, for rows no window holds, for storage (b_v4 from B_J0 = 0, as
// matmul_sg8_v4 reads it). WGSL cannot pass a binding to a function, hence the copies.

fn b_loop_LOOP_ID(r: WideRun, k4: u32) -> Wide {
  var t = wide_zero();
  let b0 = (r.j0 - B_J0u) * k4;
  let b1 = (r.j1 - B_J0u) * k4;
  for (var k = 0u; k < k4; k++) {
    let a0 = a_v4[r.a0 + k];
    let a1 = a_v4[r.a1 + k];
    t.left = step4(t.left, a0, a1, B_SRC[b0 + k]);
    t.right = step4(t.right, a0, a1, B_SRC[b1 + k]);
  }
  return t;
}
