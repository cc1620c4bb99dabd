// TensorFlow.js with its WebGPU backend on the same Dawn adapter, as a peer in benchmarks.
// The backend registers itself at import time only if navigator.gpu already exists (DESIGN §5),
// so the Dawn globals are installed first.

type Tf = typeof import('@tensorflow/tfjs');

let loaded: Promise<Tf> | undefined;

export function tfjsWebgpu(): Promise<Tf> {
  loaded ??= (async () => {
    process.env.LP_NUM_THREADS ??= String(Math.max(8, 4 * (await import('node:os')).availableParallelism()));
    const { create, globals } = (await import('webgpu')) as unknown as {
      create(o: string[]): GPU;
      globals: Record<string, unknown>;
    };
    Object.assign(globalThis, globals);
    const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
    if (nav) {
      Object.defineProperty(nav, 'gpu', { value: create([]), configurable: true });
    } else {
      (globalThis as { navigator?: unknown }).navigator = { gpu: create([]) };
    }
    const quiet = console.warn;
    console.warn = () => {};
    try {
      const tf = await import('@tensorflow/tfjs');
      await import('@tensorflow/tfjs-backend-webgpu');
      if (!(await tf.setBackend('webgpu'))) throw new Error('TF.js WebGPU backend did not start');
      await tf.ready();
      return tf;
    } finally {
      console.warn = quiet;
    }
  })();
  return loaded;
}

/** Drops the navigator.gpu reference so the process can exit (Dawn keeps it alive otherwise). */
export function releaseTfjsWebgpu(): void {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav) Object.defineProperty(nav, 'gpu', { value: undefined, configurable: true });
}
