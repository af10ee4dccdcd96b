//! The `/api/v1` handlers. Each one checks what it was sent (query,
//! content type, body), leases an instance for the module calls, and
//! answers JSON in the shapes of docs/abi.md.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use clinval_core::{Format, Lang};
use serde::Deserialize;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tracing::Instrument;

use super::app::App;
use super::body::{BodyReader, media_type};
use super::error::ApiError;
use crate::protocols::Entry;
use crate::service::batches::{self, Batch, Lines, RESPONSE_AHEAD, Spool, Upload};
use crate::service::validation::{record_options, validator_key};
use crate::wasm_host::Build;

/// The largest record `/api/v1/validate` takes (the module's own default).
const RECORD_LIMIT: u64 = 16 << 20;
const NDJSON: &str = "application/x-ndjson";

/// Query of `POST /api/v1/validate`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValidateQuery {
    protocol: Option<String>,
    as_of: Option<String>,
    lang: Option<String>,
}

/// Query of `POST /api/v1/batches`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchQuery {
    protocol: Option<String>,
    as_of: Option<String>,
    lang: Option<String>,
    include: Option<String>,
    encoding: Option<String>,
    sheet: Option<String>,
}

/// A request's protocol and module options, checked.
struct Run {
    protocol: Arc<Entry>,
    as_of: String,
    options: serde_json::Value,
}

impl Run {
    fn new(
        app: &App,
        protocol: Option<&str>,
        as_of: Option<&str>,
        lang: Option<&str>,
        include_valid: bool,
    ) -> Result<Run, ApiError> {
        let name = protocol.unwrap_or("patient");
        let protocol = app
            .services
            .protocols
            .get(name)
            .ok_or_else(|| ApiError::unknown_protocol(name, &app.services.protocols.names()))?;
        let as_of = match as_of {
            Some(text) => NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| {
                ApiError::bad_request("bad_query", format!("as_of `{text}` is not YYYY-MM-DD"))
            })?,
            None => chrono::Local::now().date_naive(),
        }
        .format("%Y-%m-%d")
        .to_string();
        let lang: Lang = lang
            .unwrap_or("en")
            .parse()
            .map_err(|e| ApiError::bad_request("bad_query", format!("lang: {e}")))?;
        let mut options = record_options(&as_of, lang);
        options["includeValid"] = include_valid.into();
        Ok(Run {
            protocol,
            as_of,
            options,
        })
    }

    /// The report's members that say what produced it: the module of
    /// `build`, the protocol, the as-of date.
    fn provenance(&self, app: &App, build: Build) -> serde_json::Map<String, serde_json::Value> {
        let module = app.module_facts(build);
        let mut tail = serde_json::Map::new();
        tail.insert(
            "module".into(),
            serde_json::json!({ "sha256": module.sha256, "build": module.build, "version": module.version }),
        );
        tail.insert(
            "protocol".into(),
            serde_json::json!({ "name": self.protocol.name, "sha256": self.protocol.sha256 }),
        );
        tail.insert("asOf".into(), self.as_of.clone().into());
        tail
    }
}

/// With `protect_validation`, the validation endpoints need `read`.
async fn guard(app: &App, headers: &HeaderMap) -> Result<(), ApiError> {
    if app.config.protect_validation {
        app.authorize(headers, crate::store::Scope::Read).await?;
    }
    Ok(())
}

pub(super) fn bad_query(rejection: QueryRejection) -> ApiError {
    ApiError::bad_request("bad_query", rejection.body_text())
}

fn unsupported(wanted: &str, headers: &HeaderMap) -> ApiError {
    let given = media_type(headers).unwrap_or_else(|| "none".to_owned());
    ApiError::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
        format!("Content-Type {given} is not accepted here; send {wanted}"),
    )
}

fn json_response(status: StatusCode, body: Vec<u8>) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// `POST /api/v1/validate`: one record (a JSON object) → `{"valid",
/// "issues", "record"}`, the answer the browser's `validateRecord` gives.
pub async fn validate(
    State(app): State<Arc<App>>,
    query: Result<Query<ValidateQuery>, QueryRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    guard(&app, &headers).await?;
    let Query(query) = query.map_err(bad_query)?;
    let run = Run::new(
        &app,
        query.protocol.as_deref(),
        query.as_of.as_deref(),
        query.lang.as_deref(),
        false,
    )?;
    if media_type(&headers).as_deref() != Some("application/json") {
        return Err(unsupported("application/json", &headers));
    }
    let limit = RECORD_LIMIT.min(app.config.body_limit);
    let record = BodyReader::new(body, &headers, limit, app.config.body_pace)?
        .collect()
        .await?;
    // Checked, not built: a huge object costs no tree here (its size is
    // the module's to judge, with its limits). Nesting first, so that it is
    // told apart from broken JSON.
    if nesting_deeper_than(&record, MAX_NESTING) {
        tracing::warn!(kind = "nesting_too_deep", "record over a limit refused");
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "nesting_too_deep",
            format!(
                "the record nests arrays or objects deeper than {MAX_NESTING} levels, the most this server reads"
            ),
        ));
    }
    serde_json::from_slice::<serde::de::IgnoredAny>(&record).map_err(|e| {
        ApiError::bad_request("malformed_body", format!("the body is not JSON: {e}"))
    })?;
    if record.trim_ascii_start().first() != Some(&b'{') {
        return Err(ApiError::bad_request(
            "malformed_body",
            "the body must be one JSON object (a record)",
        ));
    }
    let verdict = app
        .services
        .check_record(&run.protocol, run.options, &record)
        .await?;
    Ok(json_response(StatusCode::OK, verdict.json))
}

/// Deepest nesting of arrays and objects a record may have (serde_json's
/// own limit, which the module's reader has too).
const MAX_NESTING: usize = 127;

/// Whether the JSON text `bytes` nests arrays and objects deeper than
/// `limit` (brackets inside strings do not count). One pass, no tree.
fn nesting_deeper_than(bytes: &[u8], limit: usize) -> bool {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for &b in bytes {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                if depth > limit {
                    return true;
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

/// `POST /api/v1/batches`: a CSV, JSON or NDJSON body, streamed through
/// one instance → a report (JSON), or NDJSON lines as issues are found.
pub async fn batches(
    State(app): State<Arc<App>>,
    query: Result<Query<BatchQuery>, QueryRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    guard(&app, &headers).await?;
    let Query(query) = query.map_err(bad_query)?;
    let include_valid = match query.include.as_deref() {
        None => false,
        Some("valid") => true,
        Some(other) => {
            return Err(ApiError::bad_request(
                "bad_query",
                format!("include `{other}` is unknown; the one choice is `valid`"),
            ));
        }
    };
    if let Some(name) = query.encoding.as_deref() {
        clinval_core::TextEncoding::from_setting(name)
            .map_err(|e| ApiError::bad_request("bad_query", format!("encoding {e}")))?;
    }
    let run = Run::new(
        &app,
        query.protocol.as_deref(),
        query.as_of.as_deref(),
        query.lang.as_deref(),
        include_valid,
    )?;
    let format = media_type(&headers)
        .as_deref()
        .and_then(Format::from_media_type)
        .ok_or_else(|| {
            unsupported(
                "text/csv, application/json, application/x-ndjson or a workbook \
                 (xlsx, xls or ods media type)",
                &headers,
            )
        })?;
    let stream = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains(NDJSON));
    let reader = BodyReader::new(body, &headers, app.config.body_limit, app.config.body_pace)?;
    // The first chunk before an instance: a slow start holds no worker.
    let mut upload = Upload::new(reader);
    upload.fill().await?;
    let mut options = run.options.clone();
    if let Some(name) = &query.encoding {
        options["encoding"] = name.as_str().into();
    }
    if format == Format::Workbook {
        options["maxWorkbookBytes"] = app.config.workbook_limit.into();
        if let Some(sheet) = &query.sheet {
            options["sheet"] = sheet.as_str().into();
        }
    } else if query.sheet.is_some() {
        return Err(ApiError::bad_request(
            "bad_query",
            "sheet applies to workbooks only (xlsx, xls or ods bodies)",
        ));
    }
    if let Some(protocol) = &run.protocol.repeating {
        options["repeatingForms"] = upload.repeating_forms(protocol, format).await?.into();
    }
    let build = Build::reading(format).max(run.protocol.build);
    let mut lease = app.services.lease(build).await?;
    let batch = Batch {
        key: validator_key(&run.protocol, &options),
        protocol: run.protocol.source.clone(),
        options,
        format,
    };
    let tail = run.provenance(&app, build);

    if stream {
        let (tx, rx) = mpsc::channel(RESPONSE_AHEAD);
        let app = Arc::clone(&app);
        tokio::spawn(
            async move {
                let (lines, result) =
                    batches::run(&mut lease, batch, &mut upload, Lines::new(tx)).await;
                drop(lease);
                if result.is_err() {
                    upload.drain().await;
                }
                let last = match result {
                    Ok(summary) => {
                        app.services.metrics.count_summary(&summary);
                        let mut last = tail;
                        last.insert(
                            "summary".into(),
                            serde_json::to_value(&summary).unwrap_or_default(),
                        );
                        serde_json::Value::Object(last)
                    }
                    Err(error) => {
                        let error = ApiError::from(error);
                        tracing::warn!(code = error.code, "batch ended with an error");
                        error.body()
                    }
                };
                lines.finish(&last).await;
            }
            .in_current_span(),
        );
        let body = Body::from_stream(ReceiverStream::new(rx));
        return Ok((StatusCode::OK, [(header::CONTENT_TYPE, NDJSON)], body).into_response());
    }

    let spool = Spool::new().map_err(ApiError::spool)?;
    let (spool, result) = batches::run(&mut lease, batch, &mut upload, spool).await;
    drop(lease);
    if result.is_err() {
        upload.drain().await;
    }
    let summary = result?;
    app.services.metrics.count_summary(&summary);
    let rx = spool
        .into_report(&summary, include_valid, &tail)
        .map_err(ApiError::spool)?;
    let body = Body::from_stream(ReceiverStream::new(rx));
    Ok((
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response())
}

/// `GET /api/v1/openapi.json`: the OpenAPI 3.1 document of this API.
pub async fn openapi(State(app): State<Arc<App>>) -> Response {
    json_response(StatusCode::OK, app.openapi.to_vec())
}

/// `GET /api/v1/protocols`: every protocol's name, title, version, sha256.
pub async fn protocols(State(app): State<Arc<App>>) -> Response {
    axum::Json(serde_json::json!({ "protocols": app.services.protocols.summaries() }))
        .into_response()
}

/// `GET /api/v1/protocols/{name}`: its fields (as the module describes
/// them, for building forms) and its document.
pub async fn protocol(
    State(app): State<Arc<App>>,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    let entry = app
        .services
        .protocols
        .get(&name)
        .ok_or_else(|| ApiError::unknown_protocol(&name, &app.services.protocols.names()))?;
    #[derive(serde::Serialize)]
    struct Answer<'a> {
        sha256: &'a str,
        #[serde(flatten)]
        described: &'a serde_json::Map<String, serde_json::Value>,
        document: &'a serde_json::value::RawValue,
    }
    Ok(axum::Json(Answer {
        sha256: &entry.sha256,
        described: &entry.described,
        document: &entry.document,
    })
    .into_response())
}

/// `GET /api/v1/version`: the binary's version and the module's.
pub async fn version(State(app): State<Arc<App>>) -> Response {
    axum::Json(serde_json::json!({
        "version": env!("CARGO_PKG_VERSION"),
        "module": app.module,
        "fullModule": app.full_module,
    }))
    .into_response()
}
