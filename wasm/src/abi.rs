//! The plain C ABI: for hosts that are not JavaScript (wasmtime, wasmer,
//! wazero; Python, Go, .NET, Rust servers).
//!
//! Only `i32`/`u32` parameters and single results; strings and documents
//! are UTF-8 bytes in guest memory from `clinval_alloc`; every answer is
//! JSON in a result buffer read through `clinval_result_ptr`/`_len`.
//! Errors are results (a negative status and `{"error": ...}`), never traps.
//! Nothing here calls a JS import. `docs/abi.md` is the contract.
//!
//! [`State`] holds the handle tables and the result buffer; it is plain
//! Rust, tested natively. The `extern "C"` exports are compiled for wasm32
//! only, so native builds never export a symbol that could clash with libc.

use serde::Serialize;

use clinval_core::Cell;
use serde_json::value::RawValue as RawJson;

use std::sync::Arc;

use crate::engine::{Batch, Engine, EngineError, OptionsDoc, module_info};
use crate::handles::{Kind, MAX_OPEN, Table};

/// Version of this ABI. Incremented on any incompatible change; additions
/// (new exports, new keys in results) keep it.
pub const ABI_VERSION: u32 = 1;

/// Status: the call's arguments cannot be used (unknown handle, bad UTF-8,
/// bad options, unknown field or format).
pub const ERR_ARGUMENT: i32 = -1;
/// Status: the protocol was refused.
pub const ERR_PROTOCOL: i32 = -2;
/// Status: the input cannot be validated at all (the batch has failed).
pub const ERR_INPUT: i32 = -3;

/// Result buffers larger than this are shrunk back after use.
const RESULT_KEEP: usize = 1 << 20;

/// A batch, and for a key batch the validator and foreign key its keys
/// go to when it finishes.
struct BatchSlot {
    batch: Batch,
    keys_for: Option<(i32, usize)>,
}

/// The module's state behind the exports.
pub struct State {
    engines: Table<Engine>,
    batches: Table<BatchSlot>,
    result: Vec<u8>,
}

impl Default for State {
    fn default() -> State {
        State {
            engines: Table::new(Kind::Validator),
            batches: Table::new(Kind::Batch),
            result: Vec::new(),
        }
    }
}

/// An empty result, `{}`.
#[derive(Serialize)]
struct Empty {}

#[derive(Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub(crate) struct ErrorBody<'a> {
    error: ErrorDetail<'a>,
}

#[derive(Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
struct ErrorDetail<'a> {
    code: &'a str,
    message: String,
    /// An input error's kind (`InputError::kind`).
    #[serde(skip_serializing_if = "Option::is_none")]
    kind: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    column: Option<u64>,
}

fn text(bytes: &[u8], what: &str) -> Result<String, EngineError> {
    String::from_utf8(bytes.to_vec())
        .map_err(|_| EngineError::Argument(format!("{what} is not UTF-8")))
}

impl State {
    /// The last call's result (JSON).
    pub fn result(&self) -> &[u8] {
        &self.result
    }

    /// Writes `value` as the result and returns `status`.
    fn answer(&mut self, status: i32, value: &impl Serialize) -> i32 {
        if self.result.capacity() > RESULT_KEEP {
            self.result = Vec::new();
        }
        self.result.clear();
        if serde_json::to_writer(&mut self.result, value).is_err() {
            self.result.clear();
            self.result.extend_from_slice(
                br#"{"error":{"code":"internal","message":"result not serialisable"}}"#,
            );
            return ERR_ARGUMENT;
        }
        status
    }

    fn fail(&mut self, error: EngineError) -> i32 {
        let status = match error {
            EngineError::Argument(_) => ERR_ARGUMENT,
            EngineError::Protocol(_) | EngineError::Workbook => ERR_PROTOCOL,
            EngineError::Input(_) => ERR_INPUT,
        };
        let (kind, (line, column)) = match &error {
            EngineError::Input(input) => (Some(input.kind()), input.position()),
            _ => (None, (None, None)),
        };
        let body = ErrorBody {
            error: ErrorDetail {
                code: error.code(),
                message: error.message(),
                kind,
                line,
                column,
            },
        };
        self.answer(status, &body)
    }

    fn settle<T: Serialize>(&mut self, status: i32, result: Result<T, EngineError>) -> i32 {
        match result {
            Ok(value) => self.answer(status, &value),
            Err(error) => self.fail(error),
        }
    }

    fn engine(&self, handle: i32) -> Result<&Engine, EngineError> {
        self.engines
            .get(handle)
            .ok_or_else(|| no_such(Kind::Validator, handle))
    }

    fn batch(&mut self, handle: i32) -> Result<&mut Batch, EngineError> {
        self.batches
            .get_mut(handle)
            .map(|slot| &mut slot.batch)
            .ok_or_else(|| no_such(Kind::Batch, handle))
    }

    /// Module facts: `{"engine", "abi", "protocols"}`.
    pub fn info(&mut self) -> i32 {
        self.answer(0, &module_info())
    }

    /// Creates a validator; returns its handle (≥ 1). Result: the protocol
    /// (`{"name", "title", "version", "fields"}`).
    pub fn validator_new(&mut self, protocol: &[u8], options: &[u8]) -> i32 {
        let created = (|| {
            let protocol = text(protocol, "protocol")?;
            Engine::new(&protocol, OptionsDoc::from_json(options)?, None)
        })();
        let created = created.and_then(|engine| {
            let info = engine.protocol_info();
            let handle = self
                .engines
                .insert(engine)
                .ok_or_else(|| too_many(Kind::Validator))?;
            Ok((handle, info))
        });
        match created {
            Ok((handle, info)) => self.answer(handle, &info),
            Err(error) => self.fail(error),
        }
    }

    /// Frees a validator (its batches live on).
    pub fn validator_free(&mut self, handle: i32) -> i32 {
        let freed = self.engines.take(handle).map(|_| Empty {});
        self.settle(0, freed.ok_or_else(|| no_such(Kind::Validator, handle)))
    }

    /// Checks one field value (`value` is JSON: a string, number or null).
    pub fn check_field(&mut self, handle: i32, name: &[u8], value: &[u8]) -> i32 {
        let verdict = (|| {
            let engine = self.engine(handle)?;
            let name = text(name, "field name")?;
            let value: &RawJson = serde_json::from_slice(value)
                .map_err(|e| EngineError::Argument(format!("value is not JSON: {e}")))?;
            engine.check_field(&name, Cell::of_json(value))
        })();
        self.settle(0, verdict)
    }

    /// Checks one record given as a JSON object (UTF-8, as JSON is).
    pub fn check_record(&mut self, handle: i32, object: &[u8]) -> i32 {
        let verdict = (|| {
            let engine = self.engine(handle)?;
            std::str::from_utf8(object).map_err(|e| {
                EngineError::Argument(format!(
                    "the record is not UTF-8 (bad bytes at byte {})",
                    e.valid_up_to()
                ))
            })?;
            engine.check_record(object)
        })();
        self.settle(0, verdict)
    }

    /// Starts a batch of `format` (`csv`, `json`, `ndjson`); returns its handle.
    pub fn batch_new(&mut self, handle: i32, format: &[u8]) -> i32 {
        let batch = (|| self.engine(handle)?.batch(&text(format, "format")?))();
        self.open_batch(batch.map(|batch| BatchSlot {
            batch,
            keys_for: None,
        }))
    }

    /// Feeds a chunk; the result holds what it completed.
    pub fn batch_feed(&mut self, handle: i32, chunk: &[u8]) -> i32 {
        let events = self.batch(handle).and_then(|b| b.feed(chunk));
        self.settle(0, events)
    }

    /// Starts a key batch: a table of `source`'s protocol read for the
    /// keys foreign key `foreign_key` of `validator` refers to; when it
    /// finishes, the keys are the foreign key's. Returns its handle.
    pub fn keys_new(
        &mut self,
        validator: i32,
        foreign_key: i32,
        source: i32,
        format: &[u8],
    ) -> i32 {
        let batch = (|| {
            let fk = usize::try_from(foreign_key)
                .map_err(|_| EngineError::Argument(format!("no foreign key {foreign_key}")))?;
            let source = self.engine(source)?;
            let batch = self
                .engine(validator)?
                .key_batch(fk, source, &text(format, "format")?)?;
            Ok(BatchSlot {
                batch,
                keys_for: Some((validator, fk)),
            })
        })();
        self.open_batch(batch)
    }

    /// Stores a new batch; its handle as the status, or the error.
    fn open_batch(&mut self, batch: Result<BatchSlot, EngineError>) -> i32 {
        let opened = batch.and_then(|slot| {
            self.batches
                .insert(slot)
                .ok_or_else(|| too_many(Kind::Batch))
        });
        match opened {
            Ok(handle) => self.answer(handle, &Empty {}),
            Err(error) => self.fail(error),
        }
    }

    /// Ends the input and frees the batch; the result holds the rest and
    /// the summary (and for a key batch, `keys`: how many it gave).
    pub fn batch_finish(&mut self, handle: i32) -> i32 {
        let Some(mut entry) = self.batches.take(handle) else {
            return self.fail(no_such(Kind::Batch, handle));
        };
        let mut events = entry.batch.finish();
        if let (Ok(_), Some((validator, fk)), Some(keys)) =
            (&events, entry.keys_for, entry.batch.take_keys())
        {
            let given = match self.engines.get_mut(validator) {
                Some(engine) => engine.set_referenced_keys(fk, Arc::new(keys)),
                None => Err(no_such(Kind::Validator, validator)),
            };
            if let Err(error) = given {
                events = Err(error);
            }
        }
        self.settle(0, events)
    }

    /// Frees a batch without finishing it.
    pub fn batch_free(&mut self, handle: i32) -> i32 {
        let freed = self.batches.take(handle).map(|_| Empty {});
        self.settle(0, freed.ok_or_else(|| no_such(Kind::Batch, handle)))
    }
}

/// The error for a handle that names no open object of `kind`: never
/// issued, freed, or one of the other kind.
fn no_such(kind: Kind, handle: i32) -> EngineError {
    EngineError::Argument(format!("no open {} with handle {handle}", kind.name()))
}

/// The error when [`MAX_OPEN`] objects of `kind` are open.
fn too_many(kind: Kind) -> EngineError {
    EngineError::Argument(format!(
        "{MAX_OPEN} {}s are open; free one first",
        kind.name()
    ))
}

/// The exports. wasm32 only: natively these names could clash with libc.
#[cfg(target_arch = "wasm32")]
mod exports {
    use std::cell::RefCell;

    use super::{ABI_VERSION, State};

    thread_local! {
        static STATE: RefCell<State> = RefCell::new(State::default());
    }

    fn with<R>(f: impl FnOnce(&mut State) -> R) -> R {
        STATE.with(|state| f(&mut state.borrow_mut()))
    }

    /// The bytes at `ptr..ptr + len` of this module's memory.
    ///
    /// # Safety
    /// The host passes memory it got from `clinval_alloc` (see docs/abi.md).
    unsafe fn bytes<'a>(ptr: u32, len: u32) -> &'a [u8] {
        if len == 0 || ptr == 0 {
            return &[];
        }
        // SAFETY: per the ABI contract, ptr..ptr+len is a live allocation.
        unsafe { std::slice::from_raw_parts(ptr as usize as *const u8, len as usize) }
    }

    #[unsafe(no_mangle)]
    pub extern "C" fn clinval_abi_version() -> u32 {
        ABI_VERSION
    }

    #[unsafe(no_mangle)]
    pub extern "C" fn clinval_alloc(len: u32) -> u32 {
        let mut buffer: Vec<u8> = Vec::new();
        if buffer.try_reserve_exact(len.max(1) as usize).is_err() {
            return 0;
        }
        let ptr = buffer.as_mut_ptr();
        std::mem::forget(buffer);
        ptr as usize as u32
    }

    /// # Safety
    /// `ptr` and `len` are exactly what `clinval_alloc` gave and was given.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn clinval_free(ptr: u32, len: u32) {
        if ptr != 0 {
            // SAFETY: per the ABI contract, this is clinval_alloc's allocation.
            drop(unsafe { Vec::from_raw_parts(ptr as usize as *mut u8, 0, len.max(1) as usize) });
        }
    }

    #[unsafe(no_mangle)]
    pub extern "C" fn clinval_result_ptr() -> u32 {
        with(|s| s.result().as_ptr() as usize as u32)
    }

    #[unsafe(no_mangle)]
    pub extern "C" fn clinval_result_len() -> u32 {
        with(|s| s.result().len() as u32)
    }

    #[unsafe(no_mangle)]
    pub extern "C" fn clinval_info() -> i32 {
        with(State::info)
    }

    /// # Safety
    /// Pointers and lengths describe memory from `clinval_alloc`.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn clinval_validator_new(
        protocol_ptr: u32,
        protocol_len: u32,
        options_ptr: u32,
        options_len: u32,
    ) -> i32 {
        // SAFETY: forwarded from the caller's contract.
        let (protocol, options) = unsafe {
            (
                bytes(protocol_ptr, protocol_len),
                bytes(options_ptr, options_len),
            )
        };
        with(|s| s.validator_new(protocol, options))
    }

    #[unsafe(no_mangle)]
    pub extern "C" fn clinval_validator_free(handle: i32) -> i32 {
        with(|s| s.validator_free(handle))
    }

    /// # Safety
    /// Pointers and lengths describe memory from `clinval_alloc`.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn clinval_check_field(
        handle: i32,
        name_ptr: u32,
        name_len: u32,
        value_ptr: u32,
        value_len: u32,
    ) -> i32 {
        // SAFETY: forwarded from the caller's contract.
        let (name, value) = unsafe { (bytes(name_ptr, name_len), bytes(value_ptr, value_len)) };
        with(|s| s.check_field(handle, name, value))
    }

    /// # Safety
    /// Pointers and lengths describe memory from `clinval_alloc`.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn clinval_check_record(handle: i32, ptr: u32, len: u32) -> i32 {
        // SAFETY: forwarded from the caller's contract.
        let object = unsafe { bytes(ptr, len) };
        with(|s| s.check_record(handle, object))
    }

    /// # Safety
    /// Pointers and lengths describe memory from `clinval_alloc`.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn clinval_batch_new(
        handle: i32,
        format_ptr: u32,
        format_len: u32,
    ) -> i32 {
        // SAFETY: forwarded from the caller's contract.
        let format = unsafe { bytes(format_ptr, format_len) };
        with(|s| s.batch_new(handle, format))
    }

    /// # Safety
    /// Pointers and lengths describe memory from `clinval_alloc`.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn clinval_batch_feed(handle: i32, ptr: u32, len: u32) -> i32 {
        // SAFETY: forwarded from the caller's contract.
        let chunk = unsafe { bytes(ptr, len) };
        with(|s| s.batch_feed(handle, chunk))
    }

    /// # Safety
    /// Pointers and lengths describe memory from `clinval_alloc`.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn clinval_keys_new(
        validator: i32,
        foreign_key: i32,
        source: i32,
        format_ptr: u32,
        format_len: u32,
    ) -> i32 {
        // SAFETY: forwarded from the caller's contract.
        let format = unsafe { bytes(format_ptr, format_len) };
        with(|s| s.keys_new(validator, foreign_key, source, format))
    }

    #[unsafe(no_mangle)]
    pub extern "C" fn clinval_batch_finish(handle: i32) -> i32 {
        with(|s| s.batch_finish(handle))
    }

    #[unsafe(no_mangle)]
    pub extern "C" fn clinval_batch_free(handle: i32) -> i32 {
        with(|s| s.batch_free(handle))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;

    fn result(state: &State) -> Value {
        serde_json::from_slice(state.result()).unwrap()
    }

    #[test]
    fn a_whole_session_through_the_abi() {
        let mut s = State::default();
        assert_eq!(s.info(), 0);
        assert_eq!(result(&s)["abi"], ABI_VERSION);
        let v = s.validator_new(
            b"patient",
            br#"{"asOf": "2025-06-30", "includeValid": true}"#,
        );
        assert!(v > 0);
        assert_eq!(result(&s)["fields"][2]["name"], "age");
        assert_eq!(s.check_field(v, b"age", b"\"17\""), 0);
        assert_eq!(result(&s)["issue"]["code"], "out_of_range");
        assert_eq!(s.check_record(v, b"[1]"), 0);
        assert_eq!(result(&s)["issues"][0]["code"], "malformed_row");
        let b = s.batch_new(v, b"ndjson");
        assert!(b > 0 && b != v);
        assert_eq!(s.batch_feed(b, b"{\"id\":\"P1\",\"name\":\"A\",\"age\":30,\"visitDate\":\"2024-01-01\",\"bp\":\"120/80\"}\n"), 0);
        assert_eq!(
            result(&s)["records_read"],
            0,
            "the encoding is still being detected"
        );
        assert_eq!(s.batch_finish(b), 0);
        assert_eq!(result(&s)["records"][0]["id"], "P1");
        assert_eq!(result(&s)["summary"]["records"], 1);
        assert_eq!(
            s.batch_feed(b, b"x"),
            ERR_ARGUMENT,
            "finish frees the batch"
        );
        assert_eq!(s.validator_free(v), 0);
    }

    #[test]
    fn errors_are_results() {
        let mut s = State::default();
        assert_eq!(s.validator_new(b"patient", b"{}"), ERR_ARGUMENT);
        assert_eq!(
            result(&s)["error"]["message"],
            "asOf is required (YYYY-MM-DD)"
        );
        assert_eq!(
            s.validator_new(b"{\"fields\": {}}", br#"{"asOf":"2025-01-01"}"#),
            ERR_PROTOCOL
        );
        assert_eq!(result(&s)["error"]["code"], "protocol");
        assert_eq!(s.validator_new(b"\xff", b""), ERR_ARGUMENT);
        assert_eq!(s.validator_new(b"patient", b"{\"asof\": 1}"), ERR_ARGUMENT);
        assert_eq!(s.check_record(7, b"{}"), ERR_ARGUMENT);
        assert_eq!(s.validator_free(0), ERR_ARGUMENT);
        let v = s.validator_new(b"patient", br#"{"asOf":"2025-01-01"}"#);
        assert_eq!(s.check_field(v, b"age", b"not json"), ERR_ARGUMENT);
        assert_eq!(
            s.check_record(v, b"{\"id\": \"P\xff1\"}"),
            ERR_ARGUMENT,
            "bytes that are not UTF-8 are refused, not read as five missing fields"
        );
        assert_eq!(
            result(&s)["error"]["message"],
            "the record is not UTF-8 (bad bytes at byte 9)"
        );
        assert_eq!(s.batch_new(v, b"xml"), ERR_ARGUMENT);
        // A workbook: the full build reads it, the compact one names it.
        let workbook = s.batch_new(v, b"xlsx");
        if clinval_core::READS_WORKBOOKS {
            assert!(workbook > 0);
            assert_eq!(s.batch_free(workbook), 0);
        } else {
            assert_eq!(workbook, ERR_PROTOCOL);
            assert_eq!(result(&s)["error"]["code"], "needs_full_module");
        }
        let b = s.batch_new(v, b"csv");
        assert_eq!(s.batch_feed(b, b"id\0"), 0, "still sniffing the encoding");
        assert_eq!(s.batch_finish(b), ERR_INPUT);
        assert_eq!(result(&s)["error"]["code"], "input");
        assert_eq!(result(&s)["error"]["kind"], "binary");
        let b = s.batch_new(v, b"csv");
        assert_eq!(s.batch_feed(b, b"id,name\nP1,A\n"), 0);
        assert_eq!(s.batch_finish(b), ERR_INPUT);
        let error = &result(&s)["error"];
        assert_eq!(
            (&error["kind"], &error["line"]),
            (&"missing_columns".into(), &1.into())
        );
    }

    #[test]
    fn key_batches_give_foreign_keys_their_keys() {
        let mut s = State::default();
        let protocol = br#"{"fields": [{"name": "code", "type": "integer"}, {"name": "parent", "type": "integer"}],
            "foreignKeys": [{"fields": "parent", "reference": {"fields": "code"}}]}"#;
        let v = s.validator_new(protocol, br#"{"asOf":"2025-01-01"}"#);
        assert_eq!(result(&s)["foreignKeys"][0]["referenceFields"][0], "code");
        let csv = b"code,parent\n1,\n2,1\n3,9\n";
        let k = s.keys_new(v, 0, v, b"csv");
        assert!(k > 0, "{}", String::from_utf8_lossy(s.result()));
        assert_eq!(s.batch_feed(k, csv), 0);
        assert_eq!(s.batch_finish(k), 0);
        assert_eq!(result(&s)["keys"], 3);
        let b = s.batch_new(v, b"csv");
        s.batch_feed(b, csv);
        assert_eq!(s.batch_finish(b), 0);
        let issues = &result(&s)["issues"];
        assert_eq!(issues.as_array().map(Vec::len), Some(1), "{issues}");
        assert_eq!(
            (issues[0]["row"].as_u64(), issues[0]["code"].as_str()),
            (Some(3), Some("foreign_key"))
        );
        assert_eq!(s.keys_new(v, 1, v, b"csv"), ERR_ARGUMENT);
        assert_eq!(
            result(&s)["error"]["message"],
            "protocol `custom` has no foreign key 1"
        );
        let patient = s.validator_new(b"patient", br#"{"asOf":"2025-01-01"}"#);
        assert_eq!(s.keys_new(v, 0, patient, b"csv"), ERR_ARGUMENT);
        assert!(
            result(&s)["error"]["message"]
                .as_str()
                .unwrap()
                .contains("refers to field `code`, which protocol `patient` has not")
        );
    }

    #[test]
    fn a_stale_or_wrong_kind_handle_is_refused() {
        let mut s = State::default();
        let options = br#"{"asOf":"2025-01-01"}"#;
        let a = s.validator_new(b"patient", options);
        assert_eq!(s.validator_free(a), 0);
        let b = s.validator_new(b"patient", options);
        assert_ne!(a, b, "a freed handle is not given out again at once");
        assert_eq!(s.check_field(a, b"age", b"30"), ERR_ARGUMENT);
        assert_eq!(
            result(&s)["error"]["message"],
            format!("no open validator with handle {a}")
        );
        assert_eq!(s.validator_free(a), ERR_ARGUMENT);
        let batch = s.batch_new(b, b"csv");
        assert!(batch > 0);
        assert_eq!(s.check_field(batch, b"age", b"30"), ERR_ARGUMENT);
        assert_eq!(s.batch_feed(b, b"id\n"), ERR_ARGUMENT);
        assert_eq!(s.batch_free(b), ERR_ARGUMENT);
        assert_eq!(s.batch_finish(batch), ERR_INPUT, "empty, but finished");
        assert_eq!(s.batch_feed(batch, b"id\n"), ERR_ARGUMENT);
        assert_eq!(s.check_field(b, b"age", b"30"), 0);
    }
}
