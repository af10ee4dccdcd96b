//! Request bodies read as a stream: never whole, never past the body limit,
//! and never waiting on a stalled client longer than the body timeout.

use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderMap, StatusCode, header};
use bytes::Bytes;
use http_body_util::BodyExt;

use super::error::ApiError;

/// Reads a request body frame by frame.
pub struct BodyReader {
    body: Body,
    limit: u64,
    read: u64,
    timeout: Duration,
}

impl BodyReader {
    /// Refuses at once a body whose Content-Length is over `limit`.
    pub fn new(
        body: Body,
        headers: &HeaderMap,
        limit: u64,
        timeout: Duration,
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
            timeout,
        })
    }

    /// The next piece of data, or `None` at the end.
    pub async fn next(&mut self) -> Result<Option<Bytes>, ApiError> {
        loop {
            let frame = match tokio::time::timeout(self.timeout, self.body.frame()).await {
                Err(_) => {
                    return Err(ApiError::new(
                        StatusCode::REQUEST_TIMEOUT,
                        "body_timeout",
                        format!(
                            "the request body stalled for {} s after {} bytes",
                            self.timeout.as_secs(),
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
            return Ok(Some(data));
        }
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
/// bytes) read whole and parsed into `T`.
pub async fn read_json<T: serde::de::DeserializeOwned>(
    body: Body,
    headers: &HeaderMap,
    limit: u64,
    timeout: Duration,
) -> Result<T, ApiError> {
    let media = media_type(headers);
    if media.as_deref() != Some("application/json") {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send Content-Type: application/json",
        ));
    }
    let bytes = BodyReader::new(body, headers, limit, timeout)?
        .collect()
        .await?;
    serde_json::from_slice(&bytes).map_err(|e| {
        ApiError::bad_request("malformed_body", format!("the body cannot be used: {e}"))
    })
}
