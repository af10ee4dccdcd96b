//! Push-based readers: CSV (RFC 4180), JSON arrays and NDJSON; and
//! workbooks (xlsx, xls, ods), which cannot be read in pieces: their
//! bytes are gathered (up to a limit) and read at the end.
//!
//! Readers take decoded text in pieces of any size and hand out each record
//! with the line it starts on, as soon as it is complete. Being push-based
//! (rather than over `Read`), the same readers serve a file, an HTTP body
//! arriving in chunks, and a wasm host feeding guest memory piece by piece;
//! memory stays bounded by the largest record, never the file.

mod csv;
mod header;
mod json;
mod ndjson;
mod record;
mod workbook;

use std::str::FromStr;

use thiserror::Error;

use crate::decode::DecodeError;
use crate::issue::TableIssue;

pub(crate) use self::csv::CsvReader;
pub(crate) use self::json::{JsonArrayReader, KeyResolver, json_record};
pub(crate) use self::ndjson::NdjsonReader;
pub use self::record::{Cell, RecordInput};
pub(crate) use self::workbook::WorkbookReader;
pub use self::workbook::{
    DEFAULT_MAX_WORKBOOK_BYTES, SheetChoice, SheetColumns, WorkbookError, WorkbookFacts,
};

/// A CSV dialect (Table Dialect): what separates and quotes cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dialect {
    /// Between cells (default `,`).
    pub delimiter: u8,
    /// Around cells (default `"`).
    pub quote: u8,
    /// `""` inside a quoted cell is one quote (default true).
    pub double_quote: bool,
    /// An escape character inside quoted cells, if any.
    pub escape: Option<u8>,
    /// Lines starting with this are comments, if any.
    pub comment: Option<u8>,
    /// Whether the first row is a header (default true).
    pub header: bool,
}

impl Default for Dialect {
    fn default() -> Self {
        Dialect {
            delimiter: b',',
            quote: b'"',
            double_quote: true,
            escape: None,
            comment: None,
            header: true,
        }
    }
}

/// Default limit on one record's size (a CSV record, a JSON object, an NDJSON line).
pub const DEFAULT_MAX_RECORD_BYTES: usize = 16 * 1024 * 1024;

/// Default limit on one record's cells (CSV) or keys (a JSON object).
pub const DEFAULT_MAX_RECORD_CELLS: usize = 65_536;

/// The size limits of one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Limits {
    /// Largest record, in bytes.
    pub(crate) bytes: usize,
    /// Most cells (CSV) or keys (JSON) a record may have.
    pub(crate) cells: usize,
}

/// Input formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Comma-separated values with a header record.
    Csv,
    /// A JSON array of objects.
    Json,
    /// One JSON object per line (JSON Lines).
    Ndjson,
    /// A spreadsheet workbook: xlsx, xlsm, xlsb, xls or ods (which one is
    /// told by its bytes). Read by modules built with workbooks (the
    /// `workbook` feature).
    Workbook,
}

impl Format {
    /// The format a file name's extension implies, if any.
    pub fn from_path(path: &str) -> Option<Format> {
        let ext = path.rsplit_once('.')?.1.to_ascii_lowercase();
        match ext.as_str() {
            "csv" | "txt" => Some(Format::Csv),
            "json" => Some(Format::Json),
            "ndjson" | "jsonl" => Some(Format::Ndjson),
            "xlsx" | "xlsm" | "xlsb" | "xls" | "ods" => Some(Format::Workbook),
            _ => None,
        }
    }

    /// The format's name (`csv`, `json`, `ndjson`, `workbook`).
    pub fn name(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Json => "json",
            Format::Ndjson => "ndjson",
            Format::Workbook => "workbook",
        }
    }

    /// The format of a media type (its parameters ignored), if clinval
    /// reads it: `text/csv`, `application/json`, `application/x-ndjson`
    /// (or `application/jsonl`), and the xlsx, xlsm, xlsb, xls and ods
    /// types.
    pub fn from_media_type(media_type: &str) -> Option<Format> {
        let essence = media_type.split(';').next().unwrap_or_default().trim();
        match essence.to_ascii_lowercase().as_str() {
            "text/csv" => Some(Format::Csv),
            "application/json" => Some(Format::Json),
            "application/x-ndjson" | "application/jsonl" => Some(Format::Ndjson),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            | "application/vnd.ms-excel.sheet.macroenabled.12"
            | "application/vnd.ms-excel.sheet.binary.macroenabled.12"
            | "application/vnd.ms-excel"
            | "application/vnd.oasis.opendocument.spreadsheet" => Some(Format::Workbook),
            _ => None,
        }
    }
}

/// A format name clinval does not read.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[error("unknown format `{0}` (expected csv, json, ndjson or a workbook: xlsx, xls, ods)")]
pub struct UnknownFormat(pub String);

impl FromStr for Format {
    type Err = UnknownFormat;
    fn from_str(name: &str) -> Result<Format, UnknownFormat> {
        match name.to_ascii_lowercase().as_str() {
            "csv" => Ok(Format::Csv),
            "json" => Ok(Format::Json),
            "ndjson" | "jsonl" | "jsonlines" => Ok(Format::Ndjson),
            "workbook" | "xlsx" | "xlsm" | "xlsb" | "xls" | "ods" => Ok(Format::Workbook),
            _ => Err(UnknownFormat(name.to_owned())),
        }
    }
}

/// Why an input cannot be validated at all (as opposed to issues in records).
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum InputError {
    /// Nothing but white space.
    #[error("input is empty")]
    Empty,
    /// A header (or `[]`) and no record.
    #[error("input has no records ({0})")]
    NoRecords(&'static str),
    /// The text cannot be decoded.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// Reading the input failed (see [`crate::validate_read`]).
    #[error("cannot read: {0}")]
    Read(String),
    /// The header lacks columns the protocol needs.
    #[error("line {line}: the header lacks column(s) {}", .missing.join("; "))]
    MissingColumns {
        /// Line of the header.
        line: u64,
        /// Each missing field with the headers accepted for it.
        missing: Vec<String>,
    },
    /// A header the protocol rejects (`cleaning.headerErrors`).
    #[error("line {line}: the header cannot be used: {problems}")]
    Header {
        /// Line of the header.
        line: u64,
        /// What is wrong with it.
        problems: String,
    },
    /// Two header columns name the same field.
    #[error("line {line}: columns {first} and {second} both name field `{field}`")]
    DuplicateColumn {
        /// Line of the header.
        line: u64,
        /// The field.
        field: String,
        /// 1-based column numbers.
        first: usize,
        /// See `first`.
        second: usize,
    },
    /// One record is larger than the limit.
    #[error("line {line}: record is larger than the {limit}-byte limit")]
    RecordTooLarge {
        /// Line where the record starts.
        line: u64,
        /// The limit in bytes.
        limit: usize,
    },
    /// One record has more cells (CSV) or keys (JSON) than the limit.
    #[error("line {line}: record has more than {limit} cells or keys (the maxRecordCells limit)")]
    TooManyCells {
        /// Line where the record starts.
        line: u64,
        /// The limit.
        limit: usize,
    },
    /// The duplicate check (a `unique` field or key) cannot hold more
    /// keys: the memory it may use is full. Only a host that bounds memory
    /// (a wasm instance) ever sees it.
    #[error(
        "line {line}: the duplicate check already holds {keys} keys, as many as this \
         instance's memory allows; validate the input in parts or give the instance more memory"
    )]
    DuplicateIndexFull {
        /// Line of the record that found it full.
        line: u64,
        /// Keys it holds.
        keys: usize,
    },
    /// A workbook that cannot be read, or has no sheet to read.
    #[error(transparent)]
    Workbook(#[from] WorkbookError),
    /// The JSON structure around the records is broken.
    #[error("line {line}, column {column}: {message}")]
    Json {
        /// 1-based line.
        line: u64,
        /// 1-based column (in characters).
        column: u64,
        /// What was expected.
        message: String,
    },
}

impl InputError {
    /// The same error with its line `lines` later (for a part of an input
    /// read on its own, after lines it does not count).
    pub fn lines_later(mut self, lines: u64) -> InputError {
        match &mut self {
            InputError::MissingColumns { line, .. }
            | InputError::Header { line, .. }
            | InputError::DuplicateColumn { line, .. }
            | InputError::RecordTooLarge { line, .. }
            | InputError::TooManyCells { line, .. }
            | InputError::DuplicateIndexFull { line, .. }
            | InputError::Json { line, .. } => *line += lines,
            InputError::Empty
            | InputError::NoRecords(_)
            | InputError::Decode(_)
            | InputError::Read(_)
            | InputError::Workbook(_) => {}
        }
        self
    }

    /// A stable, machine-readable kind: `empty`, `no_records`, `binary`,
    /// `read_failed`, `missing_columns`, `header`,
    /// `duplicate_column`, `record_too_large`, `too_many_cells`,
    /// `duplicate_index_full`, `json`, and the workbook kinds of
    /// [`WorkbookError::kind`].
    pub fn kind(&self) -> &'static str {
        match self {
            InputError::Empty => "empty",
            InputError::NoRecords(_) => "no_records",
            InputError::Decode(DecodeError::Binary { .. }) => "binary",
            InputError::Read(_) => "read_failed",
            InputError::MissingColumns { .. } => "missing_columns",
            InputError::Header { .. } => "header",
            InputError::DuplicateColumn { .. } => "duplicate_column",
            InputError::RecordTooLarge { .. } => "record_too_large",
            InputError::TooManyCells { .. } => "too_many_cells",
            InputError::DuplicateIndexFull { .. } => "duplicate_index_full",
            InputError::Json { .. } => "json",
            InputError::Workbook(e) => e.kind(),
        }
    }

    /// The 1-based line, and column, it is at, where it has one.
    pub fn position(&self) -> (Option<u64>, Option<u64>) {
        match self {
            InputError::MissingColumns { line, .. }
            | InputError::Header { line, .. }
            | InputError::RecordTooLarge { line, .. }
            | InputError::TooManyCells { line, .. }
            | InputError::DuplicateIndexFull { line, .. } => (Some(*line), None),
            InputError::DuplicateColumn { line, second, .. } => (Some(*line), Some(*second as u64)),
            InputError::Json { line, column, .. } => (Some(*line), Some(*column)),
            InputError::Empty
            | InputError::NoRecords(_)
            | InputError::Decode(DecodeError::Binary { .. })
            | InputError::Read(_)
            | InputError::Workbook(_) => (None, None),
        }
    }
}

/// Something worth telling about a whole input that is not a record issue.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum Warning {
    /// Columns or keys the protocol does not know; carried to the output as strings.
    UnknownColumns {
        /// Their names, in first-seen order.
        columns: Vec<String>,
    },
    /// A foreign key was not checked: its referenced keys were not given
    /// (validate the data package, or give the referenced table first).
    ForeignKeyNotChecked {
        /// Its fields.
        fields: Vec<String>,
        /// The resource it refers to (`None`: this table).
        resource: Option<String>,
    },
    /// Fields whose logic (REDCap branching) clinval does not evaluate:
    /// they are not branch-checked (never hidden, never required).
    UnsupportedLogic {
        /// The fields' names.
        fields: Vec<String>,
    },
    /// The workbook has more sheets with data than the one read (none
    /// was named): which was read, and the others.
    #[cfg(feature = "workbook")]
    OtherSheets {
        /// The sheet read.
        read: String,
        /// The other sheets with data, in workbook order.
        others: Vec<String>,
    },
}

impl Warning {
    /// Its stable code (`unknown_columns`, `foreign_key_not_checked`,
    /// `unsupported_logic`, `other_sheets`), as serialized.
    pub fn code(&self) -> &'static str {
        match self {
            Warning::UnknownColumns { .. } => "unknown_columns",
            Warning::ForeignKeyNotChecked { .. } => "foreign_key_not_checked",
            Warning::UnsupportedLogic { .. } => "unsupported_logic",
            #[cfg(feature = "workbook")]
            Warning::OtherSheets { .. } => "other_sheets",
        }
    }

    /// A message for people (English).
    pub fn message(&self) -> String {
        match self {
            Warning::UnknownColumns { columns } => format!(
                "column(s) not in the protocol, carried unchanged: {}",
                columns.join(", ")
            ),
            Warning::ForeignKeyNotChecked { fields, resource } => format!(
                "the foreign key ({}) to {} was not checked: its referenced keys were not given",
                fields.join(", "),
                resource.as_deref().unwrap_or("this table")
            ),
            Warning::UnsupportedLogic { fields } => format!(
                "the branching logic of {} is not evaluated: not checked for hidden values or requirement",
                fields.join(", ")
            ),
            #[cfg(feature = "workbook")]
            Warning::OtherSheets { read, others } => format!(
                "read sheet `{read}`; the workbook also has data in {} (name one with --sheet)",
                others
                    .iter()
                    .map(|s| format!("`{s}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
}

/// Where readers deliver records.
pub(crate) trait Emit {
    /// One complete record.
    fn record(&mut self, input: RecordInput<'_>);
    /// An empty vector for the next record's cells (the last record's
    /// allocation, reused).
    fn cell_buffer(&mut self) -> Vec<Cell<'static>>;
    /// The input's unknown columns (once per input).
    fn unknown_columns(&mut self, columns: Vec<String>);
    /// A problem of the whole input (its header), before any record it
    /// concerns.
    fn table_issue(&mut self, issue: TableIssue);
}

/// Number of `\n` in `bytes`.
fn count_newlines(bytes: &[u8]) -> u64 {
    memchr::memchr_iter(b'\n', bytes).count() as u64
}

#[cfg(test)]
mod tests;
