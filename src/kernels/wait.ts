// Waiting for the GPU without spinning the main thread.
//
// While any of its promises is pending (onSubmittedWorkDone, mapAsync), the `webgpu` package
// (Dawn's Node bindings) polls Dawn for completion on every turn of the event loop, so a plain
// `await` keeps Node's main thread busy for as long as the GPU works. On a GPU that costs a core
// nobody needed; on a CPU adapter (lavapipe) it takes that core from the driver's own threads:
// during a 4 s wait for 16 matrix multiplies the main thread used 65-70% of a core with 2 driver
// threads (30% with 8), and the same work finished 1.5-1.6x (1.05-1.16x) sooner when the thread
// slept instead (bench/kernels/wait.bench.ts).
//
// `settle` waits on the promise with the thread asleep between event-loop turns. It polls freely
// for the first 1 ms, so a small op's wait stays as short as a plain await's (with 0.25 ms, one
// small dispatch took 0.5-0.6 ms instead of 0.25); after that the nap grows with the time already
// waited (a twentieth of it, between 50 us and 2 ms), so a long wait ends at most ~5% late.
// Outside Node (a browser, which resolves WebGPU promises without polling and forbids
// Atomics.wait on its main thread) it is a plain await.
const IN_NODE = typeof process === 'object' && typeof process.versions?.node === 'string' && typeof setImmediate === 'function';
// Made only in Node: a browser page that is not cross-origin isolated has no SharedArrayBuffer.
const sleeper = IN_NODE ? new Int32Array(new SharedArrayBuffer(4)) : undefined;

const SPIN_MS = 1;

/** The nap between two polls after `waitedMs` of waiting, in ms: none in the first 1 ms. */
export function napMs(waitedMs: number): number {
  if (waitedMs < SPIN_MS) return 0;
  return Math.min(2, Math.max(0.05, waitedMs / 20));
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

// One polling loop for all waits in flight: concurrent settles (pipelines compiled in parallel,
// several read-backs) share its naps instead of each blocking the thread in turn. The nap follows
// the age of the current run of waits (reset whenever none was in flight), not of the loop: a
// loop kept alive by back-to-back short waits must not nap as if it had waited all along.
let inFlight = 0;
let busySince = 0;
let polling = false;

async function poll(): Promise<void> {
  polling = true;
  try {
    await nextTurn();
    while (inFlight > 0) {
      // A timed wait on a value nobody changes: a sleep that blocks only this thread.
      const nap = napMs(performance.now() - busySince);
      if (nap > 0) Atomics.wait(sleeper!, 0, 0, nap);
      await nextTurn();
    }
  } finally {
    polling = false;
  }
}

/** Resolves or rejects as `promise` does, sleeping the thread between polls instead of spinning. */
export function settle<T>(promise: Promise<T>): Promise<T> {
  if (!IN_NODE) return promise;
  if (inFlight++ === 0) busySince = performance.now();
  const settled = promise.finally(() => {
    inFlight--;
  });
  if (!polling) void poll();
  return settled;
}
