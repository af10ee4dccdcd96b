// Time to fetch, compile and instantiate the module and load a protocol in
// headless Chromium (Debian's /usr/bin/chromium), each sample a fresh
// browser with an empty profile. The page is served on 127.0.0.1.
// Run: node wasm/bench/load-chromium.mjs   (after `cargo run -p clinval-wasm-pack`)
import { createServer } from 'node:http';
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { execFile, spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join, extname } from 'node:path';
import { fileURLToPath } from 'node:url';

const SAMPLES = 9;
const root = fileURLToPath(new URL('..', import.meta.url));
const types = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm' };
let reported = null;
const server = createServer(async (req, res) => {
  if (req.method === 'POST' && req.url === '/result') {
    let body = '';
    for await (const chunk of req) body += chunk;
    res.writeHead(204).end();
    reported?.(JSON.parse(body));
    return;
  }
  try {
    const body = await readFile(join(root, decodeURIComponent(new URL(req.url, 'http://x').pathname)));
    res.writeHead(200, { 'content-type': types[extname(req.url)] ?? 'application/octet-stream' }).end(body);
  } catch {
    res.writeHead(404).end();
  }
});
await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
const url = `http://127.0.0.1:${server.address().port}/bench/load.html`;

const once = async () => {
  const profile = await mkdtemp(join(tmpdir(), 'clinval-chromium-'));
  const args = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    `--user-data-dir=${profile}`, url];
  const result = new Promise((ok, fail) => {
    reported = ok;
    setTimeout(() => fail(new Error('no result from Chromium within 60 s')), 60_000).unref();
  });
  const browser = spawn('/usr/bin/chromium', args, { stdio: 'ignore' });
  try {
    return await result;
  } finally {
    browser.kill();
    await new Promise((ok) => browser.once('exit', ok));
    await rm(profile, { recursive: true, force: true });
  }
};

const runs = [];
for (let i = 0; i < SAMPLES; i++) runs.push(await once());
server.close();
const median = (key) => runs.map((r) => r[key]).sort((a, b) => a - b)[SAMPLES >> 1];
const version = await new Promise((ok) => execFile('/usr/bin/chromium', ['--version'], (_, out) => ok(out.trim())));
console.log(`${version}, headless, median of ${SAMPLES} fresh browsers:`);
console.log(`  fetch + compile + instantiate: ${median('instantiate').toFixed(1)} ms`);
console.log(`  load the patient protocol: ${median('protocol').toFixed(2)} ms`);
console.log(`  first field check: ${median('firstCheck').toFixed(3)} ms`);
