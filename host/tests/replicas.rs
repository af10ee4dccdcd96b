//! Crash tests of the scale-out store against real processes: replicas
//! of `clinval serve --store postgres://…` on one private PostgreSQL
//! cluster, clients submitting to both with Idempotency-Keys and retrying
//! on the other replica. A replica is SIGKILLed and restarted under load,
//! three rounds; the database is crashed and restarted under load. Every
//! acknowledged submission must be stored once and processed once in
//! effect, and the replicas must recover without a restart.

mod common;

use std::collections::HashMap;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use common::postgres::Cluster;
use common::*;
use serde_json::{Value, json};

/// One crash test at a time: each runs a cluster and two servers.
fn one_at_a_time() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Clients submitting at once.
const CLIENTS: usize = 6;

/// `clinval token create` on the database; the token it prints.
fn token(url: &str, scopes: &[&str]) -> String {
    create_token(&["--store", url], scopes)
}

/// A replica on database `url` with `workers` processing workers (0:
/// accept only), a short lease so that a killed replica's claims are due
/// again within the test, and tokens trusted for a second.
fn replica(url: &str, workers: &str) -> Server {
    Server::start(&[
        "--store",
        url,
        "--process-workers",
        workers,
        "--process-lease",
        "2",
        "--retry-base-ms",
        "100",
        "--token-cache-ttl",
        "1",
    ])
}

/// What the clients saw.
#[derive(Default)]
struct Seen {
    /// Idempotency-Key → the submission id of its 202.
    acknowledged: HashMap<String, String>,
    /// 503 storage_unavailable answers that said when to retry.
    storage_unavailable_with_retry_after: usize,
}

/// Clients submitting diaries (each a new patient, so enrolment counts
/// once per submission) to the replicas at `bases`, each retrying a
/// failed request — a refused connection, a reset, a 5xx — with the same
/// key on the other replica until it is acknowledged.
struct Load {
    stop: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
    seen: Arc<Mutex<Seen>>,
    sent: Arc<AtomicUsize>,
}

impl Load {
    fn start(bases: &Arc<Mutex<Vec<String>>>, token: &str) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let seen = Arc::new(Mutex::new(Seen::default()));
        let sent = Arc::new(AtomicUsize::new(0));
        let threads = (0..CLIENTS)
            .map(|client| {
                let (stop, seen, sent) = (Arc::clone(&stop), Arc::clone(&seen), Arc::clone(&sent));
                let (bases, token) = (Arc::clone(bases), token.to_owned());
                std::thread::spawn(move || {
                    let agent: ureq::Agent = ureq::Agent::config_builder()
                        .http_status_as_error(false)
                        .timeout_global(Some(Duration::from_secs(15)))
                        .build()
                        .into();
                    let mut n = 0;
                    while !stop.load(Ordering::Relaxed) {
                        let key = format!("c{client}-{n}");
                        let body =
                            json!({"patientId": format!("P{client}x{n}"), "trialId": "CT001",
                            "reportData": {"pain": n % 11, "fatigue": 4, "sleepQuality": "good",
                                "nausea": "no", "symptoms": ["headache"], "completedAt": "2026-01-10 08:30"}})
                            .to_string();
                        let id = send_until_acknowledged(
                            &agent, &bases, &token, &key, &body, client, &seen,
                        );
                        seen.lock().unwrap().acknowledged.insert(key, id);
                        sent.fetch_add(1, Ordering::Relaxed);
                        n += 1;
                    }
                })
            })
            .collect();
        Load {
            stop,
            threads,
            seen,
            sent,
        }
    }

    /// Waits until `more` further submissions were acknowledged.
    fn wait_for(&self, more: usize) {
        let target = self.sent.load(Ordering::Relaxed) + more;
        let deadline = Instant::now() + Duration::from_secs(90);
        while self.sent.load(Ordering::Relaxed) < target {
            assert!(Instant::now() < deadline, "the load stalled");
            assert!(
                !self.threads.iter().any(|t| t.is_finished()),
                "a client failed (see its panic)"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn finish(self) -> Seen {
        self.stop.store(true, Ordering::Relaxed);
        for thread in self.threads {
            thread.join().unwrap();
        }
        Arc::try_unwrap(self.seen)
            .ok()
            .unwrap()
            .into_inner()
            .unwrap()
    }
}

/// Sends one submission until a replica answers 202; its id.
fn send_until_acknowledged(
    agent: &ureq::Agent,
    bases: &Mutex<Vec<String>>,
    token: &str,
    key: &str,
    body: &str,
    client: usize,
    seen: &Mutex<Seen>,
) -> String {
    let deadline = Instant::now() + Duration::from_secs(90);
    let mut replica = client;
    loop {
        let base = {
            let bases = bases.lock().unwrap();
            bases[replica % bases.len()].clone()
        };
        let answer = agent
            .post(&format!("{base}/api/v1/submissions"))
            .header("authorization", &format!("Bearer {token}"))
            .header("idempotency-key", key)
            .header("content-type", "application/json")
            .send(body.as_bytes());
        if let Ok(mut response) = answer {
            let status = response.status().as_u16();
            let retry_after = response.headers().contains_key("retry-after");
            let text = response.body_mut().read_to_string().unwrap_or_default();
            match status {
                202 => return json(&text)["submissionId"].as_str().unwrap().to_owned(),
                503 if text.contains("storage_unavailable") => {
                    assert!(retry_after, "503 storage_unavailable without Retry-After");
                    seen.lock().unwrap().storage_unavailable_with_retry_after += 1;
                }
                500..=599 => {}
                _ => panic!("{key}: {status} {text}"),
            }
        }
        assert!(Instant::now() < deadline, "{key} was never acknowledged");
        replica += 1; // the other replica
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Waits until every stored submission is processed (the counts of
/// trial CT001 as `server` reports them); the project.
fn wait_all_processed(server: &Server, admin: &str, stored: usize) -> Value {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let (status, _, body) = call(
            "GET",
            &server.url("/api/v1/projects/CT001"),
            Some(admin),
            &[],
            None,
        );
        if status == 200 {
            let project = json(&body);
            let counts = &project["submissions"];
            if counts["processed"] == stored && counts["accepted"] == 0 && counts["processing"] == 0
            {
                return project;
            }
            assert!(Instant::now() < deadline, "not all processed: {project}");
        }
        assert!(Instant::now() < deadline, "{status} {body}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The database as the tests check it: every key's submission id, and
/// the enrolments.
fn stored(url: &str) -> (HashMap<String, String>, usize, i64) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(connection);
        let rows = client
            .query("SELECT idempotency_key, id FROM submissions", &[])
            .await
            .unwrap();
        let keys: HashMap<String, String> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
        let enrolled: i64 = client
            .query_one("SELECT COUNT(*) FROM enrollments", &[])
            .await
            .unwrap()
            .get(0);
        (keys, rows.len(), enrolled)
    })
}

/// Every acknowledged key is stored once with the id its client was
/// given, everything stored is processed, and enrolment counted once per
/// patient.
fn assert_once(url: &str, server: &Server, admin: &str, seen: &Seen) {
    // Nothing is sent any more: what is stored now is final.
    let (keys, rows, _) = stored(url);
    assert_eq!(keys.len(), rows, "a key stored twice");
    for (key, id) in &seen.acknowledged {
        assert_eq!(
            keys.get(key),
            Some(id),
            "acknowledged {key} is not stored as {id}"
        );
    }
    let project = wait_all_processed(server, admin, rows);
    assert_eq!(project["enrolledPatients"], rows, "{project}");
    let (_, _, enrolled) = stored(url);
    assert_eq!(enrolled, rows as i64, "one enrolment per patient");
}

/// Two replicas on one new database with trial CT001 — `a` with
/// `a_workers` processing workers, `b` with two; the admin and the
/// submitting token.
fn two_replicas(url: &str, a_workers: &str) -> (Server, Server, String, String) {
    let admin = token(url, &["admin"]);
    let submitter = token(url, &["submit", "read"]);
    let a = replica(url, a_workers);
    let b = replica(url, "2");
    let project = json!({"id": "CT001", "name": "Replicated", "status": "Recruiting",
                         "protocol": "epro-daily", "targetEnrollment": 100000})
    .to_string();
    let (status, _, body) = call(
        "POST",
        &a.url("/api/v1/projects"),
        Some(&admin),
        &[],
        Some(project.as_bytes()),
    );
    assert_eq!(status, 201, "{body}");
    (a, b, admin, submitter)
}

#[test]
fn a_replica_killed_under_load_loses_nothing_and_counts_nothing_twice() {
    let _one = one_at_a_time();
    let cluster = Cluster::start();
    let url = cluster.database();
    // `a` only accepts: every submission is processed by `b`, which dies
    // three times with claims in hand.
    let (a, mut b, admin, submitter) = two_replicas(&url, "0");
    let bases = Arc::new(Mutex::new(vec![a.base.clone(), b.base.clone()]));
    let load = Load::start(&bases, &submitter);
    for _round in 0..3 {
        load.wait_for(60);
        // SIGKILL: no shutdown, its claims and in-flight requests cut off.
        b.child.kill().unwrap();
        b.child.wait().unwrap();
        load.wait_for(30); // served by `a` alone meanwhile
        b = replica(&url, "2");
        bases.lock().unwrap()[1] = b.base.clone();
    }
    load.wait_for(60);
    let seen = load.finish();
    assert!(
        seen.acknowledged.len() >= 330,
        "{}",
        seen.acknowledged.len()
    );
    assert_once(&url, &a, &admin, &seen);
    // Both replicas answer the same API from the same data.
    let (_, _, from_b) = call(
        "GET",
        &b.url("/api/v1/projects/CT001"),
        Some(&admin),
        &[],
        None,
    );
    assert_eq!(
        json(&from_b)["submissions"]["processed"],
        seen.acknowledged.len()
    );
}

#[test]
fn a_database_restart_under_load_loses_nothing_and_the_replicas_recover_by_themselves() {
    let _one = one_at_a_time();
    let cluster = Cluster::start();
    let url = cluster.database();
    let (mut a, mut b, admin, submitter) = two_replicas(&url, "2");
    let bases = Arc::new(Mutex::new(vec![a.base.clone(), b.base.clone()]));
    let load = Load::start(&bases, &submitter);
    load.wait_for(60);
    // A crash of the database: no checkpoint, recovery from the WAL.
    cluster.stop(true);
    std::thread::sleep(Duration::from_secs(2));
    cluster.start_again();
    load.wait_for(120);
    let seen = load.finish();
    assert!(
        seen.storage_unavailable_with_retry_after > 0,
        "the outage was answered 503 storage_unavailable"
    );
    assert_once(&url, &a, &admin, &seen);
    for replica in [&mut a, &mut b] {
        assert!(
            replica.child.try_wait().unwrap().is_none(),
            "a replica exited"
        );
    }
    let logs = a.logs() + &b.logs();
    assert!(!logs.contains("P0x"), "a patient id in the logs");
}

#[test]
fn a_token_revoked_on_one_replica_stops_working_on_every_replica_within_the_ttl() {
    let _one = one_at_a_time();
    let cluster = Cluster::start();
    let url = cluster.database();
    let (a, b, _, _) = two_replicas(&url, "0");
    let reader = token(&url, &["read"]);
    let list = |server: &Server| {
        call(
            "GET",
            &server.url("/api/v1/projects"),
            Some(&reader),
            &[],
            None,
        )
        .0
    };
    assert_eq!((list(&a), list(&b)), (200, 200)); // now cached by both
    // Revoked on the database, by the command line (its id from the list).
    let output = Command::new(env!("CARGO_BIN_EXE_clinval"))
        .args(["token", "list", "--store", &url])
        .output()
        .unwrap();
    let listing = String::from_utf8(output.stdout).unwrap();
    let id = listing
        .lines()
        .filter(|line| line.contains("\tread\t"))
        .find_map(|line| line.split('\t').next())
        .unwrap()
        .to_owned();
    let status = Command::new(env!("CARGO_BIN_EXE_clinval"))
        .args(["token", "revoke", &id, "--store", &url])
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    while (list(&a), list(&b)) != (401, 401) {
        assert!(Instant::now() < deadline, "still accepted after the TTL");
        std::thread::sleep(Duration::from_millis(100));
    }
}
