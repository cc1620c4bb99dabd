// How the host waits for the GPU: a plain `await queue.onSubmittedWorkDone()` against
// settle() (src/kernels/wait.ts), on the same submitted work, interleaved run by run.
//
//   npx tsx bench/kernels/wait.bench.ts            env: OPS=8 (1024^3 matmuls per submit), RUNS=5
//
// Reports per way of waiting: the median wall time of a submit + wait, the share of one core
// that Node's main thread used meanwhile, and the time of a small op's submit + wait (a 64 KiB
// copy, 100 back to back: what a short wait costs) (Linux: its utime + stime from /proc/self/task; n/a
// elsewhere). Dawn's Node bindings poll on every event-loop turn while a promise is pending, so
// a plain await keeps the main thread busy; on a CPU adapter that core is taken from the driver.
import { existsSync, readFileSync } from 'node:fs';
import { createGpu } from '../../src/gpu/device.js';
import { settle } from '../../src/kernels/wait.js';
import { createMatmul } from '../../src/kernels/matmul.js';
import { createStorage, encode } from '../../src/kernels/runtime.js';
import { median, table } from '../lib/timing.js';
import { isScript } from '../lib/script.js';

/** CPU seconds (user + system) of the main thread so far, or undefined off Linux. */
function mainThreadCpuS(): number | undefined {
  const path = `/proc/self/task/${process.pid}/stat`;
  if (!existsSync(path)) return undefined;
  const stat = readFileSync(path, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
}


export async function runWaitBench(ops = 8, runs = 5): Promise<{ way: string; wallS: number; mainThreadShare: number | undefined; smallMs: number }[]> {
  const gpu = await createGpu();
  const d = gpu.device;
  const mm = await createMatmul(d, { variant: 'sg8' });
  const n = 1024;
  const buf = () => createStorage(d, n * n * 4, 'wait-bench');
  const dispatch = mm.matmul({ m: n, k: n, n, transB: true }, { a: buf(), b: buf(), c: buf() });
  const submit = () => {
    const enc = d.createCommandEncoder();
    const pass = enc.beginComputePass();
    for (let i = 0; i < ops; i++) encode(pass, dispatch);
    pass.end();
    d.queue.submit([enc.finish()]);
  };
  const ways = {
    'plain await': () => d.queue.onSubmittedWorkDone(),
    'settle()': () => settle(d.queue.onSubmittedWorkDone()),
  };
  const samples = new Map<string, { wall: number[]; share: number[] }>();
  for (const way of Object.keys(ways)) samples.set(way, { wall: [], share: [] });
  submit();
  await settle(d.queue.onSubmittedWorkDone()); // warm-up: pipelines compiled, buffers resident
  for (let r = 0; r < runs; r++) {
    for (const [way, wait] of Object.entries(ways)) {
      const c0 = mainThreadCpuS();
      const t0 = performance.now();
      submit();
      await wait();
      const wall = (performance.now() - t0) / 1000;
      const c1 = mainThreadCpuS();
      const s = samples.get(way)!;
      s.wall.push(wall);
      if (c0 !== undefined && c1 !== undefined) s.share.push((c1 - c0) / wall);
    }
  }
  // Small waits, back to back: a 64 KiB copy per submit, the latency a short op sees.
  const small = { src: createStorage(d, 1 << 16, 'wait-bench/small'), dst: createStorage(d, 1 << 16, 'wait-bench/small') };
  const smallMs = new Map<string, number[]>();
  for (let r = 0; r < runs; r++) {
    for (const [way, wait] of Object.entries(ways)) {
      const t0 = performance.now();
      for (let i = 0; i < 100; i++) {
        const enc = d.createCommandEncoder();
        enc.copyBufferToBuffer(small.src, 0, small.dst, 0, 1 << 16);
        d.queue.submit([enc.finish()]);
        await wait();
      }
      smallMs.set(way, [...(smallMs.get(way) ?? []), (performance.now() - t0) / 100]);
    }
  }
  gpu.close();
  return [...samples].map(([way, s]) => ({
    way, wallS: median(s.wall), mainThreadShare: s.share.length ? median(s.share) : undefined, smallMs: median(smallMs.get(way)!),
  }));
}

if (isScript(import.meta.url)) {
  const ops = Number(process.env.OPS ?? 8), runs = Number(process.env.RUNS ?? 5);
  const rows = await runWaitBench(ops, runs);
  const base = rows[0].wallS;
  console.log(`${ops} matmuls of 1024^3 per submit, ${runs} interleaved runs, LP_NUM_THREADS=${process.env.LP_NUM_THREADS ?? '(unset)'}`);
  console.log(table(['wait', 'median s', 'main thread, share of a core', 'speed vs plain await', 'small op + wait, ms'],
    rows.map((r) => [r.way, r.wallS, r.mainThreadShare === undefined ? 'n/a' : `${(100 * r.mainThreadShare).toFixed(0)}%`, `${(base / r.wallS).toFixed(2)}x`, r.smallMs.toFixed(3)])));
}
