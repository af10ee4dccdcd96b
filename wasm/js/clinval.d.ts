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
}

/** A field as a form builder sees it. */
export interface FieldInfo {
  name: string;
  title: string;
  description?: string;
  type:
    | "string" | "integer" | "number" | "boolean" | "date" | "time" | "datetime"
    | "year" | "yearmonth" | "duration" | "geopoint" | "geojson" | "object"
    | "array" | "list" | "any" | "bloodPressure";
  /** The type's format when not the default ("email", "%d/%m/%Y", "any"). */
  format?: string;
  required: boolean;
  minimum?: number | string;
  maximum?: number | string;
  exclusiveMinimum?: number | string;
  exclusiveMaximum?: number | string;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  enum?: string[];
  /** Labels of the `enum` values (Table Schema's `categories`): value → label. */
  labels?: Record<string, string>;
  example?: unknown;
  /** The form (REDCap instrument) the field belongs to. */
  form?: string;
  /** The heading of the section the field starts (REDCap's section header). */
  section?: string;
  /** The title in other languages, by language tag ("zh-CN"). */
  titles?: Record<string, string>;
  /** Labels of the `enum` values in other languages: tag → value → label. */
  enumTitles?: Record<string, Record<string, string>>;
}

/** The protocol a validator runs. */
export interface ProtocolInfo {
  name: string;
  title: string | null;
  version: string | null;
  fields: FieldInfo[];
  /** Scores computed for valid records (absent when none). */
  scores?: ScoreInfo[];
  /** Foreign keys (absent when none): give each its keys with a key batch first. */
  foreignKeys?: ForeignKeyInfo[];
  /** What loading the protocol noticed but did not refuse (absent when nothing). */
  warnings?: ProtocolWarning[];
}

/** A foreign key of the protocol. */
export interface ForeignKeyInfo {
  fields: string[];
  /** The resource it refers to (null: this table). */
  resource: string | null;
  referenceFields: string[];
}

/** A protocol key kept but not understood, or a value no record can have. */
export interface ProtocolWarning {
  path: string;
  message: string;
}

/** A score the protocol computes from valid records. */
export interface ScoreInfo {
  name: string;
  title: string;
  titles?: Record<string, string>;
  description?: string;
}

/** An issue of one value or record. `code` is the stable contract. */
export interface FieldIssue {
  field: string | null;
  code: string;
  message: string;
  value: string | null;
}

/** The verdict on one typed value. */
export interface FieldVerdict {
  valid: boolean;
  /** The cleaned value when valid (null when missing and allowed). */
  value: string | number | boolean | null;
  issue: FieldIssue | null;
}

/** The verdict on one record. */
export interface RecordVerdict {
  valid: boolean;
  issues: FieldIssue[];
  record: Record<string, unknown> | null;
  /** The protocol's scores of a valid record (null: not computable). */
  scores?: Record<string, number | null>;
  /**
   * The fields branching (`showIf`) hides given the record's answers; a
   * form does not show them. Present when the protocol has logic.
   */
  hidden?: string[];
  /**
   * The calculated fields' values (`calc`), valid record or not (null:
   * not computable from the answers). Present when the protocol has any.
   */
  calculated?: Record<string, number | null>;
}

/** One error-log line. A table issue (a header problem) has `row` null and its `column` (1-based). */
export interface IssueRow {
  row: number | null;
  line: number;
  column?: number;
  field: string | null;
  code: string;
  message: string;
  value: string | null;
}

/** Counts over an input. */
export interface Summary {
  records: number;
  valid: number;
  invalid: number;
  issues: number;
  byCode: Record<string, number>;
  warnings?: Warning[];
}

/** A note about a whole input. */
export interface Warning {
  code: "unknown_columns";
  columns: string[];
}

/** What a batch found since the last call. */
export interface BatchEvents {
  issues: IssueRow[];
  records: Record<string, unknown>[];
  /** With `includeValid` and a protocol with scores: each valid record's scores. */
  scores?: { row: number; scores: Record<string, number | null> }[];
  warnings: Warning[];
  records_read: number;
  bytes_read: number;
  summary: Summary | null;
  /** A key batch's distinct keys, when it finished. */
  keys?: number;
}

/** A whole input's report. */
export interface Report {
  summary: Summary;
  issues: IssueRow[];
  records: Record<string, unknown>[];
  warnings: Warning[];
}

/** Facts about the module. */
export interface ModuleInfo {
  engine: string;
  abi: number;
  protocols: string[];
  /** `"compact"` (clinval_bg.wasm) or `"full"` (clinval_full_bg.wasm). */
  build: "compact" | "full";
}

/** An error of the engine. `code` is stable: "argument", "protocol", "needs_full_module", "input", ... */
export class ClinvalError extends Error {
  /** `argument`, `protocol`, `needs_full_module` or `input`. */
  code: string;
  /** An input error's kind: `empty`, `no_records`, `binary`, `invalid_encoding`, `read_failed`, `missing_columns`, `header`, `duplicate_column`, `record_too_large` or `json`. */
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
  /** Which module it runs in. */
  readonly build: "compact" | "full";
  /** The protocol: name, title, version and fields (to build a form). */
  protocol(): ProtocolInfo;
  /** Checks one value of a field (by name or alias), as the user types. */
  validateField(field: string, value: string | number | boolean | null | undefined): FieldVerdict;
  /** Checks one record (an object keyed by field names or aliases). */
  validateRecord(record: Record<string, unknown>): RecordVerdict;
  /** Validates a whole CSV, JSON or NDJSON input at once. */
  validateText(input: string | Uint8Array, format: "csv" | "json" | "ndjson", onProgress?: (done: number, total: number) => void): Report;
  /** Starts an incremental validation: feed pieces of any size, then finish. */
  startBatch(format: "csv" | "json" | "ndjson"): BatchSession;
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
