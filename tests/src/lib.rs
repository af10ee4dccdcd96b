//! Helpers shared by the cross-crate tests: running the engine on an input
//! and collecting its verdicts in the shape of the shared `expected.jsonl`.

use std::path::PathBuf;
use std::sync::Arc;

use clinval_core::{
    Format, Options, Outcome, Protocol, RecordJson, Sink, Summary, TableIssue, validate_bytes,
};
use serde_json::{Value, json};

/// The workspace's `../shared/data` folder (read-only samples with verdicts).
pub fn shared_data() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data")
}

/// This crate's own fixtures.
pub fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// Verdicts in the shape of `expected.jsonl`: one JSON value per record
/// with `row`, `valid`, `issues` as `[field, code]` pairs and, for valid
/// records, the cleaned `record`; issues of the table apart.
pub struct Verdicts {
    protocol: Arc<Protocol>,
    /// One per record, in input order.
    pub lines: Vec<Value>,
    /// Issues of the table (its header): `[field, code]`.
    pub table: Vec<Value>,
}

impl Verdicts {
    /// An empty collection for records of `protocol`.
    pub fn new(protocol: Arc<Protocol>) -> Verdicts {
        Verdicts {
            protocol,
            lines: Vec::new(),
            table: Vec::new(),
        }
    }
}

impl Sink for Verdicts {
    fn table_issue(&mut self, issue: &TableIssue) {
        let field = issue.issue.field_name(&self.protocol);
        self.table.push(json!([field, &*issue.issue.code]));
    }

    fn record(&mut self, outcome: &Outcome<'_>) {
        let protocol = self.protocol.as_ref();
        let issues: Vec<Value> = outcome
            .issues
            .iter()
            .map(|i| json!([i.field_name(protocol), &*i.code]))
            .collect();
        let mut line = json!({"row": outcome.row, "valid": outcome.is_valid(), "issues": issues});
        if outcome.is_valid() {
            line["record"] =
                serde_json::to_value(RecordJson { protocol, outcome }).expect("record json");
        }
        self.lines.push(line);
    }
}

/// Validates `input` with the built-in patient protocol as of `as_of` (ISO).
pub fn patient_verdicts(
    input: &[u8],
    format: Format,
    as_of: &str,
) -> Result<(Summary, Vec<Value>), clinval_core::InputError> {
    let protocol = Arc::new(Protocol::builtin("patient").expect("built-in protocol"));
    let as_of = as_of.parse().expect("as-of date");
    let mut sink = Verdicts::new(Arc::clone(&protocol));
    let summary = validate_bytes(protocol, format, &Options::new(as_of), input, &mut sink)?;
    Ok((summary, sink.lines))
}
