//! The application: its shared state, its routes, and the layers every
//! request passes through (request id, access log and metrics, the `Host`
//! check, panics).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderName, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use crate::service::Services;
use crate::wasm_host::Build;

use super::api;
use super::config::Config;
use super::error::ApiError;
use super::{patients, projects, submissions};
use crate::metrics::RouteLabels;

/// The request id header, accepted from clients and echoed back.
pub const REQUEST_ID: &str = "x-request-id";

/// Facts about a module being run.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ModuleFacts {
    /// Which build.
    pub build: Build,
    /// sha256 of the module's bytes (hex).
    pub sha256: String,
    /// The engine version the module reports.
    pub version: String,
    /// Its C ABI version.
    pub abi: u32,
}

/// State shared by every request.
pub struct App {
    /// Settings.
    pub config: Config,
    /// What the handlers call: validation, submissions, the store.
    pub services: Arc<Services>,
    /// The compact module.
    pub module: ModuleFacts,
    /// The full module, if the server has one.
    pub full_module: Option<ModuleFacts>,
    /// False once shutdown has begun.
    pub ready: AtomicBool,
    /// The modules' bytes by [`Build`] (served to the web demo).
    pub module_bytes: [Option<bytes::Bytes>; 2],
    /// The demo token, under `--demo` (served to the web demo).
    pub demo_token: std::sync::OnceLock<String>,
    /// The OpenAPI document, serialized once.
    pub openapi: bytes::Bytes,
}

impl App {
    /// Facts about the module `build`, which the server has (a protocol
    /// runs in a build the server loaded it with).
    pub fn module_facts(&self, build: Build) -> &ModuleFacts {
        match (build, &self.full_module) {
            (Build::Full, Some(full)) => full,
            _ => &self.module,
        }
    }

    /// The caller's token, if it allows `scope` (401 / 403 otherwise).
    pub async fn authorize(
        &self,
        headers: &HeaderMap,
        scope: crate::store::Scope,
    ) -> Result<crate::store::TokenInfo, ApiError> {
        super::bearer::authorize(self, headers, scope).await
    }

    /// Marks the server as shutting down (readyz answers 503).
    pub fn stop_ready(&self) {
        self.ready.store(false, Ordering::Relaxed);
    }
}

/// Every route of the service.
pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/api/v1/validate", post(api::validate))
        .route("/api/v1/batches", post(api::batches))
        .route("/api/v1/protocols", get(api::protocols))
        .route("/api/v1/protocols/{name}", get(api::protocol))
        .route("/api/v1/version", get(api::version))
        .route("/api/v1/openapi.json", get(api::openapi))
        .route(
            "/api/v1/projects",
            get(projects::list).post(projects::create),
        )
        .route(
            "/api/v1/projects/{id}",
            get(projects::get).patch(projects::update),
        )
        .route(
            "/api/v1/submissions",
            post(submissions::submit).get(submissions::find),
        )
        .route("/api/v1/submissions/{id}", get(submissions::get))
        .route("/api/v1/patient-access", post(patients::exchange))
        .route(
            "/api/v1/projects/{id}/patients/{patient}/invites",
            post(patients::invite),
        )
        .route(
            "/api/v1/projects/{id}/patients/{patient}/access",
            delete(patients::revoke),
        )
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .merge(super::web::routes())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
}

/// `routes` with the layers every request passes through, ready to serve:
/// outermost, the request id (a client's `X-Request-Id` if it is a sane
/// token, else a new UUID; sent back on the answer), then the request's
/// span (every log line of the request carries its id), the access line
/// and metrics, the Host check, and a panic turned into a 500.
pub fn with_layers(routes: Router<Arc<App>>, app: Arc<App>) -> Router {
    let request_id = HeaderName::from_static(REQUEST_ID);
    routes
        // Inner: a panic becomes a 500 that the access log still sees.
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(middleware::from_fn_with_state(Arc::clone(&app), check_host))
        .layer(middleware::from_fn_with_state(Arc::clone(&app), observe))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(request_span)
                // The access line is `observe`'s, with the route and sizes.
                .on_request(())
                .on_response(())
                .on_failure(()),
        )
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .layer(middleware::map_request(drop_unusable_request_id))
        .with_state(app)
}

/// The span of one request: its id.
fn request_span(request: &Request) -> tracing::Span {
    let id = request
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    tracing::info_span!("request", request_id = id)
}

/// Removes a client's `X-Request-Id` that is not a sane token (1 to 128
/// letters, digits, `-_.:`), so that a new one is made: ids go into logs.
async fn drop_unusable_request_id(mut request: Request) -> Request {
    let unusable = request.headers().get(REQUEST_ID).is_some_and(|value| {
        let bytes = value.as_bytes();
        !((1..=128).contains(&bytes.len())
            && bytes
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(b)))
    });
    if unusable {
        request.headers_mut().remove(REQUEST_ID);
    }
    request
}

/// The access line and the request metrics of every request (inside its span).
async fn observe(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str)
        .to_owned();
    let method = request.method().to_string();
    let bytes_in = content_length(request.headers());
    let started = Instant::now();
    let response = next.run(request).await;
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    let labels = RouteLabels {
        method: method.clone(),
        route: route.clone(),
        status,
    };
    app.services.metrics.requests.get_or_create(&labels).inc();
    app.services
        .metrics
        .latency
        .get_or_create(&labels)
        .observe(elapsed.as_secs_f64());
    tracing::info!(
        target: "access",
        method,
        route,
        status,
        duration_ms = elapsed.as_secs_f64() * 1000.0,
        bytes_in,
        bytes_out = content_length(response.headers()),
        "request"
    );
    response
}

/// Answers only requests for an allowed host (`allowed_hosts`): a page on
/// another name that resolves to this server (DNS rebinding) gets 421 and
/// no data, the demo token included.
async fn check_host(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| request.uri().authority().map(|a| a.as_str()));
    match host {
        Some(host) if app.config.allowed_hosts.allow(host) => next.run(request).await,
        Some(_) => {
            tracing::warn!(
                code = "host_not_allowed",
                "request for another host refused"
            );
            ApiError::new(
                StatusCode::MISDIRECTED_REQUEST,
                "host_not_allowed",
                "this server does not answer for that host name (see allowed_hosts)",
            )
            .into_response()
        }
        None => {
            ApiError::bad_request("host_missing", "the request has no Host header").into_response()
        }
    }
}

fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

/// A panic's answer. The payload is not logged: it may quote data.
fn panic_response(_payload: Box<dyn std::any::Any + Send + 'static>) -> Response<Body> {
    tracing::error!("a handler panicked; answered 500");
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "an internal error occurred; the request was not completed",
    )
    .into_response()
}

async fn healthz() -> impl IntoResponse {
    axum::Json(serde_json::json!({ "status": "ok" }))
}

async fn readyz(State(app): State<Arc<App>>) -> Response {
    if app.ready.load(Ordering::Relaxed) {
        axum::Json(serde_json::json!({
            "status": "ready",
            "module": app.module.sha256,
            "workers": app.config.workers,
        }))
        .into_response()
    } else {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "shutting_down",
            "the server is shutting down",
        )
        .into_response()
    }
}

async fn metrics(State(app): State<Arc<App>>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        app.services.metrics.render(),
    )
}

async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such endpoint")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this endpoint does not take that method",
    )
}
