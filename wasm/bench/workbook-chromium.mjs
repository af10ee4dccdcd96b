// A workbook validated in headless Chromium (Debian's /usr/bin/chromium)
// by the full module: records/s, the module's memory, and the peak RSS of
// the page's renderer process (VmHWM), best of 3 fresh browsers.
// Run: node wasm/bench/workbook-chromium.mjs [records]   (default 100000;
// after `cargo bench -p clinval-host --bench workbook -- --records N`
// wrote target/bench-data/patients-N.xlsx, and `cargo run -p clinval-wasm-pack`)
import { createServer } from 'node:http';
import { readFile, readdir, mkdtemp, rm } from 'node:fs/promises';
import { execFile, spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join, extname } from 'node:path';
import { fileURLToPath } from 'node:url';

const SAMPLES = 3;
const records = process.argv[2] ?? '100000';
const file = `patients-${records}.xlsx`;
const root = fileURLToPath(new URL('..', import.meta.url));
const data = fileURLToPath(new URL('../../target/bench-data/', import.meta.url));
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
  const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
  try {
    const body = await readFile(path.startsWith('/data/') ? join(data, path.slice(6)) : join(root, path));
    res.writeHead(200, { 'content-type': types[extname(path)] ?? 'application/octet-stream' }).end(body);
  } catch {
    res.writeHead(404).end();
  }
});
await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
const url = `http://127.0.0.1:${server.address().port}/bench/workbook.html?file=${file}`;

/** The largest VmHWM among Chromium's renderer processes, in KiB. */
async function rendererPeak() {
  let peak = 0;
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8');
      if (!cmdline.includes('chromium') || !cmdline.includes('--type=renderer')) continue;
      const status = await readFile(`/proc/${pid}/status`, 'utf8');
      peak = Math.max(peak, Number(status.match(/VmHWM:\s+(\d+)/)?.[1] ?? 0));
    } catch {}
  }
  return peak;
}

const once = async () => {
  const profile = await mkdtemp(join(tmpdir(), 'clinval-chromium-'));
  const args = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    `--user-data-dir=${profile}`, url];
  const result = new Promise((ok, fail) => {
    reported = ok;
    setTimeout(() => fail(new Error('no result from Chromium within 300 s')), 300_000).unref();
  });
  const browser = spawn('/usr/bin/chromium', args, { stdio: 'ignore' });
  try {
    const run = await result;
    return { ...run, rendererKiB: await rendererPeak() };
  } finally {
    browser.kill();
    await new Promise((ok) => browser.once('exit', ok));
    await rm(profile, { recursive: true, force: true });
  }
};

const runs = [];
for (let i = 0; i < SAMPLES; i++) runs.push(await once());
server.close();
const best = runs.reduce((a, b) => (b.ms < a.ms ? b : a));
const version = await new Promise((ok) => execFile('/usr/bin/chromium', ['--version'], (_, out) => ok(out.trim())));
console.log(`${version}, headless, ${file}, best of ${SAMPLES} fresh browsers:`);
console.log(`  ${best.records} records in ${best.ms.toFixed(0)} ms: ${Math.round(best.records / (best.ms / 1000))} records/s, ${best.issues} issues`);
console.log(`  module memory ${(best.wasmMemory / 2 ** 20).toFixed(1)} MiB; renderer peak RSS ${(Math.max(...runs.map((r) => r.rendererKiB)) / 1024).toFixed(1)} MiB`);
