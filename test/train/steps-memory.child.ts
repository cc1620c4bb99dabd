// Runs 2,000 training steps in a process of its own and prints memory figures as JSON, so the
// parent test measures this process alone (other tests' garbage would blur a shared RSS).
import { createGpu } from '../../src/gpu/device.js';
import { Engine } from '../../src/graph/engine.js';
import { PattLite } from '../../src/model/patt-lite.js';
import { Trainer } from '../../src/train/trainer.js';

const gpu = await createGpu();
const e = await Engine.create(gpu.device);
const m = new PattLite(e, { classes: 3, inputSize: 80, dropout: 0.1 }, 1);
m.setBackboneTrainable(false);
const feats = {
  count: 8, labels: Int32Array.from({ length: 8 }, (_, i) => i % 3),
  data: new Float32Array(8 * 5 * 5 * 512).map((_, i) => Math.sin(i)),
};
const t = new Trainer(e, m, { kind: 'features', shape: [5, 5, 512] }, feats, undefined, {
  epochs: 1, batchSize: 4, learningRate: 1e-3, clipnorm: 3, seed: 7, classWeights: new Float32Array(3).fill(1), monitor: 'accuracy',
});
await t.fit(); // records the step
await e.sync();
const s0 = e.stats();
t.config.epochs = 1 + 500; // 2 steps per epoch
await t.fit();
const rssMid = process.memoryUsage().rss;
t.config.epochs = 1 + 1000;
await t.fit();
await e.sync();
const s1 = e.stats();
console.log(JSON.stringify({ steps: t.state.step, s0, s1, rssMid, rssEnd: process.memoryUsage().rss }));
t.dispose();
m.dispose();
gpu.close();
