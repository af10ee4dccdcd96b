//! The services: what the server does, typed, below HTTP.
//!
//! Handlers (`serve`) read requests into the types here and turn the
//! results and errors into responses; the services check, validate with
//! the module (through [`crate::pool`]) and store (through
//! [`crate::store`]). Nothing here knows of HTTP, so each service is tested
//! and run (the background [`processor`]) without a server.

pub mod batches;
pub mod processor;
pub mod projects;
pub mod submissions;
pub mod tokens;
pub mod validation;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

use crate::metrics::Metrics;
use crate::pool::{Lease, Pool};
use crate::protocols::Protocols;
use crate::store::Store;
use crate::wasm_host::Build;

use validation::CheckError;

/// What the services share: the store, the pool of module instances,
/// the protocols served, the metrics, and the settings they run by.
pub struct Services {
    /// Projects, tokens, submissions.
    pub store: Arc<dyn Store>,
    /// The module's instances.
    pub pool: Arc<Pool>,
    /// The protocols served.
    pub protocols: Protocols,
    /// Counters and histograms.
    pub metrics: Arc<Metrics>,
    /// Wakes the background workers when a submission was stored.
    pub work: Arc<Notify>,
    /// Tokens already checked.
    pub tokens: tokens::Tokens,
    /// How the services run.
    pub settings: ServiceSettings,
}

/// The settings the services run by (from the server's configuration).
#[derive(Debug, Clone)]
pub struct ServiceSettings {
    /// How long a client should wait when every instance was busy.
    pub busy_retry_after: Duration,
    /// Background workers processing submissions (0: accept only).
    pub process_workers: u32,
    /// Processing attempts before a submission is marked failed.
    pub max_attempts: u32,
    /// How long a worker's claim holds (a dead worker's work is due again
    /// after it).
    pub lease: Duration,
    /// First retry delay of a failed processing attempt.
    pub retry_base: Duration,
}

impl Services {
    /// An instance of the module `build` from the pool, or why none came
    /// free (then the caller is told when to try again).
    pub async fn lease(&self, build: Build) -> Result<Lease, CheckError> {
        self.pool
            .acquire(build)
            .await
            .map_err(|busy| CheckError::Busy {
                busy,
                retry_after: self.settings.busy_retry_after,
            })
    }
}
