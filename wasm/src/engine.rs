//! The engine as the module's two faces see it: a protocol plus run
//! options, checks of one value or record, and batches fed in chunks.
//!
//! Plain Rust with owned, serialisable results that both faces send as
//! JSON text (serde_json): one code path, one set of shapes (documented
//! in `docs/abi.md`).

use std::sync::Arc;

use chrono::NaiveDate;
use clinval_core::protocol::{DiaryInfo, FieldInfo, ScoreInfo, builtin_names};
use clinval_core::raw_json::{Shape, json_kind, shape};
use clinval_core::{
    Cell, FieldIssue, Format, InputError, IssueLine, KeyCollector, Lang, Options, Outcome,
    Protocol, ProtocolError, ProtocolWarning, RecordJson, RecordVerdict, ReferencedKeys, Session,
    Sink, Summary, TableIssue, UnknownFormat, UnknownLang, Validator, Warning,
};
use serde::Serialize;
use serde_json::value::RawValue as RawJson;

/// Why a call could not be answered.
#[derive(Debug, Clone, PartialEq)]
pub enum EngineError {
    /// Options or arguments that cannot be used.
    Argument(String),
    /// A workbook given to the compact module, which has no workbook
    /// reader (the full one has).
    Workbook,
    /// The protocol was refused.
    Protocol(ProtocolError),
    /// The input cannot be validated at all.
    Input(InputError),
}

impl EngineError {
    /// Stable code: `argument`, `protocol`, `needs_full_module` (a protocol
    /// or a workbook the compact module cannot read; the full one can) or
    /// `input`.
    pub fn code(&self) -> &'static str {
        match self {
            EngineError::Argument(_) => "argument",
            EngineError::Protocol(ProtocolError::NeedsFullModule { .. })
            | EngineError::Workbook => "needs_full_module",
            EngineError::Protocol(_) => "protocol",
            EngineError::Input(_) => "input",
        }
    }

    /// Message for people.
    pub fn message(&self) -> String {
        match self {
            EngineError::Argument(m) => m.clone(),
            EngineError::Workbook => clinval_core::WorkbookError::NotBuiltIn.to_string(),
            EngineError::Protocol(e) => e.to_string(),
            EngineError::Input(e) => e.to_string(),
        }
    }
}

/// Run options as hosts give them (JSON / JS object).
#[derive(Debug, Default)]
pub struct OptionsDoc {
    /// `YYYY-MM-DD`; dates after it are in the future.
    pub as_of: Option<String>,
    /// `en` (default) or `zh-CN`.
    pub lang: Option<String>,
    /// Batches also return the cleaned valid records.
    pub include_valid: bool,
    /// Largest record accepted, in bytes.
    pub max_record_bytes: Option<usize>,
    /// Most cells (CSV) or keys (JSON) a record may have.
    pub max_record_cells: Option<usize>,
    /// The inputs' encoding (`utf-8`, `gb18030`; `auto` or absent: the
    /// protocol's, or detected).
    pub encoding: Option<clinval_core::TextEncoding>,
    /// A workbook's sheet: its name, or its 1-based position.
    pub sheet: Option<String>,
    /// Largest workbook accepted, in bytes.
    pub max_workbook_bytes: Option<usize>,
    /// The forms that repeat in the inputs (a protocol with `repeat`: the
    /// host's first reading tells them; without, they are learned as rows
    /// go).
    pub repeating_forms: Option<Vec<String>>,
}

/// The keys of the options object.
const OPTION_KEYS: [&str; 9] = [
    "asOf",
    "lang",
    "includeValid",
    "maxRecordBytes",
    "maxRecordCells",
    "encoding",
    "sheet",
    "maxWorkbookBytes",
    "repeatingForms",
];

impl OptionsDoc {
    /// Reads an options object (empty or blank text: the defaults). An
    /// unknown key is refused (a typo such as `asof` must not pass), so are
    /// a repeated key and a value of the wrong kind; `null` is a key left out.
    pub fn from_json(json: &[u8]) -> Result<OptionsDoc, EngineError> {
        let mut options = OptionsDoc::default();
        if json.iter().all(u8::is_ascii_whitespace) {
            return Ok(options);
        }
        let refuse = |message: String| EngineError::Argument(format!("options: {message}"));
        let entries = match shape(json) {
            Ok(Shape::Object(entries)) => entries,
            Ok(_) => return Err(refuse("expected a JSON object".into())),
            Err(e) => return Err(refuse(e.to_string())),
        };
        let mut seen = Vec::new();
        for (key, value) in entries {
            let Some(&key) = OPTION_KEYS.iter().find(|k| **k == key) else {
                return Err(refuse(format!(
                    "unknown field `{key}`; known: {}",
                    OPTION_KEYS.join(", ")
                )));
            };
            if seen.contains(&key) {
                return Err(refuse(format!("`{key}` is given twice")));
            }
            seen.push(key);
            let wrong = |what: &str| {
                refuse(format!(
                    "`{key}` expects {what}, not {}",
                    json_kind(value.get())
                ))
            };
            let whole = |what: &str| -> Result<usize, EngineError> {
                value.get().parse().map_err(|_| wrong(what))
            };
            match (key, shape(value.get().as_bytes())) {
                (_, Ok(Shape::Null)) => {}
                ("asOf", Ok(Shape::Text(text))) => options.as_of = Some(text.into_owned()),
                ("lang", Ok(Shape::Text(text))) => options.lang = Some(text.into_owned()),
                ("includeValid", Ok(Shape::Bool(on))) => options.include_valid = on,
                ("maxRecordBytes", _) => {
                    options.max_record_bytes = Some(whole("a whole number of bytes")?)
                }
                ("maxRecordCells", _) => {
                    options.max_record_cells = Some(whole("a whole number of cells")?)
                }
                ("sheet", Ok(Shape::Text(name))) => options.sheet = Some(name.into_owned()),
                ("sheet", Ok(Shape::Number(_))) => options.sheet = Some(value.get().to_owned()),
                ("maxWorkbookBytes", _) => {
                    options.max_workbook_bytes = Some(whole("a whole number of bytes")?)
                }
                ("encoding", Ok(Shape::Text(name))) => {
                    options.encoding = clinval_core::TextEncoding::from_setting(&name)
                        .map_err(|e| refuse(format!("`encoding` {e}")))?;
                }
                ("repeatingForms", Ok(Shape::Array(items))) => {
                    let mut forms = Vec::with_capacity(items.len());
                    for item in items {
                        match shape(item.get().as_bytes()) {
                            Ok(Shape::Text(form)) => forms.push(form.into_owned()),
                            _ => return Err(wrong("a list of form names")),
                        }
                    }
                    options.repeating_forms = Some(forms);
                }
                ("repeatingForms", _) => return Err(wrong("a list of form names")),
                ("includeValid", _) => return Err(wrong("true or false")),
                _ => return Err(wrong("a string")),
            }
        }
        Ok(options)
    }
}

/// Facts about the module, for `version()` / `clinval_info`.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ModuleInfo {
    /// Engine (crate) version.
    pub engine: &'static str,
    /// C ABI version.
    pub abi: u32,
    /// Built-in protocol names.
    pub protocols: Vec<&'static str>,
    /// Which build: `compact` (`clinval_bg.wasm`) or `full`
    /// (`clinval_full_bg.wasm`, with the `full` feature).
    pub build: &'static str,
}

/// The module's facts.
pub fn module_info() -> ModuleInfo {
    ModuleInfo {
        engine: clinval_core::VERSION,
        abi: crate::abi::ABI_VERSION,
        protocols: builtin_names(),
        build: if cfg!(feature = "full") {
            "full"
        } else {
            "compact"
        },
    }
}

/// The protocol an engine runs, as hosts describe it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ProtocolInfo {
    /// Name.
    pub name: String,
    /// Title.
    pub title: Option<String>,
    /// Version.
    pub version: Option<String>,
    /// Fields in order.
    pub fields: Vec<FieldInfo>,
    /// Scores of valid records, in order (absent when none).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub scores: Vec<ScoreInfo>,
    /// How its diaries are submitted (absent when the protocol has no `diary`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diary: Option<DiaryInfo>,
    /// Foreign keys, in order (absent when none): a host gives each its
    /// referenced keys with a key batch before validating.
    #[serde(rename = "foreignKeys", skip_serializing_if = "Vec::is_empty")]
    pub foreign_keys: Vec<ForeignKeyInfo>,
    /// What loading the protocol noticed but did not refuse (absent when
    /// nothing): `{"path", "message"}`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<ProtocolWarning>,
}

/// The verdict on one value typed into a form.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct FieldVerdict {
    /// No issue.
    pub valid: bool,
    /// The cleaned value when valid (`null` if missing and allowed).
    #[cfg_attr(feature = "schema", schemars(with = "Option<serde_json::Value>"))]
    pub value: Option<Box<RawJson>>,
    /// The issue when not.
    pub issue: Option<FieldIssue>,
}

/// A protocol with the options of a run.
#[derive(Debug, Clone)]
pub struct Engine {
    protocol: Arc<Protocol>,
    options: Options,
    lang: Lang,
    include_valid: bool,
    /// Per foreign key of the protocol: the keys it may refer to, once given.
    references: Vec<Option<Arc<ReferencedKeys>>>,
    /// The `repeatingForms` option.
    repeating_forms: Option<Vec<String>>,
}

/// A foreign key as hosts see it: which keys to give it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ForeignKeyInfo {
    /// Its fields.
    pub fields: Vec<String>,
    /// The resource it refers to (`null`: this table).
    pub resource: Option<String>,
    /// The referenced fields.
    pub reference_fields: Vec<String>,
}

impl Engine {
    /// `protocol` is a built-in name or a protocol JSON document; `today`
    /// is used when the options give no `asOf`.
    pub fn new(
        protocol: &str,
        options: OptionsDoc,
        today: Option<NaiveDate>,
    ) -> Result<Engine, EngineError> {
        let protocol = if protocol.trim_start().starts_with('{') {
            Protocol::from_json(protocol)
        } else {
            Protocol::builtin(protocol.trim())
        }
        .map_err(EngineError::Protocol)?;
        let as_of = match &options.as_of {
            Some(text) => clinval_core::parse_iso_date(text).ok_or_else(|| {
                EngineError::Argument(format!("asOf `{text}` is not a date YYYY-MM-DD"))
            })?,
            None => today
                .ok_or_else(|| EngineError::Argument("asOf is required (YYYY-MM-DD)".into()))?,
        };
        let lang = match &options.lang {
            Some(tag) => tag
                .parse()
                .map_err(|e: UnknownLang| EngineError::Argument(e.to_string()))?,
            None => Lang::En,
        };
        let mut run = Options::new(as_of);
        if let Some(limit) = options.max_record_bytes {
            run.max_record_bytes = limit;
        }
        if let Some(limit) = options.max_record_cells {
            run.max_record_cells = limit;
        }
        run.encoding = options.encoding;
        run.sheet = options.sheet.clone().map(clinval_core::SheetChoice);
        if let Some(limit) = options.max_workbook_bytes {
            run.max_workbook_bytes = limit;
        }
        Ok(Engine {
            references: vec![None; protocol.foreign_keys.len()],
            protocol: Arc::new(protocol),
            options: run,
            lang,
            include_valid: options.include_valid,
            repeating_forms: options.repeating_forms,
        })
    }

    /// The protocol.
    pub fn protocol(&self) -> &Arc<Protocol> {
        &self.protocol
    }

    /// The protocol's name, version and fields.
    pub fn protocol_info(&self) -> ProtocolInfo {
        ProtocolInfo {
            name: self.protocol.name.clone(),
            title: self.protocol.title.clone(),
            version: self.protocol.version.clone(),
            fields: self.protocol.describe(),
            scores: self.protocol.describe_scores(),
            diary: self.protocol.describe_diary(),
            foreign_keys: self
                .protocol
                .foreign_keys
                .iter()
                .map(|fk| ForeignKeyInfo {
                    fields: fk
                        .fields
                        .iter()
                        .map(|&f| self.protocol.fields[f].name.clone())
                        .collect(),
                    resource: fk.resource.clone(),
                    reference_fields: fk.reference_fields.clone(),
                })
                .collect(),
            warnings: self.protocol.warnings.clone(),
        }
    }

    /// Checks one value of the field `name` (name or alias) on its own.
    pub fn check_field(&self, name: &str, value: Cell<'_>) -> Result<FieldVerdict, EngineError> {
        let index = self.protocol.field_index(name).ok_or_else(|| {
            EngineError::Argument(format!(
                "protocol `{}` has no field `{name}`",
                self.protocol.name
            ))
        })?;
        let validator = Validator::new(Arc::clone(&self.protocol), self.options.as_of);
        Ok(match validator.check_value(index, value) {
            Ok(value) => FieldVerdict {
                valid: true,
                value: serde_json::value::to_raw_value(&value).ok(),
                issue: None,
            },
            Err(issue) => FieldVerdict {
                valid: false,
                value: None,
                issue: Some(FieldIssue::new(&issue, &self.protocol, self.lang)),
            },
        })
    }

    /// Gives foreign key `fk` the keys it may refer to.
    pub fn set_referenced_keys(
        &mut self,
        fk: usize,
        keys: Arc<ReferencedKeys>,
    ) -> Result<(), EngineError> {
        let slot = self.references.get_mut(fk).ok_or_else(|| {
            EngineError::Argument(format!(
                "protocol `{}` has no foreign key {fk}",
                self.protocol.name
            ))
        })?;
        *slot = Some(keys);
        Ok(())
    }

    /// Starts reading a table of `source`'s protocol for the keys foreign
    /// key `fk` of this protocol refers to (the values of its referenced
    /// fields); feed it, finish it, and give the keys with
    /// [`Engine::set_referenced_keys`].
    pub fn key_batch(
        &self,
        fk: usize,
        source: &Engine,
        format: &str,
    ) -> Result<Batch, EngineError> {
        let key = self.protocol.foreign_keys.get(fk).ok_or_else(|| {
            EngineError::Argument(format!(
                "protocol `{}` has no foreign key {fk}",
                self.protocol.name
            ))
        })?;
        let collector =
            KeyCollector::new(&source.protocol, &key.reference_fields).map_err(|field| {
                EngineError::Argument(format!(
                    "foreign key {fk} refers to field `{field}`, which protocol `{}` has not",
                    source.protocol.name
                ))
            })?;
        let format = input_format(format)?;
        Ok(Batch {
            session: Session::new(Arc::clone(&source.protocol), format, &source.options),
            sink: BatchSink::Keys(collector),
        })
    }

    /// Checks one record given as a JSON object.
    /// An object over the `maxRecordCells` limit is an input error.
    pub fn check_record(&self, object: &[u8]) -> Result<RecordVerdict, EngineError> {
        let mut validator = Validator::new(Arc::clone(&self.protocol), self.options.as_of);
        for (fk, keys) in self.references.iter().enumerate() {
            if let Some(keys) = keys {
                validator.set_referenced_keys(fk, Arc::clone(keys));
            }
        }
        let outcome = validator
            .validate_json(1, object, self.options.max_record_cells)
            .map_err(EngineError::Input)?;
        Ok(RecordVerdict::new(&outcome, &self.protocol, self.lang))
    }

    /// Starts validating an input of `format`, to be fed in chunks.
    pub fn batch(&self, format: &str) -> Result<Batch, EngineError> {
        let format = input_format(format)?;
        let mut session = Session::new(Arc::clone(&self.protocol), format, &self.options);
        for (fk, keys) in self.references.iter().enumerate() {
            if let Some(keys) = keys {
                session.set_referenced_keys(fk, Arc::clone(keys));
            }
        }
        if let Some(forms) = &self.repeating_forms {
            session.set_repeating_forms(forms.clone());
        }
        Ok(Batch {
            session,
            sink: BatchSink::Report(Box::new(Collect {
                protocol: Arc::clone(&self.protocol),
                lang: self.lang,
                include_valid: self.include_valid,
                events: Events::default(),
            })),
        })
    }
}

/// The input format named `name`; a workbook only where this build
/// reads them.
fn input_format(name: &str) -> Result<Format, EngineError> {
    let format: Format = name
        .parse()
        .map_err(|e: UnknownFormat| EngineError::Argument(e.to_string()))?;
    if format == Format::Workbook && !clinval_core::READS_WORKBOOKS {
        return Err(EngineError::Workbook);
    }
    Ok(format)
}

/// What a batch found since the last call.
#[derive(Debug, Clone, Default, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Events {
    /// Error-log lines (IssueLine JSON, written once), in row order.
    #[cfg_attr(feature = "schema", schemars(with = "Vec<IssueLine<'static>>"))]
    pub issues: Vec<Box<RawJson>>,
    /// Cleaned valid records (only with `includeValid`), in row order.
    #[cfg_attr(
        feature = "schema",
        schemars(with = "Vec<serde_json::Map<String, serde_json::Value>>")
    )]
    pub records: Vec<Box<RawJson>>,
    /// With `includeValid` and a protocol with scores: each valid record's
    /// scores, `{"row", "scores": {"name": number | null}}`, in row order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub scores: Vec<RowScores>,
    /// Notes about the input.
    pub warnings: Vec<Warning>,
    /// Records read so far.
    pub records_read: u64,
    /// Bytes fed so far.
    pub bytes_read: u64,
    /// The summary, once the input is finished.
    pub summary: Option<Summary>,
    /// A finished key batch: how many distinct keys it read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keys: Option<usize>,
}

/// One valid record's scores in a batch.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RowScores {
    /// The record's row.
    pub row: u64,
    /// `{"name": number | null}`.
    #[cfg_attr(feature = "schema", schemars(with = "clinval_core::Scores"))]
    pub scores: Box<RawJson>,
}

struct Collect {
    protocol: Arc<Protocol>,
    lang: Lang,
    include_valid: bool,
    events: Events,
}

impl Sink for Collect {
    fn record(&mut self, outcome: &Outcome<'_>) {
        let protocol = self.protocol.as_ref();
        if outcome.is_valid() {
            if self.include_valid
                && let Some(record) = (RecordJson { protocol, outcome }).to_raw()
            {
                self.events.records.push(record);
                if let Some(scores) = clinval_core::scores_json(protocol, outcome) {
                    self.events.scores.push(RowScores {
                        row: outcome.row,
                        scores,
                    });
                }
            }
            return;
        }
        for issue in &outcome.issues {
            let line = IssueLine::new(outcome, issue, protocol, self.lang);
            if let Ok(json) = serde_json::value::to_raw_value(&line) {
                self.events.issues.push(json);
            }
        }
    }

    fn table_issue(&mut self, issue: &TableIssue) {
        let line = IssueLine::of_table(issue, &self.protocol, self.lang);
        if let Ok(json) = serde_json::value::to_raw_value(&line) {
            self.events.issues.push(json);
        }
    }

    fn warning(&mut self, warning: &Warning) {
        self.events.warnings.push(warning.clone());
    }
}

/// One input being validated, chunk by chunk: for its report, or (a key
/// batch) for the keys a foreign key refers to.
pub struct Batch {
    session: Session,
    sink: BatchSink,
}

enum BatchSink {
    /// Boxed: a report's events hold a whole summary.
    Report(Box<Collect>),
    Keys(KeyCollector),
}

impl Sink for BatchSink {
    fn record(&mut self, outcome: &Outcome<'_>) {
        match self {
            BatchSink::Report(collect) => collect.record(outcome),
            BatchSink::Keys(collector) => collector.record(outcome),
        }
    }

    fn table_issue(&mut self, issue: &TableIssue) {
        if let BatchSink::Report(collect) = self {
            collect.table_issue(issue);
        }
    }

    fn warning(&mut self, warning: &Warning) {
        if let BatchSink::Report(collect) = self {
            collect.warning(warning);
        }
    }
}

impl Batch {
    /// Feeds the next chunk; returns what it completed.
    pub fn feed(&mut self, chunk: &[u8]) -> Result<Events, EngineError> {
        let result = self.session.feed(chunk, &mut self.sink);
        self.take(result.map(|()| None))
    }

    /// Ends the input; returns the rest and the summary.
    pub fn finish(&mut self) -> Result<Events, EngineError> {
        let result = self.session.finish(&mut self.sink);
        let mut events = self.take(result.map(Some))?;
        if let BatchSink::Keys(collector) = &self.sink {
            events.keys = Some(collector.len());
        }
        Ok(events)
    }

    /// A key batch's keys (after [`Batch::finish`]); `None` for a report batch.
    pub fn take_keys(&mut self) -> Option<ReferencedKeys> {
        match &mut self.sink {
            BatchSink::Keys(collector) => Some(collector.take_keys()),
            BatchSink::Report(_) => None,
        }
    }

    fn take(&mut self, result: Result<Option<Summary>, InputError>) -> Result<Events, EngineError> {
        let overflow = match &self.sink {
            BatchSink::Keys(collector) => collector.overflow(),
            BatchSink::Report(_) => None,
        };
        let summary = overflow.map_or(result, Err).map_err(EngineError::Input)?;
        let mut events = match &mut self.sink {
            BatchSink::Report(collect) => std::mem::take(&mut collect.events),
            BatchSink::Keys(_) => Events::default(),
        };
        events.records_read = self.session.summary().records;
        events.bytes_read = self.session.bytes_read();
        events.summary = summary;
        Ok(events)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn engine() -> Engine {
        engine_with("patient", false)
    }

    fn engine_with(protocol: &str, include_valid: bool) -> Engine {
        let options = OptionsDoc {
            as_of: Some("2025-06-30".into()),
            include_valid,
            ..OptionsDoc::default()
        };
        Engine::new(protocol, options, None).unwrap()
    }

    #[test]
    fn options_are_checked() {
        let err = Engine::new("patient", OptionsDoc::default(), None).unwrap_err();
        assert_eq!(err.code(), "argument");
        let bad_lang = OptionsDoc {
            lang: Some("fr".into()),
            ..OptionsDoc::default()
        };
        let today = NaiveDate::from_ymd_opt(2025, 1, 1);
        assert!(Engine::new("patient", bad_lang, today).is_err());
        assert_eq!(
            Engine::new("nope", OptionsDoc::default(), today)
                .unwrap_err()
                .code(),
            "protocol"
        );
    }

    #[test]
    fn field_and_record_checks() {
        let e = engine();
        let ok = e.check_field("age", Cell::text("+51")).unwrap();
        assert_eq!((ok.valid, ok.value.unwrap().get()), (true, "51"));
        let bad = e.check_field("年龄", Cell::text("17")).unwrap();
        assert_eq!(bad.issue.unwrap().code, "out_of_range");
        assert!(e.check_field("weight", Cell::Null).is_err());
        let verdict = e
            .check_record(
                br#"{"id":"P1","name":"A","age":30,"visitDate":"2024-01-01","bp":"120/80"}"#,
            )
            .unwrap();
        assert!(verdict.valid);
        assert!(
            verdict
                .record
                .unwrap()
                .get()
                .contains(r#""bloodPressure":"120/80""#)
        );
    }

    #[test]
    fn a_record_over_max_record_cells_is_an_input_error() {
        let options = OptionsDoc::from_json(br#"{"asOf": "2025-06-30", "maxRecordCells": 3}"#);
        let e = Engine::new("patient", options.unwrap(), None).unwrap();
        assert!(e.check_record(br#"{"id": "P1", "b": 1, "c": 2}"#).is_ok());
        let error = e
            .check_record(br#"{"id": "P1", "b": 1, "c": 2, "d": 3}"#)
            .unwrap_err();
        let EngineError::Input(input) = &error else {
            panic!("{error:?}")
        };
        assert_eq!(input.kind(), "too_many_cells");
        assert!(
            error.message().contains("more than 3 cells or keys"),
            "{}",
            error.message()
        );
        let mut batch = e.batch("csv").unwrap();
        batch.feed(b"id,name,age,x\nP1,A,30,1\n").unwrap();
        let error = batch.finish().unwrap_err();
        assert_eq!(error.code(), "input");
        assert!(
            error.message().starts_with("line 1:"),
            "{}",
            error.message()
        );
    }

    #[test]
    fn batches_give_valid_records_their_scores() {
        let protocol = r#"{"fields": [{"name": "id"}, {"name": "a", "type": "integer"}],
            "scores": [{"name": "double", "terms": [{"field": "a", "weight": 2}]}]}"#;
        let engine = engine_with(protocol, true);
        let mut batch = engine.batch("csv").unwrap();
        batch.feed(b"id,a\nx,4\ny,nope\nz,\n").unwrap();
        let end = serde_json::to_value(batch.finish().unwrap()).unwrap();
        assert_eq!(
            end["scores"],
            serde_json::json!([{"row": 1, "scores": {"double": 8.0}}, {"row": 3, "scores": {"double": null}}])
        );
        // Without scores in the protocol, no `scores` member.
        let mut plain = engine_with("patient", true).batch("csv").unwrap();
        plain
            .feed(b"id,name,age,visitDate,bp\nP1,A,30,2024-01-01,120/80\n")
            .unwrap();
        let end = serde_json::to_value(plain.finish().unwrap()).unwrap();
        assert!(end.get("scores").is_none(), "{end}");
    }

    #[test]
    fn batches_report_as_they_go() {
        let mut batch = engine().batch("csv").unwrap();
        let mut input = b"id,name,age,visitDate,bp\nP1,A,17,2024-01-01,120/80\n".to_vec();
        // Past the encoding-detection window, records are reported as they complete.
        let mut n = 1;
        while input.len() <= clinval_core::SNIFF_BYTES {
            n += 1;
            input.extend_from_slice(format!("P{n},B,30,2024-01-01,120/80\n").as_bytes());
        }
        input.extend_from_slice(b"P3,C,3");
        let first = batch.feed(&input).unwrap();
        assert_eq!(first.issues.len(), 1);
        let read = first.records_read;
        assert!(read > 2000);
        let rest = batch.feed(b"0,2024-01-01,120/80\n").unwrap();
        assert_eq!(rest.records_read, read + 1);
        let end = batch.finish().unwrap();
        assert_eq!(end.summary.unwrap().records, read + 1);
        assert!(engine().batch("xml").is_err());
    }
}
