// clinval's JavaScript API: a thin ES module over the module's C ABI
// (docs/abi.md), the same exports every other host calls. Values cross as
// JSON text in the module's memory; results come back as JSON and are
// parsed here. The module imports nothing.

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The module's exports, once instantiated. */
let abi;

/** Frees validators and batches the program forgot to free. */
const leaks = new FinalizationRegistry(({ free, handle }) => free(handle));

/**
 * Instantiates the module. `input` is where the module is (a URL or path,
 * a Response, bytes, or a compiled `WebAssembly.Module`), also as
 * `{ module_or_path }`; by default `clinval_bg.wasm` next to this file.
 */
export default async function init(input) {
  if (abi) return abi;
  let source = input?.module_or_path ?? input ?? new URL('clinval_bg.wasm', import.meta.url);
  if (typeof source === 'string' || source instanceof URL || (typeof Request === 'function' && source instanceof Request)) {
    source = fetch(source);
  }
  source = await source;
  let instance;
  if (typeof Response === 'function' && source instanceof Response) {
    if (typeof WebAssembly.instantiateStreaming === 'function' && source.headers.get('content-type') === 'application/wasm') {
      ({ instance } = await WebAssembly.instantiateStreaming(source, {}));
    } else {
      ({ instance } = await WebAssembly.instantiate(await source.arrayBuffer(), {}));
    }
  } else if (source instanceof WebAssembly.Module) {
    instance = await WebAssembly.instantiate(source, {});
  } else {
    ({ instance } = await WebAssembly.instantiate(source, {}));
  }
  return start(instance);
}

/** Instantiates the module synchronously from its bytes or a compiled module (`{ module }`). */
export function initSync(input) {
  if (abi) return abi;
  const source = input?.module ?? input;
  const module = source instanceof WebAssembly.Module ? source : new WebAssembly.Module(source);
  return start(new WebAssembly.Instance(module, {}));
}

function start(instance) {
  const exports = instance.exports;
  if (exports.clinval_abi_version() !== 1) {
    throw new Error(`clinval.js speaks C ABI 1, the module ${exports.clinval_abi_version()}`);
  }
  abi = exports;
  return abi;
}

function ready() {
  if (!abi) throw new Error('clinval: call init() (or initSync()) first');
  return abi;
}

/** The last call's result, parsed. */
function result() {
  const bytes = new Uint8Array(abi.memory.buffer, abi.clinval_result_ptr(), abi.clinval_result_len());
  return JSON.parse(decoder.decode(bytes));
}

/** Throws the module's error for a negative status; returns the status. */
function checked(status) {
  if (status < 0) {
    const { error } = result();
    throw new Error(`${error.code}: ${error.message}`);
  }
  return status;
}

/**
 * Calls `fn` with each argument (a string or bytes) written into the
 * module's memory as `(ptr, len)`, and frees them after.
 */
function withBytes(args, fn) {
  const exports = ready();
  const placed = args.map((arg) => {
    const bytes = typeof arg === 'string' ? encoder.encode(arg) : arg;
    const ptr = bytes.length ? exports.clinval_alloc(bytes.length) : 0;
    if (bytes.length && !ptr) throw new Error('clinval: out of memory');
    if (bytes.length) new Uint8Array(exports.memory.buffer, ptr, bytes.length).set(bytes);
    return [ptr, bytes.length];
  });
  try {
    return checked(fn(...placed.flat()));
  } finally {
    for (const [ptr, len] of placed) if (ptr) exports.clinval_free(ptr, len);
  }
}

function today() {
  const now = new Date();
  const pad = (n) => String(n).padStart(2, '0');
  return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
}

/** Facts about the module: engine version, C ABI version, built-in protocols. */
export function moduleInfo() {
  checked(ready().clinval_info());
  return result();
}

/** Bytes handed to the engine at a time by `validateText`. */
const PIECE = 256 * 1024;

/** Validates values, records and whole inputs against one protocol. */
export class Validator {
  /**
   * `protocol` is a built-in name (`"patient"`) or a protocol JSON
   * document; `asOf` defaults to today (local time).
   */
  constructor(protocol, options) {
    const given = options ?? {};
    const settings = { ...given, asOf: given.asOf ?? today() };
    this.handle = withBytes([protocol, JSON.stringify(settings)], (p, pl, o, ol) =>
      abi.clinval_validator_new(p, pl, o, ol),
    );
    this.info = result();
    leaks.register(this, { free: (h) => abi.clinval_validator_free(h), handle: this.handle }, this);
  }

  /** The protocol: name, title, version and fields (to build a form). */
  protocol() {
    return structuredClone(this.info);
  }

  /** Checks one value of a field (by name or alias), as the user types. */
  validateField(field, value) {
    const json = JSON.stringify(value === undefined ? null : value);
    withBytes([field, json], (n, nl, v, vl) => abi.clinval_check_field(this.handle, n, nl, v, vl));
    return result();
  }

  /** Checks one record (an object keyed by field names or aliases). */
  validateRecord(record) {
    withBytes([JSON.stringify(record)], (p, l) => abi.clinval_check_record(this.handle, p, l));
    return result();
  }

  /**
   * Validates a whole CSV, JSON or NDJSON input (text or bytes) at once;
   * `onProgress(bytesDone, bytesTotal)` is called as it goes.
   */
  validateText(input, format, onProgress) {
    const bytes = typeof input === 'string' ? encoder.encode(input) : input;
    const batch = this.startBatch(format);
    const report = { summary: null, issues: [], records: [], warnings: [] };
    const add = (events) => {
      report.issues.push(...events.issues);
      report.records.push(...events.records);
      report.warnings.push(...events.warnings);
      if (events.summary) report.summary = events.summary;
      return events;
    };
    try {
      for (let at = 0; at < bytes.length; at += PIECE) {
        const events = add(batch.feed(bytes.subarray(at, at + PIECE)));
        onProgress?.(events.bytes_read, bytes.length);
      }
      add(batch.finish());
    } finally {
      batch.free();
    }
    return report;
  }

  /**
   * Starts an incremental validation: feed the input in pieces of any
   * size (a Web Worker reading a large file), then finish.
   */
  startBatch(format) {
    return new BatchSession(withBytes([format], (p, l) => abi.clinval_batch_new(this.handle, p, l)));
  }

  /** Frees the validator (its batches stay usable). */
  free() {
    if (this.handle === undefined) return;
    leaks.unregister(this);
    abi.clinval_validator_free(this.handle);
    this.handle = undefined;
  }
}

/** An input being validated piece by piece. */
export class BatchSession {
  constructor(handle) {
    this.handle = handle;
    leaks.register(this, { free: (h) => abi.clinval_batch_free(h), handle }, this);
  }

  /** Feeds the next piece (bytes); returns the issues (and records) it completed. */
  feed(chunk) {
    withBytes([chunk], (p, l) => abi.clinval_batch_feed(this.handle, p, l));
    return result();
  }

  /** Ends the input; returns the rest and the `summary`. Frees the batch. */
  finish() {
    const handle = this.handle;
    this.forget();
    checked(abi.clinval_batch_finish(handle));
    return result();
  }

  /** Frees the batch without finishing it. */
  free() {
    if (this.handle === undefined) return;
    const handle = this.handle;
    this.forget();
    abi.clinval_batch_free(handle);
  }

  forget() {
    leaks.unregister(this);
    this.handle = undefined;
  }
}
