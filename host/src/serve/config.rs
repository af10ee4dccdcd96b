//! `clinval serve` settings: a TOML file, overridden by `CLINVAL_*`
//! environment variables, overridden by flags. With none of them the
//! defaults work.
//!
//! clap merges flags over environment variables (each flag names its
//! variable); the file then fills in whatever neither gave.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde::Deserialize;

use crate::store::StoreLocation;

/// Settings of `clinval serve`. Every flag is also a key of the `--config`
/// file (the name without `--`, `-` as `_`) and an environment variable
/// (`CLINVAL_` + the key in capitals).
#[derive(Debug, Default, clap::Args, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, env = "CLINVAL_LISTEN", value_name = "ADDR:PORT")]
    pub listen: Option<SocketAddr>,

    /// Wasm instances validating at once: the pool's size [default: the
    /// number of cores].
    #[arg(long, env = "CLINVAL_WORKERS", value_name = "N")]
    pub workers: Option<u32>,

    /// Requests that may wait for a free instance; beyond them the server
    /// answers 503 with Retry-After [default: 1024].
    #[arg(long, env = "CLINVAL_QUEUE", value_name = "N")]
    pub queue: Option<usize>,

    /// Longest wait in the queue before 503, in seconds [default: 30].
    #[arg(long, env = "CLINVAL_QUEUE_TIMEOUT", value_name = "SECS")]
    pub queue_timeout: Option<u64>,

    /// The Retry-After of a 503, in seconds [default: 1].
    #[arg(long, env = "CLINVAL_RETRY_AFTER", value_name = "SECS")]
    pub retry_after: Option<u64>,

    /// The compact module to run [default: the one built into this
    /// binary].
    #[arg(long, env = "CLINVAL_MODULE", value_name = "FILE")]
    pub module: Option<PathBuf>,

    /// The full module, for protocols the compact one cannot run
    /// [default: the one built into this binary].
    #[arg(long, env = "CLINVAL_FULL_MODULE", value_name = "FILE")]
    pub full_module: Option<PathBuf>,

    /// Where the compiled module is cached [default:
    /// $XDG_CACHE_HOME/clinval or ~/.cache/clinval].
    #[arg(long, env = "CLINVAL_CACHE_DIR", value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,

    /// A directory of protocol JSON files served beside the built-in ones
    /// (each under its own `name`) [default: none].
    #[arg(long, env = "CLINVAL_PROTOCOLS_DIR", value_name = "DIR")]
    pub protocols_dir: Option<PathBuf>,

    /// Largest request body, e.g. `1GiB`, `200MiB` or bytes [default:
    /// 1GiB].
    #[arg(long, env = "CLINVAL_BODY_LIMIT", value_name = "SIZE")]
    pub body_limit: Option<String>,

    /// Largest workbook (xlsx, xls, ods) a batch may be, e.g. `100MiB`
    /// [default: 100MiB]: a workbook is held whole in an instance's
    /// memory while it is read.
    #[arg(long, env = "CLINVAL_WORKBOOK_LIMIT", value_name = "SIZE")]
    pub workbook_limit: Option<String>,

    /// Linear memory of one wasm instance, e.g. `512MiB` [default: 512MiB].
    #[arg(long, env = "CLINVAL_INSTANCE_MEMORY", value_name = "SIZE")]
    pub instance_memory: Option<String>,

    /// CPU time one call into the module may take, in milliseconds
    /// [default: 10000].
    #[arg(long, env = "CLINVAL_CALL_TIMEOUT_MS", value_name = "MS")]
    pub call_timeout_ms: Option<u64>,

    /// Time a client has to send a request's headers, in seconds
    /// [default: 10].
    #[arg(long, env = "CLINVAL_HEADER_TIMEOUT", value_name = "SECS")]
    pub header_timeout: Option<u64>,

    /// Longest pause inside a request body before the request is dropped
    /// with 408, in seconds [default: 30].
    #[arg(long, env = "CLINVAL_BODY_TIMEOUT", value_name = "SECS")]
    pub body_timeout: Option<u64>,

    /// Slowest average a request body may arrive at once `body_timeout`
    /// has passed since it began, per second, e.g. `16KiB`; slower bodies
    /// are dropped with 408, so that a client trickling bytes cannot hold
    /// a worker; 0 turns the check off [default: 16KiB].
    #[arg(long, env = "CLINVAL_BODY_MIN_RATE", value_name = "SIZE")]
    pub body_min_rate: Option<String>,

    /// On SIGTERM/SIGINT, how long in-flight requests may finish, in
    /// seconds [default: 30].
    #[arg(long, env = "CLINVAL_SHUTDOWN_GRACE", value_name = "SECS")]
    pub shutdown_grace: Option<u64>,

    /// Where submissions, projects and tokens are stored without
    /// `--store`: SQLite in this directory [default: ./clinval-data].
    #[arg(long, env = "CLINVAL_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// A PostgreSQL database to store them in instead
    /// (`postgres://user@host:port/db`), shared by any number of replicas
    /// [default: none: SQLite under --data-dir].
    #[arg(long, env = "CLINVAL_STORE", value_name = "URL")]
    pub store: Option<String>,

    /// Background workers processing submissions; 0 makes a node that only
    /// accepts them, for another node to process [default: 2].
    #[arg(long, env = "CLINVAL_PROCESS_WORKERS", value_name = "N")]
    pub process_workers: Option<u32>,

    /// How long a worker's claim on a submission holds, in seconds: when
    /// its process dies, the submission is due again after this (with a
    /// shared store, on another replica) [default: 120].
    #[arg(long, env = "CLINVAL_PROCESS_LEASE", value_name = "SECS")]
    pub process_lease: Option<u64>,

    /// Attempts at processing a submission before it is marked failed
    /// [default: 5].
    #[arg(long, env = "CLINVAL_MAX_ATTEMPTS", value_name = "N")]
    pub max_attempts: Option<u32>,

    /// First retry delay of a failed processing attempt, doubled on each
    /// further attempt (at most 5 minutes), in milliseconds [default: 1000].
    #[arg(long, env = "CLINVAL_RETRY_BASE_MS", value_name = "MS")]
    pub retry_base_ms: Option<u64>,

    /// Require a token with the `read` scope for the validation endpoints
    /// too [default: false: they are open].
    #[arg(long, env = "CLINVAL_PROTECT_VALIDATION", value_name = "BOOL")]
    pub protect_validation: Option<bool>,

    /// How long a token, once checked, is trusted without asking the store
    /// again: the longest a revoked token keeps working, in seconds; 0
    /// checks every request [default: 30].
    #[arg(long, env = "CLINVAL_TOKEN_CACHE_TTL", value_name = "SECS")]
    pub token_cache_ttl: Option<u64>,

    /// Log format [default: json].
    #[arg(long, env = "CLINVAL_LOG_FORMAT", value_name = "json|text")]
    pub log_format: Option<LogFormat>,

    /// Host names the server answers to, besides `localhost` and IP
    /// addresses (comma-separated; `.example.org` also takes its
    /// subdomains); `*` answers any (not with `--demo`). Other `Host`
    /// headers get 421, so that a web page on another name cannot reach
    /// the server through DNS rebinding [default: none].
    #[arg(
        long,
        env = "CLINVAL_ALLOWED_HOSTS",
        value_name = "NAMES",
        value_delimiter = ','
    )]
    pub allowed_hosts: Option<Vec<String>>,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// One JSON object per line (production).
    Json,
    /// Human-readable lines.
    Text,
}

/// How slowly a request body may arrive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyPace {
    /// Longest pause between two pieces (`body_timeout`).
    pub pause: Duration,
    /// Slowest average, bytes a second, once `pause` has passed since the
    /// body began (`body_min_rate`; 0: not checked).
    pub min_rate: u64,
}

/// The `Host` headers the server answers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AllowedHosts {
    /// Any (`allowed_hosts = ["*"]`).
    Any,
    /// `localhost` (and `*.localhost`), IP addresses, and these names
    /// (lower-case; one starting with `.` also takes its subdomains).
    Names(Vec<String>),
}

impl AllowedHosts {
    /// Whether a request whose `Host` header is `host` (with or without
    /// a port) is answered.
    pub fn allow(&self, host: &str) -> bool {
        let names = match self {
            AllowedHosts::Any => return true,
            AllowedHosts::Names(names) => names,
        };
        let name = host_name(host).to_ascii_lowercase();
        let name = name.strip_suffix('.').unwrap_or(&name);
        name == "localhost"
            || name.ends_with(".localhost")
            || name
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<std::net::IpAddr>()
                .is_ok()
            || names.iter().any(|allowed| match allowed.strip_prefix('.') {
                Some(domain) => name == domain || name.ends_with(allowed.as_str()),
                None => name == allowed,
            })
    }
}

/// A `Host` header without its port: `[::1]:8080` → `[::1]`.
fn host_name(host: &str) -> &str {
    if host.starts_with('[') {
        return host.find(']').map_or(host, |end| &host[..=end]);
    }
    match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    }
}

/// The settings resolved to values.
#[derive(Debug, Clone)]
pub struct Config {
    /// Listening address.
    pub listen: SocketAddr,
    /// Pool size.
    pub workers: u32,
    /// Queue length.
    pub queue: usize,
    /// Longest queue wait.
    pub queue_timeout: Duration,
    /// Retry-After of a 503.
    pub retry_after: Duration,
    /// `--module`, if any.
    pub module: Option<PathBuf>,
    /// `--full-module`, if any.
    pub full_module: Option<PathBuf>,
    /// Compiled-module cache.
    pub cache_dir: Option<PathBuf>,
    /// Extra protocols.
    pub protocols_dir: Option<PathBuf>,
    /// Largest body, bytes.
    pub body_limit: u64,
    /// Largest workbook, bytes.
    pub workbook_limit: u64,
    /// Instance memory, bytes.
    pub instance_memory: usize,
    /// CPU bound of one call.
    pub call_timeout: Duration,
    /// Header read timeout.
    pub header_timeout: Duration,
    /// How slowly a body may arrive.
    pub body_pace: BodyPace,
    /// Shutdown grace period.
    pub shutdown_grace: Duration,
    /// Log format.
    pub log_format: LogFormat,
    /// Where state is stored.
    pub store: StoreLocation,
    /// Background processing workers.
    pub process_workers: u32,
    /// Processing attempts before failure.
    pub max_attempts: u32,
    /// How long a processing claim holds.
    pub process_lease: Duration,
    /// First retry delay.
    pub retry_base: Duration,
    /// Validation endpoints need a `read` token.
    pub protect_validation: bool,
    /// How long a checked token is trusted.
    pub token_cache_ttl: Duration,
    /// The `Host` headers answered.
    pub allowed_hosts: AllowedHosts,
}

impl Settings {
    /// Reads a `--config` file.
    pub fn from_file(path: &Path) -> Result<Settings> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read config {}", path.display()))?;
        toml::from_str(&text).with_context(|| format!("config {}", path.display()))
    }

    /// Fills every setting `self` lacks from `lower`.
    pub fn or(self, lower: Settings) -> Settings {
        Settings {
            listen: self.listen.or(lower.listen),
            workers: self.workers.or(lower.workers),
            queue: self.queue.or(lower.queue),
            queue_timeout: self.queue_timeout.or(lower.queue_timeout),
            retry_after: self.retry_after.or(lower.retry_after),
            module: self.module.or(lower.module),
            full_module: self.full_module.or(lower.full_module),
            cache_dir: self.cache_dir.or(lower.cache_dir),
            protocols_dir: self.protocols_dir.or(lower.protocols_dir),
            body_limit: self.body_limit.or(lower.body_limit),
            workbook_limit: self.workbook_limit.or(lower.workbook_limit),
            instance_memory: self.instance_memory.or(lower.instance_memory),
            call_timeout_ms: self.call_timeout_ms.or(lower.call_timeout_ms),
            header_timeout: self.header_timeout.or(lower.header_timeout),
            body_timeout: self.body_timeout.or(lower.body_timeout),
            body_min_rate: self.body_min_rate.or(lower.body_min_rate),
            shutdown_grace: self.shutdown_grace.or(lower.shutdown_grace),
            log_format: self.log_format.or(lower.log_format),
            data_dir: self.data_dir.or(lower.data_dir),
            store: self.store.or(lower.store),
            process_workers: self.process_workers.or(lower.process_workers),
            max_attempts: self.max_attempts.or(lower.max_attempts),
            process_lease: self.process_lease.or(lower.process_lease),
            retry_base_ms: self.retry_base_ms.or(lower.retry_base_ms),
            protect_validation: self.protect_validation.or(lower.protect_validation),
            token_cache_ttl: self.token_cache_ttl.or(lower.token_cache_ttl),
            allowed_hosts: self.allowed_hosts.or(lower.allowed_hosts),
        }
    }

    /// Applies the defaults and checks the values.
    pub fn resolve(self) -> Result<Config> {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let workers = self
            .workers
            .unwrap_or_else(|| u32::try_from(cores).unwrap_or(1));
        if workers == 0 {
            bail!("workers must be at least 1");
        }
        let secs = |value: Option<u64>, default: u64| Duration::from_secs(value.unwrap_or(default));
        let instance_memory = parse_size(self.instance_memory.as_deref().unwrap_or("512MiB"))
            .context("instance_memory")?;
        Ok(Config {
            listen: self
                .listen
                .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080))),
            workers,
            queue: self.queue.unwrap_or(1024),
            queue_timeout: secs(self.queue_timeout, 30),
            retry_after: secs(self.retry_after, 1),
            module: self.module,
            full_module: self.full_module,
            cache_dir: self.cache_dir.or_else(crate::wasm_host::default_cache_dir),
            protocols_dir: self.protocols_dir,
            body_limit: parse_size(self.body_limit.as_deref().unwrap_or("1GiB"))
                .context("body_limit")?,
            workbook_limit: parse_size(self.workbook_limit.as_deref().unwrap_or("100MiB"))
                .context("workbook_limit")?,
            instance_memory: usize::try_from(instance_memory)
                .context("instance_memory is too large")?,
            call_timeout: Duration::from_millis(self.call_timeout_ms.unwrap_or(10_000).max(1)),
            header_timeout: secs(self.header_timeout, 10),
            body_pace: BodyPace {
                pause: secs(self.body_timeout, 30),
                min_rate: parse_size(self.body_min_rate.as_deref().unwrap_or("16KiB"))
                    .context("body_min_rate")?,
            },
            shutdown_grace: secs(self.shutdown_grace, 30),
            log_format: self.log_format.unwrap_or(LogFormat::Json),
            store: StoreLocation::parse(
                self.store.as_deref(),
                &self
                    .data_dir
                    .unwrap_or_else(|| PathBuf::from("clinval-data")),
            )?,
            process_workers: self.process_workers.unwrap_or(2),
            max_attempts: self.max_attempts.unwrap_or(5).max(1),
            process_lease: secs(self.process_lease, 120).max(Duration::from_secs(1)),
            retry_base: Duration::from_millis(self.retry_base_ms.unwrap_or(1000)),
            protect_validation: self.protect_validation.unwrap_or(false),
            token_cache_ttl: secs(self.token_cache_ttl, 30),
            allowed_hosts: allowed_hosts(self.allowed_hosts.unwrap_or_default())?,
        })
    }
}

/// `allowed_hosts` as given: `*` alone, or host names.
fn allowed_hosts(given: Vec<String>) -> Result<AllowedHosts> {
    let names: Vec<String> = given
        .iter()
        .map(|n| n.trim().to_ascii_lowercase())
        .filter(|n| !n.is_empty())
        .collect();
    if names.iter().any(|n| n == "*") {
        if names.len() > 1 {
            bail!("allowed_hosts: `*` (any host) stands alone");
        }
        return Ok(AllowedHosts::Any);
    }
    if let Some(bad) = names.iter().find(|n| {
        !n.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.".contains(&b))
    }) {
        bail!("allowed_hosts: `{bad}` is not a host name");
    }
    Ok(AllowedHosts::Names(names))
}

/// Parses `1GiB`, `200MiB`, `64KiB`, `1GB`, `10MB`, `4096` (bytes).
pub fn parse_size(text: &str) -> Result<u64> {
    let text = text.trim();
    let digits = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(digits);
    let number: u64 = number
        .parse()
        .with_context(|| format!("`{text}` is not a size (e.g. 1GiB, 200MiB, 4096)"))?;
    let scale: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" => 1_000,
        "kib" => 1 << 10,
        "m" | "mb" => 1_000_000,
        "mib" => 1 << 20,
        "g" | "gb" => 1_000_000_000,
        "gib" => 1 << 30,
        other => bail!("unknown size unit `{other}` in `{text}` (use KiB, MiB, GiB, KB, MB, GB)"),
    };
    number
        .checked_mul(scale)
        .with_context(|| format!("`{text}` is too large"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_are_localhost_ip_addresses_and_the_names_given() {
        let hosts = allowed_hosts(vec!["clinval.example.org".into(), ".trial.org".into()]).unwrap();
        for host in [
            "localhost",
            "localhost:8080",
            "LOCALHOST.",
            "app.localhost",
            "127.0.0.1:8080",
            "10.0.0.7",
            "[::1]:8080",
            "clinval.example.org",
            "Clinval.Example.org:443",
            "trial.org",
            "site1.trial.org",
        ] {
            assert!(hosts.allow(host), "{host}");
        }
        for host in [
            "rebind.evil.example",
            "rebind.evil.example:8080",
            "localhost.evil.example",
            "example.org",
            "eviltrial.org",
            "",
        ] {
            assert!(!hosts.allow(host), "{host}");
        }
        assert_eq!(allowed_hosts(vec!["*".into()]).unwrap(), AllowedHosts::Any);
        assert!(AllowedHosts::Any.allow("anything.example"));
        assert!(allowed_hosts(vec!["*".into(), "a.org".into()]).is_err());
        assert!(allowed_hosts(vec!["a.org/x".into()]).is_err());
    }

    #[test]
    fn sizes_take_binary_and_decimal_units() {
        assert_eq!(parse_size("1GiB").unwrap(), 1 << 30);
        assert_eq!(parse_size("200 MiB").unwrap(), 200 << 20);
        assert_eq!(parse_size("10MB").unwrap(), 10_000_000);
        assert_eq!(parse_size("4096").unwrap(), 4096);
        assert!(parse_size("lots").is_err());
        assert!(parse_size("5 parsecs").is_err());
        assert!(parse_size("99999999999999GiB").is_err());
    }

    #[test]
    fn flags_and_environment_win_over_the_file() {
        let file: Settings = toml::from_str(
            "listen = \"127.0.0.1:9000\"\nworkers = 3\nqueue = 5\nbody_limit = \"2MiB\"",
        )
        .unwrap();
        let given = Settings {
            workers: Some(7),
            ..Settings::default()
        };
        let config = given.or(file).resolve().unwrap();
        assert_eq!(config.workers, 7);
        assert_eq!(config.queue, 5);
        assert_eq!(config.listen.port(), 9000);
        assert_eq!(config.body_limit, 2 << 20);
    }

    #[test]
    fn no_settings_at_all_give_working_defaults() {
        let config = Settings::default().resolve().unwrap();
        assert_eq!(config.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(config.body_limit, 1 << 30);
        assert!(config.workers >= 1);
    }

    #[test]
    fn unknown_keys_in_the_file_are_refused() {
        let error = toml::from_str::<Settings>("wrokers = 3").unwrap_err();
        assert!(error.to_string().contains("wrokers"), "{error}");
    }

    #[test]
    fn the_store_is_sqlite_in_the_data_dir_unless_a_postgres_url_is_given() {
        let config = Settings::default().resolve().unwrap();
        assert!(
            matches!(&config.store, StoreLocation::Sqlite(dir) if dir == Path::new("clinval-data"))
        );
        let file: Settings =
            toml::from_str("store = \"postgres://clinval@db.internal:5432/trials\"").unwrap();
        let config = file.resolve().unwrap();
        assert_eq!(
            config.store.describe(),
            "PostgreSQL database trials on db.internal"
        );
        let file: Settings = toml::from_str("store = \"sqlite:/var/lib/clinval\"").unwrap();
        let error = format!("{:#}", file.resolve().unwrap_err());
        assert!(error.contains("postgres://"), "{error}");
    }
}
