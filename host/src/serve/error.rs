//! Every error answer: `{"error": {"code": "...", "message": "..."}}` with a
//! fitting status. Messages name what was wrong, never patient values.

use std::time::Duration;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::wasm_host::CallError;

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable code for programs.
    pub code: &'static str,
    /// Message for people.
    pub message: String,
    /// Sent as Retry-After (503).
    pub retry_after: Option<Duration>,
    /// Send `WWW-Authenticate: Bearer` (401).
    pub challenge: bool,
    /// More members of the body beside `error` (e.g. `issues`).
    pub extra: Option<(&'static str, serde_json::Value)>,
}

impl ApiError {
    /// An error with `status`, `code` and `message`.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            retry_after: None,
            challenge: false,
            extra: None,
        }
    }

    /// 400: a request that cannot be used as sent.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// 404 for an unknown protocol.
    pub fn unknown_protocol(name: &str, known: &[&str]) -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_protocol",
            format!("no protocol named `{name}` (known: {})", known.join(", ")),
        )
    }

    /// 503 with Retry-After: every instance busy and the queue full.
    pub fn busy(retry_after: Duration) -> ApiError {
        ApiError {
            retry_after: Some(retry_after),
            ..ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "overloaded",
                "every validation worker is busy and the queue is full; retry later",
            )
        }
    }

    /// A module call's failure: refusals are the client's (4xx), traps and
    /// timeouts are ours (500).
    pub fn from_call(error: CallError) -> ApiError {
        match error {
            CallError::Refused { code, message, .. } => match code.as_str() {
                "input" => {
                    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_input", message)
                }
                "protocol" => ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid_protocol",
                    message,
                ),
                _ => ApiError::bad_request("bad_argument", message),
            },
            error if error.is_timeout() => ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "engine_timeout",
                "validation ran past its CPU bound and was stopped",
            ),
            _ => ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "engine_failed",
                "the validation module failed; the request was not completed",
            ),
        }
    }

    /// 401: no token, or one the server does not know.
    pub fn unauthorized(message: &str) -> ApiError {
        ApiError {
            challenge: true,
            ..ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
        }
    }

    /// The JSON body.
    pub fn body(&self) -> serde_json::Value {
        let mut body =
            serde_json::json!({ "error": { "code": self.code, "message": self.message } });
        if let (Some((key, value)), Some(object)) = (&self.extra, body.as_object_mut()) {
            object.insert((*key).to_owned(), value.clone());
        }
        body
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, axum::Json(self.body())).into_response();
        if let Some(after) = self.retry_after
            && let Ok(value) = HeaderValue::from_str(&after.as_secs().max(1).to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        if self.challenge {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"clinval\""),
            );
        }
        response
    }
}
