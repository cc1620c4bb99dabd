// Headless Chromium for the browser tests: Debian's /usr/bin/chromium driven by playwright-core
// (no browser download), WebGPU on SwiftShader, a fresh profile, no background networking.

import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

export const CHROMIUM_PATH = process.env.PATT_CHROMIUM ?? '/usr/bin/chromium';

/** Without a GPU, these make navigator.gpu.requestAdapter() return SwiftShader's Vulkan adapter. */
export const WEBGPU_FLAGS = ['--enable-unsafe-webgpu', '--enable-unsafe-swiftshader'];

/** Keep a closed network quiet: no sync, updates, QUIC probes or first-run pages. */
const QUIET_FLAGS = [
  '--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage',
];

/** Why the browser tests cannot run here, or undefined when they can. */
export function chromiumSkipReason(): string | undefined {
  if (existsSync(CHROMIUM_PATH)) return undefined;
  return `Chromium not found at ${CHROMIUM_PATH}: install it with ` +
    '`apt-get update && apt-get install -y --no-install-recommends chromium fonts-liberation` ' +
    '(or set PATT_CHROMIUM to a Chromium binary)';
}

export interface Chromium {
  context: BrowserContext;
  close(): Promise<void>;
}

/** Launches headless Chromium with WebGPU on a new, empty profile (removed on close). */
export async function launchChromium(): Promise<Chromium> {
  const profile = mkdtempSync(join(tmpdir(), 'patt-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [...QUIET_FLAGS, ...WEBGPU_FLAGS],
    viewport: { width: 900, height: 560 },
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
