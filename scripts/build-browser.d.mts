// Types for scripts/build-browser.mjs, so TypeScript tests can import it.
import type { BuildResult, Metafile } from 'esbuild';

export declare const EXAMPLES: string;
export declare const DIST: string;
export declare const LIBRARY_FILE: string;
/** Example pages: examples/browser/<name>/{index.html,main.ts} -> dist/<name>.js. */
export declare const PAGES: string[];

export declare function bundle(options: {
  entryPoints: Record<string, string>;
  outdir?: string;
  write?: boolean;
  minify?: boolean;
}): Promise<BuildResult & { metafile: Metafile }>;

export declare function buildBrowser(options?: {
  outdir?: string;
  pages?: string[];
  minify?: boolean;
}): Promise<{ file: string; bytes: number }[]>;
