// Types for scripts/build-device-bundle.mjs, so TypeScript tests can import it.
/** What a copy of the working tree may carry to the GPU machine; the build fails above it. */
export declare const LIMIT_BYTES: number;

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

export declare function buildDeviceBundle(options?: {
  out?: string;
  node?: boolean;
  debs?: boolean;
  raw?: boolean;
  specDirs?: string[];
}): Promise<{ manifest: DeviceManifest; total: number }>;
