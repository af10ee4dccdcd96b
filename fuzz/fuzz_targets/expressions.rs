//! The expression language (REDCap's logic syntax) on any text, as a
//! field's `showIf`, a `requiredIf`, a calculation and an assertion, then
//! evaluated on records: it compiles or is refused, and never panics,
//! loops or overflows the stack when it runs.

#![no_main]

use std::sync::Arc;

use clinval_core::{Format, Options, Protocol, validate_bytes};
use libfuzzer_sys::fuzz_target;
use serde_json::json;

struct Ignore;

impl clinval_core::Sink for Ignore {
    fn record(&mut self, _: &clinval_core::Outcome<'_>) {}
    fn table_issue(&mut self, _: &clinval_core::TableIssue) {}
}

const RECORDS: &str = "a,b,c,d,e\n1,2,x,2024-01-02,1\n,,,,\n-3,0.5,yes,,0\n";

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let fields = json!([
        {"name": "a", "type": "integer"},
        {"name": "b", "type": "number"},
        {"name": "c", "type": "string"},
        {"name": "d", "type": "date"},
        {"name": "e", "type": "boolean", "trueValues": ["1"], "falseValues": ["0"]},
    ]);
    let uses = [
        json!({"name": "t", "fields": [fields[0].clone(), fields[1].clone(), {"name": "c", "type": "string", "showIf": text}]}),
        json!({"name": "t", "fields": [fields[0].clone(), {"name": "b", "type": "number", "requiredIf": text}]}),
        json!({"name": "t", "fields": [fields[0].clone(), fields[1].clone(), {"name": "f", "type": "number", "calc": text}]}),
        json!({"name": "t", "fields": fields.clone(), "rules": [{"assert": text, "field": "a", "code": "r"}]}),
    ];
    let as_of = chrono::NaiveDate::from_ymd_opt(2025, 6, 30).expect("date");
    for doc in uses {
        if let Ok(protocol) = Protocol::from_json(&doc.to_string()) {
            let _ = validate_bytes(Arc::new(protocol), Format::Csv, &Options::new(as_of), RECORDS.as_bytes(), &mut Ignore);
        }
    }
});
