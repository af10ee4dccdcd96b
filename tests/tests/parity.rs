//! The same bytes give the same verdicts everywhere: every input below is
//! validated natively (clinval-core), and by each module that can run its
//! protocol (the compact and the full one) in wasmtime through the C ABI
//! (the Python partner host) and in Node through the JS API; every report
//! (summary, every issue with its message, every cleaned record) must be
//! identical.
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

/// The modules, and whether the compact one can run an input's protocol.
const COMPACT: &str = "wasm/pkg/clinval_bg.wasm";
const FULL: &str = "wasm/pkg/clinval_full_bg.wasm";

/// Whether only the full module runs the input: a workbook (the compact
/// module has no workbook reader), or a protocol of the fixtures' own but
/// `labs` (the Table Schema fixture uses strptime, geo and JSON types; the
/// others logic).
fn needs_full(format: &str, protocol: Option<&Path>) -> bool {
    format == "workbook" || protocol.is_some_and(|p| !p.ends_with("labs.protocol.json"))
}

/// The REDCap fixture's protocol, as `redcap.dictionary.csv` imports.
const REDCAP: &str = "tests/fixtures/parity/redcap.protocol.json";

/// The real vignette dictionary of `../shared/data/redcap/`, imported
/// into the test's temporary directory.
fn vignette_protocol() -> PathBuf {
    let dictionary = root().join("../shared/data/redcap/redcapr-vignette-repeating/dictionary.csv");
    let bytes = std::fs::read(dictionary).expect("the shared vignette dictionary");
    let import = clinval_core::redcap::import(&bytes, "vignette").expect("it imports");
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("vignette.protocol.json");
    std::fs::write(&path, import.protocol).expect("write the imported protocol");
    path
}

fn inputs() -> Vec<(PathBuf, &'static str, Option<PathBuf>)> {
    let shared = root().join("../shared/data");
    let parity = root().join("tests/fixtures/parity");
    let workbooks = root().join("tests/fixtures/workbooks");
    let types = || Some(workbooks.join("types.protocol.json"));
    vec![
        // Workbooks made by openpyxl and LibreOffice (make.py there): the
        // shared sample (also from its GB18030 file, Chinese headers) in
        // each format, and every cell type, merged cells, error cells.
        (workbooks.join("patients.xlsx"), "workbook", None),
        (workbooks.join("patients.xls"), "workbook", None),
        (workbooks.join("patients-zh.ods"), "workbook", None),
        (workbooks.join("types.xlsx"), "workbook", types()),
        (workbooks.join("types.xls"), "workbook", types()),
        (workbooks.join("types.ods"), "workbook", types()),
        (shared.join("patients-sample.csv"), "csv", None),
        (shared.join("patients-sample-gbk.csv"), "csv", None),
        (root().join("tests/fixtures/demo/patients.csv"), "csv", None),
        (parity.join("every-code.csv"), "csv", None),
        (parity.join("every-code.json"), "json", None),
        (parity.join("every-code.ndjson"), "ndjson", None),
        // Bytes not valid UTF-8 in a name, an unknown column, Latin-1, and
        // a U+FFFD the file holds: `encoding` issues with their offsets.
        (parity.join("damaged.csv"), "csv", None),
        (
            parity.join("labs.csv"),
            "csv",
            Some(parity.join("labs.protocol.json")),
        ),
        (
            parity.join("table-schema.csv"),
            "csv",
            Some(parity.join("table-schema.protocol.json")),
        ),
        (
            parity.join("table-schema.json"),
            "json",
            Some(parity.join("table-schema.protocol.json")),
        ),
        (
            parity.join("logic.csv"),
            "csv",
            Some(parity.join("logic.protocol.json")),
        ),
        (
            parity.join("logic.json"),
            "json",
            Some(parity.join("logic.protocol.json")),
        ),
        (parity.join("redcap.csv"), "csv", Some(root().join(REDCAP))),
        (
            shared.join("redcap/redcapr-vignette-repeating/data.csv"),
            "csv",
            Some(vignette_protocol()),
        ),
    ]
}

/// The committed REDCap fixture protocol is what its dictionary imports as.
#[test]
fn the_redcap_fixture_protocol_is_its_dictionarys_import() {
    let dictionary = std::fs::read(root().join("tests/fixtures/parity/redcap.dictionary.csv"))
        .expect("dictionary");
    let import = clinval_core::redcap::import(&dictionary, "redcap").expect("it imports");
    let committed = std::fs::read_to_string(root().join(REDCAP)).expect("protocol");
    assert_eq!(
        committed.trim_end(),
        import.protocol.trim_end(),
        "regenerate: clinval protocol import tests/fixtures/parity/redcap.dictionary.csv --name redcap > {REDCAP}"
    );
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
    let mut engine = Engine::new(&protocol, options, None).expect("engine");
    let bytes = std::fs::read(input).expect("input");
    // A foreign key to the input's own table: its keys from a first reading.
    let own: Vec<usize> = (0..engine.protocol().foreign_keys.len())
        .filter(|&k| engine.protocol().foreign_keys[k].resource.is_none())
        .collect();
    for k in own {
        let mut keys = engine.key_batch(k, &engine, format).expect("key batch");
        for chunk in bytes.chunks(4096) {
            keys.feed(chunk).expect("key batch feed");
        }
        keys.finish().expect("key batch finish");
        let keys = keys.take_keys().expect("keys");
        engine
            .set_referenced_keys(k, std::sync::Arc::new(keys))
            .expect("foreign key");
    }
    let mut batch = engine.batch(format).expect("batch");
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

fn node(module: &str, input: &Path, format: &str, protocol: Option<&Path>) -> Value {
    let mut command = Command::new("node");
    command
        .arg(root().join("wasm/test/report.mjs"))
        .arg(root().join(module))
        .arg(input)
        .args([format, AS_OF]);
    if let Some(protocol) = protocol {
        command.arg(protocol);
    }
    run(&mut command, "node (JS API face)")
}

fn python_host(module: &str, input: &Path, format: &str, protocol: Option<&Path>) -> Command {
    let python = root().join("target/py/bin/python");
    let mut command = Command::new(&python);
    command
        .arg(root().join("examples/python/clinval_host.py"))
        .arg("--wasm")
        .arg(root().join(module))
        .args([
            "--as-of", AS_OF, "--format", format, "--report", "--chunk", "1000",
        ])
        .arg(input);
    if let Some(protocol) = protocol {
        command.arg("--protocol").arg(protocol);
    }
    command
}

fn wasmtime_c_abi(module: &str, input: &Path, format: &str, protocol: Option<&Path>) -> Value {
    run(
        &mut python_host(module, input, format, protocol),
        "the Python wasmtime host (C ABI face)",
    )
}

#[test]
fn native_c_abi_and_javascript_give_identical_reports() {
    for module in [COMPACT, FULL] {
        assert!(
            root().join(module).exists(),
            "{module} is missing: build it with `cargo run -p clinval-wasm-pack`"
        );
    }
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
        let modules: &[&str] = if needs_full(format, protocol.as_deref()) {
            &[FULL]
        } else {
            &[COMPACT, FULL]
        };
        for module in modules {
            let via_abi = wasmtime_c_abi(module, &input, format, protocol.as_deref());
            assert_eq!(
                via_abi, expected,
                "{module}'s C ABI in wasmtime differs from native on {name}"
            );
            let via_js = node(module, &input, format, protocol.as_deref());
            assert_eq!(
                via_js, expected,
                "{module}'s JS API in Node differs from native on {name}"
            );
        }
    }
}

/// The compact module refuses the protocols only the full one runs, with
/// the code hosts switch modules on.
#[test]
fn the_compact_module_names_what_needs_the_full_one() {
    for (input, format, protocol) in inputs() {
        if !needs_full(format, protocol.as_deref()) {
            continue;
        }
        let output = python_host(COMPACT, &input, format, protocol.as_deref())
            .output()
            .expect("the Python host (bash .ci/run installs it)");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        assert!(
            stderr.contains("needs_full_module") && stderr.contains("clinval_full_bg.wasm"),
            "{stderr}"
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
        "foreign_key",
        "missing_cell",
        "extra_cell",
        "blank_row",
        "cell_error",
    ] {
        assert!(
            codes.contains(code),
            "no fixture gives `{code}`; codes seen: {codes:?}"
        );
    }
}

/// A report without what only says where an issue is (`line`: the CSV's
/// physical line, the workbook's sheet row; `cell`: the workbook's cell)
/// or what was read (`workbook`, `encoding`): the verdicts.
fn verdicts(mut report: Value) -> Value {
    for issue in report["issues"].as_array_mut().expect("issues") {
        let issue = issue.as_object_mut().expect("issue");
        issue.remove("line");
        issue.remove("cell");
    }
    let summary = report["summary"].as_object_mut().expect("summary");
    summary.remove("workbook");
    summary.remove("encoding");
    report
}

/// A workbook and its CSV export (LibreOffice's, as a user makes it) get
/// the same verdicts: every issue with its message, every cleaned record;
/// natively, and for the shared sample also through the modules' C ABI in
/// wasmtime (the workbooks in the full module, the CSV in the compact one).
#[test]
fn workbooks_and_their_csv_exports_get_the_same_verdicts() {
    let dir = root().join("tests/fixtures/workbooks");
    for name in ["patients", "patients-zh"] {
        let csv_file = dir.join(format!("{name}.csv"));
        let csv = verdicts(native(&csv_file, "csv", None));
        assert!(
            csv["summary"]["invalid"].as_u64().unwrap_or(0) > 0,
            "{name}"
        );
        let through_abi = name == "patients";
        if through_abi {
            let via_abi = verdicts(wasmtime_c_abi(COMPACT, &csv_file, "csv", None));
            assert_eq!(via_abi, csv, "{name}.csv through the C ABI");
        }
        for ext in ["xlsx", "xls", "ods"] {
            let workbook = dir.join(format!("{name}.{ext}"));
            let report = native(&workbook, "workbook", None);
            assert_eq!(report["summary"]["workbook"]["format"], ext, "{name}.{ext}");
            assert_eq!(verdicts(report), csv, "{name}.{ext} and {name}.csv differ");
            if through_abi {
                let via_abi = verdicts(wasmtime_c_abi(FULL, &workbook, "workbook", None));
                assert_eq!(
                    via_abi, csv,
                    "{name}.{ext} through the C ABI and {name}.csv differ"
                );
            }
        }
    }
}
