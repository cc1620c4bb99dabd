// End-to-end: examples/browser/kernel in headless Chromium (WebGPU on SwiftShader). The page
// builds its own device and buffers, borrows createMatmul from the bundled kernel library and
// leaves its result in window.__result; here we rebuild the same seeded inputs in Node and
// compare the page's C with a float64 reference. Screenshot: test/browser/screenshots/kernel.png.
// Skips (with the install command) when Chromium is missing.

import { expect } from 'chai';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { bundle, buildBrowser } from '../../scripts/build-browser.mjs';
import { serveStatic } from '../../examples/browser/serve.mjs';
import type { KernelResult } from '../../examples/browser/kernel/main.js';
import { chromiumSkipReason, launchChromium, type Chromium } from './chromium.js';
import { uniform } from '../helpers/random.js';
import { expectClose } from '../helpers/assert.js';
import * as ref from '../reference/matmul.js';

const SCREENSHOTS = join(dirname(fileURLToPath(import.meta.url)), 'screenshots');
const TOL = 1e-4;
/** SwiftShader compiles and runs slowly; a page gets this long to publish its result. */
const PAGE_TIMEOUT_MS = 60_000;

interface Case {
  seed: number;
  m: number;
  k: number;
  n: number;
  variant: 'reg' | 'tiled' | 'auto';
  screenshot?: string;
}

// Non-multiples of both variants' tiles (reg: 8 rows x 8*WG columns, tiled: 64 x 64).
const CASES: Case[] = [
  { seed: 7, m: 129, k: 96, n: 83, variant: 'reg', screenshot: 'kernel.png' },
  { seed: 5, m: 65, k: 70, n: 130, variant: 'tiled' },
  { seed: 3, m: 70, k: 33, n: 65, variant: 'auto' },
];

const name = (c: Case) => `${c.variant === 'auto' ? 'matmul autotune' : `matmul_${c.variant}`} ` +
  `m${c.m} k${c.k} n${c.n} seed ${c.seed}`;

describe('build-browser', () => {
  it('bundles the kernel library and the kernel page without Node built-ins', async () => {
    const files = await buildBrowser();
    const names = files.map((f) => f.file);
    expect(names).to.include('examples/browser/dist/patt-lite-kernels.js');
    expect(names).to.include('examples/browser/dist/kernel.js');
  });

  it('fails loudly when an entry reaches a Node built-in', async () => {
    let message = '';
    try {
      await bundle({ entryPoints: { bad: 'src/data/csv.ts' }, write: false });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).to.match(/browser bundle imports the Node built-in "node:[a-z/]+" from src\/data\/csv\.ts/);
  });

  it('fails loudly when an entry reaches src/gpu (Dawn)', async () => {
    let message = '';
    try {
      // A one-import entry: src/index.ts reaches so much Node-only code (pngjs, fs) that esbuild's
      // 50-error cap hides the device error.
      await bundle({ entryPoints: { bad: 'test/browser/fixtures/reaches-gpu.ts' }, write: false });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).to.match(/Node-only module ".*gpu\/device\.js" from test\/browser\/fixtures\/reaches-gpu\.ts/);
  });
});

describe('examples/browser/kernel in headless Chromium (WebGPU)', function () {
  let browser: Chromium | undefined;
  let server: Awaited<ReturnType<typeof serveStatic>> | undefined;

  before(async function () {
    const reason = chromiumSkipReason();
    if (reason) {
      console.warn(`      skipped: ${reason}`);
      this.skip();
    }
    await buildBrowser({ pages: ['kernel'] });
    server = await serveStatic();
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await server?.close();
  });

  async function runPage(c: Case): Promise<{ result: KernelResult; page: Page; log: string[] }> {
    const page = await browser!.context.newPage();
    const log: string[] = [];
    page.on('console', (m) => log.push(`console.${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => log.push(`page error: ${e.message}`));
    const query = `seed=${c.seed}&m=${c.m}&k=${c.k}&n=${c.n}&variant=${c.variant}`;
    await page.goto(`${server!.url}/kernel/?${query}`);
    try {
      await page.waitForFunction(() => window.__result !== undefined, null, { timeout: PAGE_TIMEOUT_MS });
    } catch (err) {
      throw new Error(`the page published no result in ${PAGE_TIMEOUT_MS} ms: ${(err as Error).message}\n${log.join('\n')}`);
    }
    const result = (await page.evaluate(() => window.__result)) as KernelResult;
    return { result, page, log };
  }

  for (const c of CASES) {
    it(name(c), async () => {
      const { result, page, log } = await runPage(c);
      try {
        const ms = (v?: number) => (v === undefined ? '-' : v.toFixed(0));
        console.log(`      ${result.adapter}, variant ${result.variant}: setup ${ms(result.setupMs)} ms, ` +
          `run ${ms(result.gpuMs)} ms, error ${result.maxRelErr?.toExponential(2)}`);
        if (c.screenshot) {
          mkdirSync(SCREENSHOTS, { recursive: true });
          await page.screenshot({ path: join(SCREENSHOTS, c.screenshot), fullPage: true });
        }
        expect(result.error, `page error\n${log.join('\n')}`).to.equal(undefined);
        expect(result.adapter, 'adapter').to.be.a('string');
        if (c.variant !== 'auto') expect(result.variant).to.equal(c.variant);
        else expect(result.variant).to.be.oneOf(['reg', 'tiled']);

        // The same inputs, rebuilt in Node from the seed with the tests' own generator.
        const a = uniform(c.seed, c.m * c.k, -1, 1);
        const b = uniform(c.seed + 1, c.k * c.n, -1, 1);
        let sum = 0;
        for (const x of a) sum += Math.abs(x);
        for (const x of b) sum += Math.abs(x);
        expect(result.inputChecksum, 'the page built different inputs').to.equal(sum);

        const want = ref.matmul({ m: c.m, k: c.k, n: c.n }, a, b);
        expect(result.c).to.have.length(c.m * c.n);
        expectClose(result.c!, want, TOL, `page C vs float64 reference (${result.variant}, ${result.adapter})`);
        expect(result.maxRelErr, "the page's own check").to.be.below(TOL);
        expect(result.ok).to.equal(true);
        const text = await page.locator('#status').textContent();
        expect(text).to.match(/^PASS/);
      } finally {
        await page.close();
      }
    });
  }
});
