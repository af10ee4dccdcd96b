// Types of clinval.js, the JavaScript API over the C ABI of clinval_bg.wasm
// (compact) and clinval_full_bg.wasm (full).
/** Options of a validator. */
export interface ValidatorOptions {
  /** Dates after this day (YYYY-MM-DD) are in the future. Default: today. */
  asOf?: string;
  /** Language of messages: "en" (default) or "zh-CN". */
  lang?: string;
  /** Batches also return the cleaned valid records. */
  includeValid?: boolean;
  /** Largest record accepted, in bytes (default 16 MiB). */
  maxRecordBytes?: number;
  /** Most cells (CSV) or keys (JSON) a record may have (default 65,536). */
  maxRecordCells?: number;
  /** The inputs' text encoding (default "auto": the protocol's, else detected). */
  encoding?: "auto" | "utf-8" | "gb18030";
  /** A workbook's sheet: its name, or its 1-based position (default: the first sheet with data). */
  sheet?: string | number;
  /** Largest workbook accepted, in bytes (default 104857600; a workbook is held whole). */
  maxWorkbookBytes?: number;
}

/** An input format: CSV, a JSON array, NDJSON, or a workbook (xlsx, xlsm, xlsb, xls, ods; full module only). */
export type Format = "csv" | "json" | "ndjson" | "workbook";

// The result shapes (FieldInfo, ProtocolInfo, RecordVerdict, Events,
// Summary, IssueLine, ...) are generated from the Rust types that make
// them: clinval-results.d.ts (and clinval.schema.json).
import type { Events, FieldVerdict, IssueLine, ModuleInfo, ProtocolInfo, RecordVerdict, Summary, Warning } from "./clinval-results.js";
export type * from "./clinval-results.js";

/** One error-log line (the name this API has used). */
export type IssueRow = IssueLine;
/** What a batch found since the last call (the name this API has used). */
export type BatchEvents = Events;

/** A whole input's report. */
export interface Report {
  summary: Summary;
  issues: IssueRow[];
  records: Record<string, unknown>[];
  warnings: Warning[];
}

/** An error of the engine. `code` is stable: "argument", "protocol", "needs_full_module", "input", ... */
export class ClinvalError extends Error {
  /** `argument`, `protocol`, `needs_full_module` (a protocol or a workbook the compact module cannot read) or `input`. */
  code: string;
  /** An input error's kind: `empty`, `no_records`, `binary`, `read_failed`, `missing_columns`, `header`, `duplicate_column`, `record_too_large`, `too_many_cells`, `duplicate_index_full`, `json`, or a workbook's: `workbook_too_large`, `not_a_workbook`, `workbook_encrypted`, `workbook_unreadable`, `no_sheets`, `no_such_sheet`, `empty_sheet`, `no_data`. */
  kind?: string;
  /** The 1-based line an input error is at, where it has one. */
  line?: number;
  /** Its column, where it has one. */
  column?: number;
}

/** Where the module is: a URL or path, a Response, its bytes, or a compiled module. */
export type ModuleSource = string | URL | Request | Response | Promise<Response> | BufferSource | WebAssembly.Module;

/** Instantiates the compact module (by default `clinval_bg.wasm` next to clinval.js). */
export default function init(input?: ModuleSource | { module_or_path: ModuleSource }): Promise<WebAssembly.Exports>;

/** Instantiates the full module (by default `clinval_full_bg.wasm` next to clinval.js). */
export function initFull(input?: ModuleSource | { module_or_path: ModuleSource }): Promise<WebAssembly.Exports>;

/** Instantiates the compact module synchronously from its bytes or a compiled module. */
export function initSync(input: BufferSource | WebAssembly.Module | { module: BufferSource | WebAssembly.Module }): WebAssembly.Exports;

/** Instantiates the full module synchronously. */
export function initFullSync(input: BufferSource | WebAssembly.Module | { module: BufferSource | WebAssembly.Module }): WebAssembly.Exports;

/** Facts about the module new validators start in (the compact one when instantiated). */
export function moduleInfo(): ModuleInfo;

/** Validates values, records and whole inputs against one protocol. */
export class Validator {
  /**
   * `protocol` is a built-in name (`"patient"`) or a protocol JSON document. Runs in the
   * compact module, or the full one if the protocol needs it and it is instantiated.
   * Throws a `ClinvalError` (message `"<code>: <message>"`).
   */
  constructor(protocol: string, options?: ValidatorOptions);
  /** A validator, instantiating the compact module, and the full one only if the protocol needs it. */
  static load(protocol: string, options?: ValidatorOptions, modules?: { compact?: ModuleSource; full?: ModuleSource }): Promise<Validator>;
  /** A validator in the full module, which reads workbooks (instantiated if it is not yet). */
  static forWorkbooks(protocol: string, options?: ValidatorOptions, modules?: { full?: ModuleSource }): Promise<Validator>;
  /** Which module it runs in. */
  readonly build: "compact" | "full";
  /** The protocol: name, title, version and fields (to build a form). */
  protocol(): ProtocolInfo;
  /** Checks one value of a field (by name or alias), as the user types. */
  validateField(field: string, value: string | number | boolean | null | undefined): FieldVerdict;
  /** Checks one record (an object keyed by field names or aliases). */
  validateRecord(record: Record<string, unknown>): RecordVerdict;
  /** Validates a whole input at once (a workbook: its bytes). */
  validateText(input: string | Uint8Array, format: Format, onProgress?: (done: number, total: number) => void): Report;
  /** Starts an incremental validation: feed pieces of any size, then finish (a workbook is read at the finish). */
  startBatch(format: Format): BatchSession;
  /** Starts a key batch: a table of `source`'s protocol read for the keys foreign key `foreignKey` refers to (given to it when the batch finishes). */
  startKeyBatch(foreignKey: number, source: Validator, format: "csv" | "json" | "ndjson"): BatchSession;
  /** Reads a whole referenced table for foreign key `foreignKey`; returns how many keys it gave. */
  readReferencedKeys(foreignKey: number, source: Validator, input: string | Uint8Array, format: "csv" | "json" | "ndjson"): number;
  /** Frees the validator (its batches stay usable). */
  free(): void;
}

/** An input being validated piece by piece. */
export class BatchSession {
  /** Feeds the next piece; returns the issues (and records) it completed. */
  feed(chunk: Uint8Array): BatchEvents;
  /** Ends the input; returns the rest and the summary. Frees the batch. */
  finish(): BatchEvents;
  /** Frees the batch without finishing it. */
  free(): void;
}
