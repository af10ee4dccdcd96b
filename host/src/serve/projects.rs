//! `/api/v1/projects`: trial projects, their enrolment and submissions.
//! Reading needs the `read` scope, changing needs `admin`.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;

use crate::store::{NewProject, ProjectPatch, StoreError};

use super::app::App;
use super::bearer::{Authorized, scope};
use super::body::read_json;
use super::error::ApiError;

/// Largest project document.
const PROJECT_LIMIT: u64 = 64 * 1024;

/// `GET /api/v1/projects`.
pub async fn list(
    Authorized { token, .. }: Authorized<scope::Read>,
    State(app): State<Arc<App>>,
) -> Result<Response, ApiError> {
    if token.patient.is_some() {
        return Err(ApiError::not_this_patient());
    }
    let projects = app
        .services
        .store
        .projects()
        .await
        .map_err(ApiError::storage)?;
    Ok(axum::Json(serde_json::json!({ "projects": projects })).into_response())
}

/// `GET /api/v1/projects/{id}`.
pub async fn get(
    Authorized { token, .. }: Authorized<scope::Read>,
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    if !token.may_see_trial(&id) {
        return Err(ApiError::not_this_patient());
    }
    let project = app
        .services
        .store
        .project(id.clone())
        .await
        .map_err(ApiError::storage)?;
    Ok(axum::Json(project.ok_or_else(|| unknown_project(&id))?).into_response())
}

/// `POST /api/v1/projects` (admin): 201 with the project.
pub async fn create(
    _: Authorized<scope::Admin>,
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let project: NewProject = project_body(&app, &headers, body).await?;
    crate::ids::TrialId::parse_as(&project.id, "id").map_err(|e| invalid(e.to_string()))?;
    check_fields(
        &app,
        Some(&project.name),
        project.start_date.as_deref(),
        Some(&project.protocol),
    )?;
    let created = app
        .services
        .store
        .create_project(project)
        .await
        .map_err(|e| match e {
            StoreError::ProjectExists(id) => ApiError::new(
                StatusCode::CONFLICT,
                "project_exists",
                format!("a project with id `{id}` exists already"),
            ),
            other => ApiError::storage(other),
        })?;
    let location = format!("/api/v1/projects/{}", created.id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        axum::Json(created),
    )
        .into_response())
}

/// `PATCH /api/v1/projects/{id}` (admin): the changed project.
pub async fn update(
    _: Authorized<scope::Admin>,
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let patch: ProjectPatch = project_body(&app, &headers, body).await?;
    check_fields(
        &app,
        patch.name.as_deref(),
        patch.start_date.as_deref(),
        patch.protocol.as_deref(),
    )?;
    let project = app
        .services
        .store
        .update_project(id.clone(), patch)
        .await
        .map_err(ApiError::storage)?;
    Ok(axum::Json(project.ok_or_else(|| unknown_project(&id))?).into_response())
}

/// A project body (a new project or a patch), read as [`read_json`] does.
async fn project_body<T: serde::de::DeserializeOwned>(
    app: &App,
    headers: &HeaderMap,
    body: Body,
) -> Result<T, ApiError> {
    read_json(
        "invalid_project",
        body,
        headers,
        PROJECT_LIMIT,
        app.config.body_pace,
    )
    .await
}

fn invalid(message: String) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_project", message)
}

fn check_fields(
    app: &App,
    name: Option<&str>,
    start_date: Option<&str>,
    protocol: Option<&str>,
) -> Result<(), ApiError> {
    if let Some(name) = name
        && (name.trim().is_empty() || name.chars().count() > 200)
    {
        return Err(invalid("name must be 1 to 200 characters".into()));
    }
    if let Some(date) = start_date
        && NaiveDate::parse_from_str(date, "%Y-%m-%d").is_err()
    {
        return Err(invalid(format!("startDate `{date}` is not YYYY-MM-DD")));
    }
    if let Some(protocol) = protocol
        && app.services.protocols.get(protocol).is_none()
    {
        return Err(invalid(format!(
            "protocol `{protocol}` is not served (known: {})",
            app.services.protocols.names().join(", ")
        )));
    }
    Ok(())
}

/// 404 for a project id.
pub fn unknown_project(id: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "unknown_project",
        format!("no project with id `{id}`"),
    )
}
