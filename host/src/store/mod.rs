//! Durable state of the server: trial projects, API tokens, ePRO
//! submissions and their processing.
//!
//! [`Store`] is the interface the server uses; [`sqlite::SqliteStore`] is
//! the embedded default (one file under `--data-dir`, WAL, no server). The
//! interface is async and takes owned arguments, and every change that must
//! happen once (a submission's effects, a claim of work) is a single
//! conditional statement or transaction, so that [`postgres::PostgresStore`]
//! — one database shared by several replicas — gives the same guarantees
//! behind the same trait. [`StoreLocation`] picks one (`--store`).

mod migrations;
pub mod postgres;
pub mod sqlite;

use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::sync::Notify;

use crate::ids::{PatientId, TrialId};

/// Why a storage call failed. Clone (a failed group commit answers each
/// of its writers), so causes are shared.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// The database refused or failed.
    #[error("storage: {0}")]
    Database(#[source] Arc<rusqlite::Error>),
    /// PostgreSQL refused or failed (or the connection broke mid-call).
    /// Displayed without the server's DETAIL, which can quote a row's
    /// values (logs print the display; the cause is kept as the source).
    #[error("storage: PostgreSQL: {}", without_detail(.0))]
    Postgres(#[source] Arc<tokio_postgres::Error>),
    /// No PostgreSQL connection could be had in time (the database is
    /// down, unreachable, or every connection is busy).
    #[error("storage: no database connection: {0}")]
    NoConnection(#[source] Arc<deadpool_postgres::PoolError>),
    /// `--store` names no store this build can open.
    #[error("storage: {0}")]
    Location(String),
    /// The data dir or its files cannot be set up.
    #[error("storage: cannot {what}: {source}")]
    Files {
        /// What was being done, with the path.
        what: String,
        /// The operating system's reason.
        #[source]
        source: Arc<std::io::Error>,
    },
    /// The data dir was written by a newer clinval.
    #[error(
        "the data dir has schema version {found}, newer than this build's {known}; use a newer clinval"
    )]
    NewerSchema {
        /// Its version.
        found: i64,
        /// The newest this build knows.
        known: i64,
    },
    /// A thread of the store stopped (the writer, or a reader task).
    #[error("storage: {0}")]
    Stopped(String),
    /// A row the transaction just wrote cannot be read back.
    #[error("storage: the row just written is gone")]
    Vanished,
    /// A project with this id exists already.
    #[error("a project with id `{0}` exists already")]
    ProjectExists(String),
    /// The same idempotency key came with a different request.
    #[error("this Idempotency-Key was used for a different submission")]
    IdempotencyMismatch,
    /// The protocol takes one diary a day, and this patient's day has one.
    #[error("a diary of this patient for {0} is stored already")]
    DiaryExists(chrono::NaiveDate),
    /// The storage could not take the call (shutting down, or the
    /// transaction could not begin).
    #[error("storage is unavailable")]
    Unavailable,
}

impl From<rusqlite::Error> for StoreError {
    fn from(error: rusqlite::Error) -> StoreError {
        StoreError::Database(Arc::new(error))
    }
}

/// A PostgreSQL error as logs may carry it: the server's message and
/// SQLSTATE (never its DETAIL or HINT, which can quote values), or the
/// driver's own error (a lost connection, a timeout).
fn without_detail(error: &tokio_postgres::Error) -> String {
    match error.as_db_error() {
        Some(db) => format!("{} (SQLSTATE {})", db.message(), db.code().code()),
        None => error.to_string(),
    }
}

impl From<tokio_postgres::Error> for StoreError {
    fn from(error: tokio_postgres::Error) -> StoreError {
        StoreError::Postgres(Arc::new(error))
    }
}

impl From<deadpool_postgres::PoolError> for StoreError {
    fn from(error: deadpool_postgres::PoolError) -> StoreError {
        StoreError::NoConnection(Arc::new(error))
    }
}

impl StoreError {
    /// A failure to `what` (with the path) on the files of the data dir.
    pub fn files(what: String, source: std::io::Error) -> StoreError {
        StoreError::Files {
            what,
            source: Arc::new(source),
        }
    }
}

/// What a storage call returns.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// A token's permission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Submit ePRO reports.
    Submit,
    /// Read projects and submissions.
    Read,
    /// Create and change projects (implies every scope).
    Admin,
}

impl Scope {
    /// The scope's name.
    pub fn name(self) -> &'static str {
        match self {
            Scope::Submit => "submit",
            Scope::Read => "read",
            Scope::Admin => "admin",
        }
    }

    fn parse(name: &str) -> Option<Scope> {
        match name {
            "submit" => Some(Scope::Submit),
            "read" => Some(Scope::Read),
            "admin" => Some(Scope::Admin),
            _ => None,
        }
    }
}

/// The one patient of one trial a patient's credential acts for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatientScope {
    /// The trial.
    pub trial: TrialId,
    /// The patient.
    pub patient: PatientId,
}

impl PatientScope {
    /// The patient a stored credential or access code is bound to, from
    /// its trial and patient columns: both set, and ids (the store wrote
    /// them from checked ids).
    fn from_columns(trial: Option<String>, patient: Option<String>) -> Option<PatientScope> {
        let (trial, patient) = trial.zip(patient)?;
        Some(PatientScope {
            trial: TrialId::parse(&trial).ok()?,
            patient: PatientId::parse(&patient).ok()?,
        })
    }
}

/// The columns a stored submission is read from, in this order, before a
/// `WHERE` (both stores' `submission_row`).
const SUBMISSION_COLUMNS: &str =
    "SELECT id, project_id, patient_id, status, attempts, error, scores,
         accepted_at, processed_at, updated_at, completed_at, local_date, utc_offset_minutes
     FROM submissions";

/// A token as stored (never its text: only its hash).
#[derive(Debug, Clone)]
pub struct TokenInfo {
    /// Row id; submissions remember it for idempotency.
    pub id: i64,
    /// Its scopes.
    pub scopes: Vec<Scope>,
    /// For a patient's credential (from an access code), whose diaries it
    /// may submit and read; `None` for the staff's and systems' tokens.
    pub patient: Option<PatientScope>,
}

/// A token as `clinval token list` shows it (never its text or hash).
#[derive(Debug, Clone, PartialEq)]
pub struct TokenRecord {
    /// Row id, the handle for `clinval token revoke`.
    pub id: i64,
    /// Its scopes.
    pub scopes: Vec<Scope>,
    /// The note given when it was made.
    pub label: String,
    /// When it was made (RFC 3339, UTC).
    pub created_at: String,
    /// When it was revoked, if it was.
    pub revoked_at: Option<String>,
    /// The patient a patient's credential acts for.
    pub patient: Option<PatientScope>,
}

impl TokenInfo {
    /// Whether the token may act with `scope` (admin may do anything).
    pub fn allows(&self, scope: Scope) -> bool {
        self.scopes.contains(&scope) || self.scopes.contains(&Scope::Admin)
    }

    /// Whether the token may submit or read diaries of `patient` in `trial`
    /// (a patient's credential only their own).
    pub fn may_act_for(&self, trial: &str, patient: &str) -> bool {
        self.patient
            .as_ref()
            .is_none_or(|p| p.trial.as_str() == trial && p.patient.as_str() == patient)
    }

    /// Whether the token may read trial `trial` (a patient's credential only its own).
    pub fn may_see_trial(&self, trial: &str) -> bool {
        self.patient
            .as_ref()
            .is_none_or(|p| p.trial.as_str() == trial)
    }
}

/// A patient's access code to store: what it is for and until when.
#[derive(Debug, Clone)]
pub struct NewInvite {
    /// SHA-256 of the code (the code itself is shown once and not kept).
    pub code_hash: [u8; 32],
    /// The patient it gives access for.
    pub patient: PatientScope,
    /// When it stops working, in milliseconds since the Unix epoch.
    pub expires_at_ms: i64,
}

/// Why an access code gives no credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InviteRefusal {
    /// No such code.
    #[error("this access code is not known")]
    Unknown,
    /// Used once already (a code opens one device).
    #[error("this access code was used already")]
    Used,
    /// Past its expiry.
    #[error("this access code has expired")]
    Expired,
    /// Withdrawn by the study team.
    #[error("this access code was withdrawn")]
    Revoked,
}

impl InviteRefusal {
    /// Why a stored code gives no credential now, if it does not: withdrawn,
    /// used, or past `expires_at_ms`.
    fn of(revoked: bool, used: bool, expires_at_ms: i64) -> Option<InviteRefusal> {
        if revoked {
            Some(InviteRefusal::Revoked)
        } else if used {
            Some(InviteRefusal::Used)
        } else if expires_at_ms <= now_ms() {
            Some(InviteRefusal::Expired)
        } else {
            None
        }
    }
}

/// What revoking a patient's access ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Revoked {
    /// Credentials of devices that stop working.
    pub credentials: u64,
    /// Access codes not yet used that stop working.
    pub codes: u64,
}

/// Implements `as_str`, `Display` and SQLite's and PostgreSQL's conversions for a status
/// enum stored as its text, from `(variant, text)` pairs.
macro_rules! stored_as_text {
    ($name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl $name {
            /// Every status, in order.
            pub const ALL: &[$name] = &[$($name::$variant),+];

            /// Its text, as the API and the database write it.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            /// The status written `text`.
            pub fn parse(text: &str) -> Option<$name> {
                $name::ALL.iter().copied().find(|s| s.as_str() == text)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl rusqlite::ToSql for $name {
            fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
                Ok(self.as_str().into())
            }
        }

        impl tokio_postgres::types::ToSql for $name {
            fn to_sql(
                &self,
                ty: &tokio_postgres::types::Type,
                out: &mut bytes::BytesMut,
            ) -> Result<tokio_postgres::types::IsNull, Box<dyn std::error::Error + Sync + Send>> {
                self.as_str().to_sql(ty, out)
            }

            fn accepts(ty: &tokio_postgres::types::Type) -> bool {
                <&str as tokio_postgres::types::ToSql>::accepts(ty)
            }

            tokio_postgres::types::to_sql_checked!();
        }

        impl<'a> tokio_postgres::types::FromSql<'a> for $name {
            fn from_sql(
                ty: &tokio_postgres::types::Type,
                raw: &'a [u8],
            ) -> Result<$name, Box<dyn std::error::Error + Sync + Send>> {
                let text = <&str as tokio_postgres::types::FromSql>::from_sql(ty, raw)?;
                $name::parse(text)
                    .ok_or_else(|| format!("`{text}` is not a {}", stringify!($name)).into())
            }

            fn accepts(ty: &tokio_postgres::types::Type) -> bool {
                <&str as tokio_postgres::types::FromSql>::accepts(ty)
            }
        }

        impl rusqlite::types::FromSql for $name {
            fn column_result(
                value: rusqlite::types::ValueRef<'_>,
            ) -> rusqlite::types::FromSqlResult<$name> {
                let text = value.as_str()?;
                $name::parse(text).ok_or_else(|| {
                    rusqlite::types::FromSqlError::Other(
                        format!("`{text}` is not a {}", stringify!($name)).into(),
                    )
                })
            }
        }
    };
}

/// A trial project's overall status, as ClinicalTrials.gov names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, schemars::JsonSchema)]
pub enum TrialStatus {
    /// Not yet recruiting.
    #[serde(rename = "Not yet recruiting")]
    NotYetRecruiting,
    /// Recruiting: the one status that takes submissions.
    Recruiting,
    /// Active, not recruiting.
    #[serde(rename = "Active, not recruiting")]
    ActiveNotRecruiting,
    /// Completed.
    Completed,
    /// Suspended.
    Suspended,
    /// Terminated.
    Terminated,
    /// Withdrawn.
    Withdrawn,
}

stored_as_text!(TrialStatus {
    NotYetRecruiting => "Not yet recruiting",
    Recruiting => "Recruiting",
    ActiveNotRecruiting => "Active, not recruiting",
    Completed => "Completed",
    Suspended => "Suspended",
    Terminated => "Terminated",
    Withdrawn => "Withdrawn",
});

/// Read from its text, refused with the statuses there are.
impl<'de> Deserialize<'de> for TrialStatus {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<TrialStatus, D::Error> {
        let text = String::deserialize(deserializer)?;
        TrialStatus::parse(&text).ok_or_else(|| {
            let known: Vec<&str> = TrialStatus::ALL.iter().map(|s| s.as_str()).collect();
            serde::de::Error::custom(format!(
                "status `{text}` is not one of: {}",
                known.join(", ")
            ))
        })
    }
}

/// Where a submission is in its processing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SubmissionStatus {
    /// Stored, not yet processed.
    Accepted,
    /// Claimed by a worker.
    Processing,
    /// Done: scores computed, patient enrolled.
    Processed,
    /// Given up on after its attempts (see its `error`).
    Failed,
}

stored_as_text!(SubmissionStatus {
    Accepted => "accepted",
    Processing => "processing",
    Processed => "processed",
    Failed => "failed",
});

/// What a submission needs to know of its project.
#[derive(Debug, Clone)]
pub struct Trial {
    /// Its status.
    pub status: TrialStatus,
    /// Its questionnaire protocol.
    pub protocol: String,
}

/// A new project.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewProject {
    /// Its id, e.g. `CT001`: 1–64 letters, digits, `-`, `_`.
    #[schemars(regex(pattern = r"^[A-Za-z0-9_-]{1,64}$"))]
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its status.
    pub status: TrialStatus,
    /// `YYYY-MM-DD`.
    #[schemars(extend("format" = "date"))]
    pub start_date: Option<String>,
    /// The ePRO questionnaire protocol its submissions are checked with.
    pub protocol: String,
    /// Patients the trial plans to enrol.
    pub target_enrollment: Option<u32>,
}

/// Changes to a project (absent keys stay as they are).
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProjectPatch {
    /// New name.
    pub name: Option<String>,
    /// New status.
    pub status: Option<TrialStatus>,
    /// New start date.
    #[schemars(extend("format" = "date"))]
    pub start_date: Option<String>,
    /// New protocol.
    pub protocol: Option<String>,
    /// New enrolment target.
    pub target_enrollment: Option<u32>,
}

/// Submissions of a project by status.
#[derive(Debug, Clone, Default, Serialize, schemars::JsonSchema)]
pub struct StatusCounts {
    /// Stored, not yet processed.
    pub accepted: u64,
    /// Being processed.
    pub processing: u64,
    /// Done.
    pub processed: u64,
    /// Given up on (see their `error`).
    pub failed: u64,
}

/// A project as the API shows it.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Project {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Status.
    pub status: TrialStatus,
    /// Start date.
    pub start_date: Option<String>,
    /// Questionnaire protocol.
    pub protocol: String,
    /// Enrolment target.
    pub target_enrollment: Option<u32>,
    /// Distinct patients with a processed submission.
    pub enrolled_patients: u64,
    /// `enrolledPatients / targetEnrollment` (absent without a target).
    pub enrollment_progress: Option<f64>,
    /// Submissions by status.
    pub submissions: StatusCounts,
    /// Created (RFC 3339).
    pub created_at: String,
    /// Last changed (RFC 3339).
    pub updated_at: String,
}

/// A submission to store.
#[derive(Debug, Clone)]
pub struct NewSubmission {
    /// The trial.
    pub project_id: String,
    /// The patient.
    pub patient_id: String,
    /// The answers, as JSON text.
    pub report: String,
    /// Who sent it.
    pub token_id: i64,
    /// The client's Idempotency-Key, if any.
    pub idempotency_key: Option<String>,
    /// The patient's day: the local date of `completion`, else the
    /// server's date when it was received.
    pub local_date: chrono::NaiveDate,
    /// When the patient completed it, with the device's offset, if sent.
    pub completion: Option<crate::completion::Completion>,
    /// Refuse it when the patient's day has a diary (the protocol's `onePerDay`).
    pub one_per_day: bool,
}

/// A stored submission's id.
#[derive(Debug, Clone)]
pub struct Accepted {
    /// Its id.
    pub id: String,
    /// False when the idempotency key named an earlier submission.
    pub created: bool,
}

/// A submission as the API shows it.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Submission {
    /// Its id.
    pub submission_id: String,
    /// The trial.
    pub trial_id: String,
    /// The patient.
    pub patient_id: String,
    /// Where it is in its processing.
    pub status: SubmissionStatus,
    /// Processing attempts so far.
    pub attempts: u32,
    /// Why it failed (after its last attempt) or why the last attempt did.
    pub error: Option<String>,
    /// The questionnaire's scores, once processed.
    pub scores: Option<serde_json::Value>,
    /// When it was stored (RFC 3339).
    pub accepted_at: String,
    /// When the patient completed it, with the device's UTC offset, if the client said.
    pub completed_at: Option<String>,
    /// The patient's day (`YYYY-MM-DD`): the local date of `completedAt`,
    /// else the server's date when it was received.
    pub local_date: Option<String>,
    /// The device's UTC offset (`+08:00`), if the client said.
    pub utc_offset: Option<String>,
    /// When it was processed.
    pub processed_at: Option<String>,
    /// Last change.
    pub updated_at: String,
}

/// A submission claimed for processing.
#[derive(Debug, Clone)]
pub struct Job {
    /// Its id.
    pub id: String,
    /// The trial.
    pub project_id: String,
    /// The trial's protocol now.
    pub protocol: String,
    /// The patient.
    pub patient_id: String,
    /// The answers (JSON text).
    pub report: String,
    /// The patient's day (`YYYY-MM-DD`, see [`NewSubmission::local_date`]):
    /// the as-of date of its re-validation, as of its acceptance.
    pub as_of: String,
    /// This attempt's number (1 for the first).
    pub attempt: u32,
}

/// How processing a job ended.
#[derive(Debug, Clone)]
pub enum JobEnd {
    /// Done: its scores (JSON).
    Processed {
        /// `{"name": number | null}`.
        scores: String,
    },
    /// Cannot succeed on a retry.
    Failed {
        /// Why.
        reason: String,
    },
    /// May succeed later: retried after `after`, unless attempts are used
    /// up (then failed).
    Retry {
        /// Why this attempt failed.
        reason: String,
        /// Back-off before the next attempt.
        after: Duration,
    },
}

/// Where the server's state lives, parsed once from `--store` and
/// `--data-dir`.
#[derive(Debug, Clone)]
pub enum StoreLocation {
    /// The embedded SQLite store in this data dir (the default).
    Sqlite(PathBuf),
    /// A PostgreSQL database, shared by any number of replicas.
    Postgres(Box<tokio_postgres::Config>),
}

impl StoreLocation {
    /// `store` (a `postgres://` or `postgresql://` URL) if given, else
    /// SQLite in `data_dir`.
    pub fn parse(store: Option<&str>, data_dir: &Path) -> Result<StoreLocation, StoreError> {
        let Some(url) = store.filter(|url| !url.is_empty()) else {
            return Ok(StoreLocation::Sqlite(data_dir.to_owned()));
        };
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(StoreError::Location(
                "the store must be a postgres:// URL (without one, SQLite under --data-dir)".into(),
            ));
        }
        // The driver's message does not repeat the URL (it may hold a password).
        let config = url
            .parse::<tokio_postgres::Config>()
            .map_err(|e| StoreError::Location(format!("the PostgreSQL URL cannot be read: {e}")))?;
        Ok(StoreLocation::Postgres(Box::new(config)))
    }

    /// Opens the store (migrating it).
    pub async fn open(&self) -> Result<Arc<dyn Store>, StoreError> {
        Ok(match self {
            StoreLocation::Sqlite(dir) => Arc::new(sqlite::SqliteStore::open(dir)?),
            StoreLocation::Postgres(config) => {
                Arc::new(postgres::PostgresStore::open((**config).clone()).await?)
            }
        })
    }

    /// What to name it in messages and logs: the data dir, or the
    /// database's host and name (never a password).
    pub fn describe(&self) -> String {
        match self {
            StoreLocation::Sqlite(dir) => format!("data dir {}", dir.display()),
            StoreLocation::Postgres(config) => {
                let hosts: Vec<String> = config
                    .get_hosts()
                    .iter()
                    .map(|host| match host {
                        tokio_postgres::config::Host::Tcp(name) => name.clone(),
                        tokio_postgres::config::Host::Unix(path) => path.display().to_string(),
                    })
                    .collect();
                format!(
                    "PostgreSQL database {} on {}",
                    config.get_dbname().unwrap_or("(default)"),
                    hosts.join(",")
                )
            }
        }
    }
}

/// Now, RFC 3339 in UTC with milliseconds.
pub fn now_text() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Now, in milliseconds since the Unix epoch.
fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Scopes as stored: names joined by commas.
fn scopes_of(text: &str) -> Vec<Scope> {
    text.split(',').filter_map(Scope::parse).collect()
}

/// Scopes as stored.
fn scopes_text(scopes: &[Scope]) -> String {
    let names: Vec<&str> = scopes.iter().map(|s| s.name()).collect();
    names.join(",")
}

/// What an Idempotency-Key stands for: the hash of the request it came
/// with, so that the same key with another request is told apart.
fn request_hash(submission: &NewSubmission) -> Vec<u8> {
    let mut hasher = Sha256::new();
    for part in [
        &submission.project_id,
        &submission.patient_id,
        &submission.report,
    ] {
        hasher.update(part.as_bytes());
        hasher.update([0]);
    }
    // Only when sent, so the hashes of submissions stored before clients
    // sent it are unchanged.
    if let Some(completion) = &submission.completion {
        hasher.update(completion.to_rfc3339().as_bytes());
        hasher.update([0]);
    }
    hasher.finalize().to_vec()
}

/// How long a claim holds before the work is due again, as stored.
fn lease_ms(lease: Duration) -> i64 {
    i64::try_from(lease.as_millis()).unwrap_or(i64::MAX / 2)
}

/// The message of a job given up on after its last attempt.
fn final_reason(job: &Job, reason: String, max_attempts: u32) -> String {
    if job.attempt >= max_attempts {
        format!("gave up after {} attempts: {reason}", job.attempt)
    } else {
        reason
    }
}

/// `enrolled / target` (absent without a target).
fn progress(enrolled: u64, target: Option<u32>) -> Option<f64> {
    target
        .filter(|target| *target > 0)
        .map(|target| enrolled as f64 / f64::from(target))
}

impl StatusCounts {
    /// Adds `count` submissions in `status`.
    fn set(&mut self, status: SubmissionStatus, count: i64) {
        let slot = match status {
            SubmissionStatus::Accepted => &mut self.accepted,
            SubmissionStatus::Processing => &mut self.processing,
            SubmissionStatus::Processed => &mut self.processed,
            SubmissionStatus::Failed => &mut self.failed,
        };
        *slot = u64::try_from(count).unwrap_or(0);
    }
}

/// The storage interface.
pub trait Store: Send + Sync + 'static {
    /// Creates a project.
    fn create_project(&self, project: NewProject) -> StoreFuture<'_, Project>;
    /// Changes a project; `None` if there is none with this id.
    fn update_project(&self, id: String, patch: ProjectPatch) -> StoreFuture<'_, Option<Project>>;
    /// One project.
    fn project(&self, id: String) -> StoreFuture<'_, Option<Project>>;
    /// A project's status and protocol only (cheap: every submission asks).
    fn trial(&self, id: String) -> StoreFuture<'_, Option<Trial>>;
    /// Every project, by id.
    fn projects(&self) -> StoreFuture<'_, Vec<Project>>;
    /// Whether no project exists (a fresh data dir).
    fn is_empty(&self) -> StoreFuture<'_, bool>;
    /// Stores a token's hash; returns its id.
    fn create_token(
        &self,
        hash: [u8; 32],
        scopes: Vec<Scope>,
        label: String,
    ) -> StoreFuture<'_, i64>;
    /// The token with this hash, unless it was revoked.
    fn token(&self, hash: [u8; 32]) -> StoreFuture<'_, Option<TokenInfo>>;
    /// Every token, revoked ones too, by id.
    fn tokens(&self) -> StoreFuture<'_, Vec<TokenRecord>>;
    /// Revokes a token: `None` if no token has this id, `Some(false)` if it
    /// was revoked already.
    fn revoke_token(&self, id: i64) -> StoreFuture<'_, Option<bool>>;
    /// Stores a patient's access code.
    fn create_invite(&self, invite: NewInvite) -> StoreFuture<'_, ()>;
    /// Exchanges an access code for a patient's credential (the token with
    /// hash `token_hash`, scopes submit and read), once, in one
    /// transaction; or says why not.
    fn redeem_invite(
        &self,
        code_hash: [u8; 32],
        token_hash: [u8; 32],
    ) -> StoreFuture<'_, Result<PatientScope, InviteRefusal>>;
    /// Revokes every credential and unused access code of a patient.
    fn revoke_patient(&self, patient: PatientScope) -> StoreFuture<'_, Revoked>;
    /// Stores a submission durably (on disk when this returns), or finds
    /// the earlier one with the same token and idempotency key.
    fn submit(&self, submission: NewSubmission) -> StoreFuture<'_, Accepted>;
    /// One submission.
    fn submission(&self, id: String) -> StoreFuture<'_, Option<Submission>>;
    /// The submission `token_id` sent with Idempotency-Key `key`, if any.
    fn submission_by_key(&self, token_id: i64, key: String) -> StoreFuture<'_, Option<Submission>>;
    /// Claims up to `limit` due submissions for processing, each for
    /// `lease` (after which another worker may claim it again).
    fn claim(&self, limit: usize, lease: Duration) -> StoreFuture<'_, Vec<Job>>;
    /// Records how claimed jobs ended, in one transaction. A processed
    /// job's effects (enrolment, counts) apply once however often this is
    /// called for it.
    fn finish(&self, ends: Vec<(Job, JobEnd)>, max_attempts: u32) -> StoreFuture<'_, ()>;
    /// Milliseconds until the next retry is due, if any is waiting.
    fn next_due_in(&self) -> StoreFuture<'_, Option<u64>>;
    /// From now on, wakes one of `workers` whenever another process
    /// stored a submission (a shared store tells every replica). The
    /// embedded store has no other process: this does nothing.
    fn wake_on_work(&self, workers: Arc<Notify>) {
        let _ = workers;
    }
}
