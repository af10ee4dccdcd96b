//! ePRO submissions accepted per second with durability on (each 202 only
//! after its group commit's fsync), and their latency, at 64 and 256
//! concurrent clients; then how long the background workers take to
//! process what was accepted.
//!
//! Run: `cargo bench -p clinval-host --bench submissions` (needs `wrk`:
//! `apt-get install wrk`). A `clinval serve --demo` in a fresh data dir
//! takes `POST /api/v1/submissions` from `wrk -t2 -cN -d10s`, each request
//! a different patient, with the demo token.

mod server;

use std::time::{Duration, Instant};

use server::Server;

const SCRIPT: &str = r#"
local n = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer TOKEN"
request = function()
  n = n + 1
  local body = string.format('{"patientId": "P%d-%d", "trialId": "CT001", "reportData": {"pain": %d, "fatigue": 3, "sleepQuality": "fair", "nausea": "no", "symptoms": ["none"], "completedAt": "2026-01-10 08:30"}}', math.random(1, 1000000), n, n % 11)
  return wrk.format(nil, nil, nil, body)
end
"#;

fn main() {
    for connections in [64, 256] {
        let server = Server::start(&["--demo"]);
        let token = server.demo_token.clone().expect("demo token");
        let url = format!("{}/api/v1/submissions", server.base);
        let Some(run) = server::wrk(connections, &SCRIPT.replace("TOKEN", &token), &url) else {
            println!("skipped: wrk is not installed (apt-get install wrk)");
            return;
        };
        println!(
            "POST /api/v1/submissions, {connections} connections: {} accepted/s, p50 {}, p90 {}, p99 {}, non-2xx: {}",
            run.rate, run.p50, run.p90, run.p99, run.failed
        );
        drain(&server, &token);
    }
}

/// Waits for the background workers to process everything; prints how long.
fn drain(server: &Server, token: &str) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let started = Instant::now();
    loop {
        let mut response = agent
            .get(&format!("{}/api/v1/projects/CT001", server.base))
            .header("authorization", format!("Bearer {token}"))
            .call()
            .expect("project");
        let project: serde_json::Value =
            serde_json::from_str(&response.body_mut().read_to_string().expect("body"))
                .expect("JSON");
        let counts = &project["submissions"];
        let waiting =
            counts["accepted"].as_u64().unwrap_or(0) + counts["processing"].as_u64().unwrap_or(0);
        if waiting == 0 {
            println!(
                "  stored {}, processed {} (failed {}) {:.1} s after the load ended",
                counts["processed"].as_u64().unwrap_or(0) + counts["failed"].as_u64().unwrap_or(0),
                counts["processed"],
                counts["failed"],
                started.elapsed().as_secs_f64()
            );
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}
