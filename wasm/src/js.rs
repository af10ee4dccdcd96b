//! The JavaScript face (wasm-bindgen): what the ePRO form and the batch page
//! call. Values cross as JSON text: inputs (options, records, field values)
//! by the JS engine's `JSON.stringify`, read by the same serde_json code as
//! the C ABI, so both faces parse inputs identically. (serde-wasm-bindgen
//! was tried for inputs: it ignores unknown keys of structs, so a typo such
//! as `asof` passed silently, and it added 1.5 KB.) Results go out as JSON made by the same
//! serde_json code the C ABI uses and are turned into objects by the JS
//! engine's `JSON.parse`: one serialiser per result type in the module
//! instead of two (~10 KB gzipped less), and faster for large reports than
//! building objects property by property across the boundary. The types
//! below are written out so the generated `.d.ts` says exactly what comes
//! back, not `any`.

use serde::Serialize;
use wasm_bindgen::prelude::*;

use clinval_core::Cell;
use serde_json::value::RawValue as RawJson;

use crate::engine::{Batch, Engine, EngineError, OptionsDoc, module_info};

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &'static str = r#"
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
  type: "string" | "integer" | "number" | "boolean" | "date" | "bloodPressure";
  required: boolean;
  minimum?: number | string;
  maximum?: number | string;
  exclusiveMinimum?: number | string;
  exclusiveMaximum?: number | string;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  enum?: string[];
  example?: unknown;
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
}

/** One error-log line. */
export interface IssueRow {
  row: number;
  line: number;
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
  warnings: Warning[];
  records_read: number;
  bytes_read: number;
  summary: Summary | null;
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
}
"#;

fn js_error(error: EngineError) -> JsError {
    JsError::new(&format!("{}: {}", error.code(), error.message()))
}

fn to_js(value: &impl Serialize) -> Result<JsValue, JsError> {
    let json = serde_json::to_string(value).map_err(|e| JsError::new(&e.to_string()))?;
    js_sys::JSON::parse(&json).map_err(|_| JsError::new("result is not JSON"))
}

/// A JS value as JSON text (`undefined` as `null`), by the JS engine's
/// `JSON.stringify`.
fn stringify(value: &JsValue) -> Result<String, JsError> {
    if value.is_undefined() {
        return Ok("null".into());
    }
    js_sys::JSON::stringify(value)
        .ok()
        .and_then(|s| s.as_string())
        .ok_or_else(|| JsError::new("value cannot be written as JSON"))
}

/// Today's local date, the default `asOf` in the browser.
fn today() -> Option<chrono::NaiveDate> {
    let now = js_sys::Date::new_0();
    chrono::NaiveDate::from_ymd_opt(
        now.get_full_year() as i32,
        now.get_month() + 1,
        now.get_date(),
    )
}

/// Facts about the module: engine version, C ABI version, built-in protocols.
#[wasm_bindgen(js_name = moduleInfo, unchecked_return_type = "ModuleInfo")]
pub fn module_info_js() -> Result<JsValue, JsError> {
    to_js(&module_info())
}

/// Validates values, records and whole inputs against one protocol.
#[wasm_bindgen]
pub struct Validator {
    engine: Engine,
}

#[wasm_bindgen]
impl Validator {
    /// `protocol` is a built-in name (`"patient"`) or a protocol JSON document.
    #[wasm_bindgen(constructor)]
    pub fn new(
        protocol: &str,
        #[wasm_bindgen(unchecked_param_type = "ValidatorOptions")] options: JsValue,
    ) -> Result<Validator, JsError> {
        let options = if options.is_undefined() || options.is_null() {
            OptionsDoc::default()
        } else {
            OptionsDoc::from_json(stringify(&options)?.as_bytes()).map_err(js_error)?
        };
        let engine = Engine::new(protocol, options, today()).map_err(js_error)?;
        Ok(Validator { engine })
    }

    /// The protocol: name, title, version and fields (to build a form).
    #[wasm_bindgen(unchecked_return_type = "ProtocolInfo")]
    pub fn protocol(&self) -> Result<JsValue, JsError> {
        to_js(&self.engine.protocol_info())
    }

    /// Checks one value of a field (by name or alias), as the user types.
    #[wasm_bindgen(js_name = validateField, unchecked_return_type = "FieldVerdict")]
    pub fn validate_field(
        &self,
        field: &str,
        #[wasm_bindgen(unchecked_param_type = "string | number | boolean | null | undefined")]
        value: JsValue,
    ) -> Result<JsValue, JsError> {
        let json = stringify(&value)?;
        let value: &RawJson = serde_json::from_slice(json.as_bytes())
            .map_err(|e| JsError::new(&format!("value: {e}")))?;
        to_js(
            &self
                .engine
                .check_field(field, Cell::of_json(value))
                .map_err(js_error)?,
        )
    }

    /// Checks one record (an object keyed by field names or aliases).
    #[wasm_bindgen(js_name = validateRecord, unchecked_return_type = "RecordVerdict")]
    pub fn validate_record(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Record<string, unknown>")] record: JsValue,
    ) -> Result<JsValue, JsError> {
        to_js(&self.engine.check_record(stringify(&record)?.as_bytes()))
    }

    /// Validates a whole CSV, JSON or NDJSON input (text or bytes) at once.
    /// `onProgress(bytesDone, bytesTotal)` is called as it goes.
    #[wasm_bindgen(js_name = validateText, unchecked_return_type = "Report")]
    pub fn validate_text(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string | Uint8Array")] input: JsValue,
        #[wasm_bindgen(unchecked_param_type = "\"csv\" | \"json\" | \"ndjson\"")] format: &str,
        #[wasm_bindgen(unchecked_param_type = "(done: number, total: number) => void")] on_progress: Option<
            js_sys::Function,
        >,
    ) -> Result<JsValue, JsError> {
        let bytes: Vec<u8> = match input.as_string() {
            Some(text) => text.into_bytes(),
            None => js_sys::Uint8Array::new(&input).to_vec(),
        };
        let mut batch = self.engine.batch(format).map_err(js_error)?;
        let mut report = crate::engine::Events::default();
        let total = bytes.len() as f64;
        for piece in bytes.chunks(PIECE) {
            merge(&mut report, batch.feed(piece).map_err(js_error)?);
            if let Some(callback) = &on_progress {
                let done = JsValue::from(report.bytes_read as f64);
                callback
                    .call2(&JsValue::NULL, &done, &JsValue::from(total))
                    .map_err(|_| JsError::new("onProgress threw"))?;
            }
        }
        merge(&mut report, batch.finish().map_err(js_error)?);
        to_js(&Report {
            summary: report.summary.unwrap_or_default(),
            issues: report.issues,
            records: report.records,
            warnings: report.warnings,
        })
    }

    /// Starts an incremental validation: feed the input in pieces of any
    /// size (a Web Worker reading a large file), then finish.
    #[wasm_bindgen(js_name = startBatch)]
    pub fn start_batch(
        &self,
        #[wasm_bindgen(unchecked_param_type = "\"csv\" | \"json\" | \"ndjson\"")] format: &str,
    ) -> Result<BatchSession, JsError> {
        Ok(BatchSession {
            batch: self.engine.batch(format).map_err(js_error)?,
        })
    }
}

/// Bytes handed to the engine at a time by `validateText`.
const PIECE: usize = 256 * 1024;

fn merge(into: &mut crate::engine::Events, events: crate::engine::Events) {
    into.issues.extend(events.issues);
    into.records.extend(events.records);
    into.warnings.extend(events.warnings);
    into.records_read = events.records_read;
    into.bytes_read = events.bytes_read;
    if events.summary.is_some() {
        into.summary = events.summary;
    }
}

#[derive(Serialize)]
struct Report {
    summary: clinval_core::Summary,
    issues: Vec<Box<RawJson>>,
    records: Vec<Box<RawJson>>,
    warnings: Vec<clinval_core::Warning>,
}

/// An input being validated piece by piece.
#[wasm_bindgen]
pub struct BatchSession {
    batch: Batch,
}

#[wasm_bindgen]
impl BatchSession {
    /// Feeds the next piece; returns the issues (and records) it completed.
    #[wasm_bindgen(unchecked_return_type = "BatchEvents")]
    pub fn feed(&mut self, chunk: &[u8]) -> Result<JsValue, JsError> {
        to_js(&self.batch.feed(chunk).map_err(js_error)?)
    }

    /// Ends the input; returns the rest and the `summary`.
    #[wasm_bindgen(unchecked_return_type = "BatchEvents")]
    pub fn finish(&mut self) -> Result<JsValue, JsError> {
        to_js(&self.batch.finish().map_err(js_error)?)
    }
}
