// CPU references for src/wgsl/dropout.wgsl: Philox4x32-10 (checked against the Random123
// known-answer vectors in the test) and the dropout mask built from it.

const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;

/** Philox4x32-10; 64-bit products via Math.imul (low word) and BigInt (high word). */
export function philox4x32_10(counter: readonly number[], key: readonly number[]): Uint32Array {
  let [c0, c1, c2, c3] = counter.map((v) => v >>> 0);
  let [k0, k1] = key.map((v) => v >>> 0);
  const mulhi = (a: number, b: number) => Number((BigInt(a) * BigInt(b)) >> 32n);
  for (let r = 0; r < 10; r++) {
    if (r > 0) {
      k0 = (k0 + 0x9e3779b9) >>> 0;
      k1 = (k1 + 0xbb67ae85) >>> 0;
    }
    const hi0 = mulhi(M0, c0);
    const lo0 = Math.imul(M0, c0) >>> 0;
    const hi1 = mulhi(M1, c2);
    const lo1 = Math.imul(M1, c2) >>> 0;
    [c0, c1, c2, c3] = [(hi1 ^ c1 ^ k0) >>> 0, lo1, (hi0 ^ c3 ^ k1) >>> 0, lo0];
  }
  return Uint32Array.of(c0, c1, c2, c3);
}

/** Per-element scale factor (0 or 1 / (1 - rate)) of the GPU mask; spatial needs NHWC. */
export function mask(shape: readonly number[], o: { rate: number; seed: number; seedHi?: number; step?: number; spatial?: boolean }): Float64Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const threshold = Math.ceil(o.rate * 2 ** 24);
  const scale = Math.fround(1 / (1 - o.rate));
  const out = new Float64Array(n);
  const [c, hw] = o.spatial ? [shape[3], shape[1] * shape[2]] : [1, 1];
  let cachedBlock = -1;
  let w: Uint32Array = new Uint32Array(4);
  for (let e = 0; e < n; e++) {
    const d = o.spatial ? Math.floor(e / (hw * c)) * c + (e % c) : e;
    if (d >>> 2 !== cachedBlock) {
      cachedBlock = d >>> 2;
      w = philox4x32_10([cachedBlock, 0, o.step ?? 0, 0], [o.seed, o.seedHi ?? 0]);
    }
    out[e] = w[d & 3] >>> 8 >= threshold ? scale : 0;
  }
  return out;
}
