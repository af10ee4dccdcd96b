//! Native validation throughput and the CLI's peak memory.
//!
//! Run: `cargo bench -p clinval-host --bench validate [-- --records N]`
//! (default 1,000,000). Generates a synthetic patient CSV once under
//! `target/bench-data/`, then measures on one core:
//!
//! 1. the engine alone (decode, parse, clean, check; a counting sink);
//! 2. the engine plus rendering every valid record and issue line, which
//!    is the work `clinval validate --out --errors` does;
//! 3. the `clinval` binary itself, `--jobs 1`, writing to /dev/null, with
//!    the native engine and with the wasm module in wasmtime: wall time and
//!    peak RSS, for the full file and for a tenth of it.

mod measure;
mod synth;

use std::fs::File;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clinval_core::{
    Format, IssueLine, Lang, Options, Outcome, Protocol, RecordJson, Sink, TableIssue,
    validate_read,
};

const RUNS: usize = 3;

struct Render {
    protocol: Arc<Protocol>,
    out: Vec<u8>,
}

impl Sink for Render {
    fn record(&mut self, outcome: &Outcome<'_>) {
        let protocol = self.protocol.as_ref();
        if outcome.is_valid() {
            let _ = serde_json::to_writer(&mut self.out, &RecordJson { protocol, outcome });
        } else {
            for issue in &outcome.issues {
                let line = IssueLine::new(outcome, issue, protocol, Lang::En);
                let _ = serde_json::to_writer(&mut self.out, &line);
            }
        }
        self.out.clear(); // keep the rendering cost, not the memory
    }
    fn table_issue(&mut self, issue: &TableIssue) {
        let line = IssueLine::of_table(issue, &self.protocol, Lang::En);
        let _ = serde_json::to_writer(&mut self.out, &line);
        self.out.clear();
    }
}

fn main() {
    let synth::Inputs {
        records,
        size,
        big,
        small,
    } = synth::inputs();

    // The binary first, while this process is small: a child's peak RSS
    // counts the pages it shares with this process before exec.
    for engine in ["native", "wasm"] {
        for (file, n) in [(&small, (records / 10).max(1)), (&big, records)] {
            let (elapsed, peak_kib) = measure::run_cli(file, engine, &[]);
            println!(
                "clinval validate --jobs 1 --engine {engine}, {n} records: {:.2} s, {:.0} records/s, peak RSS {:.1} MiB",
                elapsed.as_secs_f64(),
                n as f64 / elapsed.as_secs_f64(),
                peak_kib as f64 / 1024.0
            );
        }
    }

    let protocol = Arc::new(Protocol::builtin("patient").expect("built-in protocol"));
    let as_of = chrono::NaiveDate::from_ymd_opt(2025, 6, 30).expect("date");
    let options = Options::new(as_of);

    let engine = best(|| {
        let mut sink = measure::Count(0);
        run_session(&big, &protocol, &options, &mut sink)
    });
    report("engine only (1 core)", records, size, engine);
    let rendered = best(|| {
        let mut sink = Render {
            protocol: Arc::clone(&protocol),
            out: Vec::new(),
        };
        run_session(&big, &protocol, &options, &mut sink)
    });
    report("engine + JSON output (1 core)", records, size, rendered);
}

fn run_session(
    path: &Path,
    protocol: &Arc<Protocol>,
    options: &Options,
    sink: &mut dyn Sink,
) -> Duration {
    let start = Instant::now();
    let file = File::open(path).expect("open data file");
    validate_read(
        Arc::clone(protocol),
        Format::Csv,
        options,
        file,
        sink,
        &mut |_| {},
    )
    .expect("valid input");
    start.elapsed()
}

fn best(mut run: impl FnMut() -> Duration) -> Duration {
    (0..RUNS).map(|_| run()).min().unwrap_or_default()
}

fn report(what: &str, records: u64, bytes: u64, elapsed: Duration) {
    let secs = elapsed.as_secs_f64();
    println!(
        "{what}: {:.3} s, {:.0} records/s, {:.0} MB/s (best of {RUNS})",
        secs,
        records as f64 / secs,
        bytes as f64 / 1e6 / secs
    );
}
