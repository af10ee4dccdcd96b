// Prints the whole report of one input as JSON, through the JS API of
// wasm/pkg: used by the parity test (tests/tests/parity.rs). A foreign key
// to the input's own table gets its keys from a first reading of it.
// Usage: node report.mjs <module.wasm> <input> <csv|json|ndjson> <asOf> [protocol.json]
import { readFileSync } from 'node:fs';
import { initSync, Validator } from '../pkg/clinval.js';

const [module, input, format, asOf, protocolFile] = process.argv.slice(2);
initSync({ module: readFileSync(module) });
const protocol = protocolFile ? readFileSync(protocolFile, 'utf8') : 'patient';
const validator = new Validator(protocol, { asOf, includeValid: true });
const bytes = readFileSync(input);
(validator.protocol().foreignKeys ?? []).forEach((key, k) => {
  if (key.resource === null) validator.readReferencedKeys(k, validator, bytes, format);
});
process.stdout.write(JSON.stringify(validator.validateText(bytes, format)) + '\n');
