// Node-only: an AutotuneCache (src/kernels/matmul-autotune.ts) kept in a JSON file, so a
// process does not re-time kernel variants the adapter was already tuned for. Browser code
// supplies its own cache (localStorage, IndexedDB) or none.

import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { AutotuneCache } from '../kernels/matmul-autotune.js';

/** Default location: $PATT_AUTOTUNE_CACHE, else ~/.cache/patt-lite/autotune.json. */
export function defaultAutotuneCachePath(): string {
  return process.env.PATT_AUTOTUNE_CACHE || join(homedir(), '.cache', 'patt-lite', 'autotune.json');
}

/** A JSON-file cache; unreadable or corrupt files count as empty, write failures are ignored. */
export function fileAutotuneCache(path = defaultAutotuneCachePath()): AutotuneCache {
  const load = (): Record<string, string> => {
    try {
      const data = JSON.parse(readFileSync(path, 'utf8')) as unknown;
      return data && typeof data === 'object' ? (data as Record<string, string>) : {};
    } catch {
      return {};
    }
  };
  return {
    get: (key) => load()[key],
    set: (key, value) => {
      try {
        const all = { ...load(), [key]: value };
        mkdirSync(dirname(path), { recursive: true });
        const tmp = `${path}.${process.pid}.tmp`;
        writeFileSync(tmp, JSON.stringify(all, null, 2) + '\n');
        renameSync(tmp, path);
      } catch {
        // A cache that cannot be written only costs a re-tune next time.
      }
    },
  };
}
