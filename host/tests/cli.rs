//! `clinval validate` end to end: the real binary, real files, exit codes,
//! outputs and messages.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn clinval(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_clinval"))
        .args(args)
        .output()
        .expect("run clinval")
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn path(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let file = dir.join(name);
    std::fs::File::create(&file)
        .and_then(|mut f| f.write_all(bytes))
        .expect("write test input");
    file
}

fn json_lines(file: &Path) -> Vec<Value> {
    std::fs::read_to_string(file)
        .expect("read output")
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect()
}

const HEADER: &str = "id,name,age,visitDate,bp\n";

#[test]
fn shared_sample_writes_valid_records_and_the_error_log() {
    let dir = tempfile::tempdir().unwrap();
    let (out, errors) = (
        dir.path().join("valid.json"),
        dir.path().join("errors.jsonl"),
    );
    let sample = root().join("../shared/data/patients-sample.csv");
    let expected: Vec<Value> =
        json_lines(&root().join("../shared/data/patients-sample.expected.jsonl"));
    let output = clinval(&[
        "validate",
        path(&sample),
        "--as-of",
        "2025-06-30",
        "--out",
        path(&out),
        "--errors",
        path(&errors),
    ]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));

    let valid: Vec<Value> = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    let expected_valid: Vec<&Value> = expected.iter().filter_map(|e| e.get("record")).collect();
    assert_eq!(valid.iter().collect::<Vec<_>>(), expected_valid);

    let issues = json_lines(&errors);
    let expected_issues: Vec<(u64, Value, Value)> = expected
        .iter()
        .flat_map(|e| {
            let row = e["row"].as_u64().unwrap();
            e["issues"]
                .as_array()
                .unwrap()
                .iter()
                .map(move |i| (row, i[0].clone(), i[1].clone()))
        })
        .collect();
    let got: Vec<(u64, Value, Value)> = issues
        .iter()
        .map(|i| {
            (
                i["row"].as_u64().unwrap(),
                i["field"].clone(),
                i["code"].clone(),
            )
        })
        .collect();
    assert_eq!(got, expected_issues);
    for issue in &issues {
        let keys: Vec<&str> = issue
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys.len(), 6, "{issue}");
        assert!(issue["line"].as_u64().unwrap() > issue["row"].as_u64().unwrap());
        assert!(!issue["message"].as_str().unwrap().is_empty());
    }
    let summary = stderr(&output);
    assert!(
        summary.contains("400 records: 303 valid, 97 invalid; 100 issues"),
        "{summary}"
    );
    assert!(summary.contains("implausible 17"), "{summary}");
}

#[test]
fn ndjson_output_chinese_messages_and_exit_zero_when_all_valid() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(
        dir.path(),
        "in.csv",
        format!("{HEADER}P1,Ann,30,2024-01-01,120/80\nP2,Bo,31,2024-01-02,121/80\n").as_bytes(),
    );
    let out = dir.path().join("valid.jsonl");
    let output = clinval(&[
        "validate",
        path(&input),
        "--as-of",
        "2025-06-30",
        "--out",
        path(&out),
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let records = json_lines(&out);
    assert_eq!(records.len(), 2);
    assert_eq!(records[1]["id"], "P2");

    let bad = write(
        dir.path(),
        "bad.csv",
        format!("{HEADER}P1,Ann,17,2024-01-01,120/80\n").as_bytes(),
    );
    let errors = dir.path().join("e.jsonl");
    let output = clinval(&[
        "validate",
        path(&bad),
        "--as-of",
        "2025-06-30",
        "--lang",
        "zh-CN",
        "--errors",
        path(&errors),
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(json_lines(&errors)[0]["message"], "age 17 超出范围 19..=80");
}

#[test]
fn as_of_defaults_to_today() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(
        dir.path(),
        "in.csv",
        format!("{HEADER}P1,Ann,30,2999-01-01,120/80\n").as_bytes(),
    );
    let errors = dir.path().join("e.jsonl");
    let output = clinval(&["validate", path(&input), "--errors", path(&errors)]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(json_lines(&errors)[0]["code"], "future_date");
}

#[test]
fn several_inputs_and_directories_keep_input_order() {
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("batch");
    std::fs::create_dir(&sub).unwrap();
    for (name, age) in [("b.csv", 17), ("a.csv", 81), ("c.ndjson", 18)] {
        let body = if name.ends_with(".ndjson") {
            format!(
                "{{\"id\":\"P1\",\"name\":\"X\",\"age\":{age},\"visitDate\":\"2024-01-01\",\"bp\":\"120/80\"}}\n"
            )
        } else {
            format!("{HEADER}P1,X,{age},2024-01-01,120/80\n")
        };
        write(&sub, name, body.as_bytes());
    }
    std::fs::write(sub.join("notes.txt.bak"), "ignored").unwrap();
    let first = write(
        dir.path(),
        "first.json",
        br#"[{"id":"P9","name":"Y","age":19,"visitDate":"2024-01-01","bp":"120/80"}]"#,
    );
    let errors = dir.path().join("e.jsonl");
    let output = clinval(&[
        "validate",
        path(&first),
        path(&sub),
        "--as-of",
        "2025-06-30",
        "--jobs",
        "2",
        "--errors",
        path(&errors),
    ]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let files: Vec<String> = json_lines(&errors)
        .iter()
        .map(|e| {
            Path::new(e["file"].as_str().unwrap())
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    assert_eq!(files, ["a.csv", "b.csv", "c.ndjson"]);
    assert!(
        stderr(&output).contains("total: 4 records: 1 valid, 3 invalid"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn custom_protocol_file() {
    let dir = tempfile::tempdir().unwrap();
    let protocol = write(
        dir.path(),
        "trial.json",
        br#"{"name": "labs", "fields": [
              {"name": "subject", "constraints": {"required": true, "unique": true}},
              {"name": "hb", "type": "number", "constraints": {"minimum": 5, "maximum": 25}}]}"#,
    );
    let input = write(dir.path(), "labs.csv", b"subject,hb\nS1,13.5\nS2,40\nS1,\n");
    let errors = dir.path().join("e.jsonl");
    let output = clinval(&[
        "validate",
        path(&input),
        "--protocol",
        path(&protocol),
        "--errors",
        path(&errors),
    ]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let codes: Vec<(Value, Value)> = json_lines(&errors)
        .iter()
        .map(|e| (e["row"].clone(), e["code"].clone()))
        .collect();
    assert_eq!(
        codes,
        [
            (2.into(), "out_of_range".into()),
            (3.into(), "duplicate".into())
        ]
    );
}

/// Runs `clinval validate` with `args` and checks exit 2 and that stderr
/// contains `expected`, with no panic.
fn refused(args: &[&str], expected: &str) {
    let output = clinval(args);
    let text = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{args:?}: {text}");
    assert!(
        text.contains(expected),
        "{args:?}: want {expected:?} in {text}"
    );
    assert!(!text.contains("panicked"), "{text}");
}

#[test]
fn unusable_inputs_exit_2_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let empty = write(d, "empty.csv", b"");
    refused(&["validate", path(&empty)], "empty.csv: input is empty");
    let header = write(d, "header.csv", HEADER.as_bytes());
    refused(
        &["validate", path(&header)],
        "input has no records (a header but no data rows)",
    );
    let missing = write(d, "missing.csv", b"id,name,age\nP1,A,30\n");
    refused(
        &["validate", path(&missing)],
        "line 1: the header lacks column(s) `visitDate`",
    );
    let mut garbage = vec![0u8; 4096];
    for (i, b) in garbage.iter_mut().enumerate() {
        *b = (i * 7919 % 251) as u8;
    }
    let binary = write(d, "garbage.csv", &garbage);
    refused(&["validate", path(&binary)], "input is binary, not text");
    let mut long_line = HEADER.as_bytes().to_vec();
    long_line.extend(std::iter::repeat_n(b'x', 100 * 1024 * 1024));
    let huge = write(d, "huge.csv", &long_line);
    drop(long_line);
    refused(
        &["validate", path(&huge)],
        "line 2: record is larger than the 16777216-byte limit",
    );
    let bad_protocol = write(
        d,
        "p.json",
        b"{\"fields\": [{\"name\": \"a\", \"type\": \"integr\"}]}",
    );
    refused(
        &["validate", path(&empty), "--protocol", path(&bad_protocol)],
        "protocol key `fields[0].type`: type `integr` is not a type; did you mean `integer`?",
    );
    let not_json = write(d, "q.json", b"{\"fields\": [");
    refused(
        &["validate", path(&empty), "--protocol", path(&not_json)],
        "protocol is not valid JSON (line 1",
    );
    refused(
        &["validate", path(&empty), "--format", "xml"],
        "unknown format `xml`",
    );
    refused(
        &["validate", "/nonexistent/x.csv"],
        "cannot read /nonexistent/x.csv",
    );
    let unknown = write(d, "data.numbers", b"x");
    refused(
        &["validate", path(&unknown)],
        "cannot tell the format from the file name",
    );
    let not_workbook = write(d, "data.xlsx", b"id,name\n");
    refused(
        &["validate", path(&not_workbook)],
        "data.xlsx: the input is not a workbook",
    );
    refused(
        &["validate", path(&empty), "--as-of", "2025-13-01"],
        "invalid value '2025-13-01'",
    );
    refused(
        &["validate", path(&empty), "--lang", "fr"],
        "unknown language `fr`",
    );
    let broken = write(d, "broken.json", b"[{\"id\": 1} {\"id\": 2}]");
    refused(
        &["validate", path(&broken)],
        "line 1, column 12: expected `,` or `]` after a record",
    );
}

#[test]
fn one_bad_input_does_not_stop_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let empty = write(dir.path(), "empty.csv", b"");
    let good = write(
        dir.path(),
        "good.csv",
        format!("{HEADER}P1,Ann,30,2024-01-01,120/80\n").as_bytes(),
    );
    let out = dir.path().join("v.json");
    let output = clinval(&[
        "validate",
        path(&empty),
        path(&good),
        "--as-of",
        "2025-06-30",
        "--out",
        path(&out),
    ]);
    assert_eq!(output.status.code(), Some(2));
    let valid: Vec<Value> = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(valid.len(), 1);
}

#[test]
fn the_demo_file_the_readme_runs() {
    let demo = root().join("tests/fixtures/demo/patients.csv");
    let output = clinval(&["validate", path(&demo), "--as-of", "2025-06-30"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("18 records: 7 valid, 11 invalid"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn the_wasm_engine_gives_byte_identical_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let shared = root().join("../shared/data");
    let (a, b) = (
        shared.join("patients-sample.csv"),
        shared.join("patients-sample-gbk.csv"),
    );
    let mut outputs = Vec::new();
    for engine in ["native", "wasm"] {
        let (out, errors) = (
            dir.path().join(format!("{engine}.json")),
            dir.path().join(format!("{engine}.jsonl")),
        );
        let output = clinval(&[
            "validate",
            path(&a),
            path(&b),
            "--as-of",
            "2025-06-30",
            "--lang",
            "zh-CN",
            "--engine",
            engine,
            "--out",
            path(&out),
            "--errors",
            path(&errors),
        ]);
        assert_eq!(
            output.status.code(),
            Some(1),
            "{engine}: {}",
            stderr(&output)
        );
        outputs.push((std::fs::read(out).unwrap(), std::fs::read(errors).unwrap()));
        if engine == "wasm" {
            assert!(
                stderr(&output).contains("engine: clinval_bg.wasm sha256 "),
                "{}",
                stderr(&output)
            );
        }
    }
    assert!(outputs[0] == outputs[1], "native and wasm outputs differ");

    let empty = write(dir.path(), "empty.csv", b"");
    refused(
        &["validate", path(&empty), "--engine", "wasm"],
        "empty.csv: input is empty",
    );
    refused(
        &[
            "validate",
            path(&a),
            "--engine",
            "wasm",
            "--module",
            "/nonexistent.wasm",
        ],
        "cannot read module /nonexistent.wasm",
    );
    let not_wasm = write(dir.path(), "bad.wasm", b"not a module");
    refused(
        &[
            "validate",
            path(&a),
            "--engine",
            "wasm",
            "--module",
            path(&not_wasm),
        ],
        "compiling the module",
    );
}

/// `(resource, row, field, code)` of each error-log line.
fn resource_issues(file: &Path) -> Vec<(String, Option<u64>, Option<String>, String)> {
    json_lines(file)
        .iter()
        .map(|l| {
            (
                l["resource"].as_str().unwrap_or_default().to_owned(),
                l["row"].as_u64(),
                l["field"].as_str().map(str::to_owned),
                l["code"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

#[test]
fn a_data_package_checks_every_table_and_its_foreign_keys() {
    let dir = tempfile::tempdir().unwrap();
    let errors = dir.path().join("errors.jsonl");
    let package = root().join("tests/fixtures/datapackage/datapackage.json");
    let output = clinval(&["validate", path(&package), "--errors", path(&errors)]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let issue = |r: &str, row, field: Option<&str>, code: &str| {
        (
            r.to_owned(),
            Some(row),
            field.map(str::to_owned),
            code.to_owned(),
        )
    };
    assert_eq!(
        resource_issues(&errors),
        [
            issue("sites", 3, Some("site"), "pattern"),
            issue("patients", 3, None, "foreign_key"),
            issue("patients", 4, Some("born"), "out_of_range"),
            issue("patients", 4, None, "foreign_key"),
            issue("patients", 4, None, "foreign_key"),
            issue("visits", 3, None, "duplicate"),
            issue("visits", 4, None, "foreign_key"),
        ]
    );
    let text = stderr(&output);
    assert!(text.contains("resource `readme` has no schema"), "{text}");
    assert!(
        text.contains("visits: 4 records: 2 valid, 2 invalid"),
        "{text}"
    );

    // One resource: its foreign keys still read the resources they name.
    let output = clinval(&[
        "validate",
        path(&package),
        "--resource",
        "visits",
        "--errors",
        path(&errors),
    ]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert_eq!(
        resource_issues(&errors),
        [
            issue("visits", 3, None, "duplicate"),
            issue("visits", 4, None, "foreign_key")
        ]
    );
}

#[test]
fn a_plain_table_schema_means_what_the_spec_says() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let schema = write(
        d,
        "schema.json",
        br#"{"fields": [{"name": "id", "type": "integer"}, {"name": "when", "type": "date", "format": "%d/%m/%Y"},
             {"name": "unit", "type": "string", "rdfType": "http://schema.org/unitText", "x-note": "kept"}],
             "primaryKey": "id"}"#,
    );
    let data = write(
        d,
        "data.csv",
        b"id,when,unit\n1,26/01/2024,mg\n 2,2024-01-26,mg\n1,1/2/2024,\n\n",
    );
    let errors = d.join("errors.jsonl");
    let output = clinval(&[
        "validate",
        path(&data),
        "--protocol",
        path(&schema),
        "--errors",
        path(&errors),
    ]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let codes: Vec<(Option<u64>, Option<String>, String)> = resource_issues(&errors)
        .into_iter()
        .map(|(_, row, field, code)| (row, field, code))
        .collect();
    assert_eq!(
        codes,
        [
            (Some(2), Some("id".into()), "type".into()),
            (Some(2), Some("when".into()), "invalid_date".into()),
            (Some(3), None, "duplicate".into()),
            (Some(4), None, "blank_row".into()),
        ]
    );

    let wrong_header = write(d, "header.csv", b"ID,when\n1,26/01/2024\n");
    let output = clinval(&[
        "validate",
        path(&wrong_header),
        "--protocol",
        path(&schema),
        "--errors",
        path(&errors),
    ]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let lines = json_lines(&errors);
    assert_eq!(lines[0]["row"], Value::Null);
    assert_eq!(
        (lines[0]["code"].as_str(), lines[0]["column"].as_u64()),
        (Some("incorrect_label"), Some(1))
    );
    assert_eq!(lines[1]["code"], "missing_label");

    let semicolons = write(d, "semi.csv", b"id;when;unit\n7;01/01/2024;g\n");
    let output = clinval(&[
        "validate",
        path(&semicolons),
        "--protocol",
        path(&schema),
        "--delimiter",
        ";",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stderr(&output);
    assert!(
        !text.contains("x-note"),
        "x- keys are kept silently: {text}"
    );
}

#[test]
fn unusable_data_packages_exit_2_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "a.csv", b"id,parent\n1,\n");
    let package = |name: &str, text: &str| path(&write(d, name, text.as_bytes())).to_owned();
    let unknown_resource = package(
        "a.datapackage.json",
        r#"{"resources": [{"name": "a", "path": "a.csv", "schema": {"fields": [{"name": "id"}, {"name": "parent"}],
             "foreignKeys": [{"fields": "parent", "reference": {"resource": "sites", "fields": "id"}}]}}]}"#,
    );
    refused(
        &["validate", &unknown_resource],
        "data package key `resources[0].schema.foreignKeys[0].reference.resource`: no tabular resource named `sites`",
    );
    let unknown_field = package(
        "b.datapackage.json",
        r#"{"resources": [{"name": "a", "path": "a.csv", "schema": {"fields": [{"name": "id"}, {"name": "parent"}]}},
             {"name": "b", "path": "a.csv", "schema": {"fields": [{"name": "id"}, {"name": "parent"}],
             "foreignKeys": [{"fields": "parent", "reference": {"resource": "a", "fields": "code"}}]}}]}"#,
    );
    refused(
        &["validate", &unknown_field],
        "data package key `resources[1].schema.foreignKeys[0].reference.fields`: resource `a` has no field `code`",
    );
    let missing_file = package(
        "c.datapackage.json",
        r#"{"resources": [{"name": "a", "path": "gone.csv", "schema": {"fields": [{"name": "id"}]}}]}"#,
    );
    refused(
        &["validate", &missing_file],
        "data package key `resources[0].path`: cannot read gone.csv",
    );
    let bad_type = package(
        "d.datapackage.json",
        r#"{"resources": [{"name": "a", "path": "a.csv", "schema": {"fields": [{"name": "id", "type": "integr"}]}}]}"#,
    );
    refused(
        &["validate", &bad_type],
        "data package key `resources[0].schema`: protocol key `fields[0].type`",
    );
    let bad_pattern = package(
        "e.datapackage.json",
        r#"{"resources": [{"name": "a", "path": "a.csv", "schema": {"fields": [{"name": "id", "type": "date", "format": "%d/%q"}]}}]}"#,
    );
    refused(
        &["validate", &bad_pattern],
        "protocol key `fields[0].format`: `%d/%q`: `%q` is not a strptime directive",
    );
    let fine = package(
        "f.datapackage.json",
        r#"{"resources": [{"name": "a", "path": "a.csv", "schema": {"fields": [{"name": "id"}, {"name": "parent"}]}}]}"#,
    );
    refused(
        &["validate", &fine, "--resource", "b"],
        "no resource named `b` (tabular resources: a)",
    );
    refused(
        &["validate", &fine, "--protocol", "patient"],
        "a Data Package brings its own schemas",
    );
    refused(
        &["validate", path(&d.join("a.csv")), "--resource", "a"],
        "--resource picks a resource of a Data Package",
    );
}

/// Counts by code in an error log.
fn counts_by_code(errors: &Path) -> std::collections::BTreeMap<String, usize> {
    let mut counts = std::collections::BTreeMap::new();
    for issue in json_lines(errors) {
        *counts
            .entry(issue["code"].as_str().unwrap_or_default().to_owned())
            .or_insert(0) += 1;
    }
    counts
}

/// A project's export: its name, records and issue counts by code.
type Expected = (&'static str, usize, &'static [(&'static str, usize)]);

/// The real REDCap dictionaries of `../shared/data/redcap/`: each imports;
/// each export beside one validates, with these counts, the same through
/// the dictionary and through the protocol JSON it imports as.
#[test]
fn every_shared_redcap_dictionary_imports_and_its_export_validates() {
    let corpus = root().join("../shared/data/redcap");
    let expected: &[Expected] = &[
        ("redcapapi-metadata", 24, &[]),
        ("redcapr-clinical-trial-1", 500, &[]),
        ("redcapr-validation-types-1", 1, &[]),
        (
            "redcapr-vignette-repeating",
            99,
            &[("hidden_has_value", 4), ("required", 32)],
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    let mut dictionaries: Vec<PathBuf> = std::fs::read_dir(&corpus)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("dictionary.csv").is_file())
        .collect();
    dictionaries.sort();
    assert!(dictionaries.len() >= 6, "{dictionaries:?}");
    for project in dictionaries {
        let name = project.file_name().unwrap().to_string_lossy().into_owned();
        let dictionary = project.join("dictionary.csv");
        let import = clinval(&["protocol", "import", path(&dictionary)]);
        assert_eq!(import.status.code(), Some(0), "{name}: {}", stderr(&import));
        let protocol: Value = serde_json::from_slice(&import.stdout).expect("protocol JSON");
        assert!(
            protocol["fields"].as_array().is_some_and(|f| !f.is_empty()),
            "{name}"
        );
        let imported = write(dir.path(), &format!("{name}.json"), &import.stdout);
        let data = project.join("data.csv");
        if !data.is_file() {
            continue;
        }
        let (records, codes) = expected
            .iter()
            .find(|(n, ..)| *n == name)
            .map(|(_, r, c)| (*r, *c))
            .unwrap_or_else(|| panic!("no expected counts for {name}"));
        let mut logs = Vec::new();
        for (via, protocol) in [("dictionary", &dictionary), ("json", &imported)] {
            let errors = dir.path().join(format!("{name}-{via}.jsonl"));
            let output = clinval(&[
                "validate",
                path(&data),
                "--protocol",
                path(protocol),
                "--as-of",
                "2026-12-01",
                "--errors",
                path(&errors),
            ]);
            let summary = stderr(&output);
            assert_eq!(
                output.status.code(),
                Some(if codes.is_empty() { 0 } else { 1 }),
                "{name} via {via}: {summary}"
            );
            assert!(
                summary.contains(&format!("{records} records")),
                "{name} via {via}: {summary}"
            );
            let want: std::collections::BTreeMap<String, usize> =
                codes.iter().map(|(c, n)| ((*c).to_owned(), *n)).collect();
            assert_eq!(counts_by_code(&errors), want, "{name} via {via}");
            logs.push(std::fs::read(&errors).unwrap());
        }
        assert_eq!(
            logs[0], logs[1],
            "{name}: the imported JSON gives the same verdicts"
        );
    }
}

#[test]
fn the_wasm_engine_gives_the_same_verdicts_for_a_redcap_dictionary() {
    let project = root().join("../shared/data/redcap/redcapr-vignette-repeating");
    let dir = tempfile::tempdir().unwrap();
    let mut logs = Vec::new();
    for engine in ["native", "wasm"] {
        let errors = dir.path().join(format!("{engine}.jsonl"));
        let out = dir.path().join(format!("{engine}.json"));
        let output = clinval(&[
            "validate",
            path(&project.join("data.csv")),
            "--protocol",
            path(&project.join("dictionary.csv")),
            "--as-of",
            "2026-12-01",
            "--engine",
            engine,
            "--errors",
            path(&errors),
            "--out",
            path(&out),
        ]);
        assert_eq!(
            output.status.code(),
            Some(1),
            "{engine}: {}",
            stderr(&output)
        );
        logs.push((
            std::fs::read(&errors).unwrap(),
            std::fs::read(&out).unwrap(),
        ));
    }
    assert!(!logs[0].0.is_empty());
    assert_eq!(logs[0], logs[1]);
}

#[test]
fn unusable_redcap_dictionaries_exit_2_naming_the_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let header = "Variable / Field Name,Form Name,Section Header,Field Type,Field Label,\"Choices, Calculations, OR Slider Labels\",Field Note,Text Validation Type OR Show Slider Number,Text Validation Min,Text Validation Max,Identifier?,Branching Logic (Show field only if...),Required Field?\nrecord_id,f,,text,ID,,,,,,,,\n";
    let data = write(dir.path(), "data.csv", b"record_id\n1\n");
    for (row, expected) in [
        (
            "record_id,f,,text,Again,,,,,,,,",
            "line 3, field `record_id`: defined twice (first on line 2, as `record_id`)",
        ),
        (
            "sex,f,,radio,Sex,\"1, M | 1, F\",,,,,,,",
            "line 3, field `sex`: the choice code `1` is listed twice",
        ),
        (
            "sex,f,,radio,Sex,\", M | 2, F\",,,,,,,",
            "line 3, field `sex`: the choice `, M` has no code before its comma",
        ),
    ] {
        let dictionary = write(
            dir.path(),
            "dictionary.csv",
            format!("{header}{row}\n").as_bytes(),
        );
        refused(&["protocol", "import", path(&dictionary)], expected);
        refused(
            &["validate", path(&data), "--protocol", path(&dictionary)],
            expected,
        );
    }
}

#[test]
fn redcap_warnings_name_their_code_and_fields() {
    let dir = tempfile::tempdir().unwrap();
    let dictionary = write(
        dir.path(),
        "dictionary.csv",
        b"Variable / Field Name,Form Name,Section Header,Field Type,Field Label,\"Choices, Calculations, OR Slider Labels\",Field Note,Text Validation Type OR Show Slider Number,Text Validation Min,Text Validation Max,Identifier?,Branching Logic (Show field only if...),Required Field?\n\
record_id,f,,text,ID,,,,,,,,\n\
age,f,,text,Age,,,integer,0,120,,[event-name][record_id] = '1',y\n",
    );
    let data = write(
        dir.path(),
        "data.csv",
        b"record_id,age,f_complete,site\n1,,2,A\n2,130,2,B\n",
    );
    let errors = dir.path().join("e.jsonl");
    let output = clinval(&[
        "validate",
        path(&data),
        "--protocol",
        path(&dictionary),
        "--errors",
        path(&errors),
    ]);
    let text = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(
        text.contains(
            "warning unknown_columns: column(s) not in the protocol, carried unchanged: site"
        ),
        "{text}"
    );
    assert!(
        text.contains("warning unsupported_logic: the branching logic of age is not evaluated"),
        "{text}"
    );
    // Not branch-checked: no `required` for the empty age; its value checks still apply.
    let codes: Vec<(Value, Value)> = json_lines(&errors)
        .iter()
        .map(|e| (e["row"].clone(), e["code"].clone()))
        .collect();
    assert_eq!(codes, [(2.into(), "out_of_range".into())]);
}

/// `--encoding` gives the inputs' encoding, with either engine: GBK read
/// as UTF-8 is an `encoding` issue on the name (never a silent change), as
/// GB18030 it is valid.
#[test]
fn encoding_can_be_given() {
    let dir = tempfile::tempdir().unwrap();
    let mut gbk = HEADER.as_bytes().to_vec();
    gbk.extend_from_slice(b"P1,");
    gbk.extend_from_slice(&[0xC0, 0xEE, 0xC4, 0xC8]); // 李娜
    gbk.extend_from_slice(b",30,2024-01-01,120/80\n");
    let input = write(dir.path(), "gbk.csv", &gbk);
    for engine in ["native", "wasm"] {
        let errors = dir.path().join(format!("errors-{engine}.jsonl"));
        let run = |encoding: &str| {
            clinval(&[
                "validate",
                path(&input),
                "--as-of",
                "2025-06-30",
                "--engine",
                engine,
                "--encoding",
                encoding,
                "--errors",
                path(&errors),
            ])
        };
        assert_eq!(run("gb18030").status.code(), Some(0), "{engine}");
        assert_eq!(run("auto").status.code(), Some(0), "{engine}");
        let output = run("utf-8");
        assert_eq!(
            output.status.code(),
            Some(1),
            "{engine}: {}",
            stderr(&output)
        );
        let issue = &json_lines(&errors)[0];
        assert_eq!(
            (issue["field"].as_str(), issue["code"].as_str()),
            (Some("name"), Some("encoding"))
        );
        assert!(
            issue["message"]
                .as_str()
                .unwrap()
                .contains("not valid UTF-8"),
            "{issue}"
        );
    }
    let output = clinval(&["validate", path(&input), "--encoding", "latin-1"]);
    assert_eq!(output.status.code(), Some(2));
}

fn workbook(name: &str) -> PathBuf {
    root().join("tests/fixtures/workbooks").join(name)
}

/// A workbook through both engines: the same error log (issues named by
/// their cell), the same valid records, exit 1; `--sheet` picks a sheet.
#[test]
fn workbooks_validate_in_both_engines_with_cell_references() {
    let dir = tempfile::tempdir().unwrap();
    let protocol = workbook("types.protocol.json");
    let mut logs = Vec::new();
    for engine in ["native", "wasm"] {
        let errors = dir.path().join(format!("{engine}.jsonl"));
        let out = dir.path().join(format!("{engine}.json"));
        let output = clinval(&[
            "validate",
            path(&workbook("types.xlsx")),
            "--protocol",
            path(&protocol),
            "--as-of",
            "2025-06-30",
            "--engine",
            engine,
            "--errors",
            path(&errors),
            "--out",
            path(&out),
        ]);
        let text = stderr(&output);
        assert_eq!(output.status.code(), Some(1), "{engine}: {text}");
        assert!(
            text.contains(
                "warning other_sheets: read sheet `visits`; the workbook also has data in `labs`"
            ),
            "{engine}: {text}"
        );
        assert!(
            text.contains("5 records: 1 valid, 4 invalid"),
            "{engine}: {text}"
        );
        let log = json_lines(&errors);
        assert_eq!(log[0]["cell"], "visits!I3", "{engine}");
        assert_eq!(log[0]["code"], "cell_error", "{engine}");
        assert_eq!(log[0]["line"], 3, "{engine}: the sheet row");
        logs.push((log, std::fs::read_to_string(&out).unwrap()));
    }
    assert_eq!(logs[0], logs[1], "native and wasm differ");

    let labs = write(
        dir.path(),
        "labs.json",
        br#"{"name": "labs", "fields": [{"name": "id"}, {"name": "hb", "type": "number"}]}"#,
    );
    let output = clinval(&[
        "validate",
        path(&workbook("types.ods")),
        "--sheet",
        "labs",
        "--protocol",
        path(&labs),
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("1 records: 1 valid"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn unusable_workbooks_exit_2_with_a_clear_message() {
    let types = workbook("types.xlsx");
    refused(
        &["validate", path(&workbook("encrypted.xlsx"))],
        "encrypted.xlsx: the workbook is password-protected",
    );
    refused(
        &["validate", path(&workbook("no-worksheet.xlsx"))],
        "no-worksheet.xlsx: the workbook has no worksheet",
    );
    refused(
        &["validate", path(&workbook("empty-sheet.xlsx"))],
        "the workbook has no sheet with data (its sheets: empty)",
    );
    refused(
        &["validate", path(&types), "--sheet", "patients"],
        "the workbook has no sheet `patients` (its sheets: Notes, visits, labs, lookup)",
    );
    refused(
        &["validate", path(&types), "--sheet", "Notes"],
        "sheet `Notes` is empty",
    );
    let dir = tempfile::tempdir().unwrap();
    let whole = std::fs::read(&types).unwrap();
    let cut = write(dir.path(), "cut.xlsx", &whole[..whole.len() / 3]);
    refused(
        &["validate", path(&cut)],
        "cut.xlsx: cannot read the xlsx workbook",
    );
    // A damaged xls that makes the reader fail (calamine's xls parser
    // panics on it): the same clear error from both engines (caught
    // natively, a trap in wasm), never a crash.
    for engine in ["native", "wasm"] {
        refused(
            &[
                "validate",
                path(&workbook("damaged.xls")),
                "--engine",
                engine,
            ],
            "damaged.xls: cannot read the workbook: its reader failed on a damaged part of the file",
        );
    }
    // The compact-only module cannot read workbooks, and says which can.
    refused(
        &[
            "validate",
            path(&types),
            "--engine",
            "wasm",
            "--full-module",
            path(&root().join("wasm/pkg/clinval_bg.wasm")),
        ],
        "workbooks (xlsx, xls, ods) need clinval's full module",
    );
}
