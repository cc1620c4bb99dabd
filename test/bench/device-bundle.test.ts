// scripts/build-device-bundle.mjs and scripts/device-run.sh, here on this machine's adapter: the
// bundle must run the CLI, the bench's per-bench process and the GPU spec files from a folder with
// no node_modules of the project beside it, which is how an offline GPU machine gets them.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildDeviceBundle, LIMIT_BYTES, type DeviceManifest } from '../../scripts/build-device-bundle.mjs';

describe('device bundle (scripts/build-device-bundle.mjs, scripts/device-run.sh)', function () {
  this.timeout(300_000);
  let dir = '';
  let bundle = '';
  let manifest: DeviceManifest;
  let total = 0;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'patt-device-'));
    bundle = join(dir, 'bundle');
    // No Node binary, no .deb and dawn.node uncompressed: the slow parts (xz, apt) are not what is
    // tested here; one spec folder keeps the build short.
    ({ manifest, total } = await buildDeviceBundle({ out: bundle, node: false, debs: false, raw: true, specDirs: ['test/kernels'] }));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('holds the CLI, the bench child, the spec files, Dawn and mocha, and records what it was built from', () => {
    for (const f of ['app/cli.mjs', 'app/child.mjs', 'app/spec/setup.mjs', 'app/spec/kernels/softmax.test.mjs',
      'node_modules/webgpu/dist/linux-x64/dawn.node', 'node_modules/mocha/bin/mocha.js', 'manifest.json']) {
      expect(existsSync(join(bundle, f)), f).to.equal(true);
    }
    expect(existsSync(join(bundle, 'node.xz'))).to.equal(false);
    expect(manifest.specs).to.include('app/spec/kernels/matmul.test.mjs');
    expect(manifest.specs.every((s) => s.startsWith('app/spec/kernels/'))).to.equal(true);
    expect(manifest.packages['@tensorflow/tfjs-backend-webgpu']).to.match(/^\d+\.\d+\.\d+/);
    expect(manifest.node).to.equal(null);
    expect(total).to.be.below(LIMIT_BYTES);
  });

  it('runs one bench in the bundled child and nothing else (no bundled module takes itself for the script)', () => {
    const file = join(dir, 'copy.json');
    const r = spawnSync(process.execPath, [join(bundle, 'app/child.mjs'), 'copy', JSON.stringify({ megabytes: 8, repeats: 1, warmup: 0 }), file], {
      cwd: dir, encoding: 'utf8', timeout: 120_000,
    });
    expect(r.status, r.stderr).to.equal(0);
    const result = JSON.parse(readFileSync(file, 'utf8')) as { value: { bytes: number; gbps: number } };
    expect(result.value.bytes).to.equal(8 * 1024 * 1024);
    expect(result.value.gbps).to.be.above(0);
    // Each bench prints its own table when run as a script; only the copy line may appear.
    expect(r.stdout).to.not.match(/matmul|depthwise|attention|images\/s/);
  });

  it('the bundled CLI carries the suite and takes the folder around the bundle for the checkout', () => {
    const cli = join(bundle, 'app/cli.mjs');
    const history = spawnSync(process.execPath, [cli, 'bench', '--history', '--out', bundle], { cwd: tmpdir(), encoding: 'utf8' });
    expect(history.status, history.stderr).to.equal(0);
    expect(history.stdout).to.contain(`wrote ${join(bundle, 'history.md')}`);
    // Without --out: <checkout>/bench/results, the checkout being the bundle folder's parent.
    const noResults = spawnSync(process.execPath, [cli, 'bench', '--history'], { cwd: tmpdir(), encoding: 'utf8' });
    expect(noResults.status).to.equal(2);
    expect(noResults.stderr).to.contain(`no results folder at ${join(dir, 'bench', 'results')}`);
  });

  it('device-run.sh runs info, the smoke check and a spec file from the bundle and writes its files to $OUT', () => {
    const out = join(dir, 'out');
    const r = spawnSync('bash', ['scripts/device-run.sh'], {
      encoding: 'utf8', timeout: 240_000,
      env: {
        ...process.env, OUT: out, DEVICE_BUNDLE: bundle, DEVICE_SPEC: 'kernels/softmax.test.mjs', DEVICE_BENCH_S: '0',
        // This machine's adapter (the script's default is NVIDIA); empty takes any.
        PATT_ADAPTER: process.env.PATT_ADAPTER ?? '',
      },
    });
    expect(r.status, r.stdout + r.stderr).to.equal(0);
    expect(r.stdout).to.match(/check: every value matches the CPU/);
    expect(r.stdout).to.match(/== GPU tests: exit 0/);
    expect(readFileSync(join(out, 'device-info.txt'), 'utf8')).to.match(/^adapter: /m);
    const tests = readFileSync(join(out, 'device-tests.txt'), 'utf8');
    expect(tests).to.match(/\d+ passing/);
    expect(tests).to.not.match(/failing/);
  });

  it('device-run.sh says what is missing when there is no bundle', () => {
    const r = spawnSync('bash', ['scripts/device-run.sh'], {
      encoding: 'utf8', env: { ...process.env, DEVICE_BUNDLE: join(dir, 'nothing') },
    });
    expect(r.status).to.equal(2);
    expect(r.stderr).to.contain(`${join(dir, 'nothing')}/manifest.json is missing`);
    expect(r.stderr).to.contain('node scripts/build-device-bundle.mjs');
  });
});
