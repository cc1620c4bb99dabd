// B^T for matmul_sg8_v4w (matmul-sg-wide.wgsl) through a uniform binding, for a B^T of at most
// 64 KiB (the backbone's first pointwise filters, 32x64 to 128x128). The host replaces B_U_LEN
// with N*K/4: a uniform array needs a fixed size, so each size is its own module.
//
// Why: for a storage load with a per-lane offset lavapipe emits a loop over the lanes with a bounds
// check each; a uniform-binding load is a straight-line gather, about half the cost
// (docs/KERNELS.md).

@group(0) @binding(2) var<uniform> b_u: array<vec4f, B_U_LEN>;

fn load_b(i: u32) -> vec4f {
  return b_u[i];
}
