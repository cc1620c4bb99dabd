#!/usr/bin/env node
// A tiny static file server for examples/browser (127.0.0.1 only, GET/HEAD, no directory
// listings). WebGPU needs a secure context, and http://localhost / 127.0.0.1 counts as one.
//
//   npm run build:browser && node examples/browser/serve.mjs [port]
//   then open http://127.0.0.1:<port>/kernel/
// The Chromium test imports serveStatic and listens on a random free port.

import { createServer } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const EXAMPLES_ROOT = dirname(fileURLToPath(import.meta.url));

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.safetensors': 'application/octet-stream',
  '.bin': 'application/octet-stream',
};

/** Serves `root` on 127.0.0.1:`port` (0 = a free one). Resolves once listening. */
export async function serveStatic({ root = EXAMPLES_ROOT, port = 0 } = {}) {
  const base = resolve(root);
  const server = createServer(async (req, res) => {
    const send = (status, body, type = 'text/plain; charset=utf-8') => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'method not allowed\n');
    let path;
    let search;
    try {
      const url = new URL(req.url ?? '/', 'http://localhost');
      path = decodeURIComponent(url.pathname);
      search = url.search;
    } catch {
      return send(400, 'bad path\n');
    }
    let file = resolve(base, '.' + path);
    if (file !== base && !file.startsWith(base + sep)) return send(403, 'forbidden\n');
    try {
      if ((await stat(file)).isDirectory()) {
        // Pages use relative URLs (../dist/...), so a folder must end in '/'.
        if (!path.endsWith('/')) {
          res.writeHead(301, { location: encodeURI(path + '/') + search });
          return res.end();
        }
        file = join(file, 'index.html');
      }
      const body = await readFile(file);
      send(200, body, TYPES[extname(file)] ?? 'application/octet-stream');
    } catch {
      send(404, `not found: ${path}\n`);
    }
  });
  await new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(port, '127.0.0.1', ok);
  });
  const address = server.address();
  return {
    url: `http://127.0.0.1:${address.port}`,
    close: () => new Promise((ok) => server.close(() => ok())),
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const port = Number(process.argv[2] ?? 8080);
  const { url } = await serveStatic({ port });
  console.log(`serving ${EXAMPLES_ROOT} at ${url}/  (kernel example: ${url}/kernel/)`);
  console.log('run `npm run build:browser` first; WebGPU on a machine without a GPU needs Chromium with ' +
    '--enable-unsafe-webgpu --enable-unsafe-swiftshader');
}
