//! Request bodies read as a stream: never whole, never past the body limit,
//! never waiting on a stalled client longer than the body timeout, and
//! never at a trickle (a client sending a byte now and then would hold a
//! worker for as long as it liked).

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{HeaderMap, StatusCode, header};
use bytes::Bytes;
use http_body_util::BodyExt;

use super::config::BodyPace;
use super::error::ApiError;

/// Reads a request body frame by frame.
pub struct BodyReader {
    body: Body,
    limit: u64,
    read: u64,
    pace: BodyPace,
    /// Time spent waiting for the client's bytes (not the server's own
    /// time, in the queue or validating: only the client's pace counts).
    waited: Duration,
}

/// The batch service reads an upload as the body arrives.
impl crate::service::batches::Chunks for BodyReader {
    type Error = ApiError;

    fn next(&mut self) -> impl Future<Output = Result<Option<Bytes>, ApiError>> + Send {
        BodyReader::next(self)
    }
}

impl BodyReader {
    /// Refuses at once a body whose Content-Length is over `limit`.
    pub fn new(
        body: Body,
        headers: &HeaderMap,
        limit: u64,
        pace: BodyPace,
    ) -> Result<BodyReader, ApiError> {
        let declared = headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|length| length > limit) {
            return Err(too_large(limit));
        }
        Ok(BodyReader {
            body,
            limit,
            read: 0,
            pace,
            waited: Duration::ZERO,
        })
    }

    /// The next piece of data, or `None` at the end.
    pub async fn next(&mut self) -> Result<Option<Bytes>, ApiError> {
        loop {
            let asked = Instant::now();
            let frame = tokio::time::timeout(self.pace.pause, self.body.frame()).await;
            self.waited += asked.elapsed();
            let frame = match frame {
                Err(_) => {
                    return Err(ApiError::new(
                        StatusCode::REQUEST_TIMEOUT,
                        "body_timeout",
                        format!(
                            "the request body stalled for {} s after {} bytes",
                            self.pace.pause.as_secs(),
                            self.read
                        ),
                    ));
                }
                Ok(None) => return Ok(None),
                Ok(Some(Err(error))) => {
                    return Err(ApiError::bad_request(
                        "body_read_failed",
                        format!("the request body could not be read: {error}"),
                    ));
                }
                Ok(Some(Ok(frame))) => frame,
            };
            let Ok(data) = frame.into_data() else {
                continue; // trailers
            };
            self.read += data.len() as u64;
            if self.read > self.limit {
                return Err(too_large(self.limit));
            }
            self.check_rate()?;
            return Ok(Some(data));
        }
    }

    /// 408 if, once the client has been waited for `pause` in all, its
    /// bytes came slower than `min_rate` on average.
    fn check_rate(&self) -> Result<(), ApiError> {
        let elapsed = self.waited;
        let min_rate = self.pace.min_rate;
        if min_rate == 0 || elapsed <= self.pace.pause {
            return Ok(());
        }
        let expected = (min_rate as f64 * elapsed.as_secs_f64()) as u64;
        if self.read >= expected {
            return Ok(());
        }
        Err(ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "body_too_slow",
            format!(
                "the request body arrived at {} bytes/s on average, slower than the {min_rate} bytes/s allowed (body_min_rate)",
                (self.read as f64 / elapsed.as_secs_f64()) as u64
            ),
        ))
    }

    /// The whole body (for small bodies: one record).
    pub async fn collect(mut self) -> Result<Vec<u8>, ApiError> {
        let mut all = Vec::new();
        while let Some(data) = self.next().await? {
            all.extend_from_slice(&data);
        }
        Ok(all)
    }
}

fn too_large(limit: u64) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "body_too_large",
        format!("the request body is larger than the limit of {limit} bytes"),
    )
}

/// The request's media type, lowercase, without parameters (`text/csv`).
pub fn media_type(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    let essence = value.split(';').next().unwrap_or_default().trim();
    Some(essence.to_ascii_lowercase())
}

/// A small JSON body (`Content-Type: application/json`, at most `limit`
/// bytes) read whole and parsed into `T`. Text that is not JSON is 400
/// `malformed_body`; JSON whose members do not fit `T` (a missing or
/// unknown member, a wrong type) is 422 `invalid`, the endpoint's code.
pub async fn read_json<T: serde::de::DeserializeOwned>(
    invalid: &'static str,
    body: Body,
    headers: &HeaderMap,
    limit: u64,
    pace: BodyPace,
) -> Result<T, ApiError> {
    let media = media_type(headers);
    if media.as_deref() != Some("application/json") {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send Content-Type: application/json",
        ));
    }
    let bytes = BodyReader::new(body, headers, limit, pace)?
        .collect()
        .await?;
    serde_json::from_slice(&bytes).map_err(|e| match e.classify() {
        serde_json::error::Category::Data => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            invalid,
            format!("the body cannot be used: {e}"),
        ),
        _ => ApiError::bad_request("malformed_body", format!("the body is not JSON: {e}")),
    })
}
