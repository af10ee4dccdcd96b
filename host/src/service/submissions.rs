//! ePRO submissions: accepted once checked and stored (durably, before
//! the caller is answered), found by id or by the client's
//! Idempotency-Key, and processed later by the [`super::processor`].
//!
//! The rules live here, once: who may submit for whom, which trials take
//! submissions (only `Recruiting` ones), the patient's day, the module's
//! verdict, one diary a day, and what an Idempotency-Key means.

use clinval_core::Lang;
use serde_json::value::RawValue;

use crate::completion::{Completion, CompletionError};
use crate::ids::{IdError, IdempotencyKey, PatientId};
use crate::store::{Accepted, NewSubmission, StoreError, Submission, TokenInfo, TrialStatus};

use super::Services;
use super::validation::{CheckError, record_options};

/// A submission as a client sent it.
#[derive(Debug)]
pub struct Draft {
    /// The trial (a project id).
    pub trial_id: String,
    /// The patient.
    pub patient_id: String,
    /// The answers: a JSON object.
    pub report: Box<RawValue>,
    /// When the patient completed it (RFC 3339 with the device's offset).
    pub completed_at: Option<String>,
    /// The client's Idempotency-Key.
    pub idempotency_key: Option<IdempotencyKey>,
}

/// Why a submission is not accepted.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    /// The patient id is not an id.
    #[error(transparent)]
    PatientId(IdError),
    /// A patient's credential sent for another patient or trial.
    #[error("this credential acts only for its own patient")]
    NotThisPatient,
    /// The answers are not a JSON object.
    #[error("reportData must be a JSON object of the questionnaire's answers")]
    NotAnObject,
    /// No project has this id.
    #[error("no project with id `{0}`")]
    UnknownTrial(String),
    /// The trial is not recruiting.
    #[error(
        "trial `{trial}` is `{status}`, not `{}`: it takes no submissions",
        TrialStatus::Recruiting
    )]
    NotRecruiting {
        /// The trial.
        trial: String,
        /// Its status.
        status: TrialStatus,
    },
    /// The trial's protocol is not served here (a misconfiguration).
    #[error("the trial's questionnaire protocol is not available on this server")]
    ProtocolUnavailable,
    /// `completedAt` cannot be used.
    #[error(transparent)]
    Completion(CompletionError),
    /// The module could not check the answers.
    #[error(transparent)]
    Check(#[from] CheckError),
    /// Some answers are not valid: the module's issues.
    #[error("some answers are not valid; see issues")]
    Invalid {
        /// FieldIssue objects.
        issues: Vec<serde_json::Value>,
    },
    /// The Idempotency-Key came before with a different submission.
    #[error("this Idempotency-Key was already used for a different submission")]
    KeyReused,
    /// The trial takes one diary a day, and this day has one.
    #[error("this trial takes one diary a day, and the patient's diary for {0} is stored already")]
    DiaryExists(chrono::NaiveDate),
    /// The store failed.
    #[error(transparent)]
    Storage(StoreError),
}

impl From<StoreError> for SubmitError {
    fn from(error: StoreError) -> SubmitError {
        match error {
            StoreError::IdempotencyMismatch => SubmitError::KeyReused,
            StoreError::DiaryExists(day) => SubmitError::DiaryExists(day),
            other => SubmitError::Storage(other),
        }
    }
}

impl Services {
    /// Checks `draft` sent with `token` and stores it; the same
    /// Idempotency-Key again gives the stored one back (`created` false).
    pub async fn submit(&self, token: &TokenInfo, draft: Draft) -> Result<Accepted, SubmitError> {
        PatientId::parse_as(&draft.patient_id, "patientId").map_err(SubmitError::PatientId)?;
        if !token.may_act_for(&draft.trial_id, &draft.patient_id) {
            return Err(SubmitError::NotThisPatient);
        }
        if !draft.report.get().trim_start().starts_with('{') {
            return Err(SubmitError::NotAnObject);
        }
        let trial = self
            .store
            .trial(draft.trial_id.clone())
            .await?
            .ok_or_else(|| SubmitError::UnknownTrial(draft.trial_id.clone()))?;
        if trial.status != TrialStatus::Recruiting {
            return Err(SubmitError::NotRecruiting {
                trial: draft.trial_id,
                status: trial.status,
            });
        }
        let protocol = self.protocols.get(&trial.protocol).ok_or_else(|| {
            tracing::error!("a project names a protocol this server does not serve");
            SubmitError::ProtocolUnavailable
        })?;
        let completion = draft
            .completed_at
            .as_deref()
            .map(|text| Completion::parse(text, chrono::Utc::now()))
            .transpose()
            .map_err(SubmitError::Completion)?;
        // The patient's day: "not after today" is theirs, as is one a day.
        let local_date =
            completion.map_or_else(|| chrono::Local::now().date_naive(), |c| c.local_date());
        let options = record_options(&local_date.to_string(), Lang::En);
        let verdict = self
            .check_record(&protocol, options, draft.report.get().as_bytes())
            .await?;
        if !verdict.valid {
            return Err(SubmitError::Invalid {
                issues: verdict.issues,
            });
        }
        let accepted = self
            .store
            .submit(NewSubmission {
                project_id: draft.trial_id,
                patient_id: draft.patient_id,
                report: draft.report.get().to_owned(),
                token_id: token.id,
                idempotency_key: draft.idempotency_key.map(IdempotencyKey::into_string),
                local_date,
                completion,
                one_per_day: protocol.diary.is_some_and(|d| d.one_per_day),
            })
            .await?;
        if accepted.created {
            self.metrics.submissions.inc();
            self.work.notify_one();
        }
        Ok(accepted)
    }

    /// The submission `id`, if `token` may see it.
    pub async fn submission(
        &self,
        token: &TokenInfo,
        id: String,
    ) -> Result<Option<Submission>, SubmitError> {
        let submission = self.store.submission(id).await?;
        if submission
            .as_ref()
            .is_some_and(|s| !token.may_act_for(&s.trial_id, &s.patient_id))
        {
            return Err(SubmitError::NotThisPatient);
        }
        Ok(submission)
    }

    /// What became of the submission `token` sent with `key`.
    pub async fn submission_by_key(
        &self,
        token: &TokenInfo,
        key: IdempotencyKey,
    ) -> Result<Option<Submission>, StoreError> {
        self.store
            .submission_by_key(token.id, key.into_string())
            .await
    }
}
