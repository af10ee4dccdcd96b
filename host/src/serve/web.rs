//! The web demo (`web-demo/`) at `/`: the ePRO form and the batch page,
//! built into the binary, and the module they run — the very bytes this
//! server runs, so the browser's sha256 equals the server's.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::app::App;
use super::error::ApiError;
use crate::wasm_host::Build;

/// `(name, content type, text)` of every file of `web-demo/`.
const FILES: &[(&str, &str, &str)] = &[
    (
        "index.html",
        "text/html; charset=utf-8",
        include_str!("../../../web-demo/index.html"),
    ),
    (
        "batch.html",
        "text/html; charset=utf-8",
        include_str!("../../../web-demo/batch.html"),
    ),
    (
        "style.css",
        "text/css; charset=utf-8",
        include_str!("../../../web-demo/style.css"),
    ),
    (
        "i18n.js",
        "text/javascript; charset=utf-8",
        include_str!("../../../web-demo/i18n.js"),
    ),
    (
        "offline.js",
        "text/javascript; charset=utf-8",
        include_str!("../../../web-demo/offline.js"),
    ),
    (
        "device.js",
        "text/javascript; charset=utf-8",
        include_str!("../../../web-demo/device.js"),
    ),
    (
        "outbox.js",
        "text/javascript; charset=utf-8",
        include_str!("../../../web-demo/outbox.js"),
    ),
    (
        "local-time.js",
        "text/javascript; charset=utf-8",
        include_str!("../../../web-demo/local-time.js"),
    ),
    (
        "widgets.js",
        "text/javascript; charset=utf-8",
        include_str!("../../../web-demo/widgets.js"),
    ),
    (
        "access.js",
        "text/javascript; charset=utf-8",
        include_str!("../../../web-demo/access.js"),
    ),
    (
        "sw.js",
        "text/javascript; charset=utf-8",
        include_str!("../../../web-demo/sw.js"),
    ),
    (
        "form.js",
        "text/javascript; charset=utf-8",
        include_str!("../../../web-demo/form.js"),
    ),
    (
        "batch.js",
        "text/javascript; charset=utf-8",
        include_str!("../../../web-demo/batch.js"),
    ),
    (
        "batch-worker.js",
        "text/javascript; charset=utf-8",
        include_str!("../../../web-demo/batch-worker.js"),
    ),
];

/// The module's JS glue, when the binary was built with `wasm/pkg`.
#[cfg(embedded_module)]
const GLUE: Option<&str> = Some(include_str!("../../../wasm/pkg/clinval.js"));
#[cfg(not(embedded_module))]
const GLUE: Option<&str> = None;

/// Only what the pages need: their own scripts, the module (compiled by
/// the browser), calls back to this server.
const CSP: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
                   style-src 'self'; img-src 'self' data:; object-src 'none'; \
                   base-uri 'none'; frame-ancestors 'none'";

/// The demo's routes.
pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/", get(|| async { file("index.html") }))
        .route(
            "/assets/{name}",
            get(|Path(name): Path<String>| async move { file(&name) }),
        )
        .route("/batch.html", get(|| async { file("batch.html") }))
        // At the root, so the service worker's scope is the whole site.
        .route("/sw.js", get(|| async { file("sw.js") }))
        .route("/pkg/clinval.js", get(glue))
        .route(
            "/pkg/clinval_bg.wasm",
            get(|app: State<Arc<App>>| module(app, Build::Compact)),
        )
        .route(
            "/pkg/clinval_full_bg.wasm",
            get(|app: State<Arc<App>>| module(app, Build::Full)),
        )
        .route("/demo.json", get(demo))
}

fn not_found() -> Response {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such file").into_response()
}

/// Headers every page and asset gets.
fn page(content_type: &'static str, body: impl IntoResponse) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

fn file(name: &str) -> Response {
    match FILES.iter().find(|(file, ..)| *file == name) {
        Some((_, content_type, text)) => page(content_type, *text),
        None => not_found(),
    }
}

async fn glue() -> Response {
    match GLUE {
        Some(text) => page("text/javascript; charset=utf-8", text),
        None => not_found(),
    }
}

/// A module this server runs (for a protocol, the same bytes a page runs).
async fn module(State(app): State<Arc<App>>, build: Build) -> Response {
    match &app.module_bytes[build as usize] {
        Some(bytes) => page("application/wasm", bytes.clone()),
        None => not_found(),
    }
}

/// `{"token", "trialId"}` for the pages, only under `--demo`.
async fn demo(State(app): State<Arc<App>>) -> Response {
    match app.demo_token.get() {
        Some(token) => {
            axum::Json(serde_json::json!({ "token": token, "trialId": "CT001" })).into_response()
        }
        None => not_found(),
    }
}
