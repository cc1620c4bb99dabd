// IEEE 754 half precision to float32 (weights stored as float16 by Keras or in checkpoints).

/** One half-precision bit pattern to a number. */
export function halfBitsToNumber(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

/** Little-endian half-precision bytes to float32. */
export function halfToFloat32(bytes: Uint8Array): Float32Array {
  const n = bytes.length >> 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = halfBitsToNumber(bytes[2 * i] | (bytes[2 * i + 1] << 8));
  return out;
}
