//! `clinval serve` over HTTP on 127.0.0.1: batch throughput against
//! `clinval validate --engine wasm` on the same file, the server's peak
//! memory, and the latency of `/api/v1/validate` under 64 clients.
//!
//! Run: `cargo bench -p clinval-host --bench serve [-- --records N]`
//! (default 1,000,000). The latency part needs `wrk` (Debian: `apt-get
//! install wrk`); without it that part is skipped with a note.
//!
//! 1. `clinval validate --jobs 1 --engine wasm --errors /dev/null` on the
//!    file (issues only: the work a batch upload does), best of 3;
//! 2. a server with one worker; the same file uploaded as `text/csv`
//!    (chunked, streamed from disk) and the JSON report read whole, best
//!    of 3; the server's peak RSS (VmHWM) after a tenth of the file and
//!    after the whole file; then the same with a copy of the patient
//!    protocol without its uniqueness rule (served from `--protocols-dir`),
//!    whose memory does not grow with the file;
//! 3. a server with the default pool; `wrk -t2 -c64 -d10s` posting one
//!    record to `/api/v1/validate`: requests/s, p50, p99.

mod server;
mod synth;

use std::path::Path;
use std::process::{Command, Stdio};

use server::Server;
use std::time::{Duration, Instant};

const RUNS: usize = 3;
const AS_OF: &str = "2025-06-30";

fn main() {
    let synth::Inputs {
        records,
        big,
        small,
        ..
    } = synth::inputs();

    let cli = best(|| run_cli(&big));
    let cli_rate = records as f64 / cli.as_secs_f64();
    println!(
        "clinval validate --jobs 1 --engine wasm (issues only): {:.2} s, {cli_rate:.0} records/s",
        cli.as_secs_f64()
    );

    let protocols = flat_protocol_dir();
    let args = [
        "--workers",
        "1",
        "--protocols-dir",
        protocols.to_str().expect("UTF-8 path"),
    ];
    for protocol in ["patient", "patient-no-unique"] {
        let server = Server::start(&args);
        let start_kib = server.peak_rss_kib();
        upload(&server, &small, (records / 10).max(1), protocol);
        let small_kib = server.peak_rss_kib();
        let http = best(|| upload(&server, &big, records, protocol));
        let http_rate = records as f64 / http.as_secs_f64();
        println!(
            "POST /api/v1/batches?protocol={protocol}, 1 worker, {records} records: {:.2} s, {http_rate:.0} records/s, {:.0}% of the CLI",
            http.as_secs_f64(),
            100.0 * http_rate / cli_rate,
        );
        println!(
            "  server peak RSS: {:.1} MiB started, {:.1} MiB after {} records, {:.1} MiB after {records}",
            start_kib as f64 / 1024.0,
            small_kib as f64 / 1024.0,
            (records / 10).max(1),
            server.peak_rss_kib() as f64 / 1024.0
        );
    }

    latency();
}

fn best(mut run: impl FnMut() -> Duration) -> Duration {
    (0..RUNS).map(|_| run()).min().unwrap_or_default()
}

fn run_cli(file: &Path) -> Duration {
    let start = Instant::now();
    let status = Command::new(env!("CARGO_BIN_EXE_clinval"))
        .args([
            "validate", "--jobs", "1", "--engine", "wasm", "--as-of", AS_OF,
        ])
        .args(["--errors", "/dev/null"])
        .arg(file)
        .stderr(Stdio::null())
        .status()
        .expect("run clinval validate");
    assert_eq!(
        status.code(),
        Some(1),
        "the synthetic file has invalid records"
    );
    start.elapsed()
}

/// A protocols directory with `patient-no-unique`: the patient protocol
/// without its `uniqueKeys` (whose index grows with distinct records).
fn flat_protocol_dir() -> std::path::PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench-data/protocols");
    std::fs::create_dir_all(&dir).expect("create the protocols dir");
    let patient = clinval_core::Protocol::builtin("patient").expect("built-in patient");
    let mut document: serde_json::Value =
        serde_json::from_str(patient.source()).expect("patient JSON");
    let object = document.as_object_mut().expect("an object");
    object.remove("uniqueKeys");
    object.remove("codes");
    object.insert("name".into(), "patient-no-unique".into());
    std::fs::write(dir.join("patient-no-unique.json"), document.to_string())
        .expect("write the protocol");
    dir
}

/// Uploads `file` and reads the whole report; returns the time taken.
fn upload(server: &Server, file: &Path, records: u64, protocol: &str) -> Duration {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut input = std::fs::File::open(file).expect("open data file");
    let url = format!(
        "{}/api/v1/batches?as_of={AS_OF}&protocol={protocol}",
        server.base
    );
    let start = Instant::now();
    let mut response = agent
        .post(&url)
        .header("content-type", "text/csv")
        .send(ureq::SendBody::from_reader(&mut input))
        .expect("upload");
    let body = response
        .body_mut()
        .with_config()
        .limit(u64::MAX)
        .read_to_vec()
        .expect("report");
    let elapsed = start.elapsed();
    assert_eq!(response.status().as_u16(), 200);
    let report: serde_json::Value = serde_json::from_slice(&body).expect("JSON report");
    assert_eq!(report["summary"]["records"], records);
    elapsed
}

/// `/api/v1/validate` under 64 concurrent connections, with wrk.
fn latency() {
    let server = Server::start(&[]);
    let script = r#"wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"id": "P001", "name": "Ann Lee", "age": "34", "visitDate": "2024-03-05", "bloodPressure": "120/80"}'
"#;
    let url = format!("{}/api/v1/validate?as_of={AS_OF}", server.base);
    let Some(run) = server::wrk(64, script, &url) else {
        println!("latency: skipped, wrk is not installed (apt-get install wrk)");
        return;
    };
    println!(
        "POST /api/v1/validate, 64 connections (wrk -t2 -c64 -d10s): {} requests/s, p50 {}, p99 {}, non-2xx: {}",
        run.rate, run.p50, run.p99, run.failed
    );
}
