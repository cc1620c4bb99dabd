import { createPad } from '../../src/kernels/pad.js';
import { testGpu, run, Buffers } from '../helpers/gpu.js';
import { uniform } from '../helpers/random.js';
import { expectClose } from '../helpers/assert.js';
import * as ref from '../reference/pad.js';

const CASES: [number[], number, number, number, number][] = [
  [[1, 1, 1, 1], 0, 0, 0, 0],
  [[2, 5, 7, 3], 0, 1, 0, 1], // MobileNet's ZeroPadding2D(((0, 1), (0, 1)))
  [[1, 112, 112, 64], 0, 1, 0, 1],
  [[3, 4, 2, 5], 2, 1, 3, 0],
];

describe('pad_fwd / pad_dx', () => {
  for (const [shape, t, b, l, r] of CASES) {
    it(`n${shape[0]} h${shape[1]} w${shape[2]} c${shape[3]} pad ${t},${b},${l},${r}`, async () => {
      const { device } = await testGpu();
      const bufs = new Buffers(device);
      const k = await createPad(device);
      const [n, h, w, c] = shape;
      const s = { n, h, w, c, top: t, bottom: b, left: l, right: r };
      const outN = n * (h + t + b) * (w + l + r) * c;
      const x = uniform(7, n * h * w * c);
      const dy = uniform(8, outN);
      const y = bufs.poisoned(outN);
      const dx = bufs.poisoned(n * h * w * c);
      await run(device, k.forward(s, bufs.from(x), y), k.dx(s, bufs.from(dy), dx));
      expectClose(await bufs.read(y, outN), ref.pad(x, shape, t, b, l, r), 0, 'pad');
      expectClose(await bufs.read(dx, n * h * w * c), ref.padDx(dy, shape, t, b, l, r), 0, 'pad dx');
      bufs.destroy();
    });
  }
});
