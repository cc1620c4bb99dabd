#!/usr/bin/env node
// Packs what an offline Linux x86-64 machine with a GPU needs to run, from a copy of this checkout
// without node_modules, the GPU tests and the benchmark suite: no npm, no network, perhaps no Node.
// scripts/device-run.sh runs it there. Output folder (default .device/, git-ignored):
//
//   app/cli.mjs, app/child.mjs   the CLI and the suite's per-bench process (bench/device/cli.ts and
//                                bench/suite/child.ts, bundled with esbuild, TF.js included)
//   app/spec/**.test.mjs         the GPU test files (SPEC_DIRS), bundled the same way, plus setup.mjs
//   node_modules/webgpu/         Dawn's Node binding, linux-x64 only (dawn.node as .xz unless --raw)
//   node_modules/mocha/ ...      mocha and what it needs, copied (it loads the spec files itself)
//   node_modules/<bundled>/package.json   the versions bundled into app/, for the bench's report
//   node.xz                      this Node binary (official builds link only libc and libstdc++)
//   debs/libvulkan1_*.deb        the Vulkan loader, for a machine whose GPU driver ships without one
//   manifest.json                git revision, Node version, package versions, file sizes
//
//   node scripts/build-device-bundle.mjs [--out DIR] [--no-node] [--no-debs] [--raw]
//   import { buildDeviceBundle } from './scripts/build-device-bundle.mjs'   (test/bench/device-bundle.test.ts)
//
// The whole folder stays under LIMIT_BYTES (64 MiB), what a copy of the working tree may carry to
// such a machine here; the build fails loudly above it.

import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const DEFAULT_OUT = join(ROOT, '.device');
export const LIMIT_BYTES = 64 * 1024 * 1024;
/** Test folders whose files need a GPU and read no files beside them. */
const SPEC_DIRS = ['test/kernels', 'test/graph', 'test/layers'];
/** Bundled into app/; their versions are recorded for the bench's environment table. */
const BUNDLED = ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-webgpu'];
/** Imported only on paths the bundle never takes (HDF5 import, face-api weights, browsers, WASM peer). */
const EXTERNAL = ['webgpu', 'h5wasm', 'h5wasm/*', '@vladmandic/face-api', 'playwright-core',
  '@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-node'];

/** Every file under dir, as paths relative to ROOT. */
function walk(dir) {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = join(dir, e.name);
    return e.isDirectory() ? walk(rel) : [rel];
  });
}

/** Bundles the CLI, the bench child and the GPU spec files into out/app (ES modules, code split). */
async function bundleApp(out, { specDirs = SPEC_DIRS } = {}) {
  const entryPoints = {
    cli: join(ROOT, 'bench/device/cli.ts'),
    child: join(ROOT, 'bench/suite/child.ts'),
    'spec/setup': join(ROOT, 'test/setup.ts'),
  };
  for (const dir of specDirs) {
    for (const file of walk(dir).filter((f) => f.endsWith('.test.ts'))) {
      entryPoints[`spec/${relative('test', file).replace(/\.ts$/, '')}`] = join(ROOT, file);
    }
  }
  const result = await esbuild.build({
    absWorkingDir: ROOT,
    entryPoints,
    outdir: join(out, 'app'),
    outExtension: { '.js': '.mjs' },
    chunkNames: 'chunks/[name]-[hash]',
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // The ES module builds: TF.js' CommonJS entry, bundled, hides its named exports from import().
    mainFields: ['module', 'main'],
    // Every module of a bundle shares its URL: no bench module may take itself for the script (bench/lib/script.ts).
    define: { __PATT_BUNDLED__: 'true' },
    external: EXTERNAL,
    // Some bundled CommonJS code calls require() for Node built-ins, which ES modules lack.
    banner: { js: "import { createRequire as __pattRequire } from 'node:module'; const require = __pattRequire(import.meta.url);" },
    metafile: true,
    logLevel: 'silent',
    legalComments: 'none',
  });
  return result.metafile;
}

/** Dawn's binding for linux-x64: package.json, index.js and dawn.node (xz-compressed unless raw). */
function copyDawn(out, { raw = false } = {}) {
  const from = join(ROOT, 'node_modules/webgpu');
  const to = join(out, 'node_modules/webgpu');
  mkdirSync(join(to, 'dist/linux-x64'), { recursive: true });
  for (const f of ['package.json', 'index.js', 'LICENSE.md']) cpSync(join(from, f), join(to, f));
  const binary = join(from, 'dist/linux-x64/dawn.node');
  if (raw) cpSync(binary, join(to, 'dist/linux-x64/dawn.node'));
  else xz(binary, join(to, 'dist/linux-x64/dawn.node.xz'));
}

/** The lockfile path a package `name` required from `from` resolves to (Node's walk up node_modules). */
function resolveLocked(packages, from, name) {
  let base = from;
  for (;;) {
    const key = `${base ? `${base}/` : ''}node_modules/${name}`;
    if (packages[key]) return key;
    if (!base) return undefined;
    const cut = base.lastIndexOf('node_modules/');
    base = cut <= 0 ? '' : base.slice(0, cut - 1);
  }
}

/** Copies `names` and everything they depend on (from package-lock.json) into out/node_modules. */
function copyPackages(out, names) {
  const { packages } = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8'));
  const seen = new Set();
  const visit = (key) => {
    if (seen.has(key)) return;
    seen.add(key);
    const p = packages[key];
    for (const dep of Object.keys({ ...p.dependencies, ...p.optionalDependencies })) {
      const found = resolveLocked(packages, key, dep);
      if (found) visit(found);
      else if (!p.optionalDependencies?.[dep]) throw new Error(`package-lock.json: ${key} needs ${dep}, which is not installed`);
    }
  };
  for (const name of names) {
    const key = resolveLocked(packages, '', name);
    if (!key) throw new Error(`package-lock.json: ${name} is not installed (run npm ci)`);
    visit(key);
  }
  for (const key of seen) {
    if (!existsSync(join(ROOT, key))) continue; // an optional dependency for another platform
    cpSync(join(ROOT, key), join(out, key), { recursive: true, filter: (src) => !src.slice(ROOT.length + key.length).includes('/node_modules/') });
  }
}

/** A package.json per bundled package, holding its version (nothing resolves them at run time). */
function recordVersions(out) {
  const versions = {};
  for (const name of BUNDLED) {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8'));
    versions[name] = version;
    mkdirSync(join(out, 'node_modules', name), { recursive: true });
    writeFileSync(join(out, 'node_modules', name, 'package.json'),
      JSON.stringify({ name, version, description: 'bundled into app/ by scripts/build-device-bundle.mjs' }, null, 2));
  }
  return versions;
}

/** Runs a tool the bundle needs; a failure says which step and what to do instead. */
function tool(what, hint, file, args, options = {}) {
  try {
    execFileSync(file, args, { stdio: ['ignore', 'ignore', 'pipe'], ...options });
  } catch (err) {
    const detail = (err.stderr?.toString() || err.message).trim().split('\n').slice(-2).join(' / ');
    throw new Error(`${what} failed (${detail}); ${hint}`);
  }
}

function xz(from, to) {
  tool(`compressing ${relative(ROOT, from) || from}`, 'install xz-utils', 'sh', ['-c', 'xz -T2 -6 -c "$1" > "$2"', 'xz', from, to]);
}

/** The Vulkan loader from the local Debian archive (apt-get download needs no root). */
function fetchDebs(out) {
  const dir = join(out, 'debs');
  mkdirSync(dir, { recursive: true });
  tool('apt-get download libvulkan1', 'run apt-get update first, or build with --no-debs if the GPU machine has libvulkan.so.1',
    'apt-get', ['download', 'libvulkan1'], { cwd: dir });
}

function git(args) {
  try {
    return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

function sizeOf(path) {
  const s = statSync(path);
  if (!s.isDirectory()) return s.size;
  return readdirSync(path).reduce((sum, f) => sum + sizeOf(join(path, f)), 0);
}

/**
 * Builds the bundle into `out` (replaced). `node: false` leaves the Node binary out (the target has
 * Node 20+ of its own), `debs: false` the Vulkan loader, `raw: true` stores dawn.node uncompressed.
 * Returns the manifest it wrote.
 */
export async function buildDeviceBundle({ out = DEFAULT_OUT, node = true, debs = true, raw = false, specDirs = SPEC_DIRS } = {}) {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(`the device bundle is for linux-x64 and must be built there (this is ${process.platform}-${process.arch})`);
  }
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const meta = await bundleApp(out, { specDirs });
  copyDawn(out, { raw });
  copyPackages(out, ['mocha']);
  const versions = recordVersions(out);
  versions.webgpu = JSON.parse(readFileSync(join(ROOT, 'node_modules/webgpu/package.json'), 'utf8')).version;
  if (node) xz(process.execPath, join(out, 'node.xz'));
  if (debs) fetchDebs(out);
  const status = git(['status', '--porcelain']);
  const manifest = {
    built: new Date().toISOString(),
    git: { rev: git(['rev-parse', 'HEAD']), dirty: status === null ? null : status.split('\n').filter(Boolean).length },
    node: node ? process.version : null,
    packages: versions,
    specs: Object.keys(meta.outputs).filter((f) => f.endsWith('.test.mjs')).map((f) => relative(out, resolve(ROOT, f))),
    bytes: {},
  };
  for (const f of readdirSync(out)) manifest.bytes[f] = sizeOf(join(out, f));
  writeFileSync(join(out, 'manifest.json'), JSON.stringify(manifest, null, 2));
  const total = sizeOf(out);
  if (total > LIMIT_BYTES) {
    throw new Error(`${out} is ${(total / 2 ** 20).toFixed(1)} MiB, over the ${LIMIT_BYTES / 2 ** 20} MiB that may be carried`);
  }
  return { manifest, total };
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const args = process.argv.slice(2);
  if (args.includes('-h') || args.includes('--help')) {
    console.log('usage: node scripts/build-device-bundle.mjs [--out DIR] [--no-node] [--no-debs] [--raw]\n' +
      'Packs .device/ for scripts/device-run.sh on an offline linux-x64 GPU machine (see the file\'s header).');
    process.exit(0);
  }
  const outAt = args.indexOf('--out');
  const t0 = performance.now();
  try {
    const { manifest, total } = await buildDeviceBundle({
      out: outAt >= 0 ? resolve(args[outAt + 1]) : DEFAULT_OUT,
      node: !args.includes('--no-node'), debs: !args.includes('--no-debs'), raw: args.includes('--raw'),
    });
    for (const [f, b] of Object.entries(manifest.bytes)) console.log(`${f.padEnd(16)} ${(b / 2 ** 20).toFixed(1)} MiB`);
    console.log(`${manifest.specs.length} spec files; ${(total / 2 ** 20).toFixed(1)} MiB in all ` +
      `(limit ${LIMIT_BYTES / 2 ** 20}); git ${manifest.git.rev?.slice(0, 7) ?? 'unknown'}; ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  } catch (err) {
    const errors = err.errors?.length ? err.errors.map((e) => `  ${e.text}`).join('\n') : `  ${err.message}`;
    console.error(`build-device-bundle failed:\n${errors}`);
    process.exit(1);
  }
}
