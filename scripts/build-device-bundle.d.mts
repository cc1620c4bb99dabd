// Types for scripts/build-device-bundle.mjs, so TypeScript tests can import it.
import type { Metafile } from 'esbuild';

export declare const DEFAULT_OUT: string;
/** What a copy of the working tree may carry to the GPU machine; the build fails above it. */
export declare const LIMIT_BYTES: number;
/** Test folders bundled as GPU spec files. */
export declare const SPEC_DIRS: string[];

export interface DeviceManifest {
  built: string;
  git: { rev: string | null; dirty: number | null };
  node: string | null;
  packages: Record<string, string>;
  /** Spec files, relative to the bundle's folder. */
  specs: string[];
  /** Bytes per top-level entry of the bundle's folder. */
  bytes: Record<string, number>;
}

export declare function bundleApp(out: string, options?: { specDirs?: string[] }): Promise<Metafile>;
export declare function copyDawn(out: string, options?: { raw?: boolean }): void;
export declare function copyPackages(out: string, names: string[]): string[];
export declare function buildDeviceBundle(options?: {
  out?: string;
  node?: boolean;
  debs?: boolean;
  raw?: boolean;
  specDirs?: string[];
}): Promise<{ manifest: DeviceManifest; total: number }>;
