// Shared by elementwise.wgsl and elementwise-vec4.wgsl, which the host prepends it to (WGSL has no
// includes): params, bindings and the flat index. Each of the two declares `alias Elem`, the
// element its arrays hold (f32, or vec4f for n % 4 == 0).

struct ElementwiseParams {
  n: u32,
  alpha: f32,
  beta: f32,
  pad0: u32,
}

override WG: u32 = 256u;

@group(0) @binding(0) var<uniform> p: ElementwiseParams;

// Signature (0 inputs, 1 output).
@group(0) @binding(1) var<storage, read_write> out0: array<Elem>;
// Signature (1 input, 1 output).
@group(0) @binding(1) var<storage, read> x1: array<Elem>;
@group(0) @binding(2) var<storage, read_write> y1: array<Elem>;
// Signature (2 inputs, 1 output).
@group(0) @binding(1) var<storage, read> a2: array<Elem>;
@group(0) @binding(2) var<storage, read> b2: array<Elem>;
@group(0) @binding(3) var<storage, read_write> y2: array<Elem>;

fn flat(gid: vec3u, nwg: vec3u) -> u32 {
  return gid.x + (gid.y + gid.z * nwg.y) * nwg.x * WG;
}
