//! What benchmarks measure with: a sink that only counts, and the
//! `clinval` binary's wall time and own peak RSS.

use std::ffi::OsStr;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use clinval_core::{Outcome, Sink, TableIssue};

/// Counts issues and nothing else: the engine's cost alone.
pub struct Count(pub u64);

impl Sink for Count {
    fn record(&mut self, outcome: &Outcome<'_>) {
        self.0 += outcome.issues.len() as u64;
    }
    fn table_issue(&mut self, _issue: &TableIssue) {
        self.0 += 1;
    }
}

/// Runs `clinval validate --jobs 1 --as-of 2025-06-30 --engine ENGINE
/// --out /dev/null --errors /dev/null FILE`, which must find invalid
/// records (exit 1); returns wall time and its own peak RSS (KiB), read
/// from `wait4` for that child alone.
#[allow(
    clippy::zombie_processes,
    reason = "the child is reaped by wait4, which clippy cannot see"
)]
pub fn run_cli(file: &Path, engine: &str, extra: &[&OsStr]) -> (Duration, i64) {
    let start = Instant::now();
    let child = Command::new(env!("CARGO_BIN_EXE_clinval"))
        .args([
            "validate",
            "--jobs",
            "1",
            "--as-of",
            "2025-06-30",
            "--engine",
            engine,
        ])
        .args(["--out", "/dev/null", "--errors", "/dev/null"])
        .args(extra)
        .arg(file)
        .spawn()
        .expect("run clinval");
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: wait4 writes only the status and the rusage we hand it; the
    // child is reaped here, and `child` is not waited on again.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        assert_eq!(libc::wait4(pid, &mut status, 0, &mut usage), pid, "wait4");
        usage
    };
    let elapsed = start.elapsed();
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 1,
        "the synthetic file has invalid records"
    );
    (elapsed, usage.ru_maxrss)
}
