//! A validation session: bytes in, verdicts out, one input at a time.
//!
//! [`Session`] ties the pieces together (decoder → reader → validator →
//! sink) behind two calls, [`Session::feed`] and [`Session::finish`], so
//! every host (CLI, server, browser, partner runtime) drives the engine the
//! same way, in chunks of any size.

use std::io::{ErrorKind, Read};
use std::sync::Arc;

use chrono::NaiveDate;

use crate::decode::{Decoder, TextEncoding};
use crate::issue::TableIssue;
use crate::protocol::Protocol;
use crate::reader::{
    Cell, CsvReader, DEFAULT_MAX_RECORD_BYTES, DEFAULT_MAX_RECORD_CELLS, Dialect, Emit, Format,
    InputError, JsonArrayReader, Limits, NdjsonReader, RecordInput, Warning,
};
use crate::report::Summary;
use crate::validator::{Outcome, Validator};

/// Settings of one run.
#[derive(Debug, Clone)]
pub struct Options {
    /// Dates after this are `future_date` (for fields bounded by `$asOf`).
    pub as_of: NaiveDate,
    /// Largest record accepted, in bytes.
    pub max_record_bytes: usize,
    /// Most cells (CSV) or keys (a JSON object) a record may have.
    pub max_record_cells: usize,
    /// How CSV input separates and quotes cells.
    pub dialect: Dialect,
}

impl Options {
    /// Default options for a run as of `as_of`.
    pub fn new(as_of: NaiveDate) -> Options {
        Options {
            as_of,
            max_record_bytes: DEFAULT_MAX_RECORD_BYTES,
            max_record_cells: DEFAULT_MAX_RECORD_CELLS,
            dialect: Dialect::default(),
        }
    }
}

/// Receives a session's results as they are found.
pub trait Sink {
    /// The verdict on one record, in input order.
    fn record(&mut self, outcome: &Outcome<'_>);
    /// An issue of the whole input (a header problem), before the records.
    fn table_issue(&mut self, issue: &TableIssue);
    /// A note about the whole input (e.g. unknown columns).
    fn warning(&mut self, _warning: &Warning) {}
}

enum Reader {
    Csv(Box<CsvReader>),
    Json(JsonArrayReader),
    Ndjson(NdjsonReader),
}

/// Validates one input, fed in chunks.
pub struct Session {
    decoder: Decoder,
    reader: Reader,
    validator: Validator,
    summary: Summary,
    failed: Option<InputError>,
    bytes: u64,
}

struct Pipeline<'s> {
    validator: &'s mut Validator,
    summary: &'s mut Summary,
    sink: &'s mut dyn Sink,
    /// Set when a record could not be checked whole (the duplicate check
    /// is full); later records are dropped and the input fails.
    stopped: Option<InputError>,
}

impl Emit for Pipeline<'_> {
    fn record(&mut self, input: RecordInput<'_>) {
        if self.stopped.is_some() {
            return;
        }
        let row = self.summary.records + 1;
        let line = input.line;
        let outcome = self.validator.validate(row, input);
        if let Some(keys) = self.validator.full_index() {
            self.validator.recycle(outcome);
            self.stopped = Some(InputError::DuplicateIndexFull { line, keys });
            return;
        }
        self.summary.add(&outcome);
        self.sink.record(&outcome);
        self.validator.recycle(outcome);
    }

    fn cell_buffer(&mut self) -> Vec<Cell<'static>> {
        self.validator.cell_buffer()
    }

    fn unknown_columns(&mut self, columns: Vec<String>) {
        let warning = Warning::UnknownColumns { columns };
        self.sink.warning(&warning);
        self.summary.warnings.push(warning);
    }

    fn table_issue(&mut self, issue: TableIssue) {
        self.summary.add_table_issue(&issue);
        self.sink.table_issue(&issue);
    }
}

impl Session {
    /// A session for one input of `format` under `protocol`.
    pub fn new(protocol: Arc<Protocol>, format: Format, options: &Options) -> Session {
        let limits = Limits {
            bytes: options.max_record_bytes,
            cells: options.max_record_cells,
        };
        let reader = match format {
            Format::Csv => Reader::Csv(Box::new(CsvReader::new(
                Arc::clone(&protocol),
                limits,
                &options.dialect,
            ))),
            Format::Json => Reader::Json(JsonArrayReader::new(Arc::clone(&protocol), limits)),
            Format::Ndjson => Reader::Ndjson(NdjsonReader::new(Arc::clone(&protocol), limits)),
        };
        Session {
            decoder: Decoder::new(),
            reader,
            validator: Validator::new(protocol, options.as_of),
            summary: Summary::default(),
            failed: None,
            bytes: 0,
        }
    }

    /// The protocol records are checked against.
    pub fn protocol(&self) -> &Arc<Protocol> {
        self.validator.protocol()
    }

    /// Bytes fed so far.
    pub fn bytes_read(&self) -> u64 {
        self.bytes
    }

    /// Gives foreign key `fk` the keys it may refer to (see
    /// [`crate::KeyCollector`]); call before feeding.
    pub fn set_referenced_keys(&mut self, fk: usize, keys: Arc<crate::ReferencedKeys>) {
        self.validator.set_referenced_keys(fk, keys);
    }

    /// Gives the forms that repeat (see
    /// [`crate::Validator::set_repeating_forms`]); call before feeding.
    pub fn set_repeating_forms(&mut self, forms: Vec<String>) {
        self.validator.set_repeating_forms(forms);
    }

    /// Counts so far.
    pub fn summary(&self) -> &Summary {
        &self.summary
    }

    /// The text encoding detected, once known.
    pub fn encoding(&self) -> Option<TextEncoding> {
        self.decoder.encoding()
    }

    /// Feeds the next chunk of input; verdicts go to `sink` as records
    /// complete. After an error the session stays failed.
    pub fn feed(&mut self, chunk: &[u8], sink: &mut dyn Sink) -> Result<(), InputError> {
        self.bytes += chunk.len() as u64;
        self.run(chunk, false, sink)
    }

    /// Ends the input: flushes the last record and returns the summary.
    pub fn finish(&mut self, sink: &mut dyn Sink) -> Result<Summary, InputError> {
        self.run(&[], true, sink)?;
        let protocol = Arc::clone(self.validator.protocol());
        if let Some(logic) = &protocol.logic
            && !logic.unsupported.is_empty()
        {
            let warning = Warning::UnsupportedLogic {
                fields: logic
                    .unsupported
                    .iter()
                    .map(|&f| protocol.fields[f].name.clone())
                    .collect(),
            };
            sink.warning(&warning);
            self.summary.warnings.push(warning);
        }
        for fk in self.validator.unchecked_foreign_keys() {
            let protocol = self.validator.protocol();
            let key = &protocol.foreign_keys[fk];
            let warning = Warning::ForeignKeyNotChecked {
                fields: key
                    .fields
                    .iter()
                    .map(|&f| protocol.fields[f].name.clone())
                    .collect(),
                resource: key.resource.clone(),
            };
            sink.warning(&warning);
            self.summary.warnings.push(warning);
        }
        if self.summary.records == 0 {
            let why = match self.reader {
                Reader::Csv(_) => "a header but no data rows",
                Reader::Json(_) => "an empty JSON array",
                Reader::Ndjson(_) => "no JSON lines",
            };
            return Err(self.fail(InputError::NoRecords(why)));
        }
        Ok(self.summary.clone())
    }

    fn run(&mut self, chunk: &[u8], last: bool, sink: &mut dyn Sink) -> Result<(), InputError> {
        if let Some(error) = &self.failed {
            return Err(error.clone());
        }
        let Session {
            decoder,
            reader,
            validator,
            summary,
            ..
        } = self;
        let mut pipeline = Pipeline {
            validator,
            summary,
            sink,
            stopped: None,
        };
        let mut feed = |text: &str| -> Result<(), InputError> {
            match reader {
                Reader::Csv(r) => r.feed(text, &mut pipeline),
                Reader::Json(r) => r.feed(text, &mut pipeline),
                Reader::Ndjson(r) => r.feed(text, &mut pipeline),
            }
        };
        let mut result = decoder.feed(chunk, last, &mut feed);
        if result.is_ok() && last {
            result = match reader {
                Reader::Csv(r) => r.finish(&mut pipeline),
                Reader::Json(r) => r.finish(&mut pipeline),
                Reader::Ndjson(r) => r.finish(&mut pipeline),
            };
        }
        if let Some(stopped) = pipeline.stopped {
            result = Err(stopped);
        }
        result.map_err(|e| self.fail(e))
    }

    fn fail(&mut self, error: InputError) -> InputError {
        self.failed = Some(error.clone());
        error
    }
}

/// Validates a whole in-memory input; convenience over [`Session`].
pub fn validate_bytes(
    protocol: Arc<Protocol>,
    format: Format,
    options: &Options,
    input: &[u8],
    sink: &mut dyn Sink,
) -> Result<Summary, InputError> {
    let mut session = Session::new(protocol, format, options);
    session.feed(input, sink)?;
    session.finish(sink)
}

/// Bytes read from a [`Read`] at a time by [`validate_read`].
pub const READ_CHUNK: usize = 256 * 1024;

/// Validates everything `reader` yields, in [`READ_CHUNK`] pieces;
/// `progress` is told the size of each piece as it is consumed.
pub fn validate_read(
    protocol: Arc<Protocol>,
    format: Format,
    options: &Options,
    mut reader: impl Read,
    sink: &mut dyn Sink,
    progress: &mut dyn FnMut(usize),
) -> Result<Summary, InputError> {
    let mut session = Session::new(protocol, format, options);
    let mut buffer = vec![0u8; READ_CHUNK];
    loop {
        let n = match reader.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(InputError::Read(e.to_string())),
        };
        session.feed(&buffer[..n], sink)?;
        progress(n);
    }
    session.finish(sink)
}
