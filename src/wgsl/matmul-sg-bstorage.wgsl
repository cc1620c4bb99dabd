// B^T for matmul_sg8_v4w (matmul-sg-wide.wgsl) from storage, as matmul_sg8_v4 reads it.

fn load_b(i: u32) -> vec4f {
  return b_v4[i];
}
