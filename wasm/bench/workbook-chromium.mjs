// A workbook validated in headless Chromium (Debian's /usr/bin/chromium)
// by the full module: records/s, the module's memory, and the peak RSS of
// the page's renderer process (VmHWM), best of 3 fresh browsers.
// Run: node wasm/bench/workbook-chromium.mjs [records]   (default 100000;
// after `cargo bench -p clinval-host --bench workbook -- --records N`
// wrote target/bench-data/patients-N.xlsx, and `cargo run -p clinval-wasm-pack`)
import { readFile, readdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { pageServer, chromiumVersion } from './chromium.mjs';

const SAMPLES = 3;
const records = process.argv[2] ?? '100000';
const file = `patients-${records}.xlsx`;

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

const pages = await pageServer(
  fileURLToPath(new URL('..', import.meta.url)),
  fileURLToPath(new URL('../../target/bench-data/', import.meta.url)),
);
const runs = [];
for (let i = 0; i < SAMPLES; i++) {
  runs.push(await pages.run(`/bench/workbook.html?file=${file}`, {
    timeoutMs: 300_000,
    during: async () => ({ rendererKiB: await rendererPeak() }),
  }));
}
pages.close();
const best = runs.reduce((a, b) => (b.ms < a.ms ? b : a));
console.log(`${await chromiumVersion()}, headless, ${file}, best of ${SAMPLES} fresh browsers:`);
console.log(`  ${best.records} records in ${best.ms.toFixed(0)} ms: ${Math.round(best.records / (best.ms / 1000))} records/s, ${best.issues} issues`);
console.log(`  module memory ${(best.wasmMemory / 2 ** 20).toFixed(1)} MiB; renderer peak RSS ${(Math.max(...runs.map((r) => r.rendererKiB)) / 1024).toFixed(1)} MiB`);
