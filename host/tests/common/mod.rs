//! What the server's end-to-end tests share: a real `clinval serve` on
//! 127.0.0.1 in a fresh data dir, and a plain HTTP client.

#![allow(dead_code, reason = "each test file uses part of this")]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use serde_json::Value;

pub const AS_OF: &str = "2025-06-30";

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A running `clinval serve`, killed when dropped.
pub struct Server {
    pub child: Child,
    pub base: String,
    pub address: String,
    logs: Arc<Mutex<Vec<String>>>,
    /// The demo token, when started with `--demo`.
    pub demo_token: Option<String>,
    data: PathBuf,
    _data: Option<tempfile::TempDir>,
}

impl Server {
    pub fn start(args: &[&str]) -> Server {
        Server::start_with(args, &[], None)
    }

    /// Starts a server with `args` and environment `env` on the data dir
    /// `data` (a fresh temporary one when `None`).
    pub fn start_with(args: &[&str], env: &[(&str, &str)], data: Option<&Path>) -> Server {
        let fresh = data.is_none().then(|| tempfile::tempdir().unwrap());
        let data_dir =
            data.map_or_else(|| fresh.as_ref().unwrap().path().to_owned(), Path::to_owned);
        let mut child = Command::new(env!("CARGO_BIN_EXE_clinval"))
            .arg("serve")
            .args(["--listen", "127.0.0.1:0", "--log-format", "json"])
            .arg("--data-dir")
            .arg(&data_dir)
            .args(args)
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start clinval serve");
        let (stdout, stderr) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
        let logs = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = mpsc::channel();
        let kept = Arc::clone(&logs);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Ok(entry) = serde_json::from_str::<Value>(&line)
                    && entry["message"] == "listening"
                {
                    let _ = tx.send(entry["address"].as_str().unwrap_or_default().to_owned());
                }
                kept.lock().unwrap().push(line);
            }
        });
        let (token_tx, token_rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(token) = line.strip_prefix("demo token (submit, read): ") {
                    let _ = token_tx.send(token.to_owned());
                }
            }
        });
        let address = match rx.recv_timeout(Duration::from_secs(120)) {
            Ok(address) => address,
            Err(_) => {
                let _ = child.kill();
                panic!("the server did not start: {:?}", logs.lock().unwrap());
            }
        };
        let demo_token = args.contains(&"--demo").then(|| {
            token_rx
                .recv_timeout(Duration::from_secs(10))
                .expect("a demo token")
        });
        Server {
            child,
            base: format!("http://{address}"),
            address,
            logs,
            demo_token,
            data: data_dir,
            _data: fresh,
        }
    }

    /// The data dir.
    pub fn data_dir(&self) -> &Path {
        &self.data
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn logs(&self) -> String {
        self.logs.lock().unwrap().join("\n")
    }

    /// The value of an unlabelled metric.
    pub fn metric(&self, name: &str) -> f64 {
        let (_, _, text) = get(&self.url("/metrics"));
        text.lines()
            .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
            .unwrap_or_else(|| panic!("no metric {name} in\n{text}"))
    }

    /// Waits until the metric `name` reads `value`.
    pub fn wait_for_metric(&self, name: &str, value: f64) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.metric(name) != value {
            assert!(Instant::now() < deadline, "{name} never became {value}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}

pub type Answer = (u16, ureq::http::HeaderMap, String);

pub fn answer(response: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Answer {
    let mut response = response.expect("an HTTP answer");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response
        .body_mut()
        .with_config()
        .limit(u64::MAX)
        .read_to_string()
        .expect("body");
    (status, headers, body)
}

pub fn get(url: &str) -> Answer {
    answer(agent().get(url).call())
}

pub fn post(url: &str, content_type: &str, body: &[u8]) -> Answer {
    answer(
        agent()
            .post(url)
            .header("content-type", content_type)
            .send(body),
    )
}

/// A request with a bearer token.
pub fn call(
    method: &str,
    url: &str,
    token: Option<&str>,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> Answer {
    let request = ureq::http::Request::builder().method(method).uri(url);
    let request = match token {
        Some(token) => request.header("authorization", format!("Bearer {token}")),
        None => request,
    };
    let request = headers
        .iter()
        .fold(request, |r, (name, value)| r.header(*name, *value));
    let request = match body {
        Some(body) => request
            .header("content-type", "application/json")
            .body(body.to_vec())
            .unwrap(),
        None => request.body(Vec::new()).unwrap(),
    };
    answer(agent().run(request))
}

/// `clinval token create` with `scopes` on the store `store` names
/// (`--data-dir DIR` or `--store URL`); the token it prints.
pub fn create_token(store: &[&str], scopes: &[&str]) -> String {
    let mut command = Command::new(env!("CARGO_BIN_EXE_clinval"));
    command.args(["token", "create"]).args(store);
    for scope in scopes {
        command.args(["--scope", scope]);
    }
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

pub fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// Asserts `answer` is the JSON error `code` with `status`.
pub fn assert_error(answer: &Answer, status: u16, code: &str) {
    assert_eq!(answer.0, status, "{}", answer.2);
    let body = json(&answer.2);
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty())
    );
}
pub mod postgres;
