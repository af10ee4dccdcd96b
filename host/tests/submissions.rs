//! ePRO submissions, trial projects and tokens end to end: the real
//! `clinval serve --demo` on 127.0.0.1, its data dir, restarts and a crash.

mod common;

use std::collections::HashSet;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use serde_json::{Value, json};

/// A valid answer of the epro-daily questionnaire.
fn answers(pain: u32) -> Value {
    json!({"pain": pain, "fatigue": 4, "sleepQuality": "good", "nausea": "no",
           "symptoms": ["headache"], "notes": "slept badly on Tuesday", "completedAt": "2026-01-10 08:30"})
}

fn submission(patient: &str, trial: &str, report: Value) -> Vec<u8> {
    json!({"patientId": patient, "trialId": trial, "reportData": report})
        .to_string()
        .into_bytes()
}

/// A diary completed `days_ago` (now, in UTC, that many days back): the
/// demo trial takes one diary per patient and day.
fn diary(patient: &str, report: Value, days_ago: u32) -> Vec<u8> {
    let at = chrono::Utc::now() - chrono::TimeDelta::days(days_ago.into());
    json!({"patientId": patient, "trialId": "CT001", "reportData": report,
           "completedAt": at.to_rfc3339_opts(chrono::SecondsFormat::Secs, false)})
    .to_string()
    .into_bytes()
}

fn submit(server: &Server, token: &str, body: &[u8], key: Option<&str>) -> Answer {
    let headers: Vec<(&str, &str)> = key.map(|k| ("idempotency-key", k)).into_iter().collect();
    call(
        "POST",
        &server.url("/api/v1/submissions"),
        Some(token),
        &headers,
        Some(body),
    )
}

/// Polls a submission until its status is `processed` (or `failed`).
fn wait_processed(server: &Server, token: &str, id: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let submission = get_json(server, token, &format!("/api/v1/submissions/{id}"));
        if submission["status"] == "processed" || submission["status"] == "failed" {
            return submission;
        }
        assert!(
            Instant::now() < deadline,
            "{id} never processed: {submission}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn project(server: &Server, token: &str, id: &str) -> Value {
    get_json(server, token, &format!("/api/v1/projects/{id}"))
}

/// `GET path` with `token`; the JSON of its 200 answer.
fn get_json(server: &Server, token: &str, path: &str) -> Value {
    let (status, _, body) = call("GET", &server.url(path), Some(token), &[], None);
    assert_eq!(status, 200, "{body}");
    json(&body)
}

/// `clinval token create` on a data dir; the token it prints.
fn token(data: &Path, scopes: &[&str]) -> String {
    create_token(&["--data-dir", &data.display().to_string()], scopes)
}

#[test]
fn a_demo_submission_is_accepted_then_processed_with_its_scores() {
    let server = Server::start(&["--demo"]);
    let token = server.demo_token.clone().unwrap();
    let (status, _, body) = call(
        "GET",
        &server.url("/api/v1/projects"),
        Some(&token),
        &[],
        None,
    );
    assert_eq!(status, 200);
    let projects = json(&body)["projects"].clone();
    assert_eq!(projects[0]["id"], "CT001");
    assert_eq!(projects[0]["name"], "A Phase III Study of Drug-X");
    assert_eq!(projects[0]["status"], "Recruiting");
    assert_eq!(projects[1]["id"], "CT002");
    assert_eq!(projects[1]["status"], "Completed");
    assert_eq!(projects[0]["protocol"], "epro-daily");

    let (status, headers, body) = submit(
        &server,
        &token,
        &submission("P-001", "CT001", answers(3)),
        None,
    );
    assert_eq!(status, 202, "{body}");
    let accepted = json(&body);
    assert_eq!(accepted["status"], "accepted");
    let id = accepted["submissionId"].as_str().unwrap().to_owned();
    assert_eq!(
        headers["location"],
        format!("/api/v1/submissions/{id}").as_str()
    );

    let done = wait_processed(&server, &token, &id);
    assert_eq!(done["status"], "processed", "{done}");
    assert_eq!(
        done["scores"],
        json!({"symptomBurden": 9.5, "nauseaDays": 0.0})
    );
    assert_eq!(done["trialId"], "CT001");
    assert!(done["acceptedAt"].as_str().is_some() && done["processedAt"].as_str().is_some());

    let trial = project(&server, &token, "CT001");
    assert_eq!(trial["enrolledPatients"], 1);
    assert_eq!(trial["enrollmentProgress"], 1.0 / 300.0);
    assert_eq!(trial["submissions"]["processed"], 1);
    assert_eq!(trial["startDate"], "2025-01-15");
}

#[test]
fn submission_error_paths() {
    let server = Server::start(&["--demo"]);
    let token = server.demo_token.clone().unwrap();
    let url = server.url("/api/v1/submissions");
    let good = submission("P-1", "CT001", answers(2));

    let none = call("POST", &url, None, &[], Some(&good));
    assert_error(&none, 401, "unauthorized");
    assert!(
        none.1["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer")
    );
    assert_error(
        &call("POST", &url, Some("clv_wrong"), &[], Some(&good)),
        401,
        "unauthorized",
    );
    assert_error(
        &submit(
            &server,
            &token,
            &submission("P-1", "CT404", answers(2)),
            None,
        ),
        404,
        "unknown_project",
    );
    assert_error(
        &submit(
            &server,
            &token,
            &submission("P-1", "CT002", answers(2)),
            None,
        ),
        409,
        "not_recruiting",
    );

    let (status, _, body) = submit(
        &server,
        &token,
        &submission("P-1", "CT001", answers(11)),
        None,
    );
    assert_eq!(status, 422, "{body}");
    let refused = json(&body);
    assert_eq!(refused["error"]["code"], "invalid_report");
    assert_eq!(refused["issues"][0]["field"], "pain");
    assert_eq!(refused["issues"][0]["code"], "out_of_range");
    let mut late = answers(2);
    late["completedAt"] = json!("2999-01-01");
    let (_, _, body) = submit(&server, &token, &submission("P-1", "CT001", late), None);
    assert_eq!(json(&body)["issues"][0]["code"], "future_date");

    assert_error(
        &submit(&server, &token, b"{\"patientId\": ", None),
        400,
        "malformed_body",
    );
    assert_error(
        &submit(
            &server,
            &token,
            br#"{"patientId": "P-1", "trialId": "CT001", "reportData": {}, "extra": 1}"#,
            None,
        ),
        422,
        "invalid_submission",
    );
    assert_error(
        &submit(
            &server,
            &token,
            &submission("P 1!", "CT001", answers(2)),
            None,
        ),
        422,
        "invalid_submission",
    );
    assert_error(
        &submit(
            &server,
            &token,
            br#"{"patientId": "P-1", "trialId": "CT001", "reportData": [1]}"#,
            None,
        ),
        422,
        "invalid_submission",
    );
    let text = answer(
        agent()
            .post(&url)
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "text/plain")
            .send(&good[..]),
    );
    assert_error(&text, 415, "unsupported_media_type");
    assert_error(
        &submit(&server, &token, &good, Some("bad key with spaces")),
        400,
        "bad_idempotency_key",
    );

    let missing = call(
        "GET",
        &server.url("/api/v1/submissions/nope"),
        Some(&token),
        &[],
        None,
    );
    assert_error(&missing, 404, "unknown_submission");
    assert_error(
        &call(
            "GET",
            &server.url("/api/v1/projects/CT404"),
            Some(&token),
            &[],
            None,
        ),
        404,
        "unknown_project",
    );
    assert_error(
        &call("GET", &server.url("/api/v1/projects"), None, &[], None),
        401,
        "unauthorized",
    );
    // The demo token may not change projects.
    let new = br#"{"id": "CT003", "name": "x", "status": "Recruiting", "protocol": "epro-daily"}"#;
    assert_error(
        &call(
            "POST",
            &server.url("/api/v1/projects"),
            Some(&token),
            &[],
            Some(new),
        ),
        403,
        "forbidden",
    );
}

#[test]
fn an_idempotency_key_gives_back_the_same_submission() {
    let server = Server::start(&["--demo"]);
    let token = server.demo_token.clone().unwrap();
    let body = submission("P-7", "CT001", answers(5));
    let first = submit(&server, &token, &body, Some("visit-7-day-1"));
    let again = submit(&server, &token, &body, Some("visit-7-day-1"));
    assert_eq!((first.0, again.0), (202, 202));
    assert_eq!(
        json(&first.2)["submissionId"],
        json(&again.2)["submissionId"]
    );
    assert_eq!(again.1["idempotent-replayed"], "true");
    let other = submission("P-7", "CT001", answers(6));
    assert_error(
        &submit(&server, &token, &other, Some("visit-7-day-1")),
        422,
        "idempotency_key_reused",
    );
    // Another token's key space is its own.
    let second = token_for(&server, &["submit", "read"]);
    let theirs = submit(
        &server,
        &second,
        &diary("P-7", answers(5), 1),
        Some("visit-7-day-1"),
    );
    assert_ne!(
        json(&theirs.2)["submissionId"],
        json(&first.2)["submissionId"]
    );

    let id = json(&first.2)["submissionId"].as_str().unwrap().to_owned();
    wait_processed(&server, &token, &id);
    let theirs = json(&theirs.2)["submissionId"].as_str().unwrap().to_owned();
    wait_processed(&server, &token, &theirs);
    let trial = project(&server, &token, "CT001");
    assert_eq!(trial["submissions"]["processed"], 2, "{trial}");
    assert_eq!(trial["enrolledPatients"], 1);
}

fn token_for(server: &Server, scopes: &[&str]) -> String {
    token(server.data_dir(), scopes)
}

#[test]
fn admins_create_and_change_projects() {
    let server = Server::start(&["--demo"]);
    let admin = token_for(&server, &["admin"]);
    let url = server.url("/api/v1/projects");
    let new = br#"{"id": "CT003", "name": "Sleep in Long COVID", "status": "Not yet recruiting",
                   "startDate": "2027-02-01", "protocol": "epro-daily", "targetEnrollment": 40}"#;
    let (status, headers, body) = call("POST", &url, Some(&admin), &[], Some(new));
    assert_eq!(status, 201, "{body}");
    assert_eq!(headers["location"], "/api/v1/projects/CT003");
    let created = json(&body);
    assert_eq!(created["targetEnrollment"], 40);
    assert_eq!(created["enrolledPatients"], 0);
    assert_error(
        &call("POST", &url, Some(&admin), &[], Some(new)),
        409,
        "project_exists",
    );
    for (doc, what) in [
        (
            r#"{"id": "CT9", "name": "x", "status": "Open", "protocol": "epro-daily"}"#,
            "status",
        ),
        (
            r#"{"id": "CT9", "name": "x", "status": "Recruiting", "protocol": "nope"}"#,
            "protocol",
        ),
        (
            r#"{"id": "CT 9", "name": "x", "status": "Recruiting", "protocol": "epro-daily"}"#,
            "id",
        ),
        (
            r#"{"id": "CT9", "name": "x", "status": "Recruiting", "protocol": "epro-daily", "startDate": "01/02/2027"}"#,
            "startDate",
        ),
    ] {
        let refused = call("POST", &url, Some(&admin), &[], Some(doc.as_bytes()));
        assert_error(&refused, 422, "invalid_project");
        assert!(refused.2.contains(what), "{what}: {}", refused.2);
    }

    let demo = server.demo_token.clone().unwrap();
    assert_error(
        &submit(
            &server,
            &demo,
            &submission("P-1", "CT003", answers(1)),
            None,
        ),
        409,
        "not_recruiting",
    );
    let patch = br#"{"status": "Recruiting"}"#;
    let (status, _, body) = call(
        "PATCH",
        &server.url("/api/v1/projects/CT003"),
        Some(&admin),
        &[],
        Some(patch),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(json(&body)["status"], "Recruiting");
    assert_eq!(json(&body)["name"], "Sleep in Long COVID");
    assert_eq!(
        submit(
            &server,
            &demo,
            &submission("P-1", "CT003", answers(1)),
            None
        )
        .0,
        202
    );
    assert_error(
        &call(
            "PATCH",
            &server.url("/api/v1/projects/CT404"),
            Some(&admin),
            &[],
            Some(patch),
        ),
        404,
        "unknown_project",
    );
}

#[test]
fn validation_endpoints_can_require_a_token() {
    let server = Server::start(&["--demo", "--protect-validation", "true"]);
    let url = server.url("/api/v1/validate");
    let record = br#"{"pain": 1}"#;
    assert_error(&post(&url, "application/json", record), 401, "unauthorized");
    let token = server.demo_token.clone().unwrap();
    assert_eq!(call("POST", &url, Some(&token), &[], Some(record)).0, 200);
}

/// Runs `clinval COMMAND ARGS --data-dir DATA`: its exit status, stdout and stderr.
fn data_command(command: &str, data: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_clinval"))
        .arg(command)
        .args(args)
        .arg("--data-dir")
        .arg(data)
        .output()
        .unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Runs `clinval token ARGS --data-dir DATA`, which must succeed; its stdout and stderr.
fn token_command(data: &Path, args: &[&str]) -> (String, String) {
    let (status, out, err) = data_command("token", data, args);
    assert_eq!(status, Some(0), "{err}");
    (out, err)
}

#[test]
fn a_revoked_token_is_refused_within_the_cache_ttl() {
    let server = Server::start(&["--demo", "--token-cache-ttl", "1"]);
    let token = token_for(&server, &["submit", "read"]);
    let body = submission("P-REV", "CT001", answers(2));
    let (status, _, accepted) = submit(&server, &token, &body, None);
    assert_eq!(status, 202, "{accepted}");

    let (list, _) = token_command(server.data_dir(), &["list"]);
    let line = list.lines().last().unwrap();
    assert!(
        line.contains("submit,read") && line.ends_with("\t-\t"),
        "{list}"
    );
    assert!(!list.contains(&token), "a list never shows a token");
    let token_id = id_of(&list);
    let (_, said) = token_command(server.data_dir(), &["revoke", &token_id]);
    assert!(said.contains("revoked"), "{said}");

    std::thread::sleep(Duration::from_millis(1200));
    let (status, _, refused) = submit(&server, &token, &body, None);
    assert_eq!(status, 401, "{refused}");
    assert_eq!(json(&refused)["error"]["code"], "unauthorized");
    // What it submitted stays, and other tokens work on.
    let demo = server.demo_token.clone().unwrap();
    let id = json(&accepted)["submissionId"].as_str().unwrap().to_owned();
    assert_eq!(wait_processed(&server, &demo, &id)["status"], "processed");
    let (list, _) = token_command(server.data_dir(), &["list"]);
    assert!(!list.lines().last().unwrap().contains("\t-\t"), "{list}");
    let (_, again) = token_command(server.data_dir(), &["revoke", &token_id]);
    assert!(again.contains("already revoked"), "{again}");
}

/// The id of the last token a `clinval token list` shows.
fn id_of(list: &str) -> String {
    list.lines()
        .last()
        .unwrap()
        .split('\t')
        .next()
        .unwrap()
        .to_owned()
}

#[test]
fn unfinished_work_resumes_after_a_restart() {
    let data = tempfile::tempdir().unwrap();
    // A node that only accepts: nothing is processed before the restart.
    let server = Server::start_with(
        &["--demo", "--process-workers", "0"],
        &[],
        Some(data.path()),
    );
    let token = server.demo_token.clone().unwrap();
    let ids: Vec<String> = (0..20)
        .map(|i| {
            let (status, _, body) = submit(
                &server,
                &token,
                &submission(&format!("P{i}"), "CT001", answers(i % 11)),
                None,
            );
            assert_eq!(status, 202, "{body}");
            json(&body)["submissionId"].as_str().unwrap().to_owned()
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        project(&server, &token, "CT001")["submissions"]["accepted"],
        20
    );
    drop(server); // SIGKILL
    let server = Server::start_with(&["--demo"], &[], Some(data.path()));
    let token = server.demo_token.clone().unwrap();
    for id in &ids {
        assert_eq!(wait_processed(&server, &token, id)["status"], "processed");
    }
    let trial = project(&server, &token, "CT001");
    assert_eq!(trial["submissions"]["processed"], 20);
    assert_eq!(trial["enrolledPatients"], 20);
}

/// Submits from 8 clients until stopped; returns every acknowledged id
/// with its patient.
fn load(
    server: &Server,
    token: &str,
    stop: &Arc<AtomicBool>,
) -> Vec<std::thread::JoinHandle<Vec<(String, String)>>> {
    (0..8)
        .map(|client| {
            let (url, token, stop) = (
                server.url("/api/v1/submissions"),
                token.to_owned(),
                Arc::clone(stop),
            );
            std::thread::spawn(move || {
                let agent = agent();
                let mut acknowledged = Vec::new();
                let mut n = 0u32;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let patient = format!("C{client}-P{}", n % 50);
                    let body = diary(&patient, answers(n % 11), n / 50);
                    let sent = agent
                        .post(&url)
                        .header("authorization", format!("Bearer {token}"))
                        .header("content-type", "application/json")
                        .header("idempotency-key", format!("c{client}-{n}"))
                        .send(&body[..]);
                    match sent {
                        Ok(mut response) if response.status() == 202 => {
                            let body: Value = serde_json::from_str(
                                &response.body_mut().read_to_string().unwrap(),
                            )
                            .unwrap();
                            acknowledged
                                .push((body["submissionId"].as_str().unwrap().to_owned(), patient));
                        }
                        Ok(response) => panic!("unexpected {}", response.status()),
                        Err(_) => break, // the server died
                    }
                }
                acknowledged
            })
        })
        .collect()
}

#[test]
fn a_crash_under_load_loses_no_acknowledged_submission() {
    for round in 0..3 {
        let data = tempfile::tempdir().unwrap();
        let mut server = Server::start_with(&["--demo"], &[], Some(data.path()));
        let token = server.demo_token.clone().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let clients = load(&server, &token, &stop);
        std::thread::sleep(Duration::from_millis(600 + 200 * round));
        server.child.kill().unwrap(); // SIGKILL
        server.child.wait().unwrap();
        stop.store(true, Ordering::Relaxed);
        let acknowledged: Vec<(String, String)> = clients
            .into_iter()
            .flat_map(|c| c.join().unwrap())
            .collect();
        assert!(
            acknowledged.len() > 20,
            "round {round}: only {} submissions before the crash",
            acknowledged.len()
        );
        drop(server);

        let server = Server::start_with(&["--demo"], &[], Some(data.path()));
        let token = server.demo_token.clone().unwrap();
        let seen = Mutex::new(HashSet::new());
        for (id, patient) in &acknowledged {
            let done = wait_processed(&server, &token, id);
            assert_eq!(done["status"], "processed", "round {round}: {done}");
            assert_eq!(&done["patientId"], patient);
            assert!(done["scores"]["symptomBurden"].is_number());
            seen.lock().unwrap().insert(patient.clone());
        }
        // Every stored submission (acknowledged or not) is processed once
        // in effect: counted once, its patient enrolled once.
        let trial = project(&server, &token, "CT001");
        let counts = &trial["submissions"];
        assert_eq!(counts["accepted"], 0, "round {round}: {trial}");
        assert_eq!(counts["processing"], 0);
        assert_eq!(counts["failed"], 0);
        let processed = counts["processed"].as_u64().unwrap() as usize;
        assert!(
            processed >= acknowledged.len() && processed <= acknowledged.len() + 8,
            "round {round}: {processed} vs {}",
            acknowledged.len()
        );
        println!(
            "round {round}: {} acknowledged, {processed} stored and processed after the crash",
            acknowledged.len()
        );
        let enrolled = trial["enrolledPatients"].as_u64().unwrap() as usize;
        assert!(
            enrolled >= seen.lock().unwrap().len() && enrolled <= 8 * 50,
            "round {round}: {enrolled}"
        );
    }
}

/// A trial whose protocol is a REDCap data dictionary in `--protocols-dir`:
/// its answers are checked and accepted like the diary's, and an
/// identifier field's value is never shown back.
#[test]
fn a_redcap_defined_trial_takes_submissions() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        root().join("../shared/data/redcap/redcapr-clinical-trial-1/dictionary.csv"),
        dir.path().join("demographics.csv"),
    )
    .unwrap();
    let server = Server::start(&["--demo", "--protocols-dir", dir.path().to_str().unwrap()]);
    let admin = token_for(&server, &["admin"]);
    let trial = br#"{"id": "RC001", "name": "Demographics", "status": "Recruiting", "protocol": "demographics"}"#;
    let (status, _, body) = call(
        "POST",
        &server.url("/api/v1/projects"),
        Some(&admin),
        &[],
        Some(trial),
    );
    assert_eq!(status, 201, "{body}");
    let demo = server.demo_token.clone().unwrap();
    let record = |changes: Value| {
        let mut record = json!({"record_id": "1", "name_last": "Doe", "name_first": "Ann",
            "dob": "1991-05-13", "ethnicity": "1", "race": "4", "gender": "0",
            "height": "176.1", "weight": "105", "demographics_complete": "2"});
        for (key, value) in changes.as_object().unwrap() {
            record[key] = value.clone();
        }
        submission("P-RC-1", "RC001", record)
    };
    let (status, _, body) = submit(&server, &demo, &record(json!({})), None);
    assert_eq!(status, 202, "{body}");
    let id = json(&body)["submissionId"].as_str().unwrap().to_owned();
    assert_eq!(wait_processed(&server, &demo, &id)["status"], "processed");

    let refused = submit(
        &server,
        &demo,
        &record(json!({"gender": "7", "weight": "400", "dob": "1850-01-01"})),
        None,
    );
    assert_eq!(refused.0, 422, "{}", refused.2);
    let issues: Vec<(Value, Value, Value)> = json(&refused.2)["issues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["field"].clone(), i["code"].clone(), i["value"].clone()))
        .collect();
    assert_eq!(
        issues,
        [
            ("dob".into(), "out_of_range".into(), Value::Null),
            ("gender".into(), "not_allowed".into(), "7".into()),
            ("weight".into(), "out_of_range".into(), "400".into()),
        ]
    );
    assert!(!server.logs().contains("1850-01-01"));
}

/// Each `--demo` start revokes the demo token of the one before, so demo
/// tokens do not pile up in a data dir, each still valid.
#[test]
fn a_demo_restart_revokes_the_earlier_demo_token() {
    let data = tempfile::tempdir().unwrap();
    let first = Server::start_with(&["--demo"], &[], Some(data.path()));
    let old = first.demo_token.clone().unwrap();
    assert_eq!(
        call("GET", &first.url("/api/v1/projects"), Some(&old), &[], None).0,
        200
    );
    drop(first);
    let second = Server::start_with(&["--demo"], &[], Some(data.path()));
    let new = second.demo_token.clone().unwrap();
    assert_ne!(old, new);
    assert_eq!(
        call(
            "GET",
            &second.url("/api/v1/projects"),
            Some(&new),
            &[],
            None
        )
        .0,
        200
    );
    assert_error(
        &call(
            "GET",
            &second.url("/api/v1/projects"),
            Some(&old),
            &[],
            None,
        ),
        401,
        "unauthorized",
    );
}

/// `reportData` completed at `at`, sent with it as `completedAt`.
fn diary_at(patient: &str, at: &str) -> Vec<u8> {
    let mut report = answers(3);
    report["completedAt"] = Value::from(&at[..16]);
    json!({"patientId": patient, "trialId": "CT001", "reportData": report, "completedAt": at})
        .to_string()
        .into_bytes()
}

#[test]
fn a_diary_is_checked_and_stored_in_the_patients_own_day_and_one_a_day() {
    let server = Server::start(&["--demo"]);
    let token = server.demo_token.clone().unwrap();
    // Where it is already tomorrow (UTC+14), "today" is tomorrow: accepted,
    // though tomorrow is after the server's date.
    let kiritimati = chrono::FixedOffset::east_opt(14 * 3600).unwrap();
    let now = chrono::Utc::now().with_timezone(&kiritimati);
    let at = now.to_rfc3339_opts(chrono::SecondsFormat::Secs, false);
    let sent = submit(&server, &token, &diary_at("P-DAY", &at), Some("day-1"));
    assert_eq!(sent.0, 202, "{}", sent.2);
    let id = json(&sent.2)["submissionId"].as_str().unwrap().to_owned();
    let done = wait_processed(&server, &token, &id);
    assert_eq!(done["status"], "processed", "{done}");
    assert_eq!(done["completedAt"], at.as_str());
    assert_eq!(done["localDate"], now.date_naive().to_string());
    assert_eq!(done["utcOffset"], "+14:00");

    // A second diary that day: refused, with a clear code.
    let later =
        (now + chrono::TimeDelta::seconds(-60)).to_rfc3339_opts(chrono::SecondsFormat::Secs, false);
    let again = submit(&server, &token, &diary_at("P-DAY", &later), Some("day-2"));
    assert_error(&again, 409, "diary_exists_for_day");
    assert!(
        again.2.contains(&now.date_naive().to_string()),
        "{}",
        again.2
    );
    // Another patient that day is a diary of their own.
    let other = submit(&server, &token, &diary_at("P-DAY-2", &later), Some("day-3"));
    assert_eq!(other.0, 202, "{}", other.2);

    // Offsets no time zone has, times after now, times without an offset.
    let ahead = (chrono::Utc::now() + chrono::TimeDelta::hours(1))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, false);
    for (at, code) in [
        ("2026-01-10T08:30:00+15:00", "offset_out_of_range"),
        ("2026-01-10T08:30:00-12:30", "offset_out_of_range"),
        (ahead.as_str(), "completed_in_future"),
        ("2026-01-10T08:30:00", "invalid_completed_at"),
    ] {
        let answer = submit(&server, &token, &diary_at("P-BAD", at), None);
        assert_error(&answer, 422, code);
    }
    let trial = project(&server, &token, "CT001");
    assert_eq!(trial["enrolledPatients"], 2, "{trial}");
}

#[test]
fn a_client_learns_what_became_of_its_idempotency_key() {
    let server = Server::start(&["--demo"]);
    let token = server.demo_token.clone().unwrap();
    let find = |key: &str, token: &str| {
        call(
            "GET",
            &server.url(&format!("/api/v1/submissions?idempotencyKey={key}")),
            Some(token),
            &[],
            None,
        )
    };
    assert_error(&find("lost-1", &token), 404, "unknown_idempotency_key");
    let sent = submit(
        &server,
        &token,
        &diary("P-KEY", answers(1), 0),
        Some("lost-1"),
    );
    assert_eq!(sent.0, 202, "{}", sent.2);
    let found = find("lost-1", &token);
    assert_eq!(found.0, 200, "{}", found.2);
    assert_eq!(
        json(&found.2)["submissionId"],
        json(&sent.2)["submissionId"]
    );
    assert_eq!(json(&found.2)["patientId"], "P-KEY");
    // Another token's keys are not found, a bad key is refused.
    let other = token_for(&server, &["submit", "read"]);
    assert_error(&find("lost-1", &other), 404, "unknown_idempotency_key");
    assert_error(&find("a%20b", &token), 400, "bad_idempotency_key");
    let no_key = call(
        "GET",
        &server.url("/api/v1/submissions"),
        Some(&token),
        &[],
        None,
    );
    assert_error(&no_key, 400, "bad_query");
    let submit_only = token_for(&server, &["submit"]);
    assert_error(&find("lost-1", &submit_only), 403, "forbidden");
}

/// `clinval patient …` on a data dir, which must succeed: (stdout, stderr).
fn patient_command(data: &Path, args: &[&str]) -> (String, String) {
    let (status, out, err) = data_command("patient", data, args);
    assert_eq!(status, Some(0), "{err}");
    (out, err)
}

/// Exchanges `code` for a patient's credential.
fn exchange(server: &Server, code: &str) -> Answer {
    let body = json!({ "code": code }).to_string();
    call(
        "POST",
        &server.url("/api/v1/patient-access"),
        None,
        &[],
        Some(body.as_bytes()),
    )
}

#[test]
fn a_patients_access_code_opens_one_device_that_acts_only_for_that_patient() {
    let server = Server::start(&["--demo", "--token-cache-ttl", "1"]);
    let staff = server.demo_token.clone().unwrap();
    let admin = token_for(&server, &["admin"]);
    let invites = server.url("/api/v1/projects/CT001/patients/P-ACC-1/invites");
    let made = call("POST", &invites, Some(&admin), &[], None);
    assert_eq!(made.0, 201, "{}", made.2);
    let code = json(&made.2)["code"].as_str().unwrap().to_owned();
    assert_eq!(json(&made.2)["path"], format!("/#access={code}"));

    let first = exchange(&server, &code);
    assert_eq!(first.0, 201, "{}", first.2);
    let patient = json(&first.2)["token"].as_str().unwrap().to_owned();
    assert_eq!(
        (
            json(&first.2)["trialId"].clone(),
            json(&first.2)["patientId"].clone()
        ),
        (json!("CT001"), json!("P-ACC-1"))
    );
    assert_error(&exchange(&server, &code), 410, "access_code_used");
    assert_error(
        &exchange(&server, "clva_nothing"),
        404,
        "unknown_access_code",
    );

    // Its own diaries: yes. Another patient's, another trial's: 403.
    let own = submit(
        &server,
        &patient,
        &diary("P-ACC-1", answers(2), 0),
        Some("k1"),
    );
    assert_eq!(own.0, 202, "{}", own.2);
    let id = json(&own.2)["submissionId"].as_str().unwrap().to_owned();
    assert_eq!(
        get_json(&server, &patient, &format!("/api/v1/submissions/{id}"))["patientId"],
        "P-ACC-1"
    );
    assert_error(
        &submit(&server, &patient, &diary("P-ACC-2", answers(2), 0), None),
        403,
        "forbidden",
    );
    let elsewhere =
        json!({"patientId": "P-ACC-1", "trialId": "CT002", "reportData": answers(2)}).to_string();
    assert_error(
        &submit(&server, &patient, elsewhere.as_bytes(), None),
        403,
        "forbidden",
    );
    let theirs = submit(&server, &staff, &diary("P-ACC-2", answers(2), 0), None);
    let theirs = json(&theirs.2)["submissionId"].as_str().unwrap().to_owned();
    let read = |path: &str| call("GET", &server.url(path), Some(&patient), &[], None);
    assert_error(
        &read(&format!("/api/v1/submissions/{theirs}")),
        403,
        "forbidden",
    );
    assert_eq!(read("/api/v1/projects/CT001").0, 200);
    assert_error(&read("/api/v1/projects/CT002"), 403, "forbidden");
    assert_error(&read("/api/v1/projects"), 403, "forbidden");
    assert_error(
        &call("POST", &invites, Some(&patient), &[], None),
        403,
        "forbidden",
    );

    // Bad invitations.
    let to = |path: &str, query: &str| {
        call(
            "POST",
            &server.url(&format!("{path}{query}")),
            Some(&admin),
            &[],
            None,
        )
    };
    assert_error(
        &to("/api/v1/projects/CT404/patients/P-1/invites", ""),
        404,
        "unknown_project",
    );
    assert_error(
        &to("/api/v1/projects/CT001/patients/P%201/invites", ""),
        400,
        "bad_id",
    );
    assert_error(
        &to(
            "/api/v1/projects/CT001/patients/P-1/invites",
            "?validFor=soon",
        ),
        400,
        "bad_query",
    );
    assert_error(
        &to(
            "/api/v1/projects/CT001/patients/P-1/invites",
            "?validFor=2y",
        ),
        400,
        "bad_query",
    );

    // An expired code gives nothing.
    let brief = to(
        "/api/v1/projects/CT001/patients/P-ACC-3/invites",
        "?validFor=1s",
    );
    let brief = json(&brief.2)["code"].as_str().unwrap().to_owned();
    std::thread::sleep(Duration::from_millis(1100));
    assert_error(&exchange(&server, &brief), 410, "access_code_expired");

    // Revoked: the device's credential stops (within the cache's ttl), as
    // do codes not yet used; what it sent stays.
    let spare = to("/api/v1/projects/CT001/patients/P-ACC-1/invites", "");
    let spare = json(&spare.2)["code"].as_str().unwrap().to_owned();
    let revoke = server.url("/api/v1/projects/CT001/patients/P-ACC-1/access");
    let revoked = call("DELETE", &revoke, Some(&admin), &[], None);
    assert_eq!(
        json(&revoked.2),
        json!({"credentials": 1, "codes": 1}),
        "{}",
        revoked.2
    );
    assert_error(&exchange(&server, &spare), 410, "access_code_revoked");
    std::thread::sleep(Duration::from_millis(1200));
    assert_error(
        &submit(&server, &patient, &diary("P-ACC-1", answers(2), 1), None),
        401,
        "unauthorized",
    );
    assert_eq!(wait_processed(&server, &staff, &id)["status"], "processed");

    // Codes, credentials and patient ids are in no log line.
    let logs = server.logs();
    for secret in [code.as_str(), patient.as_str(), spare.as_str(), "P-ACC-1"] {
        assert!(!logs.contains(secret), "{secret} logged");
    }
}

#[test]
fn a_coordinator_invites_and_revokes_from_the_command_line() {
    let server = Server::start(&["--demo", "--token-cache-ttl", "1"]);
    let (link, said) = patient_command(
        server.data_dir(),
        &[
            "invite",
            "--trial",
            "CT001",
            "--patient",
            "P0042",
            "--base-url",
            &server.base,
        ],
    );
    assert!(
        said.contains("P0042") && said.contains("valid until"),
        "{said}"
    );
    let code = link
        .trim()
        .strip_prefix(&format!("{}/#access=", server.base))
        .unwrap_or_else(|| panic!("{link}"));
    let credential = exchange(&server, code);
    assert_eq!(
        json(&credential.2)["patientId"],
        "P0042",
        "{}",
        credential.2
    );
    let token = json(&credential.2)["token"].as_str().unwrap().to_owned();
    let (list, _) = token_command(server.data_dir(), &["list"]);
    assert!(
        list.lines()
            .last()
            .unwrap()
            .ends_with("patient (CT001/P0042)"),
        "{list}"
    );

    let (_, said) = patient_command(
        server.data_dir(),
        &["revoke", "--trial", "CT001", "--patient", "P0042"],
    );
    assert!(
        said.contains("1 device credential(s) and 0 unused code(s)"),
        "{said}"
    );
    std::thread::sleep(Duration::from_millis(1200));
    assert_error(
        &submit(&server, &token, &diary("P0042", answers(2), 0), None),
        401,
        "unauthorized",
    );

    // Refusals: an unknown trial, a bad id, a bad duration.
    for (args, expected) in [
        (
            &["invite", "--trial", "CT404", "--patient", "P1"][..],
            "no trial has id `CT404`",
        ),
        (
            &["invite", "--trial", "CT001", "--patient", "P 1"][..],
            "must be 1 to 64 letters",
        ),
        (
            &[
                "invite",
                "--trial",
                "CT001",
                "--patient",
                "P1",
                "--valid-for",
                "soon",
            ][..],
            "soon",
        ),
    ] {
        let (status, _, err) = data_command("patient", server.data_dir(), args);
        assert_eq!(status, Some(2), "{args:?}");
        assert!(err.contains(expected), "{args:?}: {err}");
    }
}
