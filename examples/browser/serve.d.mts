// Types for examples/browser/serve.mjs, so TypeScript tests can import it.
export declare const EXAMPLES_ROOT: string;
/** Serves `root` on 127.0.0.1:`port` (0 = a free one). Resolves once listening. */
export declare function serveStatic(options?: { root?: string; port?: number }): Promise<{
  url: string;
  close(): Promise<void>;
}>;
