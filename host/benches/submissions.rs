//! ePRO submissions accepted per second with durability on (each 202 only
//! after its commit is on disk), and their latency, at 64 and 256
//! concurrent clients, for SQLite, PostgreSQL with one replica and with
//! two; then how long the background workers take to process what was
//! accepted.
//!
//! Run: `cargo bench -p clinval-host --bench submissions` (needs `wrk`:
//! `apt-get install wrk`, and PostgreSQL's server: `apt-get install
//! postgresql`). `clinval serve --demo` (fresh data dir, or a fresh
//! database of a private cluster) takes `POST /api/v1/submissions` from
//! `wrk -t2 -cN -d10s`, each request a different patient, with the demo
//! token; with two replicas, one wrk per replica with half the clients.

mod server;
// The tests' private PostgreSQL cluster (initdb in a temp dir, a free port).
#[path = "../tests/common/postgres.rs"]
mod postgres;

use std::process::Command;
use std::time::{Duration, Instant};

use server::Server;

/// Each request a new patient: `RUN` (one per wrk process), the wrk
/// thread and a counter make the id unique (the demo trial takes one
/// diary per patient and day).
const SCRIPT: &str = r#"
local threads = 0
function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end
local n = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer TOKEN"
request = function()
  n = n + 1
  local body = string.format('{"patientId": "RUN-%d-%d", "trialId": "CT001", "reportData": {"pain": %d, "fatigue": 3, "sleepQuality": "fair", "nausea": "no", "symptoms": ["none"], "completedAt": "2026-01-10 08:30"}}', tid, n, n % 11)
  return wrk.format(nil, nil, nil, body)
end
"#;

/// The stores compared: a name, and how many replicas share it.
const SETUPS: &[(Store, usize)] = &[
    (Store::Sqlite, 1),
    (Store::Postgres, 1),
    (Store::Postgres, 2),
];

#[derive(Clone, Copy, PartialEq)]
enum Store {
    Sqlite,
    Postgres,
}

fn main() {
    if Command::new("wrk").arg("--version").output().is_err() {
        println!("skipped: wrk is not installed (apt-get install wrk)");
        return;
    }
    // PostgreSQL 15 with its defaults (fsync, synchronous_commit on): a
    // private cluster on this machine, a fresh database per run.
    let cluster = postgres::Cluster::start();
    for &(store, replicas) in SETUPS {
        for connections in [64, 256] {
            let url = cluster.database();
            let shared: Vec<&str> = match store {
                Store::Sqlite => vec![],
                Store::Postgres => vec!["--store", &url],
            };
            let first = Server::start(&[&["--demo"], shared.as_slice()].concat());
            let token = first.demo_token.clone().expect("demo token");
            let others: Vec<Server> = (1..replicas).map(|_| Server::start(&shared)).collect();
            let servers: Vec<&Server> = std::iter::once(&first).chain(&others).collect();
            let script = SCRIPT.replace("TOKEN", &token);
            let cpu_before = Cpu::now(&servers);
            // One wrk per replica, started together, sharing the clients.
            let runs: Vec<server::Wrk> = std::thread::scope(|scope| {
                let each = connections / replicas as u32;
                let running: Vec<_> = servers
                    .iter()
                    .enumerate()
                    .map(|(i, server)| {
                        let url = format!("{}/api/v1/submissions", server.base);
                        let script = script.replace("RUN", &format!("R{i}"));
                        scope.spawn(move || server::wrk(each, &script, &url).expect("wrk"))
                    })
                    .collect();
                running
                    .into_iter()
                    .map(|r| r.join().expect("wrk"))
                    .collect()
            });
            let cpu = Cpu::now(&servers).since(&cpu_before);
            let rate: f64 = runs
                .iter()
                .map(|r| r.rate.parse::<f64>().unwrap_or(0.0))
                .sum();
            let name = match store {
                Store::Sqlite => "SQLite".to_owned(),
                Store::Postgres => format!("PostgreSQL, {replicas} replica(s)"),
            };
            let each = |pick: fn(&server::Wrk) -> &str| {
                runs.iter().map(pick).collect::<Vec<_>>().join(" / ")
            };
            println!(
                "{name}, {connections} clients: {rate:.0} accepted/s, p50 {}, p90 {}, p99 {}, non-2xx: {}",
                each(|r| &r.p50),
                each(|r| &r.p90),
                each(|r| &r.p99),
                each(|r| &r.failed),
            );
            println!(
                "  CPU during the load: {:.1} s server(s), {:.1} s PostgreSQL, of {:.1} s on the machine",
                cpu.servers, cpu.postgres, cpu.machine
            );
            drain(&first, &token);
        }
    }
}

/// CPU seconds used so far: by the servers, by PostgreSQL's processes
/// (their exited backends' time included, in the postmaster's children
/// counters), and by the whole machine.
struct Cpu {
    servers: f64,
    postgres: f64,
    machine: f64,
}

impl Cpu {
    fn now(servers: &[&Server]) -> Cpu {
        Cpu {
            servers: servers.iter().map(|s| process_cpu(s.pid(), false)).sum(),
            postgres: std::fs::read_dir("/proc")
                .into_iter()
                .flatten()
                .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
                .filter(|pid| {
                    std::fs::read_to_string(format!("/proc/{pid}/comm"))
                        .is_ok_and(|comm| comm.trim() == "postgres")
                })
                .map(|pid| process_cpu(pid, true))
                .sum(),
            machine: machine_cpu(),
        }
    }

    fn since(&self, before: &Cpu) -> Cpu {
        Cpu {
            servers: self.servers - before.servers,
            postgres: self.postgres - before.postgres,
            machine: self.machine - before.machine,
        }
    }
}

/// Clock ticks a second (USER_HZ: 100 on Linux).
const TICKS: f64 = 100.0;

/// A process's user + system CPU seconds (with its reaped children's).
fn process_cpu(pid: u32, children: bool) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0.0;
    };
    // Fields after the command (which may hold spaces) in parentheses.
    let fields: Vec<f64> = stat
        .rsplit_once(')')
        .map(|(_, rest)| {
            rest.split_whitespace()
                .filter_map(|f| f.parse().ok())
                .collect()
        })
        .unwrap_or_default();
    // utime, stime, cutime, cstime are fields 14–17 (11–14 after the state).
    let own = fields.get(10).unwrap_or(&0.0) + fields.get(11).unwrap_or(&0.0);
    let reaped = fields.get(12).unwrap_or(&0.0) + fields.get(13).unwrap_or(&0.0);
    (own + if children { reaped } else { 0.0 }) / TICKS
}

/// The machine's busy CPU seconds (all but idle and iowait).
fn machine_cpu() -> f64 {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let ticks: Vec<f64> = stat
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .skip(1)
        .filter_map(|f| f.parse().ok())
        .collect();
    let busy: f64 =
        ticks.iter().sum::<f64>() - ticks.get(3).unwrap_or(&0.0) - ticks.get(4).unwrap_or(&0.0);
    busy / TICKS
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
