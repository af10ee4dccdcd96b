//! clinval against frictionless-py on plain Table Schemas, row for row.
//!
//! Every case of `tests/table-schema/cases.json` (a schema and a CSV,
//! written from the spec) is validated by clinval's engine and by
//! frictionless-py 5.21 (`tests/table-schema/frictionless_report.py`, run
//! with the venv `.ci/run` makes in `target/fl`). Both reports are reduced
//! to `(row, field, category)` with frictionless's error types as the
//! categories. Where they differ, the difference must be listed in
//! `tests/table-schema/differences.json` with the reason, and every reason
//! must be explained in docs/protocol.md; a listed difference that no
//! longer occurs fails too, so the list stays true.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use clinval_core::{
    Detail, Format, KeyCollector, Options, Outcome, Protocol, Session, Sink, TableIssue,
};
use serde_json::{Value, json};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `(row, field, category)`; `row` is frictionless's row number (the
/// header is row 1), `None` for the header.
type Error = (Option<u64>, Option<String>, String);

/// What one tool made of one case.
#[derive(Debug, PartialEq)]
enum Verdict {
    Refused(String),
    Errors(BTreeSet<Error>),
}

/// frictionless's error type for a clinval issue.
fn category(code: &str, detail: &Detail) -> String {
    match (code, detail) {
        (_, Detail::Type | Detail::AmbiguousDate) => "type-error",
        (_, Detail::Duplicate { .. }) => "unique-error",
        (_, Detail::ForeignKey { .. }) => "foreign-key",
        ("required" | "pattern" | "too_short" | "too_long" | "out_of_range" | "not_allowed", _) => {
            "constraint-error"
        }
        (other, _) => return other.replace('_', "-"),
    }
    .to_owned()
}

struct Collect {
    protocol: Arc<Protocol>,
    errors: BTreeSet<Error>,
}

impl Sink for Collect {
    fn record(&mut self, outcome: &Outcome<'_>) {
        for issue in &outcome.issues {
            let field = issue.field_name(&self.protocol).map(str::to_owned);
            // A key repeated across rows is a row error in frictionless.
            let (field, kind) = match &issue.detail {
                Detail::Duplicate { fields, .. } if issue.field.is_none() => {
                    let primary = self
                        .protocol
                        .keys
                        .first()
                        .is_some_and(|k| &k.fields == fields)
                        && self.protocol.source().contains("primaryKey");
                    (
                        None,
                        if primary {
                            "primary-key".to_owned()
                        } else {
                            "unique-key".to_owned()
                        },
                    )
                }
                detail => (field, category(&issue.code, detail)),
            };
            self.errors.insert((Some(outcome.row + 1), field, kind));
        }
    }

    fn table_issue(&mut self, issue: &TableIssue) {
        let field = issue.issue.field_name(&self.protocol).map(str::to_owned);
        // frictionless names no field for an extra column.
        let field = if issue.issue.code.as_ref() == "extra_label" {
            None
        } else {
            field
        };
        self.errors.insert((
            None,
            field,
            category(&issue.issue.code, &issue.issue.detail),
        ));
    }
}

/// clinval's verdict on one case: the CSV read twice when the schema has
/// foreign keys to itself (the first pass collects the referenced keys).
fn clinval(case: &Value) -> Verdict {
    let schema = serde_json::to_string(&case["schema"]).expect("schema");
    let protocol = match Protocol::from_json(&schema) {
        Ok(protocol) => Arc::new(protocol),
        Err(error) => return Verdict::Refused(error.to_string()),
    };
    let csv = case["csv"].as_str().expect("csv").as_bytes();
    let options = Options::new("2025-06-30".parse().expect("date"));
    let mut session = Session::new(Arc::clone(&protocol), Format::Csv, &options);
    for (k, fk) in protocol.foreign_keys.iter().enumerate() {
        let mut collector = KeyCollector::new(&protocol, &fk.reference_fields).expect("fields");
        let mut pass = Session::new(Arc::clone(&protocol), Format::Csv, &options);
        pass.feed(csv, &mut collector).expect("first pass");
        pass.finish(&mut collector).expect("first pass");
        session.set_referenced_keys(k, Arc::new(collector.take_keys()));
    }
    let mut sink = Collect {
        protocol,
        errors: BTreeSet::new(),
    };
    match session
        .feed(csv, &mut sink)
        .and_then(|()| session.finish(&mut sink))
    {
        Ok(_) => Verdict::Errors(sink.errors),
        Err(error) => Verdict::Refused(error.to_string()),
    }
}

/// frictionless-py's verdicts on every case, by name.
fn frictionless(cases: &Path) -> BTreeMap<String, Verdict> {
    let python = root().join("target/fl/bin/python");
    let output = Command::new(&python)
        .arg(root().join("tests/table-schema/frictionless_report.py"))
        .arg(cases)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run {} ({e}): bash .ci/run installs frictionless 5.21 there",
                python.display()
            )
        });
    assert!(
        output.status.success(),
        "frictionless_report.py failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_slice(&output.stdout).expect("report JSON");
    assert_eq!(
        report["version"], "5.21.0",
        "the comparison is with frictionless-py 5.21.0"
    );
    let mut verdicts = BTreeMap::new();
    for case in report["cases"].as_array().expect("cases") {
        let name = case["name"].as_str().expect("name").to_owned();
        let verdict = match case["refused"].as_str() {
            Some(why) => Verdict::Refused(why.to_owned()),
            None => Verdict::Errors(
                case["errors"]
                    .as_array()
                    .expect("errors")
                    .iter()
                    .map(|e| {
                        (
                            e[0].as_u64(),
                            e[1].as_str().map(str::to_owned),
                            e[2].as_str().expect("type").to_owned(),
                        )
                    })
                    .collect(),
            ),
        };
        verdicts.insert(name, verdict);
    }
    verdicts
}

fn errors_json(errors: &BTreeSet<Error>) -> Value {
    Value::Array(errors.iter().map(|(r, f, c)| json!([r, f, c])).collect())
}

/// How the two verdicts differ, as `differences.json` lists it.
fn difference(ours: &Verdict, theirs: &Verdict) -> Option<Value> {
    match (ours, theirs) {
        (Verdict::Errors(a), Verdict::Errors(b)) if a == b => None,
        (Verdict::Errors(a), Verdict::Errors(b)) => Some(json!({
            "only_clinval": errors_json(&a.difference(b).cloned().collect()),
            "only_frictionless": errors_json(&b.difference(a).cloned().collect()),
        })),
        (Verdict::Refused(_), Verdict::Refused(_)) => None,
        (Verdict::Refused(_), Verdict::Errors(_)) => Some(json!({"refused_by": "clinval"})),
        (Verdict::Errors(_), Verdict::Refused(_)) => Some(json!({"refused_by": "frictionless"})),
    }
}

#[test]
fn plain_table_schemas_match_frictionless_row_for_row() {
    let cases_path = root().join("tests/table-schema/cases.json");
    let cases: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(&cases_path).expect("cases"))
            .expect("cases JSON");
    assert!(cases.len() >= 50, "at least 50 cases");
    let listed: BTreeMap<String, Value> = serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/table-schema/differences.json"))
            .expect("differences"),
    )
    .expect("differences JSON");
    let docs = std::fs::read_to_string(root().join("docs/protocol.md")).expect("docs/protocol.md");
    let theirs = frictionless(&cases_path);

    let mut unexplained = Vec::new();
    let mut agree = 0;
    for case in &cases {
        let name = case["name"].as_str().expect("name");
        let ours = clinval(case);
        let theirs = theirs
            .get(name)
            .unwrap_or_else(|| panic!("no frictionless verdict on {name}"));
        let found = difference(&ours, theirs);
        let expected = listed.get(name).map(|entry| {
            let mut entry = entry.clone();
            let why = entry["why"].as_str().unwrap_or_default().to_owned();
            if !docs.contains(&format!("`{why}`")) {
                unexplained.push(format!(
                    "{name}: the reason `{why}` is not explained in docs/protocol.md"
                ));
            }
            entry.as_object_mut().expect("entry").remove("why");
            entry
        });
        match (found, expected) {
            (None, None) => agree += 1,
            (Some(found), Some(expected)) if found == expected => {}
            (found, expected) => unexplained.push(format!(
                "{name}: differs by {}, listed as {}\n  clinval: {ours:?}\n  frictionless: {theirs:?}",
                found.map_or("nothing".into(), |f| f.to_string()),
                expected.map_or("nothing".into(), |e| e.to_string()),
            )),
        }
    }
    for name in listed.keys() {
        assert!(
            cases.iter().any(|c| c["name"] == name.as_str()),
            "differences.json lists `{name}`, which is not a case"
        );
    }
    assert!(
        unexplained.is_empty(),
        "{} of {} cases agree; unlisted differences:\n{}",
        agree,
        cases.len(),
        unexplained.join("\n")
    );
    assert!(
        agree * 2 > cases.len(),
        "most cases agree: {agree} of {}",
        cases.len()
    );
}
