#!/usr/bin/env node
// The `patt-lite` command. Runs the TypeScript sources through tsx, so a source checkout and an
// installed package behave the same and no build step is needed to use the CLI.
import { register } from 'tsx/esm/api';

// `patt-lite info | head` closes stdout early: end quietly instead of crashing on EPIPE.
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});
register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
