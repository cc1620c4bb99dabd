// Shared by the matrix multiply kernels (matmul.wgsl, matmul-sg.wgsl, matmul-tiled.wgsl): the host
// prepends this fragment to each (WGSL has no includes). Params, bindings, override constants and
// the epilogue C = act(acc + bias (+ C)).
//
// Shapes: A [M,K] (TRANS_A: stored [K,M]), B [K,N] (TRANS_B: stored [N,K]), bias [N], C [M,N].

struct MatmulParams {
  m: u32,
  k: u32,
  n: u32,
  tiles_n: u32,
}

override TRANS_A: bool = false;  // A stored [K,M]: C = A^T·B (dB = A^T·dC)
override TRANS_B: bool = false;  // B stored [N,K]: C = A·B^T (dA = dC·B^T)
override HAS_BIAS: bool = false;
override ACT: u32 = 0u;          // 0 none, 1 relu, 2 relu6
override ACCUM: bool = false;    // add the previous C (gradient accumulation)

@group(0) @binding(0) var<uniform> p: MatmulParams;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> c: array<f32>;

// The flat index of this workgroup's tile; the host folds a large tile count over y and z.
fn tile_index(wid: vec3u, nwg: vec3u) -> u32 {
  return wid.x + (wid.y + wid.z * nwg.y) * nwg.x;
}

fn epilogue(i: u32, j: u32, acc: f32) -> f32 {
  var v = acc;
  if (HAS_BIAS) { v += bias[j]; }
  if (ACCUM) { v += c[i * p.n + j]; }
  if (ACT == 1u) { v = max(v, 0.0); }
  if (ACT == 2u) { v = clamp(v, 0.0, 6.0); }
  return v;
}

// Writes one row of 4 outputs starting at column j, skipping what lies outside C.
fn store4(i: u32, j: u32, v: vec4f) {
  if (i >= p.m) { return; }
  for (var q = 0u; q < 4u; q++) {
    if (j + q < p.n) { c[i * p.n + j + q] = epilogue(i, j + q, v[q]); }
  }
}
