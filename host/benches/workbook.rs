//! Workbook throughput and memory, natively.
//!
//! Run: `cargo bench -p clinval-host --bench workbook [-- --records N]`
//! (default 100,000; `--records 1048576` is a sheet as tall as Excel
//! allows). The synthetic patient CSV of the validate benchmark is written
//! once as a typed xlsx by openpyxl (tests/fixtures/workbooks/make.py, in a
//! venv under target/wb it makes on first use), then measured on one core:
//!
//! 1. the `clinval` binary, `--jobs 1`, on the xlsx and on the CSV: wall
//!    time and peak RSS (the binary runs first, while this process is
//!    small);
//! 2. the engine alone on the xlsx bytes (open, stream the sheet, check;
//!    a counting sink), best of 3.
//!
//! The browser's figures: `node wasm/bench/workbook-chromium.mjs`.

mod measure;
mod synth;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clinval_core::{Format, Options, Protocol, validate_bytes};

const RUNS: usize = 3;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The venv with openpyxl, made once.
fn python() -> PathBuf {
    let venv = root().join("target/wb");
    let python = venv.join("bin/python");
    if !python.exists() {
        let ok = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .is_ok_and(|s| s.success())
            && Command::new(venv.join("bin/pip"))
                .args(["install", "-q", "openpyxl==3.1.5"])
                .status()
                .is_ok_and(|s| s.success());
        assert!(ok, "cannot make {} with openpyxl", venv.display());
    }
    python
}

/// `csv` as a typed xlsx next to it, written once.
fn workbook_of(csv: &Path) -> PathBuf {
    let xlsx = csv.with_extension("xlsx");
    if !xlsx.exists() {
        let tmp = csv.with_extension("tmp.xlsx");
        let status = Command::new(python())
            .arg(root().join("tests/fixtures/workbooks/make.py"))
            .arg(csv)
            .arg(&tmp)
            .status()
            .expect("run make.py");
        assert!(status.success(), "make.py failed");
        std::fs::rename(&tmp, &xlsx).expect("rename the workbook");
    }
    xlsx
}

fn main() {
    let records = std::env::args()
        .collect::<Vec<_>>()
        .windows(2)
        .find(|w| w[0] == "--records")
        .and_then(|w| w[1].parse().ok())
        .unwrap_or(100_000u64);
    let csv = synth::data_file(records);
    let xlsx = workbook_of(&csv);
    let size = |p: &Path| std::fs::metadata(p).map_or(0, |m| m.len()) as f64 / 1e6;
    println!(
        "input: {records} records; {} ({:.1} MB), {} ({:.1} MB)",
        xlsx.display(),
        size(&xlsx),
        csv.display(),
        size(&csv)
    );

    for file in [&xlsx, &csv] {
        let (elapsed, peak_kib) = measure::run_cli(file, "native", &[]);
        println!(
            "clinval validate --jobs 1, {}: {:.2} s, {:.0} records/s, peak RSS {:.1} MiB",
            file.file_name().unwrap_or_default().to_string_lossy(),
            elapsed.as_secs_f64(),
            records as f64 / elapsed.as_secs_f64(),
            peak_kib as f64 / 1024.0
        );
    }

    let protocol = Arc::new(Protocol::builtin("patient").expect("built-in protocol"));
    let options = Options::new(chrono::NaiveDate::from_ymd_opt(2025, 6, 30).expect("date"));
    let bytes = std::fs::read(&xlsx).expect("read the workbook");
    let mut issues = 0;
    let engine = (0..RUNS)
        .map(|_| {
            let start = Instant::now();
            let mut sink = measure::Count(0);
            let summary = validate_bytes(
                Arc::clone(&protocol),
                Format::Workbook,
                &options,
                &bytes,
                &mut sink,
            )
            .expect("a readable workbook");
            assert_eq!(summary.records, records);
            issues = sink.0;
            start.elapsed()
        })
        .min()
        .unwrap_or(Duration::ZERO);
    println!(
        "engine only (1 core), xlsx: {:.3} s, {:.0} records/s, {issues} issues (best of {RUNS})",
        engine.as_secs_f64(),
        records as f64 / engine.as_secs_f64()
    );
}
