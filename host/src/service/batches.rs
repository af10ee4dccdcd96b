//! The batch validation service: an upload is fed to a leased instance
//! chunk by chunk as it arrives ([`Chunks`]: the HTTP layer's body), and
//! what the module finds goes to a [`Sink`]: spooled to temporary files
//! for a JSON report (answered once the status is known), or streamed as
//! NDJSON lines.
//!
//! Memory stays flat for any upload: one chunk of input, one chunk of
//! results and a bounded channel of response pieces at a time.

use std::fs::File;
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::sync::Arc;

use anyhow::anyhow;
use bytes::Bytes;
use clinval_core::{FormCollector, Format, Options, Protocol, Session, Summary};
use tokio::sync::mpsc;

use crate::pool::{Lease, Worker};
use crate::wasm_host::{CallError, Events};

/// An upload's bytes as they arrive (the HTTP layer's request body, with
/// its limits and pace); `Error` is why reading it stopped.
pub trait Chunks: Send {
    /// Why the bytes stopped coming (too large, too slow, cut off).
    type Error: Send;
    /// The next piece, or `None` at the end.
    fn next(&mut self) -> impl Future<Output = Result<Option<Bytes>, Self::Error>> + Send;
}

/// Why a batch did not run to its summary.
#[derive(Debug, thiserror::Error)]
pub enum BatchError<E> {
    /// Reading the upload failed (the HTTP layer's error).
    #[error("the upload could not be read")]
    Input(E),
    /// The module refused the input or failed.
    #[error(transparent)]
    Call(CallError),
    /// The workbook reader failed on the file (a damaged workbook).
    #[error("{}", clinval_core::WorkbookError::ReaderFailed)]
    WorkbookUnreadable,
    /// The upload or the report could not be spooled to temporary files.
    #[error("spooling the batch failed: {0}")]
    Spool(#[source] std::io::Error),
    /// The upload was read for its forms a second time.
    #[error("the upload was read for its forms twice")]
    FormsReadTwice,
}

/// Input is fed to the module in pieces of about this size.
pub const FEED_CHUNK: usize = 256 * 1024;
/// Response pieces buffered ahead of a slow client.
pub const RESPONSE_AHEAD: usize = 16;
/// Size of a response piece read back from a spool file.
const SPOOL_READ: usize = 64 * 1024;

/// Where a batch's issues and records go.
pub trait Sink: Send + 'static {
    /// One error-log object (JSON).
    fn issue(&mut self, json: &str) -> std::io::Result<()>;
    /// One cleaned valid record (JSON).
    fn record(&mut self, json: &str) -> std::io::Result<()>;
    /// The end of one call's results.
    fn flush(&mut self) -> std::io::Result<()>;
}

/// A batch to run: the validator key, the protocol and options.
pub struct Batch {
    /// Names the validator in the instance's cache.
    pub key: String,
    /// The protocol source (built-in name or document).
    pub protocol: String,
    /// The module's options (`asOf`, `lang`, `includeValid`).
    pub options: serde_json::Value,
    /// How the upload is written.
    pub format: Format,
}

/// An upload, read ahead by up to one feed chunk. A request reads its
/// first chunk (or its whole body, if smaller) before it leases an
/// instance, so a client that is slow to start holds no worker.
pub struct Upload<B> {
    source: Source<B>,
    pending: Vec<u8>,
    ended: bool,
}

/// Where an upload's bytes are read from.
enum Source<B> {
    /// The request body, as it arrives.
    Body(B),
    /// The whole body, spooled to a temporary file by [`Upload::repeating_forms`].
    Spooled(File),
}

impl<B: Chunks> Upload<B> {
    /// Nothing read yet.
    pub fn new(body: B) -> Upload<B> {
        Upload {
            source: Source::Body(body),
            pending: Vec::with_capacity(FEED_CHUNK),
            ended: false,
        }
    }

    /// Reads until a feed chunk is buffered or the body has ended.
    pub async fn fill(&mut self) -> Result<(), BatchError<B::Error>> {
        while !self.ended && self.pending.len() < FEED_CHUNK {
            match &mut self.source {
                Source::Body(body) => match body.next().await.map_err(BatchError::Input)? {
                    Some(data) => self.pending.extend_from_slice(&data),
                    None => self.ended = true,
                },
                Source::Spooled(file) => {
                    let start = self.pending.len();
                    self.pending.resize(FEED_CHUNK, 0);
                    let read = file
                        .read(&mut self.pending[start..])
                        .map_err(BatchError::Spool)?;
                    self.pending.truncate(start + read);
                    self.ended = read == 0;
                }
            }
        }
        Ok(())
    }

    /// Reads the rest of the body and drops it, so that a client still
    /// sending when its upload was refused can read the answer (a server
    /// that closes on an unread body makes many clients lose it). Hold no
    /// instance meanwhile; the body's limit and pace still apply.
    pub async fn drain(&mut self) {
        if let Source::Body(body) = &mut self.source {
            while let Ok(Some(_)) = body.next().await {}
        }
        self.ended = true;
        self.pending.clear();
    }

    /// For a protocol with REDCap repeating forms: reads the whole body
    /// (before any instance is leased) into a temporary file, finding on
    /// the way which forms repeat in it, and returns them; the module then
    /// reads the upload from the file. The forms are all this reading
    /// decides: whatever is wrong with the input, the module reports.
    pub async fn repeating_forms(
        &mut self,
        protocol: &Arc<Protocol>,
        format: Format,
    ) -> Result<Vec<String>, BatchError<B::Error>> {
        let Source::Body(body) = &mut self.source else {
            return Err(BatchError::FormsReadTwice);
        };
        let Some(mut collector) = FormCollector::new(protocol) else {
            return Ok(Vec::new());
        };
        // Any date: only the repeat column is read.
        let options = Options::new(chrono::NaiveDate::MIN);
        let mut session = Some(Session::new(Arc::clone(protocol), format, &options));
        let mut file = BufWriter::new(tempfile::tempfile().map_err(BatchError::Spool)?);
        // The reading is the engine's CPU work: off the async threads.
        let feed = |session: &mut Option<Session>, bytes: &[u8], collector: &mut FormCollector| {
            tokio::task::block_in_place(|| {
                if let Some(reading) = session
                    && reading.feed(bytes, collector).is_err()
                {
                    *session = None; // the module will say why
                }
            });
        };
        feed(&mut session, &self.pending, &mut collector);
        file.write_all(&self.pending).map_err(BatchError::Spool)?;
        if !self.ended {
            while let Some(data) = body.next().await.map_err(BatchError::Input)? {
                feed(&mut session, &data, &mut collector);
                file.write_all(&data).map_err(BatchError::Spool)?;
            }
        }
        if let Some(mut reading) = session {
            // An error at the end is the module's to report too.
            let _ = reading.finish(&mut collector);
        }
        let mut file = file
            .into_inner()
            .map_err(|e| BatchError::Spool(e.into_error()))?;
        file.seek(SeekFrom::Start(0)).map_err(BatchError::Spool)?;
        self.source = Source::Spooled(file);
        self.pending.clear();
        self.ended = false;
        self.fill().await?;
        Ok(collector.into_forms())
    }
}

/// Runs `batch` on `lease` over `upload` (already filled once), writing
/// to `sink`; returns the summary and the sink. On any error the instance
/// is discarded (its batch is left half-done); the rest of the upload is
/// left for [`Upload::drain`].
pub async fn run<S: Sink, B: Chunks>(
    lease: &mut Lease,
    batch: Batch,
    upload: &mut Upload<B>,
    sink: S,
) -> (S, Result<Summary, BatchError<B::Error>>) {
    let Batch {
        key,
        protocol,
        options,
        format,
    } = batch;
    let (sink, started) = lease
        .run(sink, move |worker: &mut Worker, _| {
            let validator = worker.validator(&key, &protocol, &options)?;
            worker.client.batch(validator, format.name())
        })
        .await;
    let handle = match started {
        Ok(handle) => handle,
        Err(error) => return (sink, Err(BatchError::Call(error))),
    };
    let mut sink = sink;
    loop {
        let last = upload.ended;
        let chunk = std::mem::take(&mut upload.pending);
        let ((returned, chunk), fed) = lease
            .run((sink, chunk), move |worker, (sink, chunk)| {
                let mut summary = None;
                if !chunk.is_empty() {
                    let events = worker.client.feed(handle, chunk)?;
                    absorb(&events, sink)?;
                }
                chunk.clear();
                if last {
                    let events = worker.client.finish(handle)?;
                    summary = absorb(&events, sink)?;
                }
                Ok(summary)
            })
            .await;
        sink = returned;
        upload.pending = chunk; // its capacity, for the next piece
        match fed {
            Ok(Some(summary)) => return (sink, Ok(summary)),
            Ok(None) if !last => {}
            Ok(None) => {
                let error = CallError::Trap(anyhow!("the module gave no summary"));
                return (sink, Err(BatchError::Call(error)));
            }
            Err(error) => {
                lease.discard();
                let error = match format {
                    Format::Workbook if error.is_reader_failure() => BatchError::WorkbookUnreadable,
                    _ => BatchError::Call(error),
                };
                return (sink, Err(error));
            }
        }
        if let Err(error) = upload.fill().await {
            lease.discard();
            return (sink, Err(error));
        }
    }
}

/// Passes one result's issues and records to `sink`; returns its summary.
fn absorb(json: &[u8], sink: &mut impl Sink) -> Result<Option<Summary>, CallError> {
    let events: Events<'_> = serde_json::from_slice(json)
        .map_err(|e| CallError::Trap(anyhow!("unreadable result from the module: {e}")))?;
    let io = |e: std::io::Error| {
        tracing::error!(error = %e, "cannot write a batch report");
        CallError::Report(e)
    };
    for issue in events.issues {
        sink.issue(issue.get()).map_err(io)?;
    }
    for record in events.records {
        sink.record(record.get()).map_err(io)?;
    }
    sink.flush().map_err(io)?;
    Ok(events.summary)
}

/// Issues and records spooled to unnamed temporary files (deleted when
/// closed), each as the comma-separated inside of a JSON array.
pub struct Spool {
    issues: Part,
    records: Part,
}

struct Part {
    file: BufWriter<File>,
    empty: bool,
}

impl Part {
    fn new() -> std::io::Result<Part> {
        Ok(Part {
            file: BufWriter::with_capacity(SPOOL_READ, tempfile::tempfile()?),
            empty: true,
        })
    }

    fn push(&mut self, json: &str) -> std::io::Result<()> {
        if !self.empty {
            self.file.write_all(b",")?;
        }
        self.empty = false;
        self.file.write_all(json.as_bytes())
    }

    /// The file, rewound.
    fn into_reader(self) -> std::io::Result<File> {
        let mut file = self.file.into_inner().map_err(|e| e.into_error())?;
        file.seek(SeekFrom::Start(0))?;
        Ok(file)
    }
}

impl Spool {
    /// Two empty spool files.
    pub fn new() -> std::io::Result<Spool> {
        Ok(Spool {
            issues: Part::new()?,
            records: Part::new()?,
        })
    }

    /// Streams `{"summary": ..., "issues": [...], "records": [...], <tail>}`
    /// into a channel (read on a blocking thread); `records` only when
    /// `with_records`. `tail` is the rest of the object's members.
    pub fn into_report(
        self,
        summary: &Summary,
        with_records: bool,
        tail: &serde_json::Map<String, serde_json::Value>,
    ) -> std::io::Result<mpsc::Receiver<std::io::Result<Bytes>>> {
        let mut head = b"{\"summary\":".to_vec();
        serde_json::to_writer(&mut head, summary)?;
        head.extend_from_slice(b",\"issues\":[");
        let mut end = b"]".to_vec();
        for (key, value) in tail {
            end.push(b',');
            serde_json::to_writer(&mut end, key)?;
            end.push(b':');
            serde_json::to_writer(&mut end, value)?;
        }
        end.push(b'}');
        let issues = self.issues.into_reader()?;
        let records = with_records
            .then(|| self.records.into_reader())
            .transpose()?;
        let (tx, rx) = mpsc::channel(RESPONSE_AHEAD);
        tokio::task::spawn_blocking(move || {
            let send = |piece: Vec<u8>| tx.blocking_send(Ok(Bytes::from(piece))).is_ok();
            let copy = |mut file: File| -> bool {
                loop {
                    let mut piece = vec![0; SPOOL_READ];
                    match file.read(&mut piece) {
                        Ok(0) => return true,
                        Ok(n) => {
                            piece.truncate(n);
                            if !send(piece) {
                                return false;
                            }
                        }
                        Err(e) => {
                            let _ = tx.blocking_send(Err(e));
                            return false;
                        }
                    }
                }
            };
            let _ = send(head)
                && copy(issues)
                && match records {
                    Some(records) => send(b"],\"records\":[".to_vec()) && copy(records),
                    None => true,
                }
                && send(end);
        });
        Ok(rx)
    }
}

impl Sink for Spool {
    fn issue(&mut self, json: &str) -> std::io::Result<()> {
        self.issues.push(json)
    }

    fn record(&mut self, json: &str) -> std::io::Result<()> {
        self.records.push(json)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Issues (error-log objects) and records (`{"record": ...}`) sent to the
/// client as NDJSON lines while the batch runs.
pub struct Lines {
    pending: Vec<u8>,
    tx: mpsc::Sender<std::io::Result<Bytes>>,
}

impl Lines {
    /// Lines sent on `tx`.
    pub fn new(tx: mpsc::Sender<std::io::Result<Bytes>>) -> Lines {
        Lines {
            pending: Vec::new(),
            tx,
        }
    }

    /// Sends one last line (the summary or the error).
    pub async fn finish(self, last: &serde_json::Value) {
        let mut line = self.pending;
        // Serialising a Value to a Vec cannot fail.
        let _ = serde_json::to_writer(&mut line, last);
        line.push(b'\n');
        let _ = self.tx.send(Ok(Bytes::from(line))).await;
    }
}

impl Sink for Lines {
    fn issue(&mut self, json: &str) -> std::io::Result<()> {
        self.pending.extend_from_slice(json.as_bytes());
        self.pending.push(b'\n');
        Ok(())
    }

    fn record(&mut self, json: &str) -> std::io::Result<()> {
        self.pending.extend_from_slice(b"{\"record\":");
        self.pending.extend_from_slice(json.as_bytes());
        self.pending.extend_from_slice(b"}\n");
        Ok(())
    }

    /// Runs on a blocking thread: waits while the client is behind. A
    /// client that went away gets nothing more; its connection is gone, so
    /// the next body read ends the batch.
    fn flush(&mut self) -> std::io::Result<()> {
        if !self.pending.is_empty() {
            let piece = Bytes::from(std::mem::take(&mut self.pending));
            let _ = self.tx.blocking_send(Ok(piece));
        }
        Ok(())
    }
}
