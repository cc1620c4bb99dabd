// End-to-end: examples/browser/classify in headless Chromium (WebGPU on SwiftShader). In Node we
// build a small PAtt-Lite (80x80 input, random weights, BatchNorm statistics calibrated on the
// test images and a few more), save it as a checkpoint and write two PNGs into a temp folder; the page fetches
// them (Playwright serves the folder under /classify/fixture/), classifies them with the whole
// engine in the browser, and we compare its probabilities with the Node engine's predictor on the
// same file and the same decoded pixels. The PNGs are plain 8-bit RGB with no colour chunks, so
// the browser's decode must give the Node decoder's bytes exactly (checked by checksum).
// Screenshot: test/browser/screenshots/classify.png. Skips (with the install command) when
// Chromium is missing.

import { expect } from 'chai';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { buildBrowser } from '../../scripts/build-browser.mjs';
import { serveStatic } from '../../examples/browser/serve.mjs';
import type { ClassifyReady, ClassifyResult, ClassifyWindow } from '../../examples/browser/classify/main.js';
import { rgbChecksum } from '../../examples/browser/classify/rgb.js';
import { chromiumSkipReason, launchChromium, type Chromium } from './chromium.js';
import { Engine } from '../../src/graph/engine.js';
import { PattLite } from '../../src/model/patt-lite.js';
import { createPredictor, preprocessOnCpu } from '../../src/model/inference.js';
import { loadModel, saveModel } from '../../src/model/weights.js';
import { readCheckpointBytes } from '../../src/model/checkpoint-bytes.js';
import { decodeImage, encodePng, type RgbImage } from '../../src/data/image.js';
import type { CallContext } from '../../src/layers/layer.js';
import { testGpu } from '../helpers/gpu.js';
import { randn, rng, uniform } from '../helpers/random.js';
import { expectClose, relError } from '../helpers/assert.js';

const SCREENSHOTS = join(dirname(fileURLToPath(import.meta.url)), 'screenshots');
const TOL = 1e-4;
/** Kernel compilation and the first forward on SwiftShader are slow. */
const PAGE_TIMEOUT_MS = 90_000;
const INPUT_SIZE = 80;
const CLASS_NAMES = ['anger', 'disgust', 'fear', 'happiness', 'neutral', 'sadness', 'surprise'];
const INFER: CallContext = { training: false, seed: 0, step: 0 };
/** Both sides use the same matrix-multiply variant (and the browser skips the autotune). */
const MATMUL = 'reg';

/** A smooth, face-sized test picture with some texture: no flat regions, every byte value used. */
function testImage(width: number, height: number, seed: number): RgbImage {
  const r = rng(seed);
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      const d = Math.hypot(x - width / 2, y - height / 2) / Math.min(width, height);
      data[i] = Math.round(127 + 100 * Math.sin(x / 7 + seed) * Math.cos(y / 11) + 20 * r()) & 255;
      data[i + 1] = Math.round(255 * Math.max(0, 1 - d * 1.6) + 30 * r()) & 255;
      data[i + 2] = Math.round((x * 255) / width * 0.6 + (y * 255) / height * 0.3 + 25 * r()) & 255;
    }
  }
  return { width, height, data };
}

/**
 * As test/model/patt-lite.test.ts `prepare`: non-trivial BN parameters, patch kernels scaled so
 * the head sees O(1) inputs, then every BatchNorm's moving statistics from the batch `x`.
 */
function prepare(m: PattLite, images: RgbImage[]): void {
  const e = m.engine;
  let s = 100;
  for (const p of m.params.all()) {
    if (p.name.endsWith('/gamma')) e.write(p.tensor, uniform(s++, p.tensor.size, 0.8, 1.2));
    if (p.name.endsWith('/beta')) e.write(p.tensor, randn(s++, p.tensor.size, 0.1));
    if (p.name.startsWith('patch_') && p.name.endsWith('kernel')) {
      const fanIn = p.tensor.shape.slice(0, 3).reduce((a, b) => a * b, 1);
      const perOut = p.name.endsWith('depthwise_kernel') ? p.tensor.shape[0] * p.tensor.shape[1] : fanIn;
      e.write(p.tensor, randn(s++, p.tensor.size, Math.sqrt(2 / perOut)));
    }
  }
  const per = INPUT_SIZE * INPUT_SIZE * 3;
  const x0 = new Float32Array(images.length * per);
  images.forEach((im, i) => preprocessOnCpu(im, INPUT_SIZE, x0, i * per));
  const x = e.keep(e.tensor(x0, [images.length, INPUT_SIZE, INPUT_SIZE, 3]));
  m.calibrate(x, INFER);
  x.dispose();
  // A trained-looking attention scale: 1.0 saturates the softmax over 32-d tokens.
  e.write(m.attention.scale, Float32Array.of(0.05));
}

interface Fixture {
  dir: string;
  /** File name -> what the Node engine predicts for it, and its decoded RGB checksum. */
  images: Map<string, { width: number; height: number; checksum: string; probs: Float32Array; label: string }>;
}

async function makeFixture(): Promise<Fixture> {
  const dir = mkdtempSync(join(tmpdir(), 'patt-classify-'));
  const { device } = await testGpu();
  const engine = await Engine.create(device, { matmulVariant: MATMUL });
  const sources = new Map([['face.png', testImage(120, 96, 1)], ['other.png', testImage(64, 72, 2)]]);
  const model = new PattLite(engine, { classes: 7, classNames: CLASS_NAMES, inputSize: INPUT_SIZE, attention: 'patch' }, 11);
  try {
    // Eight images: with an 80x80 input the patch map is 1x1, so pre_bn is calibrated on one token
    // per image, and a variance from two images would amplify rounding differences ~30x.
    const calibration = [...sources.values(), ...[3, 4, 5, 6, 7, 8].map((s) => testImage(80 + 8 * s, 100 - 4 * s, s))];
    prepare(model, calibration);
    await saveModel(model, join(dir, 'model.safetensors'));
  } finally {
    model.dispose();
  }
  // Node's view of the same files: the checkpoint through the file loader, the PNGs through pngjs.
  const { model: loaded } = await loadModel(engine, join(dir, 'model.safetensors'));
  const predictor = await createPredictor(loaded, { batchSize: 1 });
  const images: Fixture['images'] = new Map();
  try {
    for (const [name, src] of sources) {
      const png = encodePng(src);
      writeFileSync(join(dir, name), png);
      const decoded = decodeImage(png, name);
      expect(rgbChecksum(decoded.data), `${name}: pngjs round trip`).to.equal(rgbChecksum(src.data));
      const pred = await predictor.predict([decoded]);
      images.set(name, {
        width: src.width, height: src.height, checksum: rgbChecksum(decoded.data), probs: pred.probs[0], label: pred.labels[0],
      });
    }
  } finally {
    predictor.dispose();
    loaded.dispose();
  }
  return { dir, images };
}

describe('checkpoint-bytes (browser-safe checkpoint loader)', () => {
  it('reads a saved checkpoint as the Node loader does: architecture, class names, every weight', async function () {
    const dir = mkdtempSync(join(tmpdir(), 'patt-ckpt-bytes-'));
    try {
      const { device } = await testGpu();
      const engine = await Engine.create(device, { matmulVariant: MATMUL });
      const model = new PattLite(engine, { classes: 3, classNames: ['a', 'b', 'c'], inputSize: INPUT_SIZE }, 5);
      const path = join(dir, 'm.safetensors');
      await saveModel(model, path);
      const ck = readCheckpointBytes(readFileSync(path), path);
      expect(ck.config).to.include({ classes: 3, inputSize: INPUT_SIZE, attention: 'patch' });
      expect(ck.config.classNames).to.deep.equal(['a', 'b', 'c']);
      for (const p of model.params.all()) {
        expect(Array.from(ck.weights.get(p.name)!), p.name).to.deep.equal(Array.from(await p.tensor.readF32()));
      }
      model.dispose();
      const bytes = new Uint8Array(readFileSync(path));
      expect(() => readCheckpointBytes(bytes.subarray(0, bytes.length - 4), 'cut.safetensors'))
        .to.throw(/cut\.safetensors: invalid safetensors file/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('examples/browser/classify in headless Chromium (WebGPU)', function () {
  let browser: Chromium | undefined;
  let server: Awaited<ReturnType<typeof serveStatic>> | undefined;
  let fixture: Fixture | undefined;
  let page: Page | undefined;
  const log: string[] = [];

  before(async function () {
    const reason = chromiumSkipReason();
    if (reason) {
      console.warn(`      skipped: ${reason}`);
      this.skip();
    }
    fixture = await makeFixture();
    await buildBrowser({ pages: ['classify'] });
    server = await serveStatic();
    browser = await launchChromium();
    // The temp folder appears beside the page, as model.safetensors would be in a deployment.
    await browser.context.route(`${server.url}/classify/fixture/*`, (route) => {
      const file = join(fixture!.dir, new URL(route.request().url()).pathname.split('/').pop()!);
      if (!existsSync(file)) return route.fulfill({ status: 404, body: 'not found\n' });
      return route.fulfill({ path: file, headers: { 'cache-control': 'no-store' } });
    });
  });

  after(async () => {
    await page?.close();
    await browser?.close();
    await server?.close();
    if (fixture) rmSync(fixture.dir, { recursive: true, force: true });
  });

  const published = async (p: Page) => (await p.evaluate(() => (window as unknown as ClassifyWindow).__result)) as ClassifyResult;

  async function waitFor(p: Page, what: string, check: () => boolean): Promise<void> {
    try {
      await p.waitForFunction(check, null, { timeout: PAGE_TIMEOUT_MS });
    } catch (err) {
      throw new Error(`the page published no ${what} in ${PAGE_TIMEOUT_MS} ms: ${(err as Error).message}\n${log.join('\n')}`);
    }
  }

  function expectMatchesNode(result: ClassifyResult, name: string): void {
    const want = fixture!.images.get(name)!;
    expect(result.error, `page error\n${log.join('\n')}`).to.equal(undefined);
    expect(result.ok).to.equal(true);
    expect(result.image).to.include({ width: want.width, height: want.height });
    expect(result.image!.rgbChecksum, `${name}: the browser decoded other RGB bytes than pngjs`).to.equal(want.checksum);
    expect(result.classNames).to.deep.equal(CLASS_NAMES);
    expectClose(result.probs!, want.probs, TOL, `${name}: page probabilities vs the Node engine`);
    expect(result.label).to.equal(want.label);
    const top = Math.max(...want.probs);
    expect(top, 'the probabilities are not degenerate (one-hot or uniform)').to.be.within(1 / 7 + 0.02, 0.999);
  }

  it('classifies ?image= with the ?model= checkpoint like the Node engine does', async function () {
    page = await browser!.context.newPage();
    page.on('console', (m) => log.push(`console.${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => log.push(`page error: ${e.message}`));
    const t0 = performance.now();
    await page.goto(`${server!.url}/classify/?model=fixture/model.safetensors&image=fixture/face.png&matmul=${MATMUL}`);
    await waitFor(page, 'result', () => (window as unknown as ClassifyWindow).__result !== undefined);
    const ready = (await page.evaluate(() => (window as unknown as ClassifyWindow).__ready)) as ClassifyReady;
    const result = await published(page);
    const want = fixture!.images.get('face.png')!;
    console.log(`      ${ready.adapter}: kernels ${ready.engineMs?.toFixed(0)} ms, model ${ready.modelMs?.toFixed(0)} ms, ` +
      `predict ${result.ms?.toFixed(0)} ms (page total ${(performance.now() - t0).toFixed(0)} ms); ` +
      `${result.label} ${(100 * Math.max(...(result.probs ?? [0]))).toFixed(1)}%, ` +
      `rel. error vs Node ${result.probs ? relError(result.probs, want.probs).toExponential(2) : '-'}`);
    mkdirSync(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: join(SCREENSHOTS, 'classify.png'), fullPage: true });
    expect(ready).to.include({ ok: true, classes: 7, inputSize: INPUT_SIZE, attention: 'patch', matmul: MATMUL });
    expectMatchesNode(result, 'face.png');
    expect(await page.locator('.bar').count()).to.equal(7);
    expect(await page.locator('.bar.top .name').textContent()).to.equal(want.label);
    expect(await page.locator('#status').textContent()).to.match(new RegExp(`^${want.label} \\(`));
  });

  it('classifies a file picked in the file input with the loaded model', async function () {
    if (!page) this.skip();
    await page!.evaluate(() => { (window as unknown as ClassifyWindow).__result = undefined; });
    await page!.setInputFiles('#file', join(fixture!.dir, 'other.png'));
    await waitFor(page!, 'result for the picked file', () => (window as unknown as ClassifyWindow).__result !== undefined);
    const result = await published(page!);
    expect(result.image?.source).to.equal('other.png');
    expectMatchesNode(result, 'other.png');
  });

  it('says why when the checkpoint cannot be fetched', async function () {
    const p = await browser!.context.newPage();
    try {
      await p.goto(`${server!.url}/classify/?model=fixture/missing.safetensors&matmul=${MATMUL}`);
      await waitFor(p, 'load outcome', () => (window as unknown as ClassifyWindow).__ready !== undefined);
      const ready = (await p.evaluate(() => (window as unknown as ClassifyWindow).__ready)) as ClassifyReady;
      expect(ready.ok).to.equal(false);
      expect(ready.error).to.match(/^model http:\/\/127\.0\.0\.1:\d+\/classify\/fixture\/missing\.safetensors: HTTP 404/);
      expect(await p.locator('#status').textContent()).to.match(/^could not load the model: .*HTTP 404/);
      expect(await p.locator('#file').isDisabled()).to.equal(true);
    } finally {
      await p.close();
    }
  });
});
