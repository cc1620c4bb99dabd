// Whether a bench module is the script Node was started with (`npx tsx bench/kernels/x.bench.ts`),
// so that it runs itself. Inside a bundle (scripts/build-device-bundle.mjs defines
// __PATT_BUNDLED__) every module shares the bundle's URL, so none of them is.
import { pathToFileURL } from 'node:url';

declare const __PATT_BUNDLED__: boolean | undefined;

export function isScript(moduleUrl: string): boolean {
  if (typeof __PATT_BUNDLED__ !== 'undefined' && __PATT_BUNDLED__) return false;
  return !!process.argv[1] && moduleUrl === pathToFileURL(process.argv[1]).href;
}
