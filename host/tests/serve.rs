//! `clinval serve` end to end: the real binary on 127.0.0.1, a real HTTP
//! client, every endpoint and every error path.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

use common::*;

fn demo_csv() -> Vec<u8> {
    std::fs::read(root().join("tests/fixtures/demo/patients.csv")).unwrap()
}

/// What `clinval validate` (the native engine) writes for `file`.
fn native(file: &Path) -> (Vec<Value>, Vec<Value>) {
    let dir = tempfile::tempdir().unwrap();
    let (out, errors) = (dir.path().join("v.ndjson"), dir.path().join("e.jsonl"));
    let status = Command::new(env!("CARGO_BIN_EXE_clinval"))
        .arg("validate")
        .arg(file)
        .args(["--as-of", AS_OF, "--out"])
        .arg(&out)
        .arg("--errors")
        .arg(&errors)
        .output()
        .unwrap()
        .status;
    assert!(status.code().is_some_and(|c| c <= 1));
    let lines = |path: &Path| -> Vec<Value> {
        std::fs::read_to_string(path)
            .unwrap()
            .lines()
            .map(json)
            .collect()
    };
    (lines(&out), lines(&errors))
}

#[test]
fn health_version_and_protocols() {
    let server = Server::start(&[]);
    let (status, _, body) = get(&server.url("/healthz"));
    assert_eq!((status, json(&body)["status"].clone()), (200, "ok".into()));
    let (status, _, body) = get(&server.url("/readyz"));
    assert_eq!(status, 200, "{body}");

    // The OpenAPI document (schemathesis holds the server to it in the
    // test command): this binary's, with the protocols it serves.
    let (status, _, body) = get(&server.url("/api/v1/openapi.json"));
    assert_eq!(status, 200);
    let openapi = json(&body);
    assert_eq!(openapi["openapi"], "3.1.0");
    assert_eq!(openapi["info"]["version"], env!("CARGO_PKG_VERSION"));
    assert!(openapi["paths"]["/api/v1/validate"]["post"].is_object());
    let protocols =
        &openapi["components"]["schemas"]["NewProject"]["properties"]["protocol"]["enum"];
    assert_eq!(protocols, &serde_json::json!(["epro-daily", "patient"]));

    let (status, _, body) = get(&server.url("/api/v1/version"));
    assert_eq!(status, 200);
    let version = json(&body);
    assert_eq!(version["version"], env!("CARGO_PKG_VERSION"));
    let built = std::fs::read(root().join("wasm/pkg/clinval_bg.wasm")).unwrap();
    let sha = sha256_hex(&built);
    assert_eq!(
        version["module"]["sha256"],
        sha.as_str(),
        "the embedded module"
    );
    assert_eq!(version["module"]["abi"], 1);

    let (status, _, body) = get(&server.url("/api/v1/protocols"));
    assert_eq!(status, 200);
    let list = json(&body);
    let patient = list["protocols"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "patient")
        .cloned()
        .expect("patient is listed");
    assert_eq!(patient["fields"], 5);
    assert!(
        list["protocols"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "epro-daily")
    );

    let listed_sha = patient["sha256"].clone();
    let (status, _, body) = get(&server.url("/api/v1/protocols/patient"));
    assert_eq!(status, 200);
    let patient = json(&body);
    let names: Vec<_> = patient["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["id", "name", "age", "visitDate", "bloodPressure"]);
    assert_eq!(patient["document"]["name"], "patient");
    assert_eq!(patient["sha256"], listed_sha);

    assert_error(
        &get(&server.url("/api/v1/protocols/nope")),
        404,
        "unknown_protocol",
    );
    assert_error(&get(&server.url("/nope")), 404, "not_found");
    assert_error(
        &answer(agent().delete(&server.url("/healthz")).call()),
        405,
        "method_not_allowed",
    );
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn one_record_is_validated_as_the_browser_does() {
    let server = Server::start(&[]);
    let url = server.url(&format!("/api/v1/validate?as_of={AS_OF}"));
    let record = br#"{"patient_id": " P001 ", "name": "Ann  Lee", "age": "34", "visit_date": "2024-03-05", "bp": "120/80"}"#;
    let (status, _, body) = post(&url, "application/json", record);
    assert_eq!(status, 200, "{body}");
    let verdict = json(&body);
    assert_eq!(verdict["valid"], true, "{verdict}");
    assert_eq!(verdict["issues"], serde_json::json!([]));
    assert_eq!(verdict["record"]["id"], "P001");
    assert_eq!(verdict["record"]["age"], 34);

    let (status, _, body) = post(
        &url,
        "application/json; charset=utf-8",
        br#"{"id": "P2", "name": "B", "age": 17, "visitDate": "2024-01-01", "bloodPressure": "120/80"}"#,
    );
    assert_eq!(status, 200);
    let verdict = json(&body);
    assert_eq!(verdict["valid"], false);
    assert_eq!(verdict["issues"][0]["code"], "out_of_range");
    assert_eq!(verdict["record"], Value::Null);

    let zh = server.url(&format!("/api/v1/validate?as_of={AS_OF}&lang=zh-CN"));
    let (_, _, body) = post(&zh, "application/json", br#"{"id": "P2", "age": 17}"#);
    let message = json(&body)["issues"][0]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(!message.is_ascii(), "a Chinese message: {message}");

    assert_error(
        &post(&url, "text/csv", record),
        415,
        "unsupported_media_type",
    );
    assert_error(
        &post(&url, "application/json", b"{\"id\": "),
        400,
        "malformed_body",
    );
    assert_error(
        &post(&url, "application/json", b"[1, 2]"),
        400,
        "malformed_body",
    );
    let unknown = server.url("/api/v1/validate?protocol=labs");
    assert_error(
        &post(&unknown, "application/json", b"{}"),
        404,
        "unknown_protocol",
    );
    let bad_date = server.url("/api/v1/validate?as_of=30/06/2025");
    assert_error(
        &post(&bad_date, "application/json", b"{}"),
        400,
        "bad_query",
    );
    let bad_lang = server.url("/api/v1/validate?lang=tlh");
    assert_error(
        &post(&bad_lang, "application/json", b"{}"),
        400,
        "bad_query",
    );
}

#[test]
fn batches_give_the_native_engines_verdicts_in_every_format() {
    let server = Server::start(&[]);
    let fixtures = root().join("tests/fixtures");
    for (file, content_type) in [
        ("demo/patients.csv", "text/csv"),
        ("demo/patients.ndjson", "application/x-ndjson"),
        ("parity/every-code.csv", "text/csv"),
        ("parity/every-code.json", "application/json"),
        ("parity/every-code.ndjson", "application/x-ndjson"),
    ] {
        let path = fixtures.join(file);
        let (records, issues) = native(&path);
        let url = server.url(&format!("/api/v1/batches?as_of={AS_OF}&include=valid"));
        let (status, headers, body) = post(&url, content_type, &std::fs::read(&path).unwrap());
        assert_eq!(status, 200, "{file}: {body}");
        assert_eq!(headers["content-type"], "application/json");
        let report = json(&body);
        assert_eq!(report["issues"].as_array().unwrap(), &issues, "{file}");
        assert_eq!(report["records"].as_array().unwrap(), &records, "{file}");
        let summary = &report["summary"];
        assert_eq!(
            summary["records"],
            records.len() + summary["invalid"].as_u64().unwrap() as usize
        );
        assert_eq!(summary["issues"], issues.len());
        assert_eq!(report["asOf"], AS_OF);
        assert_eq!(report["protocol"]["name"], "patient");
        assert_eq!(report["module"]["sha256"].as_str().unwrap().len(), 64);
    }
}

#[test]
fn the_shared_samples_give_the_error_log_of_the_spec() {
    // `clinval validate` is held to the samples' expected files by
    // cli.rs; the server must write the very same error log.
    let server = Server::start(&[]);
    let data = root().join("../shared/data");
    for sample in ["patients-sample.csv", "patients-sample-gbk.csv"] {
        let (_, issues) = native(&data.join(sample));
        assert!(!issues.is_empty());
        let url = server.url(&format!("/api/v1/batches?as_of={AS_OF}"));
        let (status, _, body) = post(&url, "text/csv", &std::fs::read(data.join(sample)).unwrap());
        assert_eq!(status, 200, "{body}");
        assert!(
            json(&body)["issues"].as_array().unwrap() == &issues,
            "{sample}"
        );
    }
}

#[test]
fn ndjson_streams_issues_then_the_summary() {
    let server = Server::start(&[]);
    let csv = root().join("tests/fixtures/demo/patients.csv");
    let (records, issues) = native(&csv);
    let url = server.url(&format!("/api/v1/batches?as_of={AS_OF}&include=valid"));
    let (status, headers, body) = answer(
        agent()
            .post(&url)
            .header("content-type", "text/csv")
            .header("accept", "application/x-ndjson")
            .send(&demo_csv()[..]),
    );
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "application/x-ndjson");
    let lines: Vec<Value> = body.lines().map(json).collect();
    let (last, items) = lines.split_last().unwrap();
    let streamed_issues: Vec<_> = items
        .iter()
        .filter(|l| l.get("code").is_some())
        .cloned()
        .collect();
    let streamed_records: Vec<_> = items
        .iter()
        .filter_map(|l| l.get("record").cloned())
        .collect();
    assert_eq!(streamed_issues, issues);
    assert_eq!(streamed_records, records);
    assert_eq!(last["summary"]["issues"], issues.len());
    assert_eq!(last["asOf"], AS_OF);

    // An input that turns out unusable ends the stream with an error line.
    let mut bad = demo_csv();
    bad.extend_from_slice(b"P9,\"unclosed quote,40,2024-01-01,120/80\n");
    let bad = [bad, vec![0u8; 70_000]].concat();
    let (_, _, body) = answer(
        agent()
            .post(&url)
            .header("content-type", "text/csv")
            .header("accept", "application/x-ndjson")
            .send(&bad[..]),
    );
    let last = json(body.lines().last().unwrap());
    assert_eq!(last["error"]["code"], "invalid_input", "{last}");
}

#[test]
fn batch_error_paths() {
    let server = Server::start(&["--body-limit", "8KiB"]);
    let url = server.url(&format!("/api/v1/batches?as_of={AS_OF}"));
    assert_error(
        &post(&url, "text/plain", b"id\n"),
        415,
        "unsupported_media_type",
    );
    assert_error(
        &post(&url, "application/json", b"{\"id\": 1}"),
        422,
        "invalid_input",
    );
    // A broken line in NDJSON is that record's issue, not the batch's.
    let (status, _, body) = post(&url, "application/x-ndjson", b"{\"id\": \n");
    assert_eq!(status, 200, "{body}");
    assert_eq!(json(&body)["summary"]["invalid"], 1);
    assert_error(
        &post(&url, "text/csv", b"\x00\x01\x02binary"),
        422,
        "invalid_input",
    );
    let unknown = server.url("/api/v1/batches?protocol=labs");
    assert_error(
        &post(&unknown, "text/csv", b"id\n"),
        404,
        "unknown_protocol",
    );
    let include = server.url("/api/v1/batches?include=everything");
    assert_error(&post(&include, "text/csv", b"id\n"), 400, "bad_query");
    let typo = server.url("/api/v1/batches?asof=2025-01-01");
    assert_error(&post(&typo, "text/csv", b"id\n"), 400, "bad_query");

    // Over the limit: refused by Content-Length, and also when streamed
    // without one.
    let big = demo_csv().repeat(20);
    assert!(big.len() > 8 * 1024);
    assert_error(&post(&url, "text/csv", &big), 413, "body_too_large");
    let (status, body) = raw_chunked(&server.address, &url_path(&url), &big);
    assert_eq!(status, 413, "{body}");
    // The server is still there.
    assert_eq!(get(&server.url("/healthz")).0, 200);
}

#[test]
fn records_over_a_limit_are_413_with_the_limit_named_and_logged() {
    let server = Server::start(&["--instance-memory", "32MiB"]);
    // F4: one object of a million keys (12 MB) to /validate is refused as
    // over the cells limit, not run until the CPU bound.
    let members: Vec<String> = (0..1_000_000).map(|i| format!("\"{i}\":0")).collect();
    let object = format!("{{{}}}", members.join(","));
    let (status, _, body) = post(
        &server.url(&format!("/api/v1/validate?as_of={AS_OF}")),
        "application/json",
        object.as_bytes(),
    );
    assert_eq!(status, 413, "{body}");
    let error = &json(&body)["error"];
    assert_eq!(error["code"], "too_many_cells");
    let message = error["message"].as_str().unwrap();
    assert!(
        message.contains("more than 65536 cells or keys"),
        "{message}"
    );
    // Nesting deeper than the reader's limit: 413 naming it, not a
    // parse error.
    let deep = format!("{{\"id\": {}1{}}}", "[".repeat(200), "]".repeat(200));
    let (status, _, body) = post(
        &server.url(&format!("/api/v1/validate?as_of={AS_OF}")),
        "application/json",
        deep.as_bytes(),
    );
    assert_eq!(
        (status, json(&body)["error"]["code"].clone()),
        (413, "nesting_too_deep".into()),
        "{body}"
    );
    let (status, _, body) = post(
        &server.url(&format!("/api/v1/validate?as_of={AS_OF}")),
        "application/json",
        br#"{"id": "[[[[ not nesting \" [[[["}"#,
    );
    assert_eq!(status, 200, "brackets in strings do not count: {body}");
    // The same in a batch, by line.
    let wide = format!("{{{}}}", members[..70_000].join(","));
    let (status, _, body) = post(
        &server.url(&format!("/api/v1/batches?as_of={AS_OF}")),
        "application/x-ndjson",
        format!("{{\"id\": \"P1\"}}\n{wide}\n").as_bytes(),
    );
    assert_eq!(status, 413, "{body}");
    let message = json(&body)["error"]["message"].as_str().unwrap().to_owned();
    assert!(message.starts_with("line 2:"), "{message}");

    // F5: more distinct ids than the duplicate check of a 32 MiB instance
    // can hold is 413 duplicate_index_full, not a trap.
    let mut csv = b"id,name,age,visit_date,bp\n".to_vec();
    for i in 0..1_000_000 {
        csv.extend_from_slice(format!("P{i},A,30,2024-01-01,120/80\n").as_bytes());
    }
    let (status, _, body) = post(
        &server.url(&format!("/api/v1/batches?as_of={AS_OF}")),
        "text/csv",
        &csv,
    );
    assert_eq!(status, 413, "{body}");
    let error = &json(&body)["error"];
    assert_eq!(error["code"], "duplicate_index_full");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("instance_memory")
    );
    // A record the instance has no memory for (within maxRecordBytes,
    // but a 15 MiB name is copied on its way): 413 naming the setting.
    let long = format!(
        "{{\"id\": \"P1\", \"name\": \"{}\"}}\n",
        "x".repeat(15 << 20)
    );
    let (status, _, body) = post(
        &server.url(&format!("/api/v1/batches?as_of={AS_OF}")),
        "application/x-ndjson",
        long.as_bytes(),
    );
    assert_eq!(status, 413, "{body}");
    assert_eq!(json(&body)["error"]["code"], "instance_memory_exceeded");
    // The server goes on, and the log says why, without values.
    assert_eq!(get(&server.url("/healthz")).0, 200);
    let logs = server.logs();
    assert!(
        logs.contains("too_many_cells") && logs.contains("duplicate_index_full"),
        "{logs}"
    );
    assert!(!logs.contains("P99"), "{logs}");
}

#[test]
fn requests_hyper_cannot_parse_get_the_json_error_body() {
    let server = Server::start(&[]);
    let many_headers: String = (0..200).map(|i| format!("X-{i}: 1\r\n")).collect();
    for (request, status, code) in [
        (
            "GET /healthz HTTP/1.1\r\nHo st: x\r\n\r\n".to_owned(),
            400,
            "malformed_request",
        ),
        (
            format!(
                "GET /{} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
                "a".repeat(70_000)
            ),
            414,
            "uri_too_long",
        ),
        (
            format!("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n{many_headers}\r\n"),
            431,
            "headers_too_large",
        ),
    ] {
        let mut stream = TcpStream::connect(&server.address).unwrap();
        stream.write_all(request.as_bytes()).unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        let (head, body) = answer.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with(&format!("HTTP/1.1 {status} ")), "{head}");
        assert!(head.contains("content-type: application/json"), "{head}");
        assert_eq!(json(body)["error"]["code"], code, "{body}");
    }
    // A good request on a kept-alive connection is untouched.
    assert_eq!(get(&server.url("/healthz")).0, 200);
}

/// Rows in [`first_chunk`].
const FIRST_ROWS: usize = 10_000;

/// A CSV header and [`FIRST_ROWS`] valid rows: more than the server reads
/// before it leases an instance (256 KiB).
fn first_chunk() -> Vec<u8> {
    let mut csv = String::from("id,name,age,visitDate,bp\n");
    for i in 0..FIRST_ROWS {
        csv.push_str(&format!("P{i},Ann Lee,40,2024-01-01,120/80\n"));
    }
    assert!(csv.len() > 256 * 1024);
    csv.into_bytes()
}

fn url_path(url: &str) -> String {
    let rest = url.split_once("://").unwrap().1;
    rest[rest.find('/').unwrap()..].to_owned()
}

/// Sends `body` with chunked transfer encoding (no Content-Length) over a
/// raw connection; returns the status and the raw answer.
fn raw_chunked(address: &str, path: &str, body: &[u8]) -> (u16, String) {
    let mut upload = Upload::start(address, path);
    for piece in body.chunks(1000) {
        if upload.send(piece).is_err() {
            break; // the server answered early and closed
        }
    }
    upload.finish()
}

/// An upload that has sent its first chunk and so holds an instance
/// (the pool says so) until it is finished.
fn hold_the_instance(server: &Server, path: &str) -> Upload {
    let mut upload = Upload::start(&server.address, path);
    upload.send(&first_chunk()).unwrap();
    server.wait_for_metric("clinval_pool_busy", 1.0);
    upload
}

/// A chunked CSV upload over a raw connection, sent piece by piece.
struct Upload {
    stream: TcpStream,
}

impl Upload {
    fn start(address: &str, path: &str) -> Upload {
        let mut stream = TcpStream::connect(address).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(60)))
            .unwrap();
        write!(
            stream,
            "POST {path} HTTP/1.1\r\nHost: {address}\r\nContent-Type: text/csv\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        Upload { stream }
    }

    fn send(&mut self, piece: &[u8]) -> std::io::Result<()> {
        write!(self.stream, "{:x}\r\n", piece.len())?;
        self.stream.write_all(piece)?;
        self.stream.write_all(b"\r\n")
    }

    /// Ends the body (if the server still reads) and reads the answer.
    fn finish(mut self) -> (u16, String) {
        let _ = self.stream.write_all(b"0\r\n\r\n");
        self.answer()
    }

    fn answer(mut self) -> (u16, String) {
        let mut text = Vec::new();
        let _ = self.stream.read_to_end(&mut text);
        let text = String::from_utf8_lossy(&text).into_owned();
        let status = text
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        (status, text)
    }
}

#[test]
fn a_full_queue_answers_503_with_retry_after() {
    let server = Server::start(&["--workers", "1", "--queue", "0", "--retry-after", "3"]);
    let path = format!("/api/v1/batches?as_of={AS_OF}");
    let slow = hold_the_instance(&server, &path);

    let busy = post(&server.url(&path), "text/csv", &demo_csv());
    assert_error(&busy, 503, "overloaded");
    assert_eq!(busy.1["retry-after"], "3");
    assert!(busy.2.contains("the queue is full"), "{}", busy.2);
    assert!(server.metric("clinval_pool_rejected_total") >= 1.0);
    // Requests that need no instance still answer.
    assert_eq!(get(&server.url("/healthz")).0, 200);

    let (status, body) = slow.finish();
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains(&format!("\"records\":{FIRST_ROWS}")),
        "{body}"
    );
    server.wait_for_metric("clinval_pool_busy", 0.0);
    assert_eq!(post(&server.url(&path), "text/csv", &demo_csv()).0, 200);
}

#[test]
fn a_request_that_waited_too_long_is_told_so() {
    let server = Server::start(&["--workers", "1", "--queue", "4", "--queue-timeout", "1"]);
    let path = format!("/api/v1/batches?as_of={AS_OF}");
    let slow = hold_the_instance(&server, &path);
    let waited = post(&server.url(&path), "text/csv", &demo_csv());
    assert_error(&waited, 503, "overloaded");
    assert!(
        waited.2.contains("within 1 s of waiting in the queue") && !waited.2.contains("full"),
        "{}",
        waited.2
    );
    assert_eq!(slow.finish().0, 200);
}

#[test]
fn a_queued_request_is_served_when_an_instance_frees() {
    let server = Server::start(&["--workers", "1", "--queue", "4"]);
    let path = format!("/api/v1/batches?as_of={AS_OF}");
    let slow = hold_the_instance(&server, &path);
    let url = server.url(&path);
    let waiting = std::thread::spawn(move || post(&url, "text/csv", &demo_csv()));
    server.wait_for_metric("clinval_pool_queued", 1.0);
    assert_eq!(slow.finish().0, 200);
    let (status, _, body) = waiting.join().unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(json(&body)["summary"]["records"], 18);
}

#[test]
fn a_slow_or_stalled_body_holds_no_instance_for_long() {
    let server = Server::start(&["--workers", "1", "--body-timeout", "1"]);
    let path = format!("/api/v1/batches?as_of={AS_OF}");
    // Slow to start: no instance is taken, others are served meanwhile.
    let mut slow = Upload::start(&server.address, &path);
    slow.send(b"id,name,age,visitDate,bp\n").unwrap();
    assert_eq!(post(&server.url(&path), "text/csv", &demo_csv()).0, 200);
    assert_eq!(server.metric("clinval_pool_busy"), 0.0);
    let (status, body) = slow.answer();
    assert_eq!(status, 408, "{body}");
    assert!(body.contains("body_timeout"), "{body}");

    // Stalled after its first chunk: it had an instance, which comes back.
    let mut stalled = Upload::start(&server.address, &path);
    stalled.send(&first_chunk()).unwrap();
    let (status, body) = stalled.answer();
    assert_eq!(status, 408, "{body}");
    server.wait_for_metric("clinval_pool_busy", 0.0);
    assert_eq!(post(&server.url(&path), "text/csv", &demo_csv()).0, 200);
}

#[test]
fn a_client_that_sends_no_headers_is_cut_off() {
    let server = Server::start(&["--header-timeout", "1"]);
    let mut stream = TcpStream::connect(&server.address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    let started = Instant::now();
    let mut rest = Vec::new();
    let _ = stream.read_to_end(&mut rest);
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(500),
        "waited for the headers: {waited:?}"
    );
    assert!(
        waited < Duration::from_secs(20),
        "closed by the server: {waited:?}"
    );
}

#[test]
fn a_module_that_traps_or_runs_away_fails_the_request_not_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let wat = std::fs::read_to_string(root().join("host/tests/fixtures/runaway.wat")).unwrap();
    let module = dir.path().join("runaway.wasm");
    std::fs::write(&module, wat::parse_str(&wat).unwrap()).unwrap();
    let server = Server::start(&[
        "--module",
        module.to_str().unwrap(),
        "--call-timeout-ms",
        "200",
        "--workers",
        "1",
    ]);
    let batches = server.url(&format!("/api/v1/batches?as_of={AS_OF}"));
    let validate = server.url(&format!("/api/v1/validate?as_of={AS_OF}"));
    for _ in 0..2 {
        // A chunk that runs past its CPU bound.
        assert_error(
            &post(&batches, "text/csv", b"id\nP1\n"),
            500,
            "engine_timeout",
        );
        // A call that traps.
        assert_error(
            &post(&validate, "application/json", b"{}"),
            500,
            "engine_failed",
        );
    }
    assert_eq!(get(&server.url("/readyz")).0, 200);
    let (_, _, metrics) = get(&server.url("/metrics"));
    assert!(
        metrics.contains("clinval_engine_failures_total{kind=\"timeout\"} 2"),
        "{metrics}"
    );
    assert!(
        metrics.contains("clinval_engine_failures_total{kind=\"trap\"} 2"),
        "{metrics}"
    );
}

#[test]
fn metrics_count_requests_records_and_issues() {
    let server = Server::start(&["--workers", "2"]);
    let url = server.url(&format!("/api/v1/batches?as_of={AS_OF}"));
    assert_eq!(post(&url, "text/csv", &demo_csv()).0, 200);
    let (status, headers, text) = get(&server.url("/metrics"));
    assert_eq!(status, 200);
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    for expected in [
        "clinval_http_requests_total{method=\"POST\",route=\"/api/v1/batches\",status=\"200\"} 1",
        "clinval_http_request_duration_seconds_count{method=\"POST\",route=\"/api/v1/batches\",status=\"200\"} 1",
        "clinval_records_validated_total 18",
        "clinval_issues_total{code=\"duplicate\"} 1",
        "clinval_pool_size 2",
        "clinval_pool_busy 0",
        "clinval_pool_queued 0",
    ] {
        assert!(text.contains(expected), "{expected} in\n{text}");
    }
}

#[test]
fn request_ids_are_kept_or_made_and_logs_hold_no_patient_data() {
    let server = Server::start(&[]);
    let url = server.url(&format!("/api/v1/batches?as_of={AS_OF}&include=valid"));
    let (_, headers, _) = answer(
        agent()
            .post(&url)
            .header("content-type", "text/csv")
            .header("x-request-id", "trace-42")
            .send(&demo_csv()[..]),
    );
    assert_eq!(headers["x-request-id"], "trace-42");
    let (_, headers, _) = post(&url, "text/csv", &demo_csv());
    let made = headers["x-request-id"].to_str().unwrap().to_owned();
    assert_eq!(made.len(), 36, "a UUID: {made}");
    let (_, headers, _) = answer(
        agent()
            .get(&server.url("/healthz"))
            .header("x-request-id", "bad id\twith spaces")
            .call(),
    );
    assert_ne!(headers["x-request-id"], "bad id\twith spaces");
    let record = br#"{"id": "SECRET-ID-77", "name": "Zelda Secretname", "age": 17}"#;
    post(&server.url("/api/v1/validate"), "application/json", record);

    std::thread::sleep(Duration::from_millis(200));
    let logs = server.logs();
    let access: Vec<Value> = logs
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|l| l["target"] == "access")
        .collect();
    let traced = access
        .iter()
        .find(|l| l["span"]["request_id"] == "trace-42")
        .expect("an access line for trace-42");
    assert_eq!(traced["route"], "/api/v1/batches");
    assert_eq!(traced["status"], 200);
    assert!(traced["duration_ms"].as_f64().is_some());
    let csv = String::from_utf8(demo_csv()).unwrap();
    assert!(csv.contains("Mary Nguyen") && csv.contains("P1009") && csv.contains("Hanoi"));
    for secret in ["SECRET-ID-77", "Zelda", "Mary Nguyen", "P1009", "Hanoi"] {
        assert!(!logs.contains(secret), "{secret} leaked into the logs");
    }
}

#[test]
fn sigterm_lets_in_flight_work_finish_then_exits() {
    let mut server = Server::start(&[]);
    let path = format!("/api/v1/batches?as_of={AS_OF}");
    let mut slow = hold_the_instance(&server, &path);
    let pid = server.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    // Wait until the server stopped accepting, then finish the upload.
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(&server.address).is_ok() {
        assert!(Instant::now() < deadline, "still accepting after SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    }
    slow.send(b"P-last,Bob,50,2024-01-02,121/80\n").unwrap();
    let (status, body) = slow.finish();
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains(&format!("\"records\":{}", FIRST_ROWS + 1)),
        "{body}"
    );
    let exit = server.child.wait().unwrap();
    assert!(exit.success(), "{exit:?}");
}

#[test]
fn settings_come_from_file_then_environment_then_flags() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("clinval.toml");
    std::fs::write(&config, "workers = 3\nqueue = 7\nbody_limit = \"1KiB\"\n").unwrap();
    let server = Server::start_with(
        &["--config", config.to_str().unwrap(), "--body-limit", "2KiB"],
        &[("CLINVAL_WORKERS", "5")],
        None,
    );
    let (_, _, body) = get(&server.url("/readyz"));
    assert_eq!(json(&body)["workers"], 5, "env over file");
    assert_eq!(server.metric("clinval_pool_size"), 5.0);
    let url = server.url("/api/v1/batches");
    assert_eq!(
        post(&url, "text/csv", &[b'x'; 1500]).0,
        422,
        "flag over file: 1.5 KiB fits"
    );
    assert_eq!(post(&url, "text/csv", &[b'x'; 3000]).0, 413);

    std::fs::write(&config, "wrokers = 3\n").unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_clinval"))
        .args(["serve", "--config", config.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("wrokers"));

    let help = Command::new(env!("CARGO_BIN_EXE_clinval"))
        .args(["serve", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    for key in [
        "CLINVAL_LISTEN",
        "CLINVAL_WORKERS",
        "CLINVAL_QUEUE",
        "CLINVAL_BODY_LIMIT",
        "--config",
    ] {
        assert!(help.contains(key), "{key} in --help");
    }
}

#[test]
fn the_web_demo_and_the_module_it_runs_are_served() {
    let server = Server::start(&[]);
    for (path, kind) in [
        ("/", "text/html"),
        ("/batch.html", "text/html"),
        ("/assets/form.js", "text/javascript"),
        ("/assets/batch-worker.js", "text/javascript"),
        ("/assets/style.css", "text/css"),
        ("/pkg/clinval.js", "text/javascript"),
    ] {
        let (status, headers, body) = get(&server.url(path));
        assert_eq!(status, 200, "{path}");
        assert!(
            headers["content-type"].to_str().unwrap().starts_with(kind),
            "{path}"
        );
        assert!(
            headers["content-security-policy"]
                .to_str()
                .unwrap()
                .contains("'wasm-unsafe-eval'")
        );
        assert!(!body.is_empty());
    }
    let (_, _, version) = get(&server.url("/api/v1/version"));
    let version = json(&version);
    for (file, key, build) in [
        ("clinval_bg.wasm", "module", "compact"),
        ("clinval_full_bg.wasm", "fullModule", "full"),
    ] {
        let mut response = agent()
            .get(&server.url(&format!("/pkg/{file}")))
            .call()
            .unwrap();
        assert_eq!(response.headers()["content-type"], "application/wasm");
        let bytes = response
            .body_mut()
            .with_config()
            .limit(u64::MAX)
            .read_to_vec()
            .unwrap();
        assert_eq!(
            version[key]["sha256"],
            sha256_hex(&bytes).as_str(),
            "the bytes the server runs"
        );
        assert_eq!(version[key]["build"], build);
    }
    assert_error(&get(&server.url("/assets/nope.js")), 404, "not_found");
    assert_error(&get(&server.url("/demo.json")), 404, "not_found");

    let demo = Server::start(&["--demo"]);
    let (status, _, body) = get(&demo.url("/demo.json"));
    assert_eq!(status, 200);
    assert_eq!(
        json(&body)["token"],
        demo.demo_token.clone().unwrap().as_str()
    );
}

#[test]
fn protocols_from_a_directory_are_served_and_bad_ones_stop_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = root().join("tests/fixtures/parity");
    for name in ["labs", "table-schema"] {
        std::fs::copy(
            fixtures.join(format!("{name}.protocol.json")),
            dir.path().join(format!("{name}.json")),
        )
        .unwrap();
    }
    // A plain Table Schema without a `name`: served as its file is named.
    std::fs::write(
        dir.path().join("visits.json"),
        r#"{"fields": [{"name": "id", "type": "integer"}, {"name": "day", "type": "date"}]}"#,
    )
    .unwrap();
    // A REDCap data dictionary: served under its file's name.
    let vignette = root().join("../shared/data/redcap/redcapr-vignette-repeating");
    std::fs::copy(
        vignette.join("dictionary.csv"),
        dir.path().join("vignette.csv"),
    )
    .unwrap();
    let server = Server::start(&["--protocols-dir", dir.path().to_str().unwrap()]);
    let url = server.url("/api/v1/batches?protocol=vignette&as_of=2026-12-01");
    let (status, _, body) = post(
        &url,
        "text/csv",
        &std::fs::read(vignette.join("data.csv")).unwrap(),
    );
    assert_eq!(status, 200, "{body}");
    let summary = &json(&body)["summary"];
    assert_eq!(
        (&summary["records"], &summary["invalid"], &summary["issues"]),
        (&99.into(), &14.into(), &36.into()),
        "{body}"
    );
    assert_eq!(
        summary["byCode"],
        serde_json::json!({"hidden_has_value": 4, "required": 32})
    );
    let url = server.url(&format!("/api/v1/batches?protocol=visits&as_of={AS_OF}"));
    let (status, _, body) = post(&url, "text/csv", b"id,day\n1,2024-01-02\nx,2024-13-01\n");
    assert_eq!(status, 200, "{body}");
    assert_eq!(json(&body)["summary"]["invalid"], 1, "{body}");
    let (_, _, body) = get(&server.url("/api/v1/protocols"));
    assert!(
        json(&body)["protocols"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "labs")
    );
    let (_, _, version) = get(&server.url("/api/v1/version"));
    let version = json(&version);
    // Each protocol runs in the compact module when it can: the bytes a
    // browser runs for it. The Table Schema fixture needs the full one.
    for (file, name, build) in [
        ("labs", "labs", "module"),
        ("table-schema", "every-type", "fullModule"),
    ] {
        let url = server.url(&format!("/api/v1/batches?protocol={name}&as_of={AS_OF}"));
        let csv = std::fs::read(fixtures.join(format!("{file}.csv"))).unwrap();
        let (status, _, body) = post(&url, "text/csv", &csv);
        assert_eq!(status, 200, "{body}");
        let report = json(&body);
        assert_eq!(report["protocol"]["name"], name);
        assert_eq!(
            report["module"]["sha256"], version[build]["sha256"],
            "{name}"
        );
    }
    drop(server);

    let refused = |file: &str| {
        let output = Command::new(env!("CARGO_BIN_EXE_clinval"))
            .args(["serve", "--listen", "127.0.0.1:0", "--protocols-dir"])
            .arg(dir.path())
            .arg("--data-dir")
            .arg(dir.path().join("data"))
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2));
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        std::fs::remove_file(dir.path().join(file)).unwrap();
        stderr
    };
    std::fs::write(dir.path().join("records.csv"), "id,day\n1,2024-01-02\n").unwrap();
    let stderr = refused("records.csv");
    assert!(
        stderr.contains("records.csv") && stderr.contains("REDCap data dictionary"),
        "{stderr}"
    );
    std::fs::write(
        dir.path().join("twice.csv"),
        "Variable / Field Name,Form Name,Field Type,Field Label\nid,f,text,ID\nid,f,text,ID\n",
    )
    .unwrap();
    let stderr = refused("twice.csv");
    assert!(
        stderr.contains("line 3, field `id`: defined twice"),
        "{stderr}"
    );

    std::fs::write(
        dir.path().join("broken.json"),
        r#"{"fields": [{"name": "a", "type": "integr"}]}"#,
    )
    .unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_clinval"))
        .args(["serve", "--listen", "127.0.0.1:0", "--protocols-dir"])
        .arg(dir.path())
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("broken.json") && stderr.contains("fields[0].type"),
        "{stderr}"
    );
}

/// `GET path` over a raw connection with `Host: host`; the status and body.
fn get_as_host(address: &str, path: &str, host: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(address).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let status = answer[9..12].parse().unwrap();
    let body = answer
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_owned();
    (status, body)
}

/// F6: a page on a rebound name (DNS rebinding) reaches 127.0.0.1 with its
/// own Host header; it gets 421 and no demo token, while localhost, IP
/// addresses and the configured names are answered.
#[test]
fn only_allowed_hosts_are_answered_and_the_demo_token_stays_home() {
    let demo = Server::start(&["--demo"]);
    let (status, body) = get_as_host(&demo.address, "/demo.json", "rebind.evil.example");
    assert_eq!(status, 421, "{body}");
    assert!(
        body.contains("host_not_allowed") && !body.contains("clv_"),
        "{body}"
    );
    for host in ["localhost:8080", &demo.address, "[::1]"] {
        let (status, body) = get_as_host(&demo.address, "/demo.json", host);
        assert_eq!(status, 200, "{host}: {body}");
    }
    drop(demo);

    let named = Server::start(&["--allowed-hosts", "clinval.example.org"]);
    assert_eq!(
        get_as_host(&named.address, "/healthz", "clinval.example.org").0,
        200
    );
    assert_eq!(
        get_as_host(&named.address, "/healthz", "other.example.org").0,
        421
    );
    drop(named);

    let output = Command::new(env!("CARGO_BIN_EXE_clinval"))
        .args([
            "serve",
            "--demo",
            "--allowed-hosts",
            "*",
            "--listen",
            "127.0.0.1:0",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("allowed_hosts"));
}

/// F2: bytes that are not valid in the encoding read are an `encoding`
/// issue of their record, with the byte offset, never read wholesale as
/// another encoding ("Zoë" would become "Zo毛", and both records come back
/// valid) nor replaced silently; the report says how the file was read,
/// and the encoding can be given.
#[test]
fn bytes_invalid_in_the_encoding_are_an_issue_of_their_record_never_a_silent_change() {
    let protocol = r#"{"fields": [{"name": "id"}, {"name": "name"}], "fieldsMatch": "equal"}"#;
    let gbk =
        r#"{"name": "gbk", "encoding": "gb18030", "fields": [{"name": "id"}, {"name": "name"}]}"#;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("names.json"), protocol).unwrap();
    std::fs::write(dir.path().join("gbk.json"), gbk).unwrap();
    let server = Server::start(&["--protocols-dir", dir.path().to_str().unwrap()]);
    let url = |query: &str| server.url(&format!("/api/v1/batches?as_of={AS_OF}&{query}"));
    let report = |query: &str, csv: &[u8]| {
        let (status, _, body) = post(&url(query), "text/csv", csv);
        assert_eq!(status, 200, "{body}");
        json(&body)
    };
    let zoe = report("protocol=names", b"id,name\n1,Zo\xC3\xAB\n2,Zo\xFF\xFE\n");
    assert_eq!(zoe["summary"]["valid"], 1);
    assert_eq!(zoe["summary"]["encoding"], "UTF-8");
    let issue = &zoe["issues"][0];
    assert_eq!(
        (
            issue["row"].clone(),
            issue["field"].clone(),
            issue["code"].clone()
        ),
        (2.into(), "name".into(), "encoding".into())
    );
    assert!(
        issue["message"]
            .as_str()
            .unwrap()
            .contains("at byte 19 are not valid UTF-8"),
        "{issue}"
    );
    assert_eq!(
        issue["value"],
        Value::Null,
        "the garbled text is not echoed"
    );
    // Latin-1: neither encoding, read as the one it breaks less, flagged.
    let latin1 = report("protocol=names", b"id,name\n1,Jos\xE9 M\xFCller\n");
    assert_eq!(
        (
            latin1["summary"]["invalid"].clone(),
            latin1["issues"][0]["code"].clone()
        ),
        (1.into(), "encoding".into())
    );
    // Given: the query parameter, or the protocol's key.
    let gb = gbk_names();
    let detected_wrong = report("protocol=names&encoding=utf-8", &gb);
    assert_eq!(detected_wrong["summary"]["invalid"], 1);
    let given = report("protocol=names&encoding=gb18030", &gb);
    assert_eq!(
        (
            given["summary"]["valid"].clone(),
            given["summary"]["encoding"].clone()
        ),
        (1.into(), "GB18030".into())
    );
    let by_protocol = report("protocol=gbk", &gb);
    assert_eq!(by_protocol["summary"]["encoding"], "GB18030");
    assert_error(
        &post(&url("encoding=latin-1"), "text/csv", b"id\n"),
        400,
        "bad_query",
    );
}

/// `id,name\n1,李娜\n` in GBK.
fn gbk_names() -> Vec<u8> {
    let mut bytes = b"id,name\n1,".to_vec();
    bytes.extend_from_slice(&[0xC0, 0xEE, 0xC4, 0xC8]);
    bytes.push(b'\n');
    bytes
}

/// F1: an upload that sends a first chunk and then a few bytes now and
/// then (never pausing past `body_timeout`) is cut off once its average
/// pace falls below `body_min_rate`, and its instance comes back; a
/// trickled `/validate` body is cut off the same way.
#[test]
fn a_trickling_body_is_cut_off_and_holds_no_worker() {
    let server = Server::start(&[
        "--workers",
        "1",
        "--body-timeout",
        "1",
        "--body-min-rate",
        "512KiB",
    ]);
    let path = format!("/api/v1/batches?as_of={AS_OF}");
    let mut trickle = hold_the_instance(&server, &path);
    for _ in 0..40 {
        std::thread::sleep(Duration::from_millis(300));
        if trickle.send(b"P9,A,30,2024-01-01,120/80\n").is_err() {
            break; // answered and closed
        }
    }
    let (status, body) = trickle.answer();
    assert_eq!(status, 408, "{body}");
    assert!(
        body.contains("body_too_slow") && body.contains("body_min_rate"),
        "{body}"
    );
    server.wait_for_metric("clinval_pool_busy", 0.0);
    assert_eq!(post(&server.url(&path), "text/csv", &demo_csv()).0, 200);

    let mut stream = TcpStream::connect(&server.address).unwrap();
    write!(
        stream,
        "POST /api/v1/validate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n"
    )
    .unwrap();
    for _ in 0..40 {
        std::thread::sleep(Duration::from_millis(300));
        if stream.write_all(b"     ").is_err() {
            break;
        }
    }
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("body_too_slow"), "{answer}");
}

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// Workbooks by their media types give the verdicts `clinval validate`
/// gives (the full module reads them), with the sheet asked for; a
/// workbook over `workbook_limit` is 413, an unreadable one 422.
#[test]
fn workbooks_are_validated_by_their_media_types() {
    let server = Server::start(&[]);
    let dir = root().join("tests/fixtures/workbooks");
    let version = json(&get(&server.url("/api/v1/version")).2);
    for (file, media) in [
        ("patients.xlsx", XLSX),
        ("patients.xls", "application/vnd.ms-excel"),
        (
            "patients-zh.ods",
            "application/vnd.oasis.opendocument.spreadsheet",
        ),
    ] {
        let path = dir.join(file);
        let (_, issues) = native(&path);
        let url = server.url(&format!("/api/v1/batches?as_of={AS_OF}"));
        let (status, _, body) = post(&url, media, &std::fs::read(&path).unwrap());
        assert_eq!(status, 200, "{file}: {body}");
        let report = json(&body);
        assert_eq!(report["issues"].as_array().unwrap(), &issues, "{file}");
        assert!(report["issues"][0]["cell"].as_str().unwrap().contains('!'));
        assert_eq!(report["module"]["sha256"], version["fullModule"]["sha256"]);
        assert_eq!(
            report["summary"]["workbook"]["sheets"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
    }
    let types = std::fs::read(dir.join("types.xlsx")).unwrap();
    let labs = server.url(&format!("/api/v1/batches?as_of={AS_OF}&sheet=labs"));
    // The patient protocol on the labs sheet: its header lacks columns.
    let answer = post(&labs, XLSX, &types);
    assert_error(&answer, 422, "invalid_input");
    assert!(
        answer.2.contains("the header lacks column(s)"),
        "{}",
        answer.2
    );
    let nope = server.url(&format!("/api/v1/batches?as_of={AS_OF}&sheet=nope"));
    let answer = post(&nope, XLSX, &types);
    assert_error(&answer, 422, "invalid_input");
    assert!(answer.2.contains("no sheet `nope`"), "{}", answer.2);
    let answer = post(
        &server.url("/api/v1/batches?sheet=1"),
        "text/csv",
        &demo_csv(),
    );
    assert_error(&answer, 400, "bad_query");
    let encrypted = std::fs::read(dir.join("encrypted.xlsx")).unwrap();
    let answer = post(&server.url("/api/v1/batches"), XLSX, &encrypted);
    assert_error(&answer, 422, "invalid_input");
    assert!(answer.2.contains("password-protected"), "{}", answer.2);
    // A damaged xls the reader fails on (a trap in the module): 422 with
    // the reason, and the next workbook is read by a fresh instance.
    let damaged = std::fs::read(dir.join("damaged.xls")).unwrap();
    let answer = post(
        &server.url("/api/v1/batches"),
        "application/vnd.ms-excel",
        &damaged,
    );
    assert_error(&answer, 422, "invalid_input");
    assert!(
        answer.2.contains("its reader failed on a damaged part"),
        "{}",
        answer.2
    );
    let again = post(
        &server.url(&format!("/api/v1/batches?as_of={AS_OF}")),
        XLSX,
        &std::fs::read(dir.join("patients.xlsx")).unwrap(),
    );
    assert_eq!(again.0, 200, "{}", again.2);
    let small = Server::start(&["--workbook-limit", "30KiB"]);
    let big = std::fs::read(dir.join("patients.xls")).unwrap();
    assert!(big.len() > 30 << 10);
    let answer = post(
        &small.url("/api/v1/batches"),
        "application/vnd.ms-excel",
        &big,
    );
    assert_error(&answer, 413, "workbook_too_large");
    assert!(answer.2.contains("30720-byte limit"), "{}", answer.2);
}
