// Time to compile + instantiate the module and load a protocol in Node.
// Run: node wasm/bench/load.mjs   (after `cargo run -p clinval-wasm-pack`)
// Each sample runs in a fresh process, so nothing is cached between them.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SAMPLES = 15;
if (process.argv[2] === '--once') {
  const { readFileSync } = await import('node:fs');
  const { initSync, Validator } = await import('../pkg/clinval.js');
  const bytes = readFileSync(new URL('../pkg/clinval_bg.wasm', import.meta.url));
  const t0 = performance.now();
  initSync({ module: bytes });
  const t1 = performance.now();
  const v = new Validator('patient', { asOf: '2025-06-30' });
  const t2 = performance.now();
  v.validateField('age', '40');
  const t3 = performance.now();
  console.log(JSON.stringify({ instantiate: t1 - t0, protocol: t2 - t1, firstCheck: t3 - t2 }));
} else {
  const runs = Array.from({ length: SAMPLES }, () =>
    JSON.parse(execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--once'], { encoding: 'utf8' })));
  const median = (key) => runs.map((r) => r[key]).sort((a, b) => a - b)[SAMPLES >> 1];
  console.log(`Node ${process.version}, median of ${SAMPLES} fresh processes:`);
  console.log(`  compile + instantiate: ${median('instantiate').toFixed(1)} ms`);
  console.log(`  load the patient protocol: ${median('protocol').toFixed(2)} ms`);
  console.log(`  first field check: ${median('firstCheck').toFixed(3)} ms`);
}
