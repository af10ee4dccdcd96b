//! Durable state of the server: trial projects, API tokens, ePRO
//! submissions and their processing.
//!
//! [`Store`] is the interface the server uses; [`sqlite::SqliteStore`] is
//! the embedded default (one file under `--data-dir`, WAL, no server). The
//! interface is async and takes owned arguments, and every change that must
//! happen once (a submission's effects, a claim of work) is a single
//! conditional statement or transaction, so that a shared PostgreSQL can
//! back several replicas later behind the same trait.

mod migrations;
pub mod sqlite;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::ids::{PatientId, TrialId};

/// Why a storage call failed. Clone (a failed group commit answers each
/// of its writers), so causes are shared.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// The database refused or failed.
    #[error("storage: {0}")]
    Database(#[source] Arc<rusqlite::Error>),
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

/// What revoking a patient's access ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Revoked {
    /// Credentials of devices that stop working.
    pub credentials: u64,
    /// Access codes not yet used that stop working.
    pub codes: u64,
}

/// Implements `as_str`, `Display` and SQLite's conversions for a status
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
}

#[cfg(test)]
mod tests;
