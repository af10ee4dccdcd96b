// Prints the whole report of one input as JSON, through the JS API of
// wasm/pkg: used by the parity test (tests/tests/parity.rs).
// Usage: node report.mjs <input> <csv|json|ndjson> <asOf> [protocol.json]
import { readFileSync } from 'node:fs';
import { initSync, Validator } from '../pkg/clinval.js';

initSync({ module: readFileSync(new URL('../pkg/clinval_bg.wasm', import.meta.url)) });
const [input, format, asOf, protocolFile] = process.argv.slice(2);
const protocol = protocolFile ? readFileSync(protocolFile, 'utf8') : 'patient';
const report = new Validator(protocol, { asOf, includeValid: true }).validateText(readFileSync(input), format);
process.stdout.write(JSON.stringify(report) + '\n');
