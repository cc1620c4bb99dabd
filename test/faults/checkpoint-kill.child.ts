// Writes the same checkpoint path over and over, each version filled with its version number,
// and says "wrote N" after each; the parent kills it with SIGKILL mid-write.
import { saveCheckpoint } from '../../src/io/checkpoint.js';

const path = process.argv[2];
const floats = 4 * 1024 * 1024; // 16 MB per tensor: a write takes long enough to be interrupted
for (let v = 1; ; v++) {
  const data = new Float32Array(floats).fill(v);
  saveCheckpoint(path, { tensors: new Map([['w', { shape: [floats], data }]]), training: { version: v } });
  process.stdout.write(`wrote ${v}\n`);
}
