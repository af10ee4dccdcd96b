// Time to fetch, compile and instantiate the module and load a protocol in
// headless Chromium (Debian's /usr/bin/chromium), each sample a fresh
// browser with an empty profile. The page is served on 127.0.0.1.
// Run: node wasm/bench/load-chromium.mjs   (after `cargo run -p clinval-wasm-pack`)
import { fileURLToPath } from 'node:url';
import { pageServer, chromiumVersion } from './chromium.mjs';

const SAMPLES = 9;
const pages = await pageServer(fileURLToPath(new URL('..', import.meta.url)));
const runs = [];
for (let i = 0; i < SAMPLES; i++) runs.push(await pages.run('/bench/load.html'));
pages.close();
const median = (key) => runs.map((r) => r[key]).sort((a, b) => a - b)[SAMPLES >> 1];
console.log(`${await chromiumVersion()}, headless, median of ${SAMPLES} fresh browsers:`);
console.log(`  fetch + compile + instantiate: ${median('instantiate').toFixed(1)} ms`);
console.log(`  load the patient protocol: ${median('protocol').toFixed(2)} ms`);
console.log(`  first field check: ${median('firstCheck').toFixed(3)} ms`);
