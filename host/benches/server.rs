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
            .env("CLINVAL_LOG", "warn,clinval_host::serve=info")
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

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
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

/// What `wrk --latency` reported.
pub struct Wrk {
    /// Requests per second.
    pub rate: String,
    /// Latency percentiles.
    pub p50: String,
    /// 90th percentile.
    pub p90: String,
    /// 99th percentile.
    pub p99: String,
    /// Answers that were not 2xx or 3xx.
    pub failed: String,
}

/// Runs `wrk -t2 -c<connections> -d10s --latency -s <script> <url>`;
/// `None` when wrk is not installed (`apt-get install wrk`).
pub fn wrk(connections: u32, script: &str, url: &str) -> Option<Wrk> {
    Command::new("wrk").arg("--version").output().ok()?;
    // One file per run: several may run at once (one per replica).
    static RUNS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let run = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let file = std::env::temp_dir().join(format!("clinval-wrk-{}-{run}.lua", std::process::id()));
    std::fs::write(&file, script).expect("write the wrk script");
    let output = Command::new("wrk")
        .args([
            "-t2",
            &format!("-c{connections}"),
            "-d10s",
            "--latency",
            "-s",
        ])
        .arg(&file)
        .arg(url)
        .output()
        .expect("run wrk");
    let _ = std::fs::remove_file(&file);
    let text = String::from_utf8_lossy(&output.stdout);
    let pick = |prefix: &str| {
        text.lines()
            .find_map(|l| l.trim().strip_prefix(prefix).map(|v| v.trim().to_owned()))
    };
    let unknown = || "?".to_owned();
    Some(Wrk {
        rate: pick("Requests/sec:").unwrap_or_else(unknown),
        p50: pick("50%").unwrap_or_else(unknown),
        p90: pick("90%").unwrap_or_else(unknown),
        p99: pick("99%").unwrap_or_else(unknown),
        failed: pick("Non-2xx or 3xx responses:").unwrap_or_else(|| "0".to_owned()),
    })
}
