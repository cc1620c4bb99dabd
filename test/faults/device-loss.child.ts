// Trains in a run folder and destroys the GPU device after epoch 1 is saved (as a driver reset
// would take it away); prints the error the run ends with.
import { createGpu } from '../../src/gpu/device.js';
import { Engine } from '../../src/graph/engine.js';
import { runTraining, HEAD_DEFAULTS } from '../../src/train/run.js';

const [data, out] = process.argv.slice(2);
const gpu = await createGpu();
const e = await Engine.create(gpu.device);
try {
  await runTraining(e, {
    ...HEAD_DEFAULTS, data, out, weights: 'faceapi', inputSize: 80, batchSize: 2, epochs: 3, patience: 100,
    valFraction: 0, featureCache: true, augment: false,
  }, {
    log: () => {},
    onEpochSaved: (log) => { if (log.epoch === 1) gpu.device.destroy(); },
  });
  console.log('RESULT no error');
} catch (err) {
  console.log(`RESULT ${(err as Error).name}: ${(err as Error).message.split('\n')[0]}`);
}
