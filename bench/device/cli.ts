// The `patt-lite` CLI as scripts/build-device-bundle.mjs bundles it for an offline GPU machine
// (no npm, no TypeScript loader): the same commands, with the benchmark suite bundled beside it
// instead of loaded from the checkout at run time (src/cli/bench.ts).
//
// Layout (the bundle's folder, .device/ by default): app/cli.mjs (this), app/child.mjs (the suite's
// per-bench process), node_modules/ (Dawn and the recorded versions of what was bundled) and
// manifest.json (the git revision the bundle was built from).
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { provideBenchSuite } from '../../src/cli/bench.js';
import { main } from '../../src/cli/main.js';

const here = (rel: string) => fileURLToPath(new URL(rel, import.meta.url));
// The checkout the bundle's folder sits in: where bench/results is and git runs.
process.env.PATT_ROOT ??= here('../..');
process.env.PATT_BENCH_CHILD ??= here('./child.mjs');
process.env.PATT_NODE_MODULES ??= here('../node_modules');
const manifestFile = here('../manifest.json');
if (existsSync(manifestFile)) {
  const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as { git?: { rev?: string | null; dirty?: number | null } };
  if (manifest.git?.rev) process.env.PATT_GIT_REV ??= manifest.git.rev;
  // null: the bundle was built outside git, so how dirty it was is unknown.
  if (typeof manifest.git?.dirty === 'number') process.env.PATT_GIT_DIRTY ??= String(manifest.git.dirty);
}

provideBenchSuite(async () => ({ suite: await import('../suite/run.js'), history: await import('../suite/history.js') }));
process.exitCode = await main(process.argv.slice(2));
