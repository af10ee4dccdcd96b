//! A bounded pool of wasm instances with a bounded queue in front.
//!
//! A request leases one instance of the module its protocol runs in (a
//! [`Build`]) for its whole life (a batch's state lives
//! in the instance's memory). At most `workers` leases exist; at most
//! `queue` requests wait for one, each no longer than `queue_timeout`;
//! beyond that the caller gets [`Busy`] (503 + Retry-After). Module calls
//! run on tokio's blocking threads, so at most `workers` of them run at
//! once and the async threads never run wasm. An instance whose call
//! trapped, or whose request ended mid-batch, is dropped; a fresh one
//! takes its place on the next lease.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::wasm_host::{Build, CallError, Client, WasmHost};

use crate::metrics::{FailureLabels, Metrics};

/// Validators an instance keeps ready, by protocol and options.
const VALIDATORS_KEPT: usize = 32;
/// The CPU bound of a call run on the request's own thread: a record
/// check takes microseconds; this only stops a module gone wrong from
/// holding an async thread for the full bound.
const INLINE_CALL_TIMEOUT: Duration = Duration::from_secs(1);

/// Why no instance could be had.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Busy {
    /// Every instance was busy and the queue was full.
    QueueFull,
    /// The request waited in the queue for `queue_timeout` and no
    /// instance came free.
    WaitedTooLong(Duration),
}

/// The pool.
pub struct Pool {
    host: WasmHost,
    permits: Arc<Semaphore>,
    idle: Mutex<Vec<Worker>>,
    max_queue: i64,
    queue_timeout: Duration,
    metrics: Arc<Metrics>,
}

/// One instance and the validators it has ready.
pub struct Worker {
    /// The instance.
    pub client: Client,
    validators: HashMap<String, i32>,
}

impl Worker {
    /// A validator for `protocol` (its source) under `options`, made once
    /// per instance and kept. `key` names the pair (protocol name + options).
    pub fn validator(
        &mut self,
        key: &str,
        protocol: &str,
        options: &serde_json::Value,
    ) -> Result<i32, CallError> {
        if let Some(&handle) = self.validators.get(key) {
            return Ok(handle);
        }
        if self.validators.len() >= VALIDATORS_KEPT {
            for (_, handle) in self.validators.drain() {
                self.client.free_validator(handle)?;
            }
        }
        let (handle, _) = self.client.validator(protocol, options)?;
        self.validators.insert(key.to_owned(), handle);
        Ok(handle)
    }
}

impl Pool {
    /// A pool of `workers` instances of `host` with `queue` places.
    pub fn new(
        host: WasmHost,
        workers: u32,
        queue: usize,
        queue_timeout: Duration,
        metrics: Arc<Metrics>,
    ) -> Pool {
        Pool {
            host,
            permits: Arc::new(Semaphore::new(workers as usize)),
            idle: Mutex::new(Vec::new()),
            max_queue: i64::try_from(queue).unwrap_or(i64::MAX),
            queue_timeout,
            metrics,
        }
    }

    /// Leases an instance of `build`, waiting in the queue if there is room.
    pub async fn acquire(self: &Arc<Self>, build: Build) -> Result<Lease, Busy> {
        let permit = match Arc::clone(&self.permits).try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => self.wait_in_queue().await?,
        };
        self.metrics.busy.inc();
        let worker = self.idle.lock().ok().and_then(|mut idle| {
            let at = idle.iter().rposition(|w| w.client.build == build)?;
            Some(idle.swap_remove(at))
        });
        Ok(Lease {
            pool: Arc::clone(self),
            build,
            worker,
            _permit: permit,
        })
    }

    async fn wait_in_queue(&self) -> Result<OwnedSemaphorePermit, Busy> {
        let place = QueuePlace::take(&self.metrics, self.max_queue);
        let Some(_place) = place else {
            self.metrics.rejected.inc();
            return Err(Busy::QueueFull);
        };
        let wait = Arc::clone(&self.permits).acquire_owned();
        match tokio::time::timeout(self.queue_timeout, wait).await {
            Ok(Ok(permit)) => Ok(permit),
            _ => {
                self.metrics.rejected.inc();
                Err(Busy::WaitedTooLong(self.queue_timeout))
            }
        }
    }

    fn fresh_worker(&self, build: Build) -> Result<Worker, CallError> {
        Ok(Worker {
            client: self.host.client(build)?,
            validators: HashMap::new(),
        })
    }
}

/// A place in the queue, given back when the wait ends (or is cancelled).
struct QueuePlace<'a>(&'a Metrics);

impl<'a> QueuePlace<'a> {
    fn take(metrics: &'a Metrics, max: i64) -> Option<QueuePlace<'a>> {
        if metrics.queued.inc() >= max {
            metrics.queued.dec();
            return None;
        }
        Some(QueuePlace(metrics))
    }
}

impl Drop for QueuePlace<'_> {
    fn drop(&mut self) {
        self.0.queued.dec();
    }
}

/// One leased instance; given back to the pool when dropped.
pub struct Lease {
    pool: Arc<Pool>,
    build: Build,
    worker: Option<Worker>,
    _permit: OwnedSemaphorePermit,
}

impl Lease {
    /// Runs `work` on the instance on a blocking thread. `work` gets the
    /// instance and `state` (moved there and back, so the caller keeps it).
    /// A trap or timeout drops the instance; a panic in `work` is resumed
    /// here (the panic layer answers 500).
    pub async fn run<S, R>(
        &mut self,
        state: S,
        work: impl FnOnce(&mut Worker, &mut S) -> Result<R, CallError> + Send + 'static,
    ) -> (S, Result<R, CallError>)
    where
        S: Send + 'static,
        R: Send + 'static,
    {
        let worker = self.worker.take();
        let (pool, build) = (Arc::clone(&self.pool), self.build);
        let task = tokio::task::spawn_blocking(move || {
            let mut state = state;
            let mut worker = match worker {
                Some(worker) => worker,
                None => match pool.fresh_worker(build) {
                    Ok(worker) => worker,
                    Err(error) => return (None, state, Err(error)),
                },
            };
            let result = work(&mut worker, &mut state);
            (Some(worker), state, result)
        });
        let (worker, state, result) = match task.await {
            Ok(done) => done,
            // The state went down with the task; nothing to give back.
            Err(error) => std::panic::resume_unwind(panic_payload(error)),
        };
        self.settle(worker, &result);
        (state, result)
    }

    /// Runs small `work` (one record) on the calling thread, saving two
    /// thread hand-offs; its calls get [`INLINE_CALL_TIMEOUT`].
    pub fn run_inline<R>(
        &mut self,
        work: impl FnOnce(&mut Worker) -> Result<R, CallError>,
    ) -> Result<R, CallError> {
        let mut worker = match self.worker.take() {
            Some(worker) => worker,
            None => self.pool.fresh_worker(self.build)?,
        };
        worker.client.set_call_timeout(Some(INLINE_CALL_TIMEOUT));
        let result = work(&mut worker);
        worker.client.set_call_timeout(None);
        self.settle(Some(worker), &result);
        result
    }

    /// Keeps the instance unless its call trapped (counted by kind).
    fn settle<R>(&mut self, worker: Option<Worker>, result: &Result<R, CallError>) {
        match result {
            Err(error @ CallError::Trap(_)) => {
                let kind = if error.is_timeout() {
                    "timeout"
                } else {
                    "trap"
                };
                self.pool
                    .metrics
                    .failures
                    .get_or_create(&FailureLabels { kind })
                    .inc();
                // The instance is dropped: its store is never reused.
            }
            _ => self.worker = worker,
        }
    }

    /// Drops the instance instead of giving it back (its state is unknown,
    /// e.g. a batch was abandoned half-way).
    pub fn discard(&mut self) {
        self.worker = None;
    }
}

/// What a failed blocking task carries back: its panic, resumed in the
/// request's task where the panic layer turns it into a 500.
fn panic_payload(error: tokio::task::JoinError) -> Box<dyn std::any::Any + Send> {
    match error.try_into_panic() {
        Ok(payload) => payload,
        Err(error) => Box::new(error.to_string()),
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.pool.metrics.busy.dec();
        if let Some(worker) = self.worker.take()
            && let Ok(mut idle) = self.pool.idle.lock()
        {
            idle.push(worker);
        }
    }
}
