//! clinval-core: the validation engine behind every clinval host.
//!
//! One engine, pure and deterministic, compiled natively for the CLI and to
//! WebAssembly for the browser, the server and partners' runtimes. It reads
//! CSV, JSON and NDJSON in UTF-8 or GB18030 (and, with the `workbook`
//! feature, xlsx, xls and ods workbooks), checks each record against a
//! [`Protocol`] (rules as data, not code: a Frictionless Table Schema with
//! the spec's semantics, plus clinval's keys such as its cleaning), and
//! reports issues with stable codes and their positions. No I/O beyond the bytes it
//! is given, no clock: the as-of date is an input.
//!
//! ```
//! use std::sync::Arc;
//! use clinval_core::{Format, Options, Outcome, Protocol, Sink, TableIssue, validate_bytes};
//!
//! struct Count(usize);
//! impl Sink for Count {
//!     fn record(&mut self, outcome: &Outcome<'_>) {
//!         self.0 += outcome.issues.len();
//!     }
//!     fn table_issue(&mut self, _issue: &TableIssue) {}
//! }
//!
//! let protocol = Arc::new(Protocol::builtin("patient").unwrap());
//! let as_of = chrono::NaiveDate::from_ymd_opt(2025, 6, 30).unwrap();
//! let csv = "id,name,age,visit_date,bp\nP1,Ann Lee,17,2024-05-01,120/80\n";
//! let mut sink = Count(0);
//! let summary = validate_bytes(protocol, Format::Csv, &Options::new(as_of), csv.as_bytes(), &mut sink).unwrap();
//! assert_eq!((summary.records, summary.invalid, sink.0), (1, 1, 1));
//! assert_eq!(summary.by_code["out_of_range"], 1);
//! ```

mod check;
mod clean;
mod decode;
mod expr;
mod issue;
mod key_index;
pub mod package;
mod patient_words;
mod pattern;
pub mod protocol;
pub mod raw_json;
mod reader;
pub mod redcap;
mod report;
mod session;
mod types;
mod validator;
mod value;

pub use decode::{DecodeError, SNIFF_BYTES, TextEncoding, UnknownEncoding};
pub use issue::{Detail, Issue, Lang, TableIssue, UnknownLang, codes};
pub use protocol::{Protocol, ProtocolError, ProtocolWarning};
pub use reader::{
    Cell, DEFAULT_MAX_WORKBOOK_BYTES, Dialect, Format, InputError, SheetChoice, SheetColumns,
    UnknownFormat, Warning, WorkbookError, WorkbookFacts,
};
#[cfg(feature = "schema")]
pub use report::Scores;
pub use report::{FieldIssue, IssueLine, RecordJson, RecordVerdict, Summary, scores_json};
pub use session::{Options, READ_CHUNK, Session, Sink, validate_bytes, validate_read};
pub use types::{Moment, Scalar, parse_iso_date};
pub use validator::{FormCollector, KeyCollector, Outcome, ReferencedKeys, Validator};
pub use value::Value;

/// Whether this build reads workbooks (xlsx, xls, ods: the `workbook`
/// feature; the full wasm module has it, the compact one not).
pub const READS_WORKBOOKS: bool = cfg!(feature = "workbook");

/// The engine's version (the crate version).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
