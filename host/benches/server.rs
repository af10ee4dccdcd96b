//! A `clinval serve` for benchmarks: on 127.0.0.1, in a fresh data dir,
//! its log drained, its peak memory readable.

#![allow(dead_code, reason = "each benchmark uses part of this")]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// A `clinval serve` on 127.0.0.1, killed when dropped.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The demo token, when started with `--demo`.
    pub demo_token: Option<String>,
    _data: tempfile::TempDir,
}

impl Server {
    /// Starts `clinval serve` with `args`.
    pub fn start(args: &[&str]) -> Server {
        let data = tempfile::tempdir().expect("a data dir");
        let mut child = Command::new(env!("CARGO_BIN_EXE_clinval"))
            .args(["serve", "--listen", "127.0.0.1:0", "--log-format", "json"])
            .arg("--data-dir")
            .arg(data.path())
            .args(args)
            .env("CLINVAL_LOG", "warn,clinval::serve=info")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start clinval serve");
        let stderr = child.stderr.take().expect("stderr");
        let mut lines = BufReader::new(stderr).lines();
        let address = lines
            .by_ref()
            .map_while(Result::ok)
            .find_map(|line| {
                let entry: serde_json::Value = serde_json::from_str(&line).ok()?;
                (entry["message"] == "listening")
                    .then(|| entry["address"].as_str().map(str::to_owned))?
            })
            .expect("the server's address");
        // Keep draining the log so the server never blocks on it.
        std::thread::spawn(move || lines.for_each(drop));
        let stdout = child.stdout.take().expect("stdout");
        let mut printed = BufReader::new(stdout).lines();
        let demo_token = args.contains(&"--demo").then(|| {
            printed
                .by_ref()
                .map_while(Result::ok)
                .find_map(|l| {
                    l.strip_prefix("demo token (submit, read): ")
                        .map(str::to_owned)
                })
                .expect("a demo token")
        });
        std::thread::spawn(move || printed.for_each(drop));
        Server {
            child,
            base: format!("http://{address}"),
            demo_token,
            _data: data,
        }
    }

    /// The server's peak resident memory so far (VmHWM), KiB.
    pub fn peak_rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("/proc status");
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmHWM")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
