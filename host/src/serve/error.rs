//! Every error answer: `{"error": {"code": "...", "message": "..."}}` with a
//! fitting status. Messages name what was wrong, never patient values.

use std::time::Duration;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::pool::Busy;
use crate::service::batches::BatchError;
use crate::service::projects::ProjectError;
use crate::service::submissions::SubmitError;
use crate::service::validation::CheckError;
use crate::wasm_host::CallError;

/// How long a client is asked to wait when the store failed: a lost
/// database is retried by the pool at every request, so a client need
/// not wait long to find it back.
const STORAGE_RETRY_AFTER: Duration = Duration::from_secs(2);

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

    /// 500: a batch or its report could not be written to temporary
    /// storage (the cause is logged, not answered).
    pub fn spool(error: std::io::Error) -> ApiError {
        tracing::error!(error = %error, "cannot spool a batch");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "spool_failed",
            "the batch could not be written to temporary storage",
        )
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

    /// 503 `storage_unavailable` with Retry-After: the store failed
    /// (logged with its cause, never data; answered without it).
    pub fn storage(error: impl std::fmt::Display) -> ApiError {
        tracing::error!(error = %error, "storage failed");
        ApiError {
            retry_after: Some(STORAGE_RETRY_AFTER),
            ..ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "storage_unavailable",
                "the data store could not complete the request; retry later",
            )
        }
    }

    /// 503 with Retry-After: no instance could be had, saying why.
    pub fn busy(busy: Busy, retry_after: Duration) -> ApiError {
        let message = match busy {
            Busy::QueueFull => {
                "every validation worker is busy and the queue is full; retry later".to_owned()
            }
            Busy::WaitedTooLong(waited) => format!(
                "no validation worker came free within {} s of waiting in the queue; retry later",
                waited.as_secs()
            ),
        };
        ApiError {
            retry_after: Some(retry_after),
            ..ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "overloaded", message)
        }
    }

    /// A workbook the module's reader failed on (its call trapped): a
    /// damaged file, 422 as the reader's own refusals are.
    pub fn workbook_unreadable() -> ApiError {
        tracing::warn!(
            kind = "workbook_reader_failed",
            "unreadable workbook refused"
        );
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
            clinval_core::WorkbookError::ReaderFailed.to_string(),
        )
    }

    /// A module call's failure: refusals are the client's (4xx), traps and
    /// timeouts are ours (500); a report the server had no room for is 507.
    pub fn from_call(error: CallError) -> ApiError {
        match error {
            CallError::Report(e) if e.kind() == std::io::ErrorKind::StorageFull => ApiError::new(
                StatusCode::INSUFFICIENT_STORAGE,
                "insufficient_storage",
                "the server has no room to write the report; retry later",
            ),
            CallError::Report(_) => ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "report_failed",
                "the server could not write the report; the request was not completed",
            ),
            CallError::Refused {
                code,
                message,
                kind,
                ..
            } => match (code.as_str(), kind.as_deref()) {
                ("input", Some(kind @ ("record_too_large" | "too_many_cells"))) => {
                    tracing::warn!(kind, "input over a record limit refused");
                    ApiError::new(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        if kind == "record_too_large" {
                            "record_too_large"
                        } else {
                            "too_many_cells"
                        },
                        format!(
                            "{message}; this server takes records of at most 16 MiB and \
                             65,536 cells or keys: split the record's data"
                        ),
                    )
                }
                ("input", Some("workbook_too_large")) => {
                    tracing::warn!(
                        kind = "workbook_too_large",
                        "workbook over the limit refused"
                    );
                    ApiError::new(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "workbook_too_large",
                        format!(
                            "{message}; this server's workbook_limit: send the sheet as CSV, \
                             which is read as it arrives, or in parts"
                        ),
                    )
                }
                ("input", Some("duplicate_index_full")) => {
                    tracing::warn!(
                        kind = "duplicate_index_full",
                        "input over the memory of an instance refused"
                    );
                    ApiError::new(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "duplicate_index_full",
                        format!(
                            "{message} (the server's instance_memory setting: a million \
                             distinct keys need about 72 MB)"
                        ),
                    )
                }
                ("input", _) => {
                    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_input", message)
                }
                ("protocol", _) => ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid_protocol",
                    message,
                ),
                _ => ApiError::bad_request("bad_argument", message),
            },
            error if error.out_of_memory().is_some() => {
                let mib = error.out_of_memory().unwrap_or_default() >> 20;
                tracing::warn!(
                    instance_memory_mib = mib,
                    "input over the memory of an instance refused"
                );
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "instance_memory_exceeded",
                    format!(
                        "validating this input needs more than the {mib} MiB of memory a \
                         validation instance has (the server's instance_memory setting); \
                         send it in parts or raise the setting"
                    ),
                )
            }
            error if error.is_timeout() => {
                tracing::error!("a module call ran past its CPU bound");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "engine_timeout",
                    "validation ran past its CPU bound and was stopped",
                )
            }
            error => {
                tracing::error!(error = %error, "a module call failed");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "engine_failed",
                    "the validation module failed; the request was not completed",
                )
            }
        }
    }

    /// 401: no token, or one the server does not know.
    pub fn unauthorized(message: &str) -> ApiError {
        ApiError {
            challenge: true,
            ..ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
        }
    }

    /// 403: a patient's credential used for another patient or trial.
    pub fn not_this_patient() -> ApiError {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "this is a patient's credential: it acts only for that patient's diaries of that trial",
        )
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

impl From<CheckError> for ApiError {
    fn from(error: CheckError) -> ApiError {
        match error {
            CheckError::Busy { busy, retry_after } => ApiError::busy(busy, retry_after),
            CheckError::Call(error) => ApiError::from_call(error),
            CheckError::Unreadable(error) => {
                tracing::error!(error = %error, "unreadable verdict");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "engine_failed",
                    "the module's verdict could not be read",
                )
            }
        }
    }
}

impl From<BatchError<ApiError>> for ApiError {
    fn from(error: BatchError<ApiError>) -> ApiError {
        match error {
            BatchError::Input(error) => error,
            BatchError::Call(error) => ApiError::from_call(error),
            BatchError::WorkbookUnreadable => ApiError::workbook_unreadable(),
            BatchError::Spool(error) => ApiError::spool(error),
            BatchError::FormsReadTwice => ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                error.to_string(),
            ),
        }
    }
}

impl From<ProjectError> for ApiError {
    fn from(error: ProjectError) -> ApiError {
        let message = error.to_string();
        match error {
            ProjectError::Invalid(_) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_project", message)
            }
            ProjectError::Exists(_) => {
                ApiError::new(StatusCode::CONFLICT, "project_exists", message)
            }
            ProjectError::Unknown(_) => {
                ApiError::new(StatusCode::NOT_FOUND, "unknown_project", message)
            }
            ProjectError::NotThisPatient => ApiError::not_this_patient(),
            ProjectError::Storage(error) => ApiError::storage(error),
        }
    }
}

impl From<SubmitError> for ApiError {
    fn from(error: SubmitError) -> ApiError {
        let message = error.to_string();
        let unprocessable =
            |code| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message.clone());
        match error {
            SubmitError::PatientId(_) | SubmitError::NotAnObject => {
                unprocessable("invalid_submission")
            }
            SubmitError::NotThisPatient => ApiError::not_this_patient(),
            SubmitError::UnknownTrial(id) => ProjectError::Unknown(id).into(),
            SubmitError::NotRecruiting { .. } => {
                ApiError::new(StatusCode::CONFLICT, "not_recruiting", message)
            }
            SubmitError::ProtocolUnavailable => ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "protocol_unavailable",
                message,
            ),
            SubmitError::Completion(error) => unprocessable(error.code()),
            SubmitError::Check(error) => error.into(),
            SubmitError::Invalid { issues } => ApiError {
                extra: Some(("issues", serde_json::Value::Array(issues))),
                ..unprocessable("invalid_report")
            },
            SubmitError::KeyReused => unprocessable("idempotency_key_reused"),
            SubmitError::DiaryExists(_) => {
                ApiError::new(StatusCode::CONFLICT, "diary_exists_for_day", message)
            }
            SubmitError::Storage(error) => ApiError::storage(error),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Error, ErrorKind};

    use super::*;

    #[test]
    fn a_report_the_server_cannot_write_is_not_an_engine_failure() {
        let full = ApiError::from_call(CallError::Report(Error::from(ErrorKind::StorageFull)));
        assert_eq!(
            (full.status.as_u16(), full.code),
            (507, "insufficient_storage")
        );
        let other = ApiError::from_call(CallError::Report(Error::other("broken pipe")));
        assert_eq!((other.status.as_u16(), other.code), (500, "report_failed"));
        let trap = ApiError::from_call(CallError::Trap(anyhow::anyhow!("unreachable")));
        assert_eq!(trap.code, "engine_failed");
    }
}
