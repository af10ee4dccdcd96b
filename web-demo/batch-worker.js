// Validates one file off the main thread: the file is read as a stream
// and fed to the clinval module chunk by chunk; issues go to the page in
// batches, valid records stay here until the page asks for them. A
// workbook is read by the full module, fetched only when one is chosen.

import init, { Validator } from '/pkg/clinval.js';

let ready = null;
let records = [];

self.onmessage = async ({ data }) => {
  if (data.type === 'records') {
    const blob = new Blob(['[', records.join(',\n'), ']\n'], { type: 'application/json' });
    self.postMessage({ type: 'records', blob });
    return;
  }
  if (data.type !== 'start') return;
  try {
    ready ??= init();
    await ready;
    records = [];
    await run(data);
  } catch (error) {
    // A trap while a workbook is read is its reader failing on a damaged
    // xls (docs/abi.md); this worker, and its instance, are not reused.
    const message = error instanceof WebAssembly.RuntimeError && data.format === 'workbook'
      ? 'cannot read the workbook: its reader failed on a damaged part of the file'
      : String(error.message ?? error);
    self.postMessage({ type: 'error', message });
  }
};

async function run({ file, protocol, asOf, lang, format, sheet }) {
  const options = { asOf, lang, includeValid: true };
  // A workbook: the full module (the one with the workbook reader). Else
  // the compact module, or the full one if the protocol needs it.
  const validator = format === 'workbook'
    ? await Validator.forWorkbooks(protocol, sheet ? { ...options, sheet } : options)
    : await Validator.load(protocol, options);
  const batch = validator.startBatch(format);
  const reader = file.stream().getReader();
  let read = 0;
  let lastPost = 0;
  let issues = [];
  const take = (events) => {
    for (const issue of events.issues) issues.push(issue);
    for (const record of events.records) records.push(JSON.stringify(record));
  };
  const post = (force) => {
    const now = performance.now();
    if (!force && now - lastPost < 100) return;
    lastPost = now;
    self.postMessage({ type: 'progress', bytes: read, total: file.size, issues });
    issues = [];
  };
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    read += value.byteLength;
    take(batch.feed(value));
    post(false);
  }
  const last = batch.finish();
  take(last);
  post(true);
  self.postMessage({ type: 'done', summary: last.summary, valid: records.length, build: validator.build });
  validator.free();
}
