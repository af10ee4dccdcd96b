//! A validation session: bytes in, verdicts out, one input at a time.
//!
//! [`Session`] ties the pieces together (decoder → reader → validator →
//! sink) behind two calls, [`Session::feed`] and [`Session::finish`], so
//! every host (CLI, server, browser, partner runtime) drives the engine the
//! same way, in chunks of any size.

use std::collections::VecDeque;
use std::io::{ErrorKind, Read};
use std::sync::Arc;

use chrono::NaiveDate;

use crate::decode::{Damage, Decoder, TextEncoding};
use crate::issue::{Detail, Issue, TableIssue, codes};
use crate::protocol::Protocol;
use crate::reader::{
    Cell, CsvReader, DEFAULT_MAX_RECORD_BYTES, DEFAULT_MAX_RECORD_CELLS,
    DEFAULT_MAX_WORKBOOK_BYTES, Dialect, Emit, Format, InputError, JsonArrayReader, Limits,
    NdjsonReader, RecordInput, SheetChoice, Warning, WorkbookReader,
};
use crate::report::Summary;
use crate::types::Scalar;
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
    /// The input's encoding, when given (over the protocol's `encoding`);
    /// `None`: the protocol's, or detected from the first bytes.
    pub encoding: Option<TextEncoding>,
    /// How CSV input separates and quotes cells.
    pub dialect: Dialect,
    /// The sheet of a workbook to read; `None`: the first with data.
    pub sheet: Option<SheetChoice>,
    /// Largest workbook accepted, in bytes (a workbook is held whole).
    pub max_workbook_bytes: usize,
}

impl Options {
    /// Default options for a run as of `as_of`.
    pub fn new(as_of: NaiveDate) -> Options {
        Options {
            as_of,
            max_record_bytes: DEFAULT_MAX_RECORD_BYTES,
            max_record_cells: DEFAULT_MAX_RECORD_CELLS,
            encoding: None,
            dialect: Dialect::default(),
            sheet: None,
            max_workbook_bytes: DEFAULT_MAX_WORKBOOK_BYTES,
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
    Workbook(WorkbookReader),
}

/// Validates one input, fed in chunks.
pub struct Session {
    decoder: Decoder,
    reader: Reader,
    validator: Validator,
    summary: Summary,
    failed: Option<InputError>,
    bytes: u64,
    damage: VecDeque<Damage>,
    damaged: bool,
    defer_keys: bool,
}

struct Pipeline<'s> {
    validator: &'s mut Validator,
    summary: &'s mut Summary,
    sink: &'s mut dyn Sink,
    /// Set when a record could not be checked whole (the duplicate check
    /// is full); later records are dropped and the input fails.
    stopped: Option<InputError>,
    /// Damage the decoder found and no record has claimed yet.
    damage: &'s mut VecDeque<Damage>,
    /// Whether the input had any damage so far: from then on each record
    /// is looked at for it.
    damaged: &'s mut bool,
    /// Records reach the sink without their key checks (see
    /// [`Session::defer_keys`]).
    defer_keys: bool,
}

impl Emit for Pipeline<'_> {
    fn record(&mut self, input: RecordInput<'_>) {
        if self.stopped.is_some() {
            return;
        }
        let row = self.summary.records + 1;
        let line = input.line;
        let marks = if *self.damaged {
            damaged_cells(&input)
        } else {
            Vec::new()
        };
        let mut outcome = if self.defer_keys {
            self.validator.check(row, input)
        } else {
            self.validator.validate(row, input)
        };
        if !marks.is_empty() {
            mark_damage(&mut outcome.issues, &marks, line, self.damage);
        }
        if let Some(keys) = self.validator.full_index() {
            self.validator.recycle(&mut outcome);
            self.stopped = Some(InputError::DuplicateIndexFull { line, keys });
            return;
        }
        self.summary.add(&outcome);
        self.sink.record(&outcome);
        self.validator.recycle(&mut outcome);
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
        let encoding = options.encoding.or(protocol.encoding);
        let reader = match format {
            Format::Csv => Reader::Csv(Box::new(CsvReader::new(
                Arc::clone(&protocol),
                limits,
                &options.dialect,
            ))),
            Format::Json => Reader::Json(JsonArrayReader::new(Arc::clone(&protocol), limits)),
            Format::Ndjson => Reader::Ndjson(NdjsonReader::new(Arc::clone(&protocol), limits)),
            Format::Workbook => Reader::Workbook(WorkbookReader::new(
                Arc::clone(&protocol),
                limits,
                options.sheet.clone(),
                options.max_workbook_bytes,
            )),
        };
        Session {
            decoder: Decoder::with_encoding(encoding),
            reader,
            validator: Validator::new(protocol, options.as_of),
            summary: Summary::default(),
            failed: None,
            bytes: 0,
            damage: VecDeque::new(),
            damaged: false,
            defer_keys: false,
        }
    }

    /// Leaves records' key checks (`unique` fields, keys, foreign keys) to
    /// the caller: the sink gets each outcome without them, and its summary
    /// counts records as they are without them. For a host that checks
    /// parts of one input in parallel, each in a session of its own, and
    /// then every record's keys in order on one [`Validator`] (see
    /// [`Session::key_checker`] and [`Validator::check_keys`]).
    pub fn defer_keys(&mut self) {
        self.defer_keys = true;
    }

    /// A validator for the key checks this session's records need, with its
    /// referenced keys (see [`Session::defer_keys`]).
    pub fn key_checker(&self) -> Validator {
        self.validator.key_checker()
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
        if !matches!(self.reader, Reader::Workbook(_)) {
            self.summary.encoding = self.decoder.encoding();
        }
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
                Reader::Workbook(_) => "a header row but no data rows",
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
            damage,
            damaged,
            defer_keys,
            ..
        } = self;
        let mut pipeline = Pipeline {
            validator,
            summary,
            sink,
            stopped: None,
            damage,
            damaged,
            defer_keys: *defer_keys,
        };
        let mut result = if let Reader::Workbook(r) = reader {
            // Bytes, not text: gathered, and read at the end.
            read_workbook(r, chunk, last, &mut pipeline)
        } else {
            let mut feed = |text: &str, found: &[Damage]| -> Result<(), InputError> {
                if !found.is_empty() {
                    *pipeline.damaged = true;
                    pipeline.damage.extend(found);
                }
                match reader {
                    Reader::Csv(r) => r.feed(text, &mut pipeline),
                    Reader::Json(r) => r.feed(text, &mut pipeline),
                    Reader::Ndjson(r) => r.feed(text, &mut pipeline),
                    Reader::Workbook(_) => Ok(()),
                }
            };
            let mut result = decoder.feed(chunk, last, &mut feed);
            if result.is_ok() && last {
                result = match reader {
                    Reader::Csv(r) => r.finish(&mut pipeline),
                    Reader::Json(r) => r.finish(&mut pipeline),
                    Reader::Ndjson(r) => r.finish(&mut pipeline),
                    Reader::Workbook(_) => Ok(()),
                };
            }
            result
        };
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

/// Gathers a workbook's next bytes; at the end, reads it into `pipeline`
/// and records what was read (and the warning about other sheets).
fn read_workbook(
    reader: &mut WorkbookReader,
    chunk: &[u8],
    last: bool,
    pipeline: &mut Pipeline<'_>,
) -> Result<(), InputError> {
    reader.feed(chunk)?;
    if !last {
        return Ok(());
    }
    let (facts, warning) = reader.finish(pipeline)?;
    if let Some(warning) = warning {
        pipeline.sink.warning(&warning);
        pipeline.summary.warnings.push(warning);
    }
    pipeline.summary.workbook = Some(facts);
    Ok(())
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

/// The cells of `input` that hold U+FFFD (the decoder's mark of bytes it
/// could not read, or one the input had): the field, or `None` for a
/// column the protocol does not know. Only looked for once the input had
/// damage, so clean inputs pay nothing.
fn damaged_cells(input: &RecordInput<'_>) -> Vec<Option<usize>> {
    const MARK: char = '\u{FFFD}';
    let mut marks = Vec::new();
    for (f, cell) in input.cells.iter().enumerate() {
        if let Cell::Value(Scalar::Text(text)) = cell
            && text.contains(MARK)
        {
            marks.push(Some(f));
        }
    }
    for &(f, _, text) in &input.choices {
        if text.contains(MARK) && !marks.contains(&Some(f)) {
            marks.push(Some(f));
        }
    }
    if input
        .extras
        .iter()
        .any(|(key, value)| key.contains(MARK) || value.contains(MARK))
    {
        marks.push(None);
    }
    marks
}

/// Gives each damaged cell (`marks`) of the record at `line` an `encoding`
/// issue in place of whatever else its value was found to have (that was
/// a verdict on text the input does not hold), with the offset of the
/// first damage not yet claimed on or after `line`.
fn mark_damage(
    issues: &mut Vec<Issue>,
    marks: &[Option<usize>],
    line: u64,
    damage: &mut VecDeque<Damage>,
) {
    while damage.front().is_some_and(|d| d.line < line) {
        damage.pop_front(); // of an earlier record, or of the header
    }
    let first = damage.front().copied();
    let detail = Detail::Encoding {
        encoding: first.map_or(TextEncoding::Utf8, |d| d.encoding),
        offset: first.filter(|d| d.replaced).map(|d| d.offset),
    };
    for &field in marks {
        let issue = Issue {
            field,
            code: codes::ENCODING.into(),
            detail: detail.clone(),
            value: None,
        };
        let Some(f) = field else {
            issues.push(issue);
            continue;
        };
        // In place of the field's other issues, keeping field issues in
        // field order before row issues (no sort: a sort costs the wasm
        // module kilobytes).
        issues.retain(|issue| issue.field != Some(f));
        let at = issues
            .iter()
            .position(|issue| issue.field.is_none_or(|g| g > f))
            .unwrap_or(issues.len());
        issues.insert(at, issue);
    }
}
