// Faults lose nothing: a kill -9 during a checkpoint write leaves the previous checkpoint whole,
// and a non-finite loss stops training with a clear error, keeping the last good checkpoint.
import { expect } from 'chai';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadCheckpoint } from '../../src/io/checkpoint.js';
import { Engine } from '../../src/graph/engine.js';
import { runTraining, HEAD_DEFAULTS } from '../../src/train/run.js';
import { writeSyntheticDataset } from '../../src/data/synthetic-faces.js';
import { testGpu } from '../helpers/gpu.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

function killDuringWrite(path: string, afterVersion: number, delayMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/faults/checkpoint-kill.child.ts', path], { cwd: root });
    let last = 0;
    child.stdout.on('data', (chunk: Buffer) => {
      for (const m of chunk.toString().matchAll(/wrote (\d+)/g)) last = Number(m[1]);
      if (last >= afterVersion && !child.killed) setTimeout(() => child.kill('SIGKILL'), delayMs);
    });
    child.on('exit', () => resolve(last));
    child.on('error', reject);
  });
}

describe('faults', () => {
  it('kill -9 during checkpoint writes never damages the previous checkpoint', async function () {
    const dir = mkdtempSync(join(tmpdir(), 'patt-kill-'));
    try {
      const path = join(dir, 'last.safetensors');
      for (const [i, delay] of [0, 3, 11, 29, 57].entries()) {
        const written = await killDuringWrite(path, i + 1, delay);
        const ck = loadCheckpoint(path); // throws if the file is torn
        const v = (ck.training as { version: number }).version;
        expect(v).to.be.within(Math.max(1, written - 1), written + 1);
        const data = ck.tensors.get('w')!.data;
        expect(data.every((x) => x === v), `checkpoint version ${v} is internally consistent`).to.equal(true);
      }
      // Interrupted writes leave only their own temp files, never a damaged checkpoint.
      expect(readdirSync(dir).filter((f) => !f.startsWith('.'))).to.deep.equal(['last.safetensors']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a non-finite loss stops training with a clear error and keeps the last good checkpoint', async () => {
    const e = await Engine.create((await testGpu()).device);
    const dir = mkdtempSync(join(tmpdir(), 'patt-nan-'));
    try {
      await writeSyntheticDataset(join(dir, 'data'), { classes: 7, perClass: { train: 2, val: 1, test: 1 }, size: 80, seed: 1, variation: 'mild' });
      const settings = {
        ...HEAD_DEFAULTS, data: join(dir, 'data'), out: join(dir, 'run'), weights: 'faceapi', inputSize: 80,
        batchSize: 2, epochs: 4, patience: 100, valFraction: 0, featureCache: true, augment: false,
      };
      let err: unknown;
      try {
        await runTraining(e, settings, {
          log: () => {},
          // After epoch 1 is saved, an absurd learning rate overflows the weights to Inf / NaN.
          onEpochSaved: (log, trainer) => { if (log.epoch === 1) trainer.optimizer.setLearningRate(1e38); },
        });
      } catch (x) {
        err = x;
      }
      expect(err, 'training should stop').to.be.instanceOf(Error);
      expect((err as Error).message).to.match(/NaN or infinite at epoch 2/);
      const ck = loadCheckpoint(join(dir, 'run', 'last.safetensors'));
      expect((ck.training as { epoch: number }).epoch).to.equal(1);
      for (const [name, t] of ck.tensors) expect(t.data.every(Number.isFinite), name).to.equal(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('losing the device mid-run gives a clear GPU error and leaves the checkpoints intact', async function () {
    const dir = mkdtempSync(join(tmpdir(), 'patt-lost-'));
    try {
      await writeSyntheticDataset(join(dir, 'data'), { classes: 7, perClass: { train: 2, val: 1, test: 1 }, size: 80, seed: 2, variation: 'mild' });
      const res = spawnSync(process.execPath, ['--import', 'tsx', 'test/faults/device-loss.child.ts', join(dir, 'data'), join(dir, 'run')], {
        cwd: root, encoding: 'utf8', timeout: 240_000,
      });
      expect(res.error, 'the child must end by itself').to.equal(undefined);
      const line = res.stdout.split('\n').find((l) => l.startsWith('RESULT')) ?? `no RESULT line; stderr: ${res.stderr.slice(-500)}`;
      expect(line).to.match(/^RESULT GpuError: /);
      const ck = loadCheckpoint(join(dir, 'run', 'last.safetensors'));
      expect((ck.training as { epoch: number }).epoch).to.equal(1);
      for (const [name, t] of ck.tensors) expect(t.data.every(Number.isFinite), name).to.equal(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
