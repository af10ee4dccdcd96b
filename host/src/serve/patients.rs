//! Patients' access over HTTP (see `crate::access`): a coordinator's
//! invitations and revocations (scope `admin`), and the exchange of an
//! access code for a patient's credential (no token: the code is the
//! proof). Codes and credentials are in bodies only, never in a path or a
//! log.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use crate::access::{self, DEFAULT_VALID_FOR};
use crate::ids::{PatientId, TrialId};
use crate::store::{InviteRefusal, PatientScope};

use super::api::bad_query;
use super::app::App;
use super::bearer::{Authorized, scope};
use super::body::read_json;
use super::error::ApiError;
use crate::service::projects::ProjectError;

/// Largest exchange body.
const EXCHANGE_LIMIT: u64 = 1024;

/// The patient of a path `/api/v1/projects/{id}/patients/{patient}/…`.
fn patient_in(trial: &str, patient: &str) -> Result<PatientScope, ApiError> {
    let invalid = |e: crate::ids::IdError| ApiError::bad_request("bad_id", e.to_string());
    Ok(PatientScope {
        trial: TrialId::parse(trial).map_err(invalid)?,
        patient: PatientId::parse(patient).map_err(invalid)?,
    })
}

/// A new access code, as `POST …/invites` answers it.
#[derive(Debug, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct InvitationDoc {
    /// The code (shown once; only its hash is kept).
    code: String,
    /// The page's path with the code, for a link: `/#access=…`.
    path: String,
    /// When it stops working if not used (RFC 3339, UTC).
    expires_at: String,
    /// The trial.
    trial_id: String,
    /// The patient.
    patient_id: String,
}

/// A patient's credential, as `POST /api/v1/patient-access` answers it.
#[derive(Debug, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CredentialDoc {
    /// The bearer token the device keeps (shown once).
    token: String,
    /// The trial it acts in.
    trial_id: String,
    /// The patient it acts for.
    patient_id: String,
}

/// 503 for an access code's storage (or randomness) failing while
/// `doing`; logged with the reason, never the code.
fn unavailable(doing: &'static str) -> impl FnOnce(anyhow::Error) -> ApiError {
    move |error| {
        tracing::error!(doing, "an access code operation failed");
        ApiError::storage(error)
    }
}

/// Query of an invitation.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InviteQuery {
    /// How long the code works: `14d`, `12h` (default 14 days, at most a year).
    valid_for: Option<String>,
}

/// `POST /api/v1/projects/{id}/patients/{patient}/invites` (admin): 201
/// `{"code", "path", "expiresAt", "trialId", "patientId"}`; the patient
/// opens `path` on this server (the code in its fragment).
pub async fn invite(
    _: Authorized<scope::Admin>,
    State(app): State<Arc<App>>,
    Path((trial, patient)): Path<(String, String)>,
    query: Result<Query<InviteQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(bad_query)?;
    let valid_for = match query.valid_for.as_deref() {
        None => DEFAULT_VALID_FOR,
        Some(text) => humantime::parse_duration(text)
            .ok()
            .filter(|d| (Duration::from_secs(1)..=Duration::from_secs(366 * 24 * 3600)).contains(d))
            .ok_or_else(|| {
                ApiError::bad_request(
                    "bad_query",
                    format!("validFor `{text}` is not a duration from 1s to 366d (as 14d, 12h)"),
                )
            })?,
    };
    let scope = patient_in(&trial, &patient)?;
    let invitation = access::invite(app.services.store.as_ref(), scope, valid_for)
        .await
        .map_err(unavailable("making an access code"))?
        .ok_or_else(|| ProjectError::Unknown(trial.to_string()))?;
    let body = InvitationDoc {
        path: access::link("", &invitation.code),
        code: invitation.code,
        expires_at: invitation
            .expires_at
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        trial_id: trial,
        patient_id: patient,
    };
    Ok((StatusCode::CREATED, axum::Json(body)).into_response())
}

/// `DELETE /api/v1/projects/{id}/patients/{patient}/access` (admin): the
/// patient's credentials and unused codes stop working; 200
/// `{"credentials", "codes"}` (how many).
pub async fn revoke(
    _: Authorized<scope::Admin>,
    State(app): State<Arc<App>>,
    Path((trial, patient)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let scope = patient_in(&trial, &patient)?;
    let revoked = app
        .services
        .store
        .revoke_patient(scope)
        .await
        .map_err(ApiError::storage)?;
    Ok(axum::Json(revoked).into_response())
}

/// The body of `POST /api/v1/patient-access`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExchangeDoc {
    /// The access code from the patient's link.
    code: String,
}

/// `POST /api/v1/patient-access` `{"code"}`: 201 `{"token", "trialId",
/// "patientId"}`, the patient's credential (shown once); 404
/// `unknown_access_code`, 410 `access_code_used`, `access_code_expired`,
/// `access_code_revoked`.
pub async fn exchange(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let doc: ExchangeDoc = read_json(
        "invalid_access_request",
        body,
        &headers,
        EXCHANGE_LIMIT,
        app.config.body_pace,
    )
    .await?;
    let redeemed = access::redeem(app.services.store.as_ref(), &doc.code)
        .await
        .map_err(unavailable("exchanging an access code"))?;
    let credential = redeemed.map_err(|refusal| {
        let (status, code) = match refusal {
            InviteRefusal::Unknown => (StatusCode::NOT_FOUND, "unknown_access_code"),
            InviteRefusal::Used => (StatusCode::GONE, "access_code_used"),
            InviteRefusal::Expired => (StatusCode::GONE, "access_code_expired"),
            InviteRefusal::Revoked => (StatusCode::GONE, "access_code_revoked"),
        };
        ApiError::new(status, code, refusal.to_string())
    })?;
    let body = CredentialDoc {
        token: credential.token,
        trial_id: credential.patient.trial.to_string(),
        patient_id: credential.patient.patient.to_string(),
    };
    Ok((StatusCode::CREATED, axum::Json(body)).into_response())
}
