// TensorFlow.js (CPU backend) as a test-only oracle: an independent implementation of the same
// ops, for values and gradients. Loaded lazily so tests that do not need it stay fast.

type Tf = typeof import('@tensorflow/tfjs');
let loaded: Promise<Tf> | undefined;

export function tfjs(): Promise<Tf> {
  loaded ??= (async () => {
    // tfjs prints a hint about tfjs-node on import; it cannot install here (DESIGN §5).
    const origWarn = console.warn;
    const origLog = console.log;
    console.warn = () => {};
    console.log = () => {};
    try {
      const tf = await import('@tensorflow/tfjs');
      await tf.setBackend('cpu');
      await tf.ready();
      return tf;
    } finally {
      console.warn = origWarn;
      console.log = origLog;
    }
  })();
  return loaded;
}
