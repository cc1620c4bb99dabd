// Global average pooling over H and W (NHWC): y[n, c] = mean over h, w of x[n, h, w, c], and its
// input gradient dx[n, h, w, c] = dy[n, c] / (h * w).
// The forward reduction gives each workgroup one image and a block of CB channels; its RL row
// lanes stride over the h*w positions and meet in workgroup memory (no serial loop over N*H*W).

struct PoolParams {
  n: u32,
  hw: u32,
  c: u32,
  inv_hw: f32,
}

override WG: u32 = 256u;
override CB: u32 = 64u;
override RL: u32 = 4u;
override RWG: u32 = CB * RL;

@group(0) @binding(0) var<uniform> p: PoolParams;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

var<workgroup> red: array<f32, RWG>;

// Shapes: x (n, hw, c) -> y (n, c). Workgroups: (ceil(c / CB), n).
@compute @workgroup_size(RWG)
fn pool_fwd(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let ch = wid.x * CB + lid % CB;
  let lane = lid / CB;
  let img = wid.y;
  var s = 0.0;
  if (ch < p.c) {
    let base = img * p.hw * p.c + ch;
    for (var r = lane; r < p.hw; r += RL) {
      s += x[base + r * p.c];
    }
  }
  red[lid] = s;
  workgroupBarrier();
  if (lane == 0u && ch < p.c) {
    var t = 0.0;
    for (var l = 0u; l < RL; l++) {
      t += red[l * CB + lid];
    }
    y[img * p.c + ch] = t * p.inv_hw;
  }
}

// Shapes: dy (n, c) -> dx (n, hw, c); here `x` is dy and `y` is dx.
@compute @workgroup_size(WG)
fn pool_dx(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + (gid.y + gid.z * nwg.y) * nwg.x * WG;
  if (i >= p.n * p.hw * p.c) { return; }
  let img = i / (p.hw * p.c);
  y[i] = x[img * p.c + i % p.c] * p.inv_hw;
}
