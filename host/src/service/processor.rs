//! Background processing of accepted submissions, on a fixed number of
//! worker tasks: claim due submissions, re-validate each with the module
//! (as of the day it was accepted), store its scores and the patient's
//! enrolment. A failure is retried with exponential back-off; after
//! `max_attempts` the submission is marked failed with its reason (never
//! dropped). Claims are leases, so work a dead worker held is done again;
//! the store makes a redelivered success change nothing.

use std::sync::Arc;
use std::time::Duration;

use clinval_core::Lang;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::protocols::Entry;
use crate::store::{Job, JobEnd};
use crate::wasm_host::Build;

use super::Services;
use super::validation::{RecordVerdict, record_options, validator_key};

/// Submissions one worker claims at a time.
const CLAIM: usize = 32;
/// Longest sleep when nothing is due (new work wakes workers at once).
const IDLE: Duration = Duration::from_secs(1);
/// Longest back-off between attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(300);
/// The first and the longest wait after the store failed (a full disk, a
/// lost database): a failing store is not asked again at once.
const STORE_BACKOFF: (Duration, Duration) = (Duration::from_millis(500), Duration::from_secs(30));

/// The waits after consecutive store failures: doubling, up to the longest.
#[derive(Debug, Default)]
struct StoreBackoff {
    failures: u32,
}

impl StoreBackoff {
    /// The wait after one more failure.
    fn failed(&mut self) -> Duration {
        let wait = STORE_BACKOFF.0 * 2u32.pow(self.failures.min(10));
        self.failures += 1;
        wait.min(STORE_BACKOFF.1)
    }

    fn succeeded(&mut self) {
        self.failures = 0;
    }
}

/// Starts the workers; they stop when `stop` turns true.
pub fn start(services: &Arc<Services>, stop: watch::Receiver<bool>) -> Vec<JoinHandle<()>> {
    (0..services.settings.process_workers)
        .map(|_| tokio::spawn(work(Arc::clone(services), stop.clone())))
        .collect()
}

async fn work(services: Arc<Services>, mut stop: watch::Receiver<bool>) {
    let mut store_backoff = StoreBackoff::default();
    while !*stop.borrow() {
        let jobs = match services.store.claim(CLAIM, services.settings.lease).await {
            Ok(jobs) => {
                store_backoff.succeeded();
                jobs
            }
            Err(error) => {
                let wait = store_backoff.failed();
                tracing::error!(error = %error, retry_in_ms = wait.as_millis() as u64, "claiming submissions failed");
                pause(&mut stop, wait).await;
                continue;
            }
        };
        if jobs.is_empty() {
            let due = services.store.next_due_in().await.ok().flatten();
            let nap = due.map_or(IDLE, |ms| Duration::from_millis(ms).min(IDLE));
            tokio::select! {
                () = services.work.notified() => {}
                () = tokio::time::sleep(nap) => {}
                _ = stop.changed() => {}
            }
            continue;
        }
        let ends = process(&services, jobs).await;
        for (_, end) in &ends {
            let outcome = match end {
                JobEnd::Processed { .. } => "processed",
                JobEnd::Retry { .. } => "retry",
                JobEnd::Failed { .. } => "failed",
            };
            services
                .metrics
                .processed
                .get_or_create(&crate::metrics::OutcomeLabels { outcome })
                .inc();
        }
        if let Err(error) = services
            .store
            .finish(ends, services.settings.max_attempts)
            .await
        {
            // The leases run out and the jobs are claimed again.
            let wait = store_backoff.failed();
            tracing::error!(error = %error, retry_in_ms = wait.as_millis() as u64, "recording processed submissions failed");
            pause(&mut stop, wait).await;
        }
    }
}

/// Sleeps `wait`, or less if the workers are stopped.
async fn pause(stop: &mut watch::Receiver<bool>, wait: Duration) {
    tokio::select! {
        () = tokio::time::sleep(wait) => {}
        _ = stop.changed() => {}
    }
}

/// One claimed submission to re-validate: the job, its protocol, the
/// module options and the validator's cache key.
type Check = (Job, Arc<Entry>, serde_json::Value, String);

/// Re-validates claimed submissions with the module (one lease for those
/// of each build) and computes their scores.
async fn process(services: &Services, jobs: Vec<Job>) -> Vec<(Job, JobEnd)> {
    let mut ends = Vec::with_capacity(jobs.len());
    let mut checks: [Vec<Check>; 2] = [Vec::new(), Vec::new()];
    for job in jobs {
        match services.protocols.get(&job.protocol) {
            Some(protocol) => {
                let options = record_options(&job.as_of, Lang::En);
                let key = validator_key(&protocol, &options);
                checks[protocol.build as usize].push((job, protocol, options, key));
            }
            None => {
                let reason = format!("protocol `{}` is not served", job.protocol);
                ends.push((job, JobEnd::Failed { reason }));
            }
        }
    }
    for (build, checks) in Build::ALL.into_iter().zip(checks) {
        if !checks.is_empty() {
            ends.extend(check_all(services, build, checks).await);
        }
    }
    ends
}

/// [`process`] for the submissions whose protocols run in `build`.
async fn check_all(services: &Services, build: Build, checks: Vec<Check>) -> Vec<(Job, JobEnd)> {
    let backoff = |job: &Job| {
        let doublings = job.attempt.saturating_sub(1).min(16);
        (services.settings.retry_base * 2u32.pow(doublings)).min(MAX_BACKOFF)
    };
    let retry_all = |jobs: Vec<Job>, reason: String| -> Vec<(Job, JobEnd)> {
        jobs.into_iter()
            .map(|job| {
                let after = backoff(&job);
                let reason = reason.clone();
                (job, JobEnd::Retry { reason, after })
            })
            .collect()
    };
    let mut lease = match services.pool.acquire(build).await {
        Ok(lease) => lease,
        Err(_) => {
            let jobs = checks.into_iter().map(|(job, ..)| job).collect();
            return retry_all(jobs, "every validation worker was busy".into());
        }
    };
    let (checks, verdicts) = lease
        .run(checks, |worker, checks| {
            checks
                .iter()
                .map(|(job, protocol, options, key)| {
                    let validator = worker.validator(key, &protocol.source, options)?;
                    worker.client.check_record(validator, job.report.as_bytes())
                })
                .collect::<Result<Vec<_>, _>>()
        })
        .await;
    drop(lease);
    let jobs = checks.into_iter().map(|(job, ..)| job);
    let verdicts = match verdicts {
        Ok(verdicts) => verdicts,
        Err(error) => {
            let reason = format!("validation failed: {}", error.name());
            return retry_all(jobs.collect(), reason);
        }
    };
    let mut ends = Vec::with_capacity(verdicts.len());
    for (job, verdict) in jobs.zip(verdicts) {
        let end = match RecordVerdict::parse(verdict) {
            Ok(verdict) if verdict.valid => JobEnd::Processed {
                scores: verdict
                    .scores
                    .map_or_else(|| "{}".to_owned(), |s| s.get().to_owned()),
            },
            Ok(verdict) => JobEnd::Failed {
                reason: format!(
                    "the answers are no longer valid ({})",
                    verdict.field_codes()
                ),
            },
            Err(error) => JobEnd::Retry {
                reason: format!("unreadable verdict: {error}"),
                after: backoff(&job),
            },
        };
        ends.push((job, end));
    }
    ends
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failing_store_is_asked_again_ever_later_up_to_half_a_minute() {
        let mut backoff = StoreBackoff::default();
        let waits: Vec<u64> = (0..9)
            .map(|_| backoff.failed().as_millis() as u64)
            .collect();
        assert_eq!(
            waits,
            [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]
        );
        backoff.succeeded();
        assert_eq!(backoff.failed(), Duration::from_millis(500));
    }
}
