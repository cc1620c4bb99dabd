// The fused input stage: uint8 RGB images -> float NHWC ready for MobileNet.
//   resize:      Keras `Resizing` (TF resize bilinear, half-pixel centres, no antialias):
//                s = (o + 0.5) * in / out - 0.5; lo = max(floor(s), 0); hi = min(ceil(s), in - 1);
//                frac = s - floor(s); rows interpolated after columns, as TF does.
//   augment:     (training) RandomFlip("horizontal") with probability 0.5, then
//                RandomContrast: y = clip((x - mean) * f + mean, 0, 255), mean per image and
//                channel over the resized image, f uniform in [1 - lower, 1 + upper].
//   preprocess:  MobileNet preprocess_input, x / 127.5 - 1.
// Inference is one pass (input_resize). Training is three: input_resize with AUGMENT (raw values),
// input_stats (one workgroup per image: channel means and the contrast factor), input_contrast
// (in place: contrast, clip, preprocess).
//
// Randomness is a counter-based hash of (seed, step, image, stream) read from `rng` = [seed, step]
// (u32), so a step is reproducible and `input_advance` can move to the next step on the GPU;
// src/kernels/input.ts `augmentation()` computes the same flip and factor on the CPU.
//
// Shapes: src: n * hin * win * 3 bytes packed 4 per u32 (little-endian); y [n, hout, wout, 3];
//         stats [n, 4] = (mean r, mean g, mean b, factor); rng (2) u32.

struct InputParams {
  n: u32,
  hin: u32,
  win: u32,
  hout: u32,
  wout: u32,
  lower: f32,
  upper: f32,
  pad0: u32,
}

override WG: u32 = 64u;
override RWG: u32 = 256u;
// input_resize: training (flip, raw 0..255 output) instead of inference (preprocessed output).
override AUGMENT: bool = false;

@group(0) @binding(0) var<uniform> p: InputParams;

// input_contrast (1 input, 1 output): stats -> y (in place).
@group(0) @binding(1) var<storage, read> cstats: array<f32>;
@group(0) @binding(2) var<storage, read_write> y1: array<f32>;
// input_resize (2 inputs, 1 output): src, rng -> y (inference binds src again as rng, unread).
@group(0) @binding(1) var<storage, read> src2: array<u32>;
@group(0) @binding(2) var<storage, read> rng2: array<u32>;
@group(0) @binding(3) var<storage, read_write> y2: array<f32>;
// input_bytes (2 inputs, 1 output): y as vec4s.
@group(0) @binding(3) var<storage, read_write> y2v: array<vec4f>;
// input_stats (2 inputs, 1 output): y, rng -> stats (binding 3, y2 above).
@group(0) @binding(1) var<storage, read> sy: array<f32>;
// input_advance (0 inputs, 1 output): rng, in place.
@group(0) @binding(1) var<storage, read_write> rng0: array<u32>;

var<workgroup> acc: array<vec3f, RWG>;

fn flat(gid: vec3u, nwg: vec3u) -> u32 {
  return gid.x + (gid.y + gid.z * nwg.y) * nwg.x * WG;
}

// lowbias32 (Chris Wellons): a well-mixing 32-bit integer hash.
fn mix32(x: u32) -> u32 {
  var h = x;
  h = h ^ (h >> 16u);
  h = h * 0x7feb352du;
  h = h ^ (h >> 15u);
  h = h * 0x846ca68bu;
  h = h ^ (h >> 16u);
  return h;
}

// Uniform in [0, 1) for (seed, step, image, stream); stream 0: flip, 1: contrast.
fn unit(seed: u32, step: u32, image: u32, stream: u32) -> f32 {
  let h = mix32(mix32(mix32(mix32(seed) ^ step) ^ image) ^ stream);
  return f32(h >> 8u) * (1.0 / 16777216.0);
}

// Source sample positions along one axis: (lo, hi, frac) for output index o. The position
// s = (o + 0.5) * insz / outsz - 0.5 = num / (2 outsz) with the integer num = (2o + 1) insz - outsz
// is split exactly into floor and fraction (a float32 s near 300 would be off by 2e-5 pixels).
fn axis(o: u32, insz: u32, outsz: u32) -> vec3f {
  let den = 2 * i32(outsz);
  let num = (2 * i32(o) + 1) * i32(insz) - i32(outsz);
  let fl = select(num / den, -((-num + den - 1) / den), num < 0);
  let frac = f32(num - fl * den) / f32(den);
  let lo = max(fl, 0);
  let hi = min(select(fl, fl + 1, frac > 0.0), i32(insz) - 1);
  return vec3f(f32(lo), f32(max(hi, 0)), frac);
}

fn byte_at(i: u32) -> f32 {
  let w = src2[i >> 2u];
  return f32((w >> ((i & 3u) * 8u)) & 0xffu);
}

// The input already has the output size: Keras' half-pixel bilinear map is then the identity, so
// the pixel is read as is (3 loads instead of 12, and no per-lane integer divisions in axis()).
override IDENTITY: bool = false;

// Bilinear RGB of output pixel (img, oy, ox).
fn resize_px(img: u32, oy: u32, ox: u32) -> vec3f {
  if (IDENTITY) {
    let o = ((img * p.hin + oy) * p.win + ox) * 3u;
    return vec3f(byte_at(o), byte_at(o + 1u), byte_at(o + 2u));
  }
  let ay = axis(oy, p.hin, p.hout);
  let ax = axis(ox, p.win, p.wout);
  let base = img * p.hin * p.win;
  let r0 = base + u32(ay.x) * p.win;
  let r1 = base + u32(ay.y) * p.win;
  var rgb: vec3f;
  for (var c = 0u; c < 3u; c++) {
    let tl = byte_at((r0 + u32(ax.x)) * 3u + c);
    let tr = byte_at((r0 + u32(ax.y)) * 3u + c);
    let bl = byte_at((r1 + u32(ax.x)) * 3u + c);
    let br = byte_at((r1 + u32(ax.y)) * 3u + c);
    let top = tl + (tr - tl) * ax.z;
    let bottom = bl + (br - bl) * ax.z;
    rgb[c] = top + (bottom - top) * ay.z;
  }
  return rgb;
}

// Inference (AUGMENT false): src -> y [n, hout, wout, 3] = resize / 127.5 - 1.
// Training pass 1 (AUGMENT): src, rng (2) -> y, raw 0..255 values, randomly flipped per image.
@compute @workgroup_size(WG)
fn input_resize(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat(gid, nwg);
  if (i >= p.n * p.hout * p.wout) { return; }
  let img = i / (p.hout * p.wout);
  let r = i % (p.hout * p.wout);
  var ox = r % p.wout;
  if (AUGMENT && unit(rng2[0], rng2[1], img, 0u) < 0.5) { ox = p.wout - 1u - ox; }
  let rgb = resize_px(img, r / p.wout, ox);
  for (var c = 0u; c < 3u; c++) {
    y2[i * 3u + c] = select(rgb[c] / 127.5 - 1.0, rgb[c], AUGMENT);
  }
}

// Inference when the input already has the output size and holds a multiple of 4 bytes:
// y = byte / 127.5 - 1, element by element, one u32 (4 bytes) in and one vec4 out per invocation.
// No pixel arithmetic: input_resize's per-lane integer divisions and 3 loads + 3 stores per pixel
// cost ~9 ms for a batch of 8 at 224x224 on lavapipe. items = n * hin * win * 3 / 4.
@compute @workgroup_size(WG)
fn input_bytes(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat(gid, nwg);
  if (i >= p.n * p.hin * p.win * 3u / 4u) { return; }
  let w = src2[i];
  let bytes = vec4f(f32(w & 0xffu), f32((w >> 8u) & 0xffu), f32((w >> 16u) & 0xffu), f32(w >> 24u));
  y2v[i] = bytes / 127.5 - 1.0;
}

// Training pass 2: one workgroup per image. Shapes: y [n, hout, wout, 3], rng -> stats [n, 4].
@compute @workgroup_size(RWG)
fn input_stats(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let img = wid.x;
  let px = p.hout * p.wout;
  let base = img * px;
  var s = vec3f(0.0);
  for (var k = lid.x; k < px; k = k + RWG) {
    let o = (base + k) * 3u;
    s = s + vec3f(sy[o], sy[o + 1u], sy[o + 2u]);
  }
  acc[lid.x] = s;
  workgroupBarrier();
  for (var k = RWG / 2u; k > 0u; k = k >> 1u) {
    if (lid.x < k) { acc[lid.x] = acc[lid.x] + acc[lid.x + k]; }
    workgroupBarrier();
  }
  if (lid.x == 0u) {
    let mean = acc[0] / f32(px);
    let u = unit(rng2[0], rng2[1], img, 1u);
    y2[img * 4u] = mean.x;
    y2[img * 4u + 1u] = mean.y;
    y2[img * 4u + 2u] = mean.z;
    y2[img * 4u + 3u] = (1.0 - p.lower) + (p.lower + p.upper) * u;
  }
}

// Training pass 3, in place. Shapes: stats [n, 4], y [n, hout, wout, 3] -> y, preprocessed.
@compute @workgroup_size(WG)
fn input_contrast(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat(gid, nwg);
  if (i >= p.n * p.hout * p.wout * 3u) { return; }
  let img = i / (p.hout * p.wout * 3u);
  let c = i % 3u;
  let mean = cstats[img * 4u + c];
  let f = cstats[img * 4u + 3u];
  let v = clamp((y1[i] - mean) * f + mean, 0.0, 255.0);
  y1[i] = v / 127.5 - 1.0;
}

// Next training step: rng[1] += 1. One invocation.
@compute @workgroup_size(1)
fn input_advance() {
  rng0[1] = rng0[1] + 1u;
}
