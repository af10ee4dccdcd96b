//! `/api/v1/submissions`: the HTTP face of the submissions service
//! (`service::submissions`): the body and the Idempotency-Key header read
//! into a [`Draft`], the outcome answered.
//!
//! A submission is answered 202 only after its row is committed; the same
//! `Idempotency-Key` from the same token gives back the same submission
//! and stores nothing new.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::ids::{IdempotencyKey, KeyError};
use crate::service::submissions::Draft;

use super::api::bad_query;
use super::app::App;
use super::bearer::{Authorized, scope};
use super::body::read_json;
use super::error::ApiError;

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

/// `POST /api/v1/submissions` (scope `submit`): 202 `{"submissionId",
/// "status": "accepted"}` once stored.
pub async fn submit(
    Authorized { token, .. }: Authorized<scope::Submit>,
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let idempotency_key = headers
        .get("idempotency-key")
        .map(|value| IdempotencyKey::parse(value.as_bytes()))
        .transpose()
        .map_err(bad_key)?;
    let doc: SubmissionDoc = read_json(
        "invalid_submission",
        body,
        &headers,
        SUBMISSION_LIMIT,
        app.config.body_pace,
    )
    .await?;
    let draft = Draft {
        trial_id: doc.trial_id,
        patient_id: doc.patient_id,
        report: doc.report_data,
        completed_at: doc.completed_at,
        idempotency_key,
    };
    let accepted = app.services.submit(&token, draft).await?;
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

fn bad_key(error: KeyError) -> ApiError {
    ApiError::bad_request("bad_idempotency_key", error.to_string())
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
    let key = IdempotencyKey::parse(query.idempotency_key.as_bytes()).map_err(bad_key)?;
    let submission = app
        .services
        .submission_by_key(&token, key)
        .await
        .map_err(ApiError::storage)?
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
    let submission = app.services.submission(&token, id.clone()).await?;
    let submission = submission.ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_submission",
            format!("no submission with id `{id}`"),
        )
    })?;
    Ok(axum::Json(submission).into_response())
}
