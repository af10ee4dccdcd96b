//! `/api/v1/submissions`: ePRO reports accepted durably, then processed in
//! the background (see `processor`).
//!
//! A submission is answered 202 only after its row is committed to disk;
//! the same `Idempotency-Key` from the same token gives back the same
//! submission and stores nothing new.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use clinval_core::Lang;
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::completion::Completion;
use crate::ids::PatientId;
use crate::store::{NewSubmission, StoreError, TrialStatus};

use super::api::{Verdict, bad_query, check_record, record_options};
use super::app::App;
use super::bearer::{Authorized, scope};
use super::body::read_json;
use super::error::ApiError;
use super::projects::{storage, unknown_project};

/// Largest submission (answers plus ids).
const SUBMISSION_LIMIT: u64 = 256 * 1024;

/// The body of `POST /api/v1/submissions`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(example = example_submission())]
pub struct SubmissionDoc {
    /// 1–64 letters, digits, `-`, `_`.
    #[schemars(regex(pattern = r"^[A-Za-z0-9_-]{1,64}$"))]
    patient_id: String,
    /// The trial (a project id).
    trial_id: String,
    /// The questionnaire's answers, keyed by field names.
    #[schemars(with = "serde_json::Map<String, serde_json::Value>")]
    report_data: Box<RawValue>,
    /// When the patient completed it, with the device's UTC offset
    /// (RFC 3339: `2026-12-02T01:30:00+08:00`). Its local date is the
    /// patient's day: the answers are checked as of it ("not after
    /// today" is the patient's today) and the one-a-day rule counts it.
    /// Without it, the server's date is the day.
    #[serde(default)]
    completed_at: Option<String>,
}

/// A diary for the demo's trial, as the OpenAPI document's example.
fn example_submission() -> serde_json::Value {
    serde_json::json!({
        "patientId": "P-001",
        "trialId": "CT001",
        "reportData": {"pain": 3, "fatigue": 4, "sleepQuality": "good", "nausea": "no",
                       "symptoms": ["headache"], "completedAt": "2026-01-10 08:30"},
        "completedAt": "2026-01-10T08:30:00+08:00"
    })
}

fn unprocessable(code: &'static str, message: String) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
}

/// `POST /api/v1/submissions` (scope `submit`): 202 `{"submissionId",
/// "status": "accepted"}` once stored.
pub async fn submit(
    Authorized { token, .. }: Authorized<scope::Submit>,
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let key = idempotency_key(&headers)?;
    let doc: SubmissionDoc = read_json(
        "invalid_submission",
        body,
        &headers,
        SUBMISSION_LIMIT,
        app.config.body_pace,
    )
    .await?;
    PatientId::parse_as(&doc.patient_id, "patientId")
        .map_err(|e| unprocessable("invalid_submission", e.to_string()))?;
    if !token.may_act_for(&doc.trial_id, &doc.patient_id) {
        return Err(ApiError::not_this_patient());
    }
    if !doc.report_data.get().trim_start().starts_with('{') {
        return Err(unprocessable(
            "invalid_submission",
            "reportData must be a JSON object of the questionnaire's answers".into(),
        ));
    }
    let trial = app
        .store
        .trial(doc.trial_id.clone())
        .await
        .map_err(storage)?
        .ok_or_else(|| unknown_project(&doc.trial_id))?;
    if trial.status != TrialStatus::Recruiting {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "not_recruiting",
            format!(
                "trial `{}` is `{}`, not `{}`: it takes no submissions",
                doc.trial_id,
                trial.status,
                TrialStatus::Recruiting
            ),
        ));
    }
    let protocol = app.protocols.get(&trial.protocol).ok_or_else(|| {
        tracing::error!("a project names a protocol this server does not serve");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "protocol_unavailable",
            "the trial's questionnaire protocol is not available on this server",
        )
    })?;
    let completion = doc
        .completed_at
        .as_deref()
        .map(|text| Completion::parse(text, chrono::Utc::now()))
        .transpose()
        .map_err(|e| unprocessable(e.code(), e.to_string()))?;
    let local_date =
        completion.map_or_else(|| chrono::Local::now().date_naive(), |c| c.local_date());
    let today = local_date.to_string();
    let report = doc.report_data.get().as_bytes();
    let verdict = check_record(&app, &protocol, record_options(&today, Lang::En), report).await?;
    let verdict = Verdict::parse(&verdict)?;
    verdict.count(&app);
    if !verdict.valid {
        return Err(ApiError {
            extra: Some(("issues", serde_json::Value::Array(verdict.issues))),
            ..unprocessable(
                "invalid_report",
                "some answers are not valid; see issues".into(),
            )
        });
    }
    let accepted = app
        .store
        .submit(NewSubmission {
            project_id: doc.trial_id,
            patient_id: doc.patient_id,
            report: doc.report_data.get().to_owned(),
            token_id: token.id,
            idempotency_key: key,
            local_date,
            completion,
            one_per_day: protocol.diary.is_some_and(|d| d.one_per_day),
        })
        .await
        .map_err(|e| match e {
            StoreError::IdempotencyMismatch => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency_key_reused",
                "this Idempotency-Key was already used for a different submission",
            ),
            StoreError::DiaryExists(day) => ApiError::new(
                StatusCode::CONFLICT,
                "diary_exists_for_day",
                format!(
                    "this trial takes one diary a day, and the patient's diary for {day} is stored already"
                ),
            ),
            other => storage(other),
        })?;
    if accepted.created {
        app.metrics.submissions.inc();
        app.work.notify_one();
    }
    let location = format!("/api/v1/submissions/{}", accepted.id);
    let mut response = (
        StatusCode::ACCEPTED,
        [(header::LOCATION, location)],
        axum::Json(serde_json::json!({ "submissionId": accepted.id, "status": "accepted" })),
    )
        .into_response();
    if !accepted.created {
        response
            .headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    Ok(response)
}

/// The `Idempotency-Key` header: 1 to 255 visible ASCII characters.
fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    headers
        .get("idempotency-key")
        .map(|value| checked_key(value.as_bytes()))
        .transpose()
}

/// An Idempotency-Key's text, if it is 1 to 255 visible ASCII characters.
fn checked_key(bytes: &[u8]) -> Result<String, ApiError> {
    if (1..=255).contains(&bytes.len()) && bytes.iter().all(|b| b.is_ascii_graphic()) {
        Ok(String::from_utf8_lossy(bytes).into_owned())
    } else {
        Err(ApiError::bad_request(
            "bad_idempotency_key",
            "Idempotency-Key must be 1 to 255 visible ASCII characters",
        ))
    }
}

/// Query of `GET /api/v1/submissions`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KeyQuery {
    idempotency_key: String,
}

/// `GET /api/v1/submissions?idempotencyKey=K` (scope `read`): what became
/// of the submission this token sent with Idempotency-Key `K`, for a
/// client whose reply was lost: 200 with it, or 404
/// `unknown_idempotency_key` when none was stored (sending it again with
/// the same key is then safe, and so it is in any case).
pub async fn find(
    Authorized { token, .. }: Authorized<scope::Read>,
    State(app): State<Arc<App>>,
    query: Result<Query<KeyQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(bad_query)?;
    let key = checked_key(query.idempotency_key.as_bytes())?;
    let submission = app
        .store
        .submission_by_key(token.id, key)
        .await
        .map_err(storage)?
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "unknown_idempotency_key",
                "no submission was stored with this Idempotency-Key by this token",
            )
        })?;
    Ok(axum::Json(submission).into_response())
}

/// `GET /api/v1/submissions/{id}` (scope `read`).
pub async fn get(
    Authorized { token, .. }: Authorized<scope::Read>,
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let submission = app.store.submission(id.clone()).await.map_err(storage)?;
    if submission
        .as_ref()
        .is_some_and(|s| !token.may_act_for(&s.trial_id, &s.patient_id))
    {
        return Err(ApiError::not_this_patient());
    }
    let submission = submission.ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_submission",
            format!("no submission with id `{id}`"),
        )
    })?;
    Ok(axum::Json(submission).into_response())
}
