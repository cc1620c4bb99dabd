#!/usr/bin/env node
// Bundles the browser side with esbuild into examples/browser/dist/ (generated, not committed):
//   patt-lite-kernels.js   the kernel library (src/kernels/index.ts) as one ES module
//   <page>.js              examples/browser/<page>/main.ts for every page in PAGES
// A page's `import ... from '<...>/src/kernels/index.js'` is rewritten to './patt-lite-kernels.js',
// so pages load the library bundle the way another app would instead of carrying a copy.
// Fails loudly when anything reachable from an entry needs Node: a Node built-in (fs, node:path),
// Dawn's `webgpu` package, or the Node-only src/gpu/ folder.
//
//   node scripts/build-browser.mjs          (npm run build:browser)
//   import { buildBrowser } from './scripts/build-browser.mjs'   (test/browser/*.test.ts)

import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const EXAMPLES = join(ROOT, 'examples', 'browser');
export const DIST = join(EXAMPLES, 'dist');
const LIBRARY_ENTRY = join(ROOT, 'src', 'kernels', 'index.ts');
export const LIBRARY_FILE = 'patt-lite-kernels.js';

/** Example pages: examples/browser/<name>/{index.html,main.ts} -> dist/<name>.js. */
export const PAGES = [
  'kernel',
  'classify',
];

const NODE_BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
/** Packages and folders that only work in Node (Dawn bindings, device creation, file caches). */
const NODE_ONLY = [/^webgpu(\/|$)/, /^h5wasm(\/|$)/];
const NODE_ONLY_DIRS = [join(ROOT, 'src', 'gpu') + '/', join(ROOT, 'src', 'cli') + '/'];

function nodeImportError(what, args) {
  const from = args.importer ? relative(ROOT, args.importer) : '(entry point)';
  return {
    errors: [{
      text: `browser bundle imports ${what} "${args.path}" from ${from}; browser code may use ` +
        'only src/kernels/ and WebGPU (src/gpu/ and node:* modules are Node-only)',
    }],
  };
}

/** Rejects Node built-ins and Node-only modules at resolve time, naming the importer. */
const noNodePlugin = {
  name: 'no-node',
  setup(build) {
    build.onResolve({ filter: /.*/ }, (args) => {
      if (NODE_BUILTINS.has(args.path) || args.path.startsWith('node:')) {
        return nodeImportError('the Node built-in', args);
      }
      if (NODE_ONLY.some((re) => re.test(args.path))) return nodeImportError('the Node-only package', args);
      if (args.path.startsWith('.') && args.resolveDir) {
        const target = resolve(args.resolveDir, args.path);
        if (NODE_ONLY_DIRS.some((d) => target.startsWith(d))) return nodeImportError('the Node-only module', args);
      }
      return undefined;
    });
  },
};

/** Pages import the library bundle (a separate file) rather than inlining the kernels. */
const libraryExternalPlugin = {
  name: 'library-external',
  setup(build) {
    build.onResolve({ filter: /src\/kernels\/index(\.js|\.ts)?$/ }, (args) => {
      if (args.kind === 'entry-point') return undefined;
      const target = resolve(args.resolveDir, args.path).replace(/\.js$/, '.ts');
      if (target !== LIBRARY_ENTRY) return undefined;
      return { path: `./${LIBRARY_FILE}`, external: true };
    });
  },
};

/**
 * Bundles `entryPoints` ({outName: sourcePath}) as browser ES modules. Rejects (with esbuild's
 * error list in the message) when an entry reaches Node-only code; double-checks the metafile.
 */
export async function bundle({ entryPoints, outdir = DIST, write = true, minify = false }) {
  const result = await esbuild.build({
    absWorkingDir: ROOT,
    entryPoints,
    outdir,
    write,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    sourcemap: write ? 'linked' : false,
    minify,
    metafile: true,
    logLevel: 'silent',
    legalComments: 'none',
    plugins: [noNodePlugin, libraryExternalPlugin],
  });
  // Belt and braces: nothing Node-only may have slipped in under another name.
  const inputs = Object.keys(result.metafile.inputs);
  const bad = inputs.filter((p) => p.includes('node_modules/webgpu/') || /^src\/(gpu|cli)\//.test(p));
  if (bad.length) throw new Error(`browser bundle contains Node-only modules: ${bad.join(', ')}`);
  for (const [file, out] of Object.entries(result.metafile.outputs)) {
    const nodeImports = (out.imports ?? []).filter((i) => i.path.startsWith('node:') || NODE_BUILTINS.has(i.path));
    if (nodeImports.length) {
      throw new Error(`${file} imports Node built-ins: ${nodeImports.map((i) => i.path).join(', ')}`);
    }
  }
  return result;
}

/** Builds the kernel library and every page (or the given ones) into `outdir`. */
export async function buildBrowser({ outdir = DIST, pages = PAGES, minify = false } = {}) {
  const entryPoints = { [LIBRARY_FILE.replace(/\.js$/, '')]: LIBRARY_ENTRY };
  for (const page of pages) entryPoints[page] = join(EXAMPLES, page, 'main.ts');
  const result = await bundle({ entryPoints, outdir, minify });
  return Object.entries(result.metafile.outputs)
    .filter(([file]) => file.endsWith('.js'))
    .map(([file, out]) => ({ file, bytes: out.bytes }));
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const t0 = performance.now();
  try {
    const files = await buildBrowser({ minify: process.argv.includes('--minify') });
    for (const f of files) console.log(`${f.file}  ${(f.bytes / 1024).toFixed(1)} KiB`);
    console.log(`built ${files.length} browser modules in ${(performance.now() - t0).toFixed(0)} ms`);
  } catch (err) {
    const errors = err.errors?.length ? err.errors.map((e) => `  ${e.text}`).join('\n') : `  ${err.message}`;
    console.error(`build:browser failed:\n${errors}`);
    process.exit(1);
  }
}
