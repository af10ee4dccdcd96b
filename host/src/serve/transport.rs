//! The connection as hyper sees it: a TCP stream whose bare error answers
//! from hyper itself get clinval's JSON error body.
//!
//! hyper answers a request it cannot parse — a broken request line or
//! header (400), a URI over 64 KiB (414), too many or too large headers
//! (431) — on its own, before any handler runs, with an empty body, and
//! offers no hook to shape that answer. Every other error of this server
//! has the JSON body docs/http.md promises, so clients would need a second
//! error path for these alone. This adapter recognises hyper's automatic
//! answer (its exact head: the status, `connection: close`,
//! `content-length: 0`; no handler answers an error without a body) as it
//! is written, and writes the same status with the JSON body instead.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// hyper's automatic answers: the head they start with, and what to say.
const BARE: [(&[u8], &str, &str); 3] = [
    (
        b"HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n",
        "malformed_request",
        "the request is not valid HTTP/1.1: its request line or a header cannot be read",
    ),
    (
        b"HTTP/1.1 414 URI Too Long\r\nconnection: close\r\ncontent-length: 0\r\n",
        "uri_too_long",
        "the request's URI is longer than the server reads (64 KiB)",
    ),
    (
        b"HTTP/1.1 431 Request Header Fields Too Large\r\nconnection: close\r\ncontent-length: 0\r\n",
        "headers_too_large",
        "the request has more than 100 headers, or more header bytes than the server reads",
    ),
];

/// A stream whose writes pass through, except hyper's bare error answers.
pub struct JsonErrors<T> {
    inner: T,
    /// A rewritten answer still being written, and how much of it is.
    pending: Option<(Vec<u8>, usize)>,
}

impl<T> JsonErrors<T> {
    /// Wraps `inner`.
    pub fn new(inner: T) -> JsonErrors<T> {
        JsonErrors {
            inner,
            pending: None,
        }
    }
}

/// The JSON answer for `written`, if it is one of hyper's bare answers.
fn rewrite(written: &[u8]) -> Option<Vec<u8>> {
    let (head, code, message) = BARE.iter().find(|(head, ..)| written.starts_with(head))?;
    let status_line_end = head.iter().position(|&b| b == b'\r')?;
    let body = serde_json::json!({ "error": { "code": code, "message": message } }).to_string();
    let mut answer = Vec::with_capacity(256);
    answer.extend_from_slice(&head[..status_line_end]);
    answer.extend_from_slice(b"\r\nconnection: close\r\ncontent-type: application/json\r\n");
    answer.extend_from_slice(format!("content-length: {}\r\n", body.len()).as_bytes());
    // The rest of hyper's head (its date), then the body.
    answer.extend_from_slice(&written[head.len()..]);
    answer.extend_from_slice(body.as_bytes());
    Some(answer)
}

impl<T: AsyncWrite + Unpin> JsonErrors<T> {
    /// Writes what is pending; ready when nothing is.
    fn poll_pending(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while let Some((bytes, done)) = &mut self.pending {
            if *done == bytes.len() {
                self.pending = None;
                break;
            }
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, &bytes[*done..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            *done += n;
        }
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for JsonErrors<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for JsonErrors<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        ready!(self.poll_pending(cx))?;
        if let Some(answer) = rewrite(buf) {
            // hyper's head ends its answer (the connection closes after
            // it): take it whole, and write the JSON answer in its place.
            // What the socket does not take now, flush and shutdown write.
            self.pending = Some((answer, 0));
            if let Poll::Ready(Err(error)) = self.poll_pending(cx) {
                return Poll::Ready(Err(error));
            }
            return Poll::Ready(Ok(buf.len()));
        }
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_pending(cx))?;
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_pending(cx))?;
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    // Not vectored: hyper then writes each answer's head as one buffer,
    // which is what `rewrite` recognises.
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hypers_bare_answers_get_a_json_body_and_the_rest_passes() {
        let bare = b"HTTP/1.1 431 Request Header Fields Too Large\r\nconnection: close\r\ncontent-length: 0\r\ndate: Tue, 01 Dec 2026 14:45:14 GMT\r\n\r\n";
        let answer = String::from_utf8(rewrite(bare).unwrap()).unwrap();
        let (head, body) = answer.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"));
        assert!(head.contains("content-type: application/json"));
        assert!(head.contains(&format!("content-length: {}", body.len())));
        assert!(head.ends_with("date: Tue, 01 Dec 2026 14:45:14 GMT"));
        let body: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(body["error"]["code"], "headers_too_large");
        let ours = b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: 60\r\n\r\n";
        assert!(rewrite(ours).is_none());
    }

    #[tokio::test]
    async fn a_rewritten_answer_is_written_whole_through_short_writes() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let (client, server) = tokio::io::duplex(7);
        let mut server = JsonErrors::new(server);
        let bare = b"HTTP/1.1 414 URI Too Long\r\nconnection: close\r\ncontent-length: 0\r\ndate: x\r\n\r\n";
        let writer = tokio::spawn(async move {
            server.write_all(bare).await.unwrap();
            server.shutdown().await.unwrap();
        });
        let mut got = String::new();
        let mut client = client;
        client.read_to_string(&mut got).await.unwrap();
        writer.await.unwrap();
        assert!(got.starts_with("HTTP/1.1 414 URI Too Long\r\n"), "{got}");
        assert!(got.ends_with("\"code\":\"uri_too_long\",\"message\":\"the request's URI is longer than the server reads (64 KiB)\"}}"), "{got}");
    }
}
