//! `/api/v1/projects`: the HTTP face of the projects service
//! (`service::projects`). Reading needs the `read` scope, changing needs
//! `admin`.

use std::sync::Arc;

use crate::store::{NewProject, ProjectPatch};
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

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
    let projects = app.services.projects(&token).await?;
    Ok(axum::Json(serde_json::json!({ "projects": projects })).into_response())
}

/// `GET /api/v1/projects/{id}`.
pub async fn get(
    Authorized { token, .. }: Authorized<scope::Read>,
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    Ok(axum::Json(app.services.project(&token, id).await?).into_response())
}

/// `POST /api/v1/projects` (admin): 201 with the project.
pub async fn create(
    _: Authorized<scope::Admin>,
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let project: NewProject = project_body(&app, &headers, body).await?;
    let created = app.services.create_project(project).await?;
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
    Ok(axum::Json(app.services.update_project(id, patch).await?).into_response())
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
