//! The work one pool thread does for one input: read it in chunks, validate,
//! and render valid records and error-log lines into batches for the writer.

use std::sync::mpsc::SyncSender;

use clinval_core::{IssueLine, Lang, Outcome, RecordJson, Session, Sink, Summary, TableIssue};
use indicatif::ProgressBar;
use serde::Serialize;

use crate::wasm_host::{CallError, Events, WasmHost};

use super::inputs::{Input, Label};
use super::parallel;
use super::read_source;

/// A batch is sent once it holds this many bytes.
const BATCH_BYTES: usize = 256 * 1024;

/// Rendered output of part of one input.
#[derive(Debug, Default)]
pub struct Batch {
    /// Valid records as JSON, one per line.
    pub records: Vec<u8>,
    /// Error-log lines (JSON Lines).
    pub errors: Vec<u8>,
}

/// What a worker sends for one input.
#[derive(Debug)]
pub enum Message {
    /// More output.
    Batch(Batch),
    /// The input is done: its summary, or why it could not be validated.
    Done(Result<Summary, String>),
}

/// Everything a worker needs, shared by all workers.
pub struct Job<'a> {
    /// Validate through the wasm module instead of the native engine.
    pub wasm: Option<&'a WasmHost>,
    pub lang: Lang,
    pub want_records: bool,
    pub want_errors: bool,
    pub progress: Option<&'a ProgressBar>,
    /// Threads one input may take (see [`super::parallel`]).
    pub threads: usize,
}

impl Job<'_> {
    /// Validates `input`, sending batches and then `Done` on `tx`.
    pub fn run(&self, input: &Input, labelled: bool, tx: &SyncSender<Message>) {
        let sink = || BatchSink {
            job: self,
            input,
            label: labelled.then_some(&input.label),
            batch: Batch::default(),
            tx,
        };
        let result = parallel::run(self, input, sink).unwrap_or_else(|| {
            let mut sink = sink();
            let result = match self.wasm {
                Some(host) => self.validate_wasm(host, input, &mut sink),
                None => self.validate(input, &mut sink),
            };
            sink.flush();
            result
        });
        let _ = tx.send(Message::Done(result));
    }

    /// Validates with the native engine.
    fn validate(&self, input: &Input, sink: &mut BatchSink<'_, '_>) -> Result<Summary, String> {
        let mut session = Session::new(input.protocol.clone(), input.format, &input.options);
        for (fk, keys) in &input.references {
            session.set_referenced_keys(*fk, keys.clone());
        }
        if let Some(forms) = repeating_forms(input)? {
            session.set_repeating_forms(forms);
        }
        self.read_chunks(input, |chunk| {
            session.feed(chunk, sink).map_err(|e| e.to_string())
        })?;
        session.finish(sink).map_err(|e| e.to_string())
    }

    /// The same through the module's C ABI: the module's own JSON lines are
    /// written as they come, so the outputs are the module's verdicts.
    fn validate_wasm(
        &self,
        host: &WasmHost,
        input: &Input,
        sink: &mut BatchSink<'_, '_>,
    ) -> Result<Summary, String> {
        if !input.references.is_empty() {
            return Err(
                "foreign keys are checked by the native engine only (leave out --engine wasm)"
                    .into(),
            );
        }
        if input.options.dialect != clinval_core::Dialect::default() {
            return Err(
                "CSV dialects other than the default are read by the native engine only".into(),
            );
        }
        let options = serde_json::json!({
            "asOf": input.options.as_of.format("%Y-%m-%d").to_string(),
            "lang": self.lang.tag(),
            "includeValid": self.want_records,
            "repeatingForms": repeating_forms(input)?,
            "encoding": input.options.encoding.map_or("auto", encoding_name),
            "sheet": input.options.sheet.as_ref().map(|s| s.0.as_str()),
        });
        // The same message the native engine gives (without the code),
        // also for a workbook whose reader failed (a trap in wasm, caught
        // natively).
        let workbook = input.format == clinval_core::Format::Workbook;
        let fail = |e: CallError| match e {
            CallError::Refused { message, .. } => message,
            trap if workbook && trap.is_reader_failure() => {
                clinval_core::WorkbookError::ReaderFailed.to_string()
            }
            trap => trap.to_string(),
        };
        // In the compact module unless the protocol needs the full one.
        let (mut client, validator, _) = host
            .validator(input.protocol.source(), &options, input.format)
            .map_err(fail)?;
        let batch = client.batch(validator, input.format.name()).map_err(fail)?;
        self.read_chunks(input, |chunk| {
            sink.absorb(&client.feed(batch, chunk).map_err(fail)?)?;
            Ok(())
        })?;
        let last = client.finish(batch).map_err(fail)?;
        sink.absorb(&last)?
            .ok_or_else(|| "the module gave no summary".to_owned())
    }

    /// Reads `input`, advancing the progress bar.
    fn read_chunks(
        &self,
        input: &Input,
        mut each: impl FnMut(&[u8]) -> Result<(), String>,
    ) -> Result<(), String> {
        read_source(&input.source, |chunk| {
            each(chunk)?;
            if let Some(bar) = self.progress {
                bar.inc(chunk.len() as u64);
            }
            Ok(())
        })
    }
}

/// Renders verdicts into batches for the writer.
pub struct BatchSink<'j, 'a> {
    job: &'j Job<'a>,
    input: &'j Input,
    label: Option<&'j Label>,
    batch: Batch,
    tx: &'j SyncSender<Message>,
}

/// An error-log line labelled with its file or resource (when several
/// inputs are validated).
#[derive(Serialize)]
struct LabelledIssueLine<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    file: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    resource: Option<&'a str>,
    #[serde(flatten)]
    line: IssueLine<'a>,
}

impl<'a> LabelledIssueLine<'a> {
    fn new(label: &'a Label, line: IssueLine<'a>) -> Self {
        let (file, resource) = match label {
            Label::File(path) => (Some(path.as_str()), None),
            Label::Resource(name) => (None, Some(name.as_str())),
        };
        LabelledIssueLine {
            file,
            resource,
            line,
        }
    }
}

impl BatchSink<'_, '_> {
    /// Takes the module's Events JSON; returns the summary when it ends the input.
    fn absorb(&mut self, json: &[u8]) -> Result<Option<Summary>, String> {
        let events: Events<'_> = serde_json::from_slice(json)
            .map_err(|e| format!("unreadable result from the module: {e}"))?;
        for record in events.records {
            self.batch
                .records
                .extend_from_slice(record.get().as_bytes());
            self.batch.records.push(b'\n');
        }
        for issue in events.issues {
            let line = issue.get();
            match self.label {
                // `{"file": ..., ` followed by the module's own object.
                Some(label) => {
                    let key = match label {
                        Label::File(_) => "file",
                        Label::Resource(_) => "resource",
                    };
                    let _ = serde_json::to_writer(
                        &mut self.batch.errors,
                        &serde_json::json!({ key: label.text() }),
                    );
                    self.batch.errors.pop();
                    self.batch.errors.push(b',');
                    self.batch
                        .errors
                        .extend_from_slice(line.get(1..).unwrap_or_default().as_bytes());
                }
                None => self.batch.errors.extend_from_slice(line.as_bytes()),
            }
            self.batch.errors.push(b'\n');
        }
        if self.batch.records.len() + self.batch.errors.len() >= BATCH_BYTES {
            self.flush();
        }
        Ok(events.summary)
    }

    /// Sends what is rendered so far.
    pub fn flush(&mut self) {
        if !self.batch.records.is_empty() || !self.batch.errors.is_empty() {
            let batch = std::mem::take(&mut self.batch);
            // A closed channel means the writer gave up; nothing to do.
            let _ = self.tx.send(Message::Batch(batch));
        }
    }
}

impl BatchSink<'_, '_> {
    /// Writes one error-log line, labelled with its file or resource when several
    /// inputs are validated.
    fn write_issue(&mut self, line: IssueLine<'_>) {
        // Serialising to a Vec cannot fail for these types.
        let _ = match self.label {
            Some(label) => {
                serde_json::to_writer(&mut self.batch.errors, &LabelledIssueLine::new(label, line))
            }
            None => serde_json::to_writer(&mut self.batch.errors, &line),
        };
        self.batch.errors.push(b'\n');
    }
}

impl Sink for BatchSink<'_, '_> {
    fn table_issue(&mut self, issue: &TableIssue) {
        if self.job.want_errors {
            let line = IssueLine::of_table(issue, &self.input.protocol, self.job.lang);
            self.write_issue(line);
        }
    }

    fn record(&mut self, outcome: &Outcome<'_>) {
        let protocol = self.input.protocol.as_ref();
        // Serialising to a Vec cannot fail for these types.
        if outcome.is_valid() {
            if self.job.want_records {
                let _ = serde_json::to_writer(
                    &mut self.batch.records,
                    &RecordJson { protocol, outcome },
                );
                self.batch.records.push(b'\n');
            }
        } else if self.job.want_errors {
            for issue in &outcome.issues {
                self.write_issue(IssueLine::new(outcome, issue, protocol, self.job.lang));
            }
        }
        if self.batch.records.len() + self.batch.errors.len() >= BATCH_BYTES {
            self.flush();
        }
    }
}

/// The forms that repeat in `input`, from a first reading of it, when its
/// protocol has repeating forms (REDCap's repeating instruments: which
/// forms repeat is told only by the data).
fn repeating_forms(input: &Input) -> Result<Option<Vec<String>>, String> {
    let Some(mut collector) = clinval_core::FormCollector::new(&input.protocol) else {
        return Ok(None);
    };
    let mut session = Session::new(input.protocol.clone(), input.format, &input.options);
    super::read_source(&input.source, |chunk| {
        session
            .feed(chunk, &mut collector)
            .map_err(|e| e.to_string())
    })?;
    session.finish(&mut collector).map_err(|e| e.to_string())?;
    Ok(Some(collector.into_forms()))
}

/// The module's `encoding` option for `encoding`.
fn encoding_name(encoding: clinval_core::TextEncoding) -> &'static str {
    match encoding {
        clinval_core::TextEncoding::Gb18030 => "gb18030",
        _ => "utf-8",
    }
}
