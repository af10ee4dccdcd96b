//! The shared samples give exactly the verdicts the spec gives them.

use clinval_core::Format;
use clinval_tests::{patient_verdicts, shared_data};
use serde_json::Value;

fn check_sample(csv: &str, expected: &str) {
    let input = std::fs::read(shared_data().join(csv)).expect("shared sample");
    let expected: Vec<Value> = std::fs::read_to_string(shared_data().join(expected))
        .expect("expected verdicts")
        .lines()
        .map(|l| serde_json::from_str(l).expect("expected line is JSON"))
        .collect();
    let (summary, actual) =
        patient_verdicts(&input, Format::Csv, "2025-06-30").expect("sample validates");
    let mut mismatches = Vec::new();
    for (want, got) in expected.iter().zip(&actual) {
        if want != got {
            mismatches.push(format!("want {want}\n got {got}"));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} mismatches:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
    assert_eq!(actual.len(), expected.len(), "record count");
    assert_eq!(summary.records as usize, expected.len());
}

#[test]
fn utf8_sample_matches_expected_verdicts() {
    check_sample("patients-sample.csv", "patients-sample.expected.jsonl");
}

#[test]
fn gbk_sample_matches_expected_verdicts() {
    check_sample(
        "patients-sample-gbk.csv",
        "patients-sample-gbk.expected.jsonl",
    );
}
