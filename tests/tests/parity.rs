//! The same bytes give the same verdicts everywhere: every input below is
//! validated natively (clinval-core), in wasmtime through the C ABI (the
//! Python partner host) and in Node through wasm-bindgen, and the three
//! reports (summary, every issue with its message, every cleaned record)
//! must be identical.
//!
//! Needs the package built (`cargo run -p clinval-wasm-pack`) and the
//! Python host's venv (`target/py`, made by `.ci/run`); fails with that
//! advice otherwise, rather than passing without checking anything.

use std::path::{Path, PathBuf};
use std::process::Command;

use clinval_wasm::engine::{Engine, OptionsDoc};
use serde_json::{Value, json};

const AS_OF: &str = "2025-06-30";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn inputs() -> Vec<(PathBuf, &'static str, Option<PathBuf>)> {
    let shared = root().join("../shared/data");
    let parity = root().join("tests/fixtures/parity");
    vec![
        (shared.join("patients-sample.csv"), "csv", None),
        (shared.join("patients-sample-gbk.csv"), "csv", None),
        (root().join("tests/fixtures/demo/patients.csv"), "csv", None),
        (parity.join("every-code.csv"), "csv", None),
        (parity.join("every-code.json"), "json", None),
        (parity.join("every-code.ndjson"), "ndjson", None),
        (
            parity.join("labs.csv"),
            "csv",
            Some(parity.join("labs.protocol.json")),
        ),
    ]
}

/// The report the native engine gives, in the shape both wasm faces print.
fn native(input: &Path, format: &str, protocol: Option<&Path>) -> Value {
    let protocol = match protocol {
        Some(path) => std::fs::read_to_string(path).expect("protocol file"),
        None => "patient".to_owned(),
    };
    let options = OptionsDoc {
        as_of: Some(AS_OF.into()),
        include_valid: true,
        ..OptionsDoc::default()
    };
    let engine = Engine::new(&protocol, options, None).expect("engine");
    let mut batch = engine.batch(format).expect("batch");
    let bytes = std::fs::read(input).expect("input");
    let mut report = json!({"issues": [], "records": [], "warnings": []});
    let mut results: Vec<_> = bytes.chunks(4096).map(|c| batch.feed(c)).collect();
    results.push(batch.finish());
    for result in results {
        let events = serde_json::to_value(result.expect("valid input")).expect("events");
        for key in ["issues", "records", "warnings"] {
            let list = report[key].as_array_mut().expect("list");
            list.extend(events[key].as_array().expect("list").iter().cloned());
        }
        if !events["summary"].is_null() {
            report["summary"] = events["summary"].clone();
        }
    }
    report
}

fn run(command: &mut Command, what: &str) -> Value {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {what}: {e} (bash .ci/run installs it)"));
    assert!(
        output.status.success() || output.status.code() == Some(1),
        "{what} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{what} printed no report: {e}"))
}

fn node(input: &Path, format: &str, protocol: Option<&Path>) -> Value {
    let mut command = Command::new("node");
    command
        .arg(root().join("wasm/test/report.mjs"))
        .arg(input)
        .args([format, AS_OF]);
    if let Some(protocol) = protocol {
        command.arg(protocol);
    }
    run(&mut command, "node (wasm-bindgen face)")
}

fn wasmtime_c_abi(input: &Path, format: &str, protocol: Option<&Path>) -> Value {
    let python = root().join("target/py/bin/python");
    let mut command = Command::new(&python);
    command
        .arg(root().join("examples/python/clinval_host.py"))
        .arg("--wasm")
        .arg(root().join("wasm/pkg/clinval_bg.wasm"))
        .args([
            "--as-of", AS_OF, "--format", format, "--report", "--chunk", "1000",
        ])
        .arg(input);
    if let Some(protocol) = protocol {
        command.arg("--protocol").arg(protocol);
    }
    run(&mut command, "the Python wasmtime host (C ABI face)")
}

#[test]
fn native_c_abi_and_javascript_give_identical_reports() {
    let module = root().join("wasm/pkg/clinval_bg.wasm");
    assert!(
        module.exists(),
        "{} is missing: build it with `cargo run -p clinval-wasm-pack`",
        module.display()
    );
    for (input, format, protocol) in inputs() {
        let name = input
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let expected = native(&input, format, protocol.as_deref());
        assert!(
            expected["summary"]["records"].as_u64().unwrap_or(0) > 0,
            "{name}"
        );
        let via_abi = wasmtime_c_abi(&input, format, protocol.as_deref());
        assert_eq!(
            via_abi, expected,
            "C ABI in wasmtime differs from native on {name}"
        );
        let via_js = node(&input, format, protocol.as_deref());
        assert_eq!(
            via_js, expected,
            "wasm-bindgen in Node differs from native on {name}"
        );
    }
}

#[test]
fn the_fixtures_cover_every_issue_code() {
    let mut codes = std::collections::BTreeSet::new();
    for (input, format, protocol) in inputs() {
        let report = native(&input, format, protocol.as_deref());
        for issue in report["issues"].as_array().expect("issues") {
            codes.insert(issue["code"].as_str().unwrap_or_default().to_owned());
        }
    }
    for code in [
        "required",
        "pattern",
        "too_long",
        "too_short",
        "type",
        "out_of_range",
        "invalid_date",
        "ambiguous_date",
        "future_date",
        "implausible",
        "not_allowed",
        "malformed_row",
        "duplicate",
        "received_before_sampled",
    ] {
        assert!(
            codes.contains(code),
            "no fixture gives `{code}`; codes seen: {codes:?}"
        );
    }
}
