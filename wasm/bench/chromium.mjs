// What the Chromium benchmarks share: a page server on 127.0.0.1 that also
// takes the page's result (`POST /result`), and runs in fresh headless
// Chromiums (Debian's /usr/bin/chromium), each with an empty profile.
import { createServer } from 'node:http';
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { execFile, spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join, extname } from 'node:path';

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm' };

/**
 * Serves the files under `root` (and, under `/data/`, those under
 * `data`); resolves to `{ url(path), run(path, { timeoutMs, during }), close() }`.
 * `run` opens `path` in a fresh browser and resolves to what the page
 * posted, merged with what `during()` returns just before the browser is
 * closed.
 */
export async function pageServer(root, data) {
  let reported = null;
  const server = createServer(async (req, res) => {
    if (req.method === 'POST' && req.url === '/result') {
      let body = '';
      for await (const chunk of req) body += chunk;
      res.writeHead(204).end();
      reported?.(JSON.parse(body));
      return;
    }
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    try {
      const file = data && path.startsWith('/data/') ? join(data, path.slice(6)) : join(root, path);
      const body = await readFile(file);
      res.writeHead(200, { 'content-type': TYPES[extname(path)] ?? 'application/octet-stream' }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  const url = (path) => `http://127.0.0.1:${server.address().port}${path}`;
  const run = async (path, { timeoutMs = 60_000, during = async () => ({}) } = {}) => {
    const profile = await mkdtemp(join(tmpdir(), 'clinval-chromium-'));
    const args = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      `--user-data-dir=${profile}`, url(path)];
    const result = new Promise((ok, fail) => {
      reported = ok;
      setTimeout(() => fail(new Error(`no result from Chromium within ${timeoutMs / 1000} s`)), timeoutMs).unref();
    });
    const browser = spawn('/usr/bin/chromium', args, { stdio: 'ignore' });
    try {
      const posted = await result;
      return { ...posted, ...(await during()) };
    } finally {
      browser.kill();
      await new Promise((ok) => browser.once('exit', ok));
      // Chromium's helpers may still be writing the profile as it exits.
      await rm(profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
    }
  };
  return { url, run, close: () => server.close() };
}

/** Chromium's version line. */
export function chromiumVersion() {
  return new Promise((ok) => execFile('/usr/bin/chromium', ['--version'], (_, out) => ok(out.trim())));
}
