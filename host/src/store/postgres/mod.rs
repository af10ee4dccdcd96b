//! The scale-out [`Store`]: one PostgreSQL database shared by any number
//! of `clinval serve` replicas.
//!
//! Every guarantee rests on the database, not on a replica: a submission
//! is one autocommitted `INSERT` (committed, with PostgreSQL's default
//! `synchronous_commit`, before the caller is answered); an
//! Idempotency-Key and the one-diary-a-day rule are unique indexes that
//! the insert meets with `ON CONFLICT DO NOTHING`, so two replicas racing
//! on one key store one row; workers claim due work with
//! `FOR UPDATE SKIP LOCKED` for a lease measured by the database's clock,
//! so a dead replica's claims become due again when their lease ends; a
//! processed job's effects are conditional statements in one transaction;
//! and stored submissions are announced on the `clinval_work` channel
//! (one `NOTIFY` for all those of 20 ms), which every replica `LISTEN`s on
//! to wake its workers.
//!
//! Connections come from a deadpool pool with timeouts, so a lost
//! database fails calls within seconds (the server answers 503) and the
//! pool reconnects by itself when the database is back.

mod migrations;

use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use tokio::sync::Notify;
use tokio_postgres::{AsyncMessage, GenericClient, NoTls, Row};

use super::{
    Accepted, InviteRefusal, Job, JobEnd, NewInvite, NewProject, NewSubmission, PatientScope,
    Project, ProjectPatch, Revoked, SUBMISSION_COLUMNS, Scope, StatusCounts, Store, StoreError,
    StoreFuture, Submission, SubmissionStatus, TokenInfo, TokenRecord, Trial, final_reason,
    lease_ms, now_text, progress, request_hash, scopes_of, scopes_text,
};

/// Connections one replica keeps to the database at most.
const CONNECTIONS: usize = 16;
/// How long a call waits for a connection, and a connection to be made.
const CONNECT_WAIT: Duration = Duration::from_secs(5);
/// The channel stored submissions are announced on.
const WORK_CHANNEL: &str = "clinval_work";
/// The database's clock in milliseconds since the Unix epoch: leases and
/// due times are measured by one clock, whatever the replicas' say.
const NOW_MS: &str = "(EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::BIGINT";
/// The most often a replica announces new work (see [`announce`]).
const ANNOUNCE_EVERY: Duration = Duration::from_millis(20);

/// The statuses of work still to do, as SQL: written into the statements
/// (not bound) so that the planner uses the partial index
/// `submissions_pending` (migration 2), whose predicate is the same text.
const PENDING: &str = "status IN ('accepted', 'processing')";

/// The longest wait before listening again after the listener's
/// connection was lost.
const LISTEN_BACKOFF_MAX: Duration = Duration::from_secs(10);

/// The PostgreSQL store.
pub struct PostgresStore {
    pool: Pool,
    config: tokio_postgres::Config,
    /// Told of every stored submission; the announcer sends the `NOTIFY`.
    stored: Arc<Notify>,
    /// The announcer task and any listener, stopped with the store.
    tasks: std::sync::Mutex<Vec<tokio::task::AbortHandle>>,
}

impl Drop for PostgresStore {
    fn drop(&mut self) {
        let tasks = self
            .tasks
            .get_mut()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for task in tasks.drain(..) {
            task.abort();
        }
    }
}

impl PostgresStore {
    /// Connects to the database of `config` and migrates it.
    pub async fn open(mut config: tokio_postgres::Config) -> Result<PostgresStore, StoreError> {
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_WAIT);
        }
        // A peer that vanished without closing (a cut network) is noticed.
        config.keepalives_idle(Duration::from_secs(30));
        let manager = Manager::from_config(
            config.clone(),
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(CONNECTIONS)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(CONNECT_WAIT))
            .create_timeout(Some(CONNECT_WAIT))
            .recycle_timeout(Some(CONNECT_WAIT))
            .build()
            .map_err(|e| StoreError::Location(format!("the connection pool: {e}")))?;
        let mut client = pool.get().await?;
        migrations::migrate(&mut client).await?;
        drop(client);
        let stored = Arc::new(Notify::new());
        let announcer = tokio::spawn(announce(pool.clone(), Arc::clone(&stored))).abort_handle();
        Ok(PostgresStore {
            pool,
            config,
            stored,
            tasks: std::sync::Mutex::new(vec![announcer]),
        })
    }

    /// A pooled connection.
    async fn client(&self) -> Result<deadpool_postgres::Client, StoreError> {
        Ok(self.pool.get().await?)
    }

    /// The one submission matching `condition` (on a unique index).
    async fn submission_where(
        &self,
        condition: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<Option<Submission>, StoreError> {
        let client = self.client().await?;
        let statement = client
            .prepare_cached(&format!("{SUBMISSION_COLUMNS} WHERE {condition}"))
            .await?;
        client
            .query_opt(&statement, params)
            .await?
            .as_ref()
            .map(submission_row)
            .transpose()
    }
}

/// The project with `id`, with its enrolment and counts.
async fn project_row(
    client: &(impl GenericClient + Sync),
    id: &str,
) -> Result<Option<Project>, StoreError> {
    let Some(row) = client
        .query_opt(
            "SELECT id, name, status, start_date, protocol, target_enrollment, created_at, updated_at
             FROM projects WHERE id = $1",
            &[&id],
        )
        .await?
    else {
        return Ok(None);
    };
    let target: Option<i64> = row.try_get(5)?;
    let target_enrollment = target.and_then(|t| u32::try_from(t).ok());
    let enrolled: i64 = client
        .query_one(
            "SELECT COUNT(*) FROM enrollments WHERE project_id = $1",
            &[&id],
        )
        .await?
        .try_get(0)?;
    let enrolled_patients = u64::try_from(enrolled).unwrap_or(0);
    let mut submissions = StatusCounts::default();
    for count in client
        .query(
            "SELECT status, COUNT(*) FROM submissions WHERE project_id = $1 GROUP BY status",
            &[&id],
        )
        .await?
    {
        submissions.set(count.try_get(0)?, count.try_get(1)?);
    }
    Ok(Some(Project {
        id: row.try_get(0)?,
        name: row.try_get(1)?,
        status: row.try_get(2)?,
        start_date: row.try_get(3)?,
        protocol: row.try_get(4)?,
        target_enrollment,
        created_at: row.try_get(6)?,
        updated_at: row.try_get(7)?,
        enrolled_patients,
        enrollment_progress: progress(enrolled_patients, target_enrollment),
        submissions,
    }))
}

/// The patient in columns `at` (trial) and `at + 1` (patient), if any.
fn patient_of(row: &Row, at: usize) -> Result<Option<PatientScope>, StoreError> {
    Ok(PatientScope::from_columns(
        row.try_get(at)?,
        row.try_get(at + 1)?,
    ))
}

/// A row of [`SUBMISSION_COLUMNS`].
fn submission_row(row: &Row) -> Result<Submission, StoreError> {
    let scores: Option<String> = row.try_get(6)?;
    let offset: Option<i32> = row.try_get(12)?;
    let attempts: i32 = row.try_get(4)?;
    Ok(Submission {
        submission_id: row.try_get(0)?,
        trial_id: row.try_get(1)?,
        patient_id: row.try_get(2)?,
        status: row.try_get(3)?,
        attempts: u32::try_from(attempts).unwrap_or(0),
        error: row.try_get(5)?,
        scores: scores.and_then(|s| serde_json::from_str(&s).ok()),
        accepted_at: row.try_get(7)?,
        processed_at: row.try_get(8)?,
        updated_at: row.try_get(9)?,
        completed_at: row.try_get(10)?,
        local_date: row.try_get(11)?,
        utc_offset: offset.map(crate::completion::offset_text),
    })
}

/// Records that `done` (job ids and their scores) were processed, and
/// enrols their patients: one statement for the lot. Only a job still
/// `processing` changes, and only its change enrols, so a redelivery
/// changes nothing.
async fn finish_processed(
    tx: &deadpool_postgres::Transaction<'_>,
    done: (Vec<String>, Vec<String>),
    now: &str,
) -> Result<(), StoreError> {
    let statement = tx
        .prepare_cached(
            "WITH done AS (
                 UPDATE submissions AS s
                 SET status = $4, scores = d.scores, error = NULL, processed_at = $3, updated_at = $3
                 FROM unnest($1::TEXT[], $2::TEXT[]) AS d(id, scores)
                 WHERE s.id = d.id AND s.status = $5
                 RETURNING s.project_id, s.patient_id, s.id)
             INSERT INTO enrollments (project_id, patient_id, first_submission)
             SELECT DISTINCT ON (project_id, patient_id) project_id, patient_id, id FROM done
             ON CONFLICT DO NOTHING",
        )
        .await?;
    tx.execute(
        &statement,
        &[
            &done.0,
            &done.1,
            &now,
            &SubmissionStatus::Processed,
            &SubmissionStatus::Processing,
        ],
    )
    .await?;
    Ok(())
}

/// Records how a job that was not processed ended: due again after its
/// back-off, or failed (see [`Store::finish`]).
async fn finish_unprocessed(
    tx: &deadpool_postgres::Transaction<'_>,
    job: &Job,
    end: JobEnd,
    max_attempts: u32,
    now: &str,
) -> Result<(), StoreError> {
    let processing = SubmissionStatus::Processing;
    match end {
        // Recorded with the others, by `finish_processed`.
        JobEnd::Processed { .. } => {}
        JobEnd::Retry { reason, after } if job.attempt < max_attempts => {
            tx.execute(
                &format!(
                    "UPDATE submissions SET status = $5, due_at = {NOW_MS} + $2, error = $3, updated_at = $4
                     WHERE id = $1 AND status = $6"
                ),
                &[
                    &job.id,
                    &lease_ms(after),
                    &reason,
                    &now,
                    &SubmissionStatus::Accepted,
                    &processing,
                ],
            )
            .await?;
        }
        JobEnd::Retry { reason, .. } | JobEnd::Failed { reason } => {
            tx.execute(
                "UPDATE submissions SET status = $4, error = $2, updated_at = $3
                 WHERE id = $1 AND status = $5",
                &[
                    &job.id,
                    &final_reason(job, reason, max_attempts),
                    &now,
                    &SubmissionStatus::Failed,
                    &processing,
                ],
            )
            .await?;
        }
    }
    Ok(())
}

/// Announces stored submissions on [`WORK_CHANNEL`], after their commit,
/// at most once per [`ANNOUNCE_EVERY`]: a `NOTIFY` inside each
/// submission's own transaction would take PostgreSQL's notification
/// queue lock at every commit, which serialises the commits of all
/// replicas; one `NOTIFY` for many submissions wakes the same workers.
async fn announce(pool: Pool, stored: Arc<Notify>) {
    loop {
        stored.notified().await;
        let sent = match pool.get().await {
            Ok(client) => client
                .batch_execute(&format!("NOTIFY {WORK_CHANNEL}"))
                .await
                .map_err(StoreError::from),
            Err(error) => Err(error.into()),
        };
        if let Err(error) = sent {
            // Workers look every second anyway.
            tracing::warn!(error = %error, "cannot announce new work");
        }
        tokio::time::sleep(ANNOUNCE_EVERY).await;
    }
}

/// Listens on [`WORK_CHANNEL`] on a connection of its own, waking one of
/// `workers` per notification; listens again (backing off) whenever the
/// connection is lost, and wakes the workers then too, since work may
/// have been stored meanwhile.
async fn listen(config: tokio_postgres::Config, workers: Arc<Notify>) {
    let mut wait = Duration::from_millis(250);
    loop {
        match config.connect(NoTls).await {
            Ok((client, mut connection)) => {
                let (tx, mut notes) = tokio::sync::mpsc::unbounded_channel();
                let driver = tokio::spawn(async move {
                    while let Some(message) =
                        std::future::poll_fn(|cx| connection.poll_message(cx)).await
                    {
                        match message {
                            Ok(AsyncMessage::Notification(_)) => {
                                if tx.send(()).is_err() {
                                    break;
                                }
                            }
                            Ok(_) => {}
                            Err(_) => break,
                        }
                    }
                });
                if client
                    .batch_execute(&format!("LISTEN {WORK_CHANNEL}"))
                    .await
                    .is_ok()
                {
                    wait = Duration::from_millis(250);
                    workers.notify_one();
                    while notes.recv().await.is_some() {
                        workers.notify_one();
                    }
                }
                driver.abort();
                tracing::warn!("lost the connection listening for new work; listening again");
            }
            Err(error) => {
                tracing::warn!(error = %error, retry_in_ms = wait.as_millis() as u64, "cannot listen for new work");
            }
        }
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(LISTEN_BACKOFF_MAX);
    }
}

impl Store for PostgresStore {
    fn create_project(&self, project: NewProject) -> StoreFuture<'_, Project> {
        Box::pin(async move {
            let mut client = self.client().await?;
            let tx = client.transaction().await?;
            let now = now_text();
            let target = project.target_enrollment.map(i64::from);
            let inserted = tx
                .execute(
                    "INSERT INTO projects (id, name, status, start_date, protocol, target_enrollment, created_at, updated_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $7) ON CONFLICT (id) DO NOTHING",
                    &[&project.id, &project.name, &project.status, &project.start_date, &project.protocol, &target, &now],
                )
                .await?;
            if inserted == 0 {
                return Err(StoreError::ProjectExists(project.id));
            }
            let created = project_row(&*tx, &project.id)
                .await?
                .ok_or(StoreError::Vanished)?;
            tx.commit().await?;
            Ok(created)
        })
    }

    fn update_project(&self, id: String, patch: ProjectPatch) -> StoreFuture<'_, Option<Project>> {
        Box::pin(async move {
            let mut client = self.client().await?;
            let tx = client.transaction().await?;
            let target = patch.target_enrollment.map(i64::from);
            let changed = tx
                .execute(
                    "UPDATE projects SET
                        name = COALESCE($2, name),
                        status = COALESCE($3, status),
                        start_date = COALESCE($4, start_date),
                        protocol = COALESCE($5, protocol),
                        target_enrollment = COALESCE($6, target_enrollment),
                        updated_at = $7
                     WHERE id = $1",
                    &[
                        &id,
                        &patch.name,
                        &patch.status,
                        &patch.start_date,
                        &patch.protocol,
                        &target,
                        &now_text(),
                    ],
                )
                .await?;
            if changed == 0 {
                return Ok(None);
            }
            let project = project_row(&*tx, &id).await?;
            tx.commit().await?;
            Ok(project)
        })
    }

    fn project(&self, id: String) -> StoreFuture<'_, Option<Project>> {
        Box::pin(async move { project_row(&**self.client().await?, &id).await })
    }

    fn trial(&self, id: String) -> StoreFuture<'_, Option<Trial>> {
        Box::pin(async move {
            let client = self.client().await?;
            let statement = client
                .prepare_cached("SELECT status, protocol FROM projects WHERE id = $1")
                .await?;
            let Some(row) = client.query_opt(&statement, &[&id]).await? else {
                return Ok(None);
            };
            Ok(Some(Trial {
                status: row.try_get(0)?,
                protocol: row.try_get(1)?,
            }))
        })
    }

    fn projects(&self) -> StoreFuture<'_, Vec<Project>> {
        Box::pin(async move {
            let client = self.client().await?;
            let ids = client
                .query("SELECT id FROM projects ORDER BY id", &[])
                .await?;
            let mut projects = Vec::with_capacity(ids.len());
            for row in ids {
                let id: String = row.try_get(0)?;
                if let Some(project) = project_row(&**client, &id).await? {
                    projects.push(project);
                }
            }
            Ok(projects)
        })
    }

    fn is_empty(&self) -> StoreFuture<'_, bool> {
        Box::pin(async move {
            let client = self.client().await?;
            let any: bool = client
                .query_one("SELECT EXISTS (SELECT 1 FROM projects)", &[])
                .await?
                .try_get(0)?;
            Ok(!any)
        })
    }

    fn create_token(
        &self,
        hash: [u8; 32],
        scopes: Vec<Scope>,
        label: String,
    ) -> StoreFuture<'_, i64> {
        Box::pin(async move {
            let client = self.client().await?;
            let row = client
                .query_one(
                    "INSERT INTO tokens (hash, scopes, label, created_at) VALUES ($1, $2, $3, $4)
                     RETURNING id",
                    &[&hash.as_slice(), &scopes_text(&scopes), &label, &now_text()],
                )
                .await?;
            Ok(row.try_get(0)?)
        })
    }

    fn token(&self, hash: [u8; 32]) -> StoreFuture<'_, Option<TokenInfo>> {
        Box::pin(async move {
            let client = self.client().await?;
            let statement = client
                .prepare_cached(
                    "SELECT id, scopes, project_id, patient_id FROM tokens
                     WHERE hash = $1 AND revoked_at IS NULL",
                )
                .await?;
            let Some(row) = client.query_opt(&statement, &[&hash.as_slice()]).await? else {
                return Ok(None);
            };
            Ok(Some(TokenInfo {
                id: row.try_get(0)?,
                scopes: scopes_of(row.try_get(1)?),
                patient: patient_of(&row, 2)?,
            }))
        })
    }

    fn tokens(&self) -> StoreFuture<'_, Vec<TokenRecord>> {
        Box::pin(async move {
            let client = self.client().await?;
            client
                .query(
                    "SELECT id, scopes, label, created_at, revoked_at, project_id, patient_id
                     FROM tokens ORDER BY id",
                    &[],
                )
                .await?
                .iter()
                .map(|row| {
                    Ok(TokenRecord {
                        id: row.try_get(0)?,
                        scopes: scopes_of(row.try_get(1)?),
                        label: row.try_get(2)?,
                        created_at: row.try_get(3)?,
                        revoked_at: row.try_get(4)?,
                        patient: patient_of(row, 5)?,
                    })
                })
                .collect()
        })
    }

    fn revoke_token(&self, id: i64) -> StoreFuture<'_, Option<bool>> {
        Box::pin(async move {
            let client = self.client().await?;
            let revoked = client
                .execute(
                    "UPDATE tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
                    &[&id, &now_text()],
                )
                .await?;
            if revoked == 1 {
                return Ok(Some(true));
            }
            let exists = client
                .query_opt("SELECT 1 FROM tokens WHERE id = $1", &[&id])
                .await?;
            Ok(exists.map(|_| false))
        })
    }

    fn create_invite(&self, invite: NewInvite) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            let client = self.client().await?;
            client
                .execute(
                    "INSERT INTO patient_invites (code_hash, project_id, patient_id, created_at, expires_at)
                     VALUES ($1, $2, $3, $4, $5)",
                    &[
                        &invite.code_hash.as_slice(),
                        &invite.patient.trial.as_str(),
                        &invite.patient.patient.as_str(),
                        &now_text(),
                        &invite.expires_at_ms,
                    ],
                )
                .await?;
            Ok(())
        })
    }

    fn redeem_invite(
        &self,
        code_hash: [u8; 32],
        token_hash: [u8; 32],
    ) -> StoreFuture<'_, Result<PatientScope, InviteRefusal>> {
        Box::pin(async move {
            let mut client = self.client().await?;
            let tx = client.transaction().await?;
            // Locked: a second device presenting the code waits, then sees it used.
            let found = tx
                .query_opt(
                    "SELECT project_id, patient_id, expires_at, used_at IS NOT NULL, revoked_at IS NOT NULL
                     FROM patient_invites WHERE code_hash = $1 FOR UPDATE",
                    &[&code_hash.as_slice()],
                )
                .await?;
            let Some(row) = found else {
                return Ok(Err(InviteRefusal::Unknown));
            };
            let Some(patient) = patient_of(&row, 0)? else {
                return Ok(Err(InviteRefusal::Unknown));
            };
            let (expires_at, used, revoked): (i64, bool, bool) =
                (row.try_get(2)?, row.try_get(3)?, row.try_get(4)?);
            if let Some(refusal) = InviteRefusal::of(revoked, used, expires_at) {
                return Ok(Err(refusal));
            }
            let now = now_text();
            let token_id: i64 = tx
                .query_one(
                    "INSERT INTO tokens (hash, scopes, label, created_at, project_id, patient_id)
                     VALUES ($1, 'submit,read', 'patient', $2, $3, $4) RETURNING id",
                    &[
                        &token_hash.as_slice(),
                        &now,
                        &patient.trial.as_str(),
                        &patient.patient.as_str(),
                    ],
                )
                .await?
                .try_get(0)?;
            tx.execute(
                "UPDATE patient_invites SET used_at = $2, token_id = $3 WHERE code_hash = $1",
                &[&code_hash.as_slice(), &now, &token_id],
            )
            .await?;
            tx.commit().await?;
            Ok(Ok(patient))
        })
    }

    fn revoke_patient(&self, patient: PatientScope) -> StoreFuture<'_, Revoked> {
        Box::pin(async move {
            let mut client = self.client().await?;
            let tx = client.transaction().await?;
            let now = now_text();
            let (trial, patient) = (patient.trial.as_str(), patient.patient.as_str());
            let credentials = tx
                .execute(
                    "UPDATE tokens SET revoked_at = $3
                     WHERE project_id = $1 AND patient_id = $2 AND revoked_at IS NULL",
                    &[&trial, &patient, &now],
                )
                .await?;
            let codes = tx
                .execute(
                    "UPDATE patient_invites SET revoked_at = $3
                     WHERE project_id = $1 AND patient_id = $2 AND revoked_at IS NULL AND used_at IS NULL",
                    &[&trial, &patient, &now],
                )
                .await?;
            tx.commit().await?;
            Ok(Revoked { credentials, codes })
        })
    }

    fn submit(&self, submission: NewSubmission) -> StoreFuture<'_, Accepted> {
        Box::pin(async move {
            let client = self.client().await?;
            let hash = request_hash(&submission);
            let id = uuid::Uuid::new_v4().to_string();
            let now = now_text();
            let local_date = submission.local_date.to_string();
            let completed_at = submission.completion.map(|c| c.to_rfc3339());
            let offset = submission.completion.map(|c| c.offset_minutes());
            let day_key = submission.one_per_day.then_some(&local_date);
            // One statement, committed on its own. A conflict on either
            // unique index stores nothing.
            let insert = client
                .prepare_cached(&format!(
                    "INSERT INTO submissions (id, project_id, patient_id, report, token_id,
                         idempotency_key, request_hash, status, attempts, due_at, accepted_at,
                         updated_at, completed_at, local_date, utc_offset_minutes, day_key)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, {NOW_MS}, $9, $9, $10, $11, $12, $13)
                     ON CONFLICT DO NOTHING
                     RETURNING id"
                ))
                .await?;
            let stored = client
                .query_opt(
                    &insert,
                    &[
                        &id,
                        &submission.project_id,
                        &submission.patient_id,
                        &submission.report,
                        &submission.token_id,
                        &submission.idempotency_key,
                        &hash,
                        &SubmissionStatus::Accepted,
                        &now,
                        &completed_at,
                        &local_date,
                        &offset,
                        &day_key,
                    ],
                )
                .await?;
            if stored.is_some() {
                self.stored.notify_one();
                return Ok(Accepted { id, created: true });
            }
            // A conflict: the same key (a retry, from any replica) or the
            // patient's day taken.
            if let Some(key) = &submission.idempotency_key {
                let earlier = client
                    .query_opt(
                        "SELECT id, request_hash FROM submissions
                         WHERE token_id = $1 AND idempotency_key = $2",
                        &[&submission.token_id, key],
                    )
                    .await?;
                if let Some(row) = earlier {
                    let earlier_hash: Vec<u8> = row.try_get(1)?;
                    if earlier_hash != hash {
                        return Err(StoreError::IdempotencyMismatch);
                    }
                    return Ok(Accepted {
                        id: row.try_get(0)?,
                        created: false,
                    });
                }
            }
            if submission.one_per_day {
                return Err(StoreError::DiaryExists(submission.local_date));
            }
            Err(StoreError::Vanished)
        })
    }

    fn submission(&self, id: String) -> StoreFuture<'_, Option<Submission>> {
        Box::pin(async move { self.submission_where("id = $1", &[&id]).await })
    }

    fn submission_by_key(&self, token_id: i64, key: String) -> StoreFuture<'_, Option<Submission>> {
        Box::pin(async move {
            self.submission_where("token_id = $1 AND idempotency_key = $2", &[&token_id, &key])
                .await
        })
    }

    fn claim(&self, limit: usize, lease: Duration) -> StoreFuture<'_, Vec<Job>> {
        Box::pin(async move {
            let client = self.client().await?;
            let statement = client
                .prepare_cached(&format!(
                    "UPDATE submissions AS s
                     SET status = $4, attempts = s.attempts + 1, due_at = {NOW_MS} + $2, updated_at = $3
                     FROM (SELECT id FROM submissions
                           WHERE {PENDING} AND due_at <= {NOW_MS}
                           ORDER BY due_at LIMIT $1
                           FOR UPDATE SKIP LOCKED) AS due
                     WHERE s.id = due.id
                     RETURNING s.id, s.project_id, s.patient_id, s.report,
                               COALESCE(s.local_date, substr(s.accepted_at, 1, 10)), s.attempts,
                               (SELECT protocol FROM projects WHERE projects.id = s.project_id)"
                ))
                .await?;
            let limit = i64::try_from(limit).unwrap_or(i64::MAX);
            client
                .query(
                    &statement,
                    &[
                        &limit,
                        &lease_ms(lease),
                        &now_text(),
                        &SubmissionStatus::Processing,
                    ],
                )
                .await?
                .iter()
                .map(|row| {
                    let attempt: i32 = row.try_get(5)?;
                    Ok(Job {
                        id: row.try_get(0)?,
                        project_id: row.try_get(1)?,
                        patient_id: row.try_get(2)?,
                        report: row.try_get(3)?,
                        as_of: row.try_get(4)?,
                        attempt: u32::try_from(attempt).unwrap_or(0),
                        protocol: row.try_get(6)?,
                    })
                })
                .collect()
        })
    }

    fn finish(&self, ends: Vec<(Job, JobEnd)>, max_attempts: u32) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            let mut client = self.client().await?;
            let tx = client.transaction().await?;
            let now = now_text();
            let mut done = (Vec::new(), Vec::new());
            for (job, end) in ends {
                match end {
                    JobEnd::Processed { scores } => {
                        done.0.push(job.id);
                        done.1.push(scores);
                    }
                    other => finish_unprocessed(&tx, &job, other, max_attempts, &now).await?,
                }
            }
            if !done.0.is_empty() {
                finish_processed(&tx, done, &now).await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }

    fn next_due_in(&self) -> StoreFuture<'_, Option<u64>> {
        Box::pin(async move {
            let client = self.client().await?;
            let due: Option<i64> = client
                .query_one(
                    &format!("SELECT MIN(due_at) - {NOW_MS} FROM submissions WHERE {PENDING}"),
                    &[],
                )
                .await?
                .try_get(0)?;
            Ok(due.map(|ms| u64::try_from(ms).unwrap_or(0)))
        })
    }

    fn wake_on_work(&self, workers: Arc<Notify>) {
        let listener = tokio::spawn(listen(self.config.clone(), workers)).abort_handle();
        self.tasks
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(listener);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pending_statuses_are_the_enums_and_the_partial_indexs() {
        assert_eq!(
            PENDING,
            format!(
                "status IN ('{}', '{}')",
                SubmissionStatus::Accepted,
                SubmissionStatus::Processing
            )
        );
        assert!(migrations::index_predicates().any(|p| p == PENDING));
    }
}
