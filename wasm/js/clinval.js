// clinval's JavaScript API: a thin ES module over the modules' C ABI
// (docs/abi.md), the same exports every other host calls. Values cross as
// JSON text in a module's memory; results come back as JSON and are
// parsed here. The modules import nothing.
//
// Two builds of one engine: the compact `clinval_bg.wasm` (`init`), and
// the full `clinval_full_bg.wasm` (`initFull`) with what the compact one
// leaves out (the regex engine, strptime formats, geo and JSON compound
// types). `Validator.load` starts in the compact module and fetches the
// full one only for a protocol that needs it.

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The compact and the full module, once instantiated. */
const loaded = { compact: undefined, full: undefined };

/** Frees validators and batches the program forgot to free. */
const leaks = new FinalizationRegistry(({ module, free, handle }) => module.exports[free](handle));

/** An error of the engine; `code` is stable (docs/abi.md). */
export class ClinvalError extends Error {
  constructor(code, message, detail) {
    super(`${code}: ${message}`);
    this.name = 'ClinvalError';
    this.code = code;
    // An input error's kind, line and column, where it has them.
    if (detail?.kind !== undefined) this.kind = detail.kind;
    if (detail?.line !== undefined) this.line = detail.line;
    if (detail?.column !== undefined) this.column = detail.column;
  }
}

/** One instantiated module and the calls into its memory. */
class Module {
  constructor(instance) {
    this.exports = instance.exports;
    if (this.exports.clinval_abi_version() !== 1) {
      throw new Error(`clinval.js speaks C ABI 1, the module ${this.exports.clinval_abi_version()}`);
    }
  }

  /** The last call's result, parsed. */
  result() {
    const { memory, clinval_result_ptr, clinval_result_len } = this.exports;
    return JSON.parse(decoder.decode(new Uint8Array(memory.buffer, clinval_result_ptr(), clinval_result_len())));
  }

  /** Throws the module's error for a negative status; returns the status. */
  checked(status) {
    if (status < 0) {
      const { error } = this.result();
      throw new ClinvalError(error.code, error.message, error);
    }
    return status;
  }

  /**
   * Calls `fn` with each argument (a string or bytes) written into the
   * module's memory as `(ptr, len)`, and frees them after.
   */
  withBytes(args, fn) {
    const exports = this.exports;
    const placed = args.map((arg) => {
      const bytes = typeof arg === 'string' ? encoder.encode(arg) : arg;
      const ptr = bytes.length ? exports.clinval_alloc(bytes.length) : 0;
      if (bytes.length && !ptr) throw new Error('clinval: out of memory');
      if (bytes.length) new Uint8Array(exports.memory.buffer, ptr, bytes.length).set(bytes);
      return [ptr, bytes.length];
    });
    try {
      return this.checked(fn(exports, ...placed.flat()));
    } finally {
      for (const [ptr, len] of placed) if (ptr) exports.clinval_free(ptr, len);
    }
  }
}

/** Instantiates a module from `source` (see `init`). */
async function instantiate(source) {
  if (typeof source === 'string' || source instanceof URL || (typeof Request === 'function' && source instanceof Request)) {
    source = fetch(source);
  }
  source = await source;
  if (typeof Response === 'function' && source instanceof Response) {
    if (typeof WebAssembly.instantiateStreaming === 'function' && source.headers.get('content-type') === 'application/wasm') {
      return (await WebAssembly.instantiateStreaming(source, {})).instance;
    }
    return (await WebAssembly.instantiate(await source.arrayBuffer(), {})).instance;
  }
  if (source instanceof WebAssembly.Module) return WebAssembly.instantiate(source, {});
  return (await WebAssembly.instantiate(source, {})).instance;
}

/** Instantiates a module synchronously from its bytes or a compiled module. */
function instantiateSync(input) {
  const source = input?.module ?? input;
  const module = source instanceof WebAssembly.Module ? source : new WebAssembly.Module(source);
  return new WebAssembly.Instance(module, {});
}

/**
 * Instantiates the compact module. `input` is where the module is (a URL
 * or path, a Response, bytes, or a compiled `WebAssembly.Module`), also as
 * `{ module_or_path }`; by default `clinval_bg.wasm` next to this file.
 */
export default async function init(input) {
  loaded.compact ??= new Module(
    await instantiate(input?.module_or_path ?? input ?? new URL('clinval_bg.wasm', import.meta.url)),
  );
  return loaded.compact.exports;
}

/** Instantiates the full module; by default `clinval_full_bg.wasm` next to this file. */
export async function initFull(input) {
  loaded.full ??= new Module(
    await instantiate(input?.module_or_path ?? input ?? new URL('clinval_full_bg.wasm', import.meta.url)),
  );
  return loaded.full.exports;
}

/** Instantiates the compact module synchronously from its bytes or a compiled module (`{ module }`). */
export function initSync(input) {
  loaded.compact ??= new Module(instantiateSync(input));
  return loaded.compact.exports;
}

/** Instantiates the full module synchronously. */
export function initFullSync(input) {
  loaded.full ??= new Module(instantiateSync(input));
  return loaded.full.exports;
}

/** The module new validators start in: the compact one if instantiated. */
function first() {
  const module = loaded.compact ?? loaded.full;
  if (!module) throw new Error('clinval: call init() (or initSync()) first');
  return module;
}

function today() {
  const now = new Date();
  const pad = (n) => String(n).padStart(2, '0');
  return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
}

/** Facts about a module (the compact one unless only the full one is loaded): engine version, C ABI version, build, built-in protocols. */
export function moduleInfo() {
  const module = first();
  module.checked(module.exports.clinval_info());
  return module.result();
}

/** Bytes handed to the engine at a time by `validateText`. */
const PIECE = 256 * 1024;

/** Validates values, records and whole inputs against one protocol. */
export class Validator {
  /**
   * `protocol` is a built-in name (`"patient"`) or a protocol JSON
   * document; `asOf` defaults to today (local time). Runs in the compact
   * module; a protocol only the full module can run goes there if it is
   * instantiated, else this throws a `ClinvalError` with code
   * `needs_full_module` (`Validator.load` fetches it instead).
   * `module` is for `forWorkbooks` (the module to run in).
   */
  constructor(protocol, options, module) {
    const given = options ?? {};
    const settings = JSON.stringify({ ...given, asOf: given.asOf ?? today() });
    const open = (module) => {
      this.module = module;
      this.handle = module.withBytes([protocol, settings], (x, p, pl, o, ol) => x.clinval_validator_new(p, pl, o, ol));
    };
    try {
      open(module ?? first());
    } catch (error) {
      if (error.code !== 'needs_full_module' || !loaded.full || this.module === loaded.full) throw error;
      open(loaded.full);
    }
    this.info = this.module.result();
    leaks.register(this, { module: this.module, free: 'clinval_validator_free', handle: this.handle }, this);
  }

  /**
   * A validator, instantiating what it needs: the compact module, and the
   * full one only if the protocol needs it. `modules` says where they are
   * (`{ compact, full }`, as `init` takes them; by default next to this file).
   */
  static async load(protocol, options, modules) {
    if (!loaded.compact && !loaded.full) await init(modules?.compact);
    try {
      return new Validator(protocol, options);
    } catch (error) {
      if (error.code !== 'needs_full_module' || loaded.full) throw error;
      await initFull(modules?.full);
      return new Validator(protocol, options);
    }
  }

  /**
   * A validator in the full module, the one that reads workbooks (xlsx,
   * xls, ods), instantiating it first if needed: a page loads it only
   * when a workbook is dropped. `modules.full` says where it is.
   */
  static async forWorkbooks(protocol, options, modules) {
    await initFull(modules?.full);
    return new Validator(protocol, options, loaded.full);
  }

  /** Which module the validator runs in: `"compact"` or `"full"`. */
  get build() {
    return this.module === loaded.full ? 'full' : 'compact';
  }

  /** The protocol: name, title, version and fields (to build a form). */
  protocol() {
    return structuredClone(this.info);
  }

  /** Checks one value of a field (by name or alias), as the user types. */
  validateField(field, value) {
    const json = JSON.stringify(value === undefined ? null : value);
    this.module.withBytes([field, json], (x, n, nl, v, vl) => x.clinval_check_field(this.handle, n, nl, v, vl));
    return this.module.result();
  }

  /** Checks one record (an object keyed by field names or aliases). */
  validateRecord(record) {
    this.module.withBytes([JSON.stringify(record)], (x, p, l) => x.clinval_check_record(this.handle, p, l));
    return this.module.result();
  }

  /**
   * Validates a whole CSV, JSON or NDJSON input (text or bytes), or a
   * workbook's bytes (`"workbook"`, full module), at once;
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
    const handle = this.module.withBytes([format], (x, p, l) => x.clinval_batch_new(this.handle, p, l));
    return new BatchSession(this.module, handle);
  }

  /**
   * Starts a key batch: a table of `source`'s protocol read for the keys
   * foreign key `foreignKey` (an index into `protocol().foreignKeys`)
   * refers to; when it finishes, the keys are the foreign key's. `source`
   * is this validator for a key to its own table, and runs in the same
   * module as this one.
   */
  startKeyBatch(foreignKey, source, format) {
    if (source.module !== this.module) {
      throw new ClinvalError('argument', 'the source validator runs in the other module; load both protocols in one');
    }
    const handle = this.module.withBytes([format], (x, p, l) =>
      x.clinval_keys_new(this.handle, foreignKey, source.handle, p, l),
    );
    return new BatchSession(this.module, handle);
  }

  /** Reads a whole referenced table (text or bytes) for foreign key `foreignKey`; returns how many keys it gave. */
  readReferencedKeys(foreignKey, source, input, format) {
    const bytes = typeof input === 'string' ? encoder.encode(input) : input;
    const batch = this.startKeyBatch(foreignKey, source, format);
    try {
      for (let at = 0; at < bytes.length; at += PIECE) batch.feed(bytes.subarray(at, at + PIECE));
      return batch.finish().keys;
    } finally {
      batch.free();
    }
  }

  /** Frees the validator (its batches stay usable). */
  free() {
    if (this.handle === undefined) return;
    leaks.unregister(this);
    this.module.exports.clinval_validator_free(this.handle);
    this.handle = undefined;
  }
}

/** An input being validated piece by piece. */
export class BatchSession {
  constructor(module, handle) {
    this.module = module;
    this.handle = handle;
    leaks.register(this, { module, free: 'clinval_batch_free', handle }, this);
  }

  /** Feeds the next piece (bytes); returns the issues (and records) it completed. */
  feed(chunk) {
    this.module.withBytes([chunk], (x, p, l) => x.clinval_batch_feed(this.handle, p, l));
    return this.module.result();
  }

  /** Ends the input; returns the rest and the `summary`. Frees the batch. */
  finish() {
    const handle = this.handle;
    this.forget();
    this.module.checked(this.module.exports.clinval_batch_finish(handle));
    return this.module.result();
  }

  /** Frees the batch without finishing it. */
  free() {
    if (this.handle === undefined) return;
    const handle = this.handle;
    this.forget();
    this.module.exports.clinval_batch_free(handle);
  }

  forget() {
    leaks.unregister(this);
    this.handle = undefined;
  }
}
