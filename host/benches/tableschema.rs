//! A plain Table Schema: clinval against frictionless-py on the same file,
//! in the same run, with the same rows flagged.
//!
//! Run: `cargo bench -p clinval-host --bench tableschema [-- --records N]`
//! (default 200,000; needs frictionless-py in `target/fl`, which `.ci/run`
//! installs). Writes a 5-field schema (integer id, bounded string, date,
//! bounded number, enum) and a CSV with about 2% bad rows of each kind
//! under `target/bench-data/`, then:
//!
//! 1. frictionless-py 5.21 validates it in Python (`Resource.validate`,
//!    every error kept): the validation's CPU time alone;
//! 2. its command line does (`frictionless validate --schema SCHEMA FILE
//!    --limit-errors N --json`): wall time, as a user waits for it;
//! 3. the `clinval` binary validates it (`validate --protocol SCHEMA FILE
//!    --errors FILE`): wall time of the whole process, on one core
//!    (`--jobs 1`) and on every core (the default: the file is cut into
//!    blocks checked in parallel), in turn;
//!
//! in three rounds (1, 2, then five runs of each of 3), so that the tools
//! are timed over the same stretch of the machine's drifting speed; the
//! medians are compared. It checks that both flag exactly the same rows
//! before printing the ratios.

use std::collections::BTreeSet;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

const SCHEMA: &str = r#"{
  "fields": [
    {"name": "id", "type": "integer", "constraints": {"required": true, "unique": true}},
    {"name": "name", "type": "string", "constraints": {"required": true, "maxLength": 20}},
    {"name": "visit", "type": "date", "constraints": {"minimum": "2000-01-01"}},
    {"name": "score", "type": "number", "constraints": {"minimum": 0, "maximum": 100}},
    {"name": "arm", "type": "string", "constraints": {"enum": ["A", "B", "placebo"]}}
  ]
}"#;

fn main() {
    let records = records_arg();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench-data");
    std::fs::create_dir_all(&dir).expect("target/bench-data");
    let schema = dir.join("tableschema.json");
    std::fs::write(&schema, SCHEMA).expect("write the schema");
    let data = data_file(&dir, records);
    println!("input: {} ({records} rows)", data.display());

    let python = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/fl/bin/python");
    let errors = dir.join("tableschema-errors.jsonl");
    // The machine's speed drifts from second to second: the tools take
    // turns over the same stretch of time, three rounds of frictionless
    // (its API, then its command line) each followed by five runs of
    // clinval on one core (`--jobs 1`) and five as a user runs it (every
    // core: a large file is cut into blocks checked in parallel); the
    // medians are compared.
    let mut their_rows: Option<BTreeSet<u64>> = None;
    let (mut api, mut cli) = (Vec::new(), Vec::new());
    let (mut one_core, mut all_cores) = (Vec::new(), Vec::new());
    for _ in 0..3 {
        let (seconds, rows) = frictionless(&python, &schema, &data);
        let first = their_rows.get_or_insert_with(|| rows.clone());
        assert_eq!(*first, rows, "frictionless flags the same rows each run");
        api.push(seconds);
        cli.push(frictionless_cli(&python, &schema, &data, rows.len()));
        for _ in 0..5 {
            for (jobs, times) in [(Some(1), &mut one_core), (None, &mut all_cores)] {
                times.push(clinval_seconds(&schema, &data, &errors, jobs));
                assert_eq!(flagged_lines(&errors), rows, "clinval flags other rows");
            }
        }
    }
    let their_rows = their_rows.expect("three rounds");
    let (their_seconds, their_cli_seconds) = (median(api), median(cli));
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "frictionless-py: {their_seconds:.2} s CPU ({:.0} rows/s); frictionless validate (command line): {their_cli_seconds:.2} s wall",
        records as f64 / their_seconds,
    );
    for (what, threads, times) in [("1 core", 1, one_core), ("all cores", cores, all_cores)] {
        let seconds = median(times);
        println!(
            "clinval, {what} ({threads}): {seconds:.3} s wall ({:.0} rows/s): {:.0}x frictionless' validation, {:.0}x its command",
            records as f64 / seconds,
            their_seconds / seconds,
            their_cli_seconds / seconds
        );
    }
    println!("same {} rows flagged", their_rows.len());
}

/// frictionless-py's validation of `data` in Python (`Resource.validate`,
/// every error kept): its CPU time and the lines it flags.
fn frictionless(python: &Path, schema: &Path, data: &Path) -> (f64, BTreeSet<u64>) {
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/table-schema/frictionless_bench.py");
    let output = Command::new(python)
        .arg(&script)
        .arg(schema)
        .arg(data)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run {} ({e}): bash .ci/run installs it",
                python.display()
            )
        });
    assert!(
        output.status.success(),
        "frictionless failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let theirs: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("frictionless' report");
    let rows = theirs["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .filter_map(serde_json::Value::as_u64)
        .collect();
    (theirs["seconds"].as_f64().expect("seconds"), rows)
}

/// The wall time of frictionless' command line on `data` (`frictionless
/// validate --schema SCHEMA FILE --limit-errors N --json`, as a user waits
/// for it), checked to find the `errors` rows its API finds.
fn frictionless_cli(python: &Path, schema: &Path, data: &Path, errors: usize) -> f64 {
    let frictionless = python.with_file_name("frictionless");
    // Relative paths: frictionless refuses absolute ones as unsafe.
    let name = |path: &Path| path.file_name().expect("a file name").to_owned();
    let started = Instant::now();
    let output = Command::new(&frictionless)
        .current_dir(data.parent().expect("the data's directory"))
        .args(["validate", "--schema"])
        .arg(name(schema))
        .arg(name(data))
        .args(["--limit-errors", "1000000000", "--json"])
        .output()
        .expect("run frictionless validate");
    let seconds = started.elapsed().as_secs_f64();
    let report: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("frictionless --json");
    assert_eq!(
        report["tasks"][0]["stats"]["errors"].as_u64(),
        Some(errors as u64),
        "frictionless' command line finds what its API finds"
    );
    seconds
}

fn median(mut times: Vec<f64>) -> f64 {
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

/// The wall time of `clinval validate` on `data` (`--jobs jobs` if given),
/// its issues written to `errors`.
fn clinval_seconds(schema: &Path, data: &Path, errors: &Path, jobs: Option<usize>) -> f64 {
    let mut command = Command::new(env!("CARGO_BIN_EXE_clinval"));
    command
        .arg("validate")
        .arg("--protocol")
        .arg(schema)
        .arg(data)
        .arg("--errors")
        .arg(errors)
        .args(["--as-of", "2025-06-30"])
        .stderr(std::process::Stdio::null());
    if let Some(jobs) = jobs {
        command.args(["--jobs", &jobs.to_string()]);
    }
    let started = Instant::now();
    let status = command.status().expect("run clinval");
    let seconds = started.elapsed().as_secs_f64();
    assert_eq!(status.code(), Some(1), "clinval finds the bad rows");
    seconds
}

/// The lines clinval's error log flags (frictionless numbers rows as lines
/// of the file: the header is 1).
fn flagged_lines(errors: &Path) -> BTreeSet<u64> {
    std::fs::read_to_string(errors)
        .expect("the error log")
        .lines()
        .map(|line| serde_json::from_str::<serde_json::Value>(line).expect("an issue line"))
        .filter_map(|issue| issue["line"].as_u64())
        .collect()
}

/// `target/bench-data/tableschema-{records}.csv`, written once: every
/// 50th row breaks one rule, in turn.
fn data_file(dir: &Path, records: u64) -> PathBuf {
    let path = dir.join(format!("tableschema-{records}.csv"));
    if path.exists() {
        return path;
    }
    let tmp = path.with_extension("tmp");
    let mut out = BufWriter::new(std::fs::File::create(&tmp).expect("create the data file"));
    writeln!(out, "id,name,visit,score,arm").expect("write");
    let arms = ["A", "B", "placebo"];
    for i in 1..=records {
        let (mut id, mut name, mut visit, mut score, mut arm) = (
            i.to_string(),
            format!("participant {}", i % 9973),
            format!("20{:02}-{:02}-{:02}", 10 + i % 15, 1 + i % 12, 1 + i % 28),
            format!("{}.{}", i % 100, i % 10),
            arms[(i % 3) as usize].to_owned(),
        );
        if i % 50 == 0 {
            match (i / 50) % 7 {
                0 => id = "x".into(),             // type
                1 => id = "1".into(),             // unique
                2 => name = "n".repeat(21),       // maxLength
                3 => visit = "1999-12-31".into(), // minimum
                4 => visit = "2024-02-30".into(), // type
                5 => score = "100.5".into(),      // maximum
                _ => arm = "C".into(),            // enum
            }
        }
        writeln!(out, "{id},{name},{visit},{score},{arm}").expect("write");
    }
    drop(out);
    std::fs::rename(&tmp, &path).expect("rename the data file");
    path
}

/// `--records N` (default 200,000).
fn records_arg() -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == "--records")
        .and_then(|i| args.get(i + 1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(200_000)
}
