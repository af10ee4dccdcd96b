//! The embedded [`Store`]: SQLite (bundled) in WAL mode with
//! `synchronous=FULL`, one file under the data dir.
//!
//! Every write goes to one writer thread, which takes whatever writes are
//! waiting (up to [`GROUP_MAX`]) and commits them in one transaction, each
//! inside its own savepoint: concurrent submissions share one fsync (group
//! commit) and a failing write undoes only itself. A caller is answered
//! only after the commit, so an acknowledged submission is on disk. Reads
//! use a small pool of their own connections (WAL readers never block the
//! writer).

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use tokio::sync::{mpsc, oneshot};

use super::{
    Accepted, InviteRefusal, Job, JobEnd, NewInvite, NewProject, NewSubmission, PatientScope,
    Project, ProjectPatch, Revoked, SUBMISSION_COLUMNS, Scope, StatusCounts, Store, StoreError,
    StoreFuture, Submission, SubmissionStatus, TokenInfo, TokenRecord, Trial, final_reason,
    lease_ms, migrations, now_ms, now_text, progress, request_hash, scopes_of, scopes_text,
};

/// Most writes committed together.
const GROUP_MAX: usize = 512;
/// Writes waiting for the writer before callers wait to enqueue.
const WRITES_QUEUED: usize = 8192;
/// The database file's name in the data dir.
pub const DB_FILE: &str = "clinval.db";

/// A write, run by the writer thread inside the group's transaction; it
/// returns what answers its caller once the commit's outcome is known.
type Write = Box<dyn FnOnce(&Connection) -> Answer + Send>;
type Answer = Box<dyn FnOnce(Result<(), &StoreError>) + Send>;

/// The SQLite store.
pub struct SqliteStore {
    writes: mpsc::Sender<Write>,
    readers: Mutex<Vec<Connection>>,
    path: PathBuf,
}

/// Patients' answers and token hashes are readable by this user only: the
/// data dir 0700, the database 0600 (created so before SQLite opens it;
/// SQLite gives its `-wal` and `-shm` files the database's mode).
fn owner_only(dir: &Path, path: &Path) -> Result<(), StoreError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        let fail = |what: &Path, e: std::io::Error| {
            StoreError::files(format!("restrict {} to its owner", what.display()), e)
        };
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| fail(dir, e))?;
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(path)
            .map_err(|e| fail(path, e))?;
        for file in [
            path.to_owned(),
            path.with_extension("db-wal"),
            path.with_extension("db-shm"),
        ] {
            if file.exists() {
                std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))
                    .map_err(|e| fail(&file, e))?;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = (dir, path);
    Ok(())
}

fn connect(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(Duration::from_secs(10))?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = FULL;
         PRAGMA foreign_keys = ON;",
    )?;
    Ok(conn)
}

impl SqliteStore {
    /// Opens (creating if needed) the store in `dir` and migrates it.
    /// Work that a previous run had claimed but not finished is due again.
    pub fn open(dir: &Path) -> Result<SqliteStore, StoreError> {
        std::fs::create_dir_all(dir)
            .map_err(|e| StoreError::files(format!("create data dir {}", dir.display()), e))?;
        let path = dir.join(DB_FILE);
        owner_only(dir, &path)?;
        let mut conn = connect(&path)?;
        migrations::migrate(&mut conn)?;
        // One process owns an SQLite data dir: its claims died with it.
        conn.execute(
            "UPDATE submissions SET status = ?2, due_at = ?1 WHERE status = ?3",
            params![
                now_ms(),
                SubmissionStatus::Accepted,
                SubmissionStatus::Processing
            ],
        )?;
        let (writes, queue) = mpsc::channel(WRITES_QUEUED);
        std::thread::Builder::new()
            .name("clinval-db-writer".into())
            .spawn(move || write_loop(conn, queue))
            .map_err(|e| StoreError::files("start the writer thread".into(), e))?;
        Ok(SqliteStore {
            writes,
            readers: Mutex::new(Vec::new()),
            path,
        })
    }

    /// Runs `work` in the writer's next group; answers after the commit.
    fn write<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> StoreFuture<'_, T> {
        let (reply, answer) = oneshot::channel();
        let write: Write = Box::new(move |conn| {
            let result = work(conn);
            Box::new(move |committed: Result<(), &StoreError>| {
                let _ = reply.send(match committed {
                    Ok(()) => result,
                    Err(error) => Err(error.clone()),
                });
            })
        });
        Box::pin(async move {
            self.writes
                .send(write)
                .await
                .map_err(|_| StoreError::Unavailable)?;
            answer.await.map_err(|_| StoreError::Unavailable)?
        })
    }

    /// Runs a point lookup (by primary key or unique index: microseconds)
    /// on a reader connection, on the calling thread.
    fn lookup<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> StoreFuture<'_, T> {
        let pooled = self.readers.lock().ok().and_then(|mut pool| pool.pop());
        let result = (|| {
            let conn = match pooled {
                Some(conn) => conn,
                None => connect(&self.path)?,
            };
            let result = work(&conn);
            if let Ok(mut pool) = self.readers.lock() {
                pool.push(conn);
            }
            result
        })();
        Box::pin(std::future::ready(result))
    }

    /// Runs `work` on a reader connection, on a blocking thread.
    fn read<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> StoreFuture<'_, T> {
        Box::pin(async move {
            let pooled = self.readers.lock().ok().and_then(|mut pool| pool.pop());
            let path = self.path.clone();
            let (conn, result) = tokio::task::spawn_blocking(move || {
                let conn = match pooled {
                    Some(conn) => conn,
                    None => connect(&path)?,
                };
                let result = work(&conn);
                Ok::<_, StoreError>((conn, result))
            })
            .await
            .map_err(|e| StoreError::Stopped(format!("reader task: {e}")))??;
            if let Ok(mut pool) = self.readers.lock() {
                pool.push(conn);
            }
            result
        })
    }
}

/// The writer thread: groups waiting writes into one transaction.
fn write_loop(mut conn: Connection, mut queue: mpsc::Receiver<Write>) {
    while let Some(first) = queue.blocking_recv() {
        let mut group = vec![first];
        while group.len() < GROUP_MAX {
            match queue.try_recv() {
                Ok(write) => group.push(write),
                Err(_) => break,
            }
        }
        let mut answers = Vec::with_capacity(group.len());
        let committed = (|| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            // Each write undoes itself if it fails (see `atomic`).
            answers.extend(group.drain(..).map(|write| write(&tx)));
            tx.commit()?;
            Ok::<_, StoreError>(())
        })();
        if let Err(error) = &committed {
            tracing::error!(error = %error, writes = answers.len(), "a group commit failed");
        }
        // Writes that never ran (the transaction could not begin) are
        // dropped with `group`: their callers get `Unavailable`.
        for answer in answers {
            answer(committed.as_ref().map(|_| ()));
        }
    }
}

/// Records how one job ended (see [`Store::finish`]).
fn finish_one(
    conn: &Connection,
    job: &Job,
    end: JobEnd,
    max_attempts: u32,
    now: &str,
) -> Result<(), StoreError> {
    match end {
        JobEnd::Processed { scores } => {
            let changed = conn.execute(
                "UPDATE submissions SET status = ?4, scores = ?2, error = NULL,
                         processed_at = ?3, updated_at = ?3
                     WHERE id = ?1 AND status = ?5",
                params![
                    job.id,
                    scores,
                    now,
                    SubmissionStatus::Processed,
                    SubmissionStatus::Processing
                ],
            )?;
            if changed == 1 {
                conn.execute(
                    "INSERT INTO enrollments (project_id, patient_id, first_submission)
                         VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
                    params![job.project_id, job.patient_id, job.id],
                )?;
            }
        }
        JobEnd::Retry { reason, after } if job.attempt < max_attempts => {
            let due = now_ms() + i64::try_from(after.as_millis()).unwrap_or(0);
            conn.execute(
                "UPDATE submissions SET status = ?5, due_at = ?2, error = ?3, updated_at = ?4
                     WHERE id = ?1 AND status = ?6",
                params![
                    job.id,
                    due,
                    reason,
                    now,
                    SubmissionStatus::Accepted,
                    SubmissionStatus::Processing
                ],
            )?;
        }
        JobEnd::Retry { reason, .. } | JobEnd::Failed { reason } => {
            let reason = final_reason(job, reason, max_attempts);
            conn.execute(
                "UPDATE submissions SET status = ?4, error = ?2, updated_at = ?3
                     WHERE id = ?1 AND status = ?5",
                params![
                    job.id,
                    reason,
                    now,
                    SubmissionStatus::Failed,
                    SubmissionStatus::Processing
                ],
            )?;
        }
    }
    Ok(())
}

/// Runs `work` inside a savepoint, undone if it fails.
fn atomic<T>(
    conn: &Connection,
    work: impl FnOnce(&Connection) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    // Cached statements: a savepoint per write must not cost a parse.
    let run = |sql: &str| conn.prepare_cached(sql)?.execute([]).map(drop);
    run("SAVEPOINT work")?;
    match work(conn) {
        Ok(value) => {
            run("RELEASE work")?;
            Ok(value)
        }
        Err(error) => {
            run("ROLLBACK TO work")?;
            run("RELEASE work")?;
            Err(error)
        }
    }
}

fn project_row(conn: &Connection, id: &str) -> Result<Option<Project>, StoreError> {
    let project = conn
        .query_row(
            "SELECT id, name, status, start_date, protocol, target_enrollment, created_at, updated_at
             FROM projects WHERE id = ?1",
            [id],
            |row| {
                Ok(Project {
                    id: row.get(0)?,
                    name: row.get(1)?,
                    status: row.get(2)?,
                    start_date: row.get(3)?,
                    protocol: row.get(4)?,
                    target_enrollment: row.get(5)?,
                    created_at: row.get(6)?,
                    updated_at: row.get(7)?,
                    enrolled_patients: 0,
                    enrollment_progress: None,
                    submissions: StatusCounts::default(),
                })
            },
        )
        .optional()?;
    let Some(mut project) = project else {
        return Ok(None);
    };
    let enrolled: i64 = conn.query_row(
        "SELECT COUNT(*) FROM enrollments WHERE project_id = ?1",
        [id],
        |row| row.get(0),
    )?;
    project.enrolled_patients = u64::try_from(enrolled).unwrap_or(0);
    project.enrollment_progress = progress(project.enrolled_patients, project.target_enrollment);
    let mut counts = conn.prepare_cached(
        "SELECT status, COUNT(*) FROM submissions WHERE project_id = ?1 GROUP BY status",
    )?;
    let rows = counts.query_map([id], |row| {
        Ok((row.get::<_, SubmissionStatus>(0)?, row.get::<_, i64>(1)?))
    })?;
    for row in rows {
        let (status, count) = row?;
        project.submissions.set(status, count);
    }
    Ok(Some(project))
}

/// The patient in columns `at` (trial) and `at + 1` (patient), if any.
fn patient_of(row: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<Option<PatientScope>> {
    Ok(PatientScope::from_columns(row.get(at)?, row.get(at + 1)?))
}

/// A row of [`SUBMISSION_COLUMNS`].
fn submission_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Submission> {
    let scores: Option<String> = row.get(6)?;
    let offset: Option<i32> = row.get(12)?;
    Ok(Submission {
        submission_id: row.get(0)?,
        trial_id: row.get(1)?,
        patient_id: row.get(2)?,
        status: row.get(3)?,
        attempts: row.get(4)?,
        error: row.get(5)?,
        scores: scores.and_then(|s| serde_json::from_str(&s).ok()),
        accepted_at: row.get(7)?,
        processed_at: row.get(8)?,
        updated_at: row.get(9)?,
        completed_at: row.get(10)?,
        local_date: row.get(11)?,
        utc_offset: offset.map(crate::completion::offset_text),
    })
}

impl Store for SqliteStore {
    fn create_project(&self, project: NewProject) -> StoreFuture<'_, Project> {
        self.write(move |conn| {
            atomic(conn, |conn| {
                let now = now_text();
                let inserted = conn.execute(
                    "INSERT INTO projects (id, name, status, start_date, protocol, target_enrollment, created_at, updated_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7) ON CONFLICT (id) DO NOTHING",
                    params![project.id, project.name, project.status, project.start_date, project.protocol, project.target_enrollment, now],
                )?;
                if inserted == 0 {
                    return Err(StoreError::ProjectExists(project.id.clone()));
                }
                project_row(conn, &project.id)?
                    .ok_or(StoreError::Vanished)
            })
        })
    }

    fn update_project(&self, id: String, patch: ProjectPatch) -> StoreFuture<'_, Option<Project>> {
        self.write(move |conn| {
            atomic(conn, |conn| {
                let changed = conn.execute(
                    "UPDATE projects SET
                        name = COALESCE(?2, name),
                        status = COALESCE(?3, status),
                        start_date = COALESCE(?4, start_date),
                        protocol = COALESCE(?5, protocol),
                        target_enrollment = COALESCE(?6, target_enrollment),
                        updated_at = ?7
                     WHERE id = ?1",
                    params![
                        id,
                        patch.name,
                        patch.status,
                        patch.start_date,
                        patch.protocol,
                        patch.target_enrollment,
                        now_text()
                    ],
                )?;
                if changed == 0 {
                    return Ok(None);
                }
                project_row(conn, &id)
            })
        })
    }

    fn project(&self, id: String) -> StoreFuture<'_, Option<Project>> {
        self.read(move |conn| project_row(conn, &id))
    }

    fn trial(&self, id: String) -> StoreFuture<'_, Option<Trial>> {
        self.lookup(move |conn| {
            conn.prepare_cached("SELECT status, protocol FROM projects WHERE id = ?1")?
                .query_row([&id], |row| {
                    Ok(Trial {
                        status: row.get(0)?,
                        protocol: row.get(1)?,
                    })
                })
                .optional()
                .map_err(StoreError::from)
        })
    }

    fn projects(&self) -> StoreFuture<'_, Vec<Project>> {
        self.read(|conn| {
            let ids: Vec<String> = conn
                .prepare("SELECT id FROM projects ORDER BY id")?
                .query_map([], |row| row.get(0))?
                .collect::<Result<_, _>>()?;
            ids.iter()
                .filter_map(|id| project_row(conn, id).transpose())
                .collect()
        })
    }

    fn is_empty(&self) -> StoreFuture<'_, bool> {
        self.read(|conn| {
            let count: i64 = conn.query_row("SELECT COUNT(*) FROM projects", [], |r| r.get(0))?;
            Ok(count == 0)
        })
    }

    fn create_token(
        &self,
        hash: [u8; 32],
        scopes: Vec<Scope>,
        label: String,
    ) -> StoreFuture<'_, i64> {
        self.write(move |conn| {
            atomic(conn, |conn| {
                conn.execute(
                    "INSERT INTO tokens (hash, scopes, label, created_at) VALUES (?1, ?2, ?3, ?4)",
                    params![hash.as_slice(), scopes_text(&scopes), label, now_text()],
                )?;
                Ok(conn.last_insert_rowid())
            })
        })
    }

    fn token(&self, hash: [u8; 32]) -> StoreFuture<'_, Option<TokenInfo>> {
        self.lookup(move |conn| {
            conn.prepare_cached(
                "SELECT id, scopes, project_id, patient_id FROM tokens
                 WHERE hash = ?1 AND revoked_at IS NULL",
            )?
            .query_row([hash.as_slice()], |row| {
                Ok(TokenInfo {
                    id: row.get(0)?,
                    scopes: scopes_of(&row.get::<_, String>(1)?),
                    patient: patient_of(row, 2)?,
                })
            })
            .optional()
            .map_err(StoreError::from)
        })
    }

    fn create_invite(&self, invite: NewInvite) -> StoreFuture<'_, ()> {
        self.write(move |conn| {
            atomic(conn, |conn| {
                conn.execute(
                    "INSERT INTO patient_invites (code_hash, project_id, patient_id, created_at, expires_at)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![
                        invite.code_hash.as_slice(),
                        invite.patient.trial.as_str(),
                        invite.patient.patient.as_str(),
                        now_text(),
                        invite.expires_at_ms
                    ],
                )?;
                Ok(())
            })
        })
    }

    fn redeem_invite(
        &self,
        code_hash: [u8; 32],
        token_hash: [u8; 32],
    ) -> StoreFuture<'_, Result<PatientScope, InviteRefusal>> {
        self.write(move |conn| {
            atomic(conn, |conn| {
                let found = conn
                    .prepare_cached(
                        "SELECT project_id, patient_id, expires_at, used_at IS NOT NULL, revoked_at IS NOT NULL
                         FROM patient_invites WHERE code_hash = ?1",
                    )?
                    .query_row([code_hash.as_slice()], |row| {
                        Ok((
                            patient_of(row, 0)?,
                            row.get::<_, i64>(2)?,
                            row.get::<_, bool>(3)?,
                            row.get::<_, bool>(4)?,
                        ))
                    })
                    .optional()?;
                let Some((Some(patient), expires_at, used, revoked)) = found else {
                    return Ok(Err(InviteRefusal::Unknown));
                };
                if let Some(refusal) = InviteRefusal::of(revoked, used, expires_at) {
                    return Ok(Err(refusal));
                }
                let now = now_text();
                conn.execute(
                    "INSERT INTO tokens (hash, scopes, label, created_at, project_id, patient_id)
                     VALUES (?1, 'submit,read', 'patient', ?2, ?3, ?4)",
                    params![
                        token_hash.as_slice(),
                        now,
                        patient.trial.as_str(),
                        patient.patient.as_str()
                    ],
                )?;
                conn.execute(
                    "UPDATE patient_invites SET used_at = ?2, token_id = ?3 WHERE code_hash = ?1",
                    params![code_hash.as_slice(), now, conn.last_insert_rowid()],
                )?;
                Ok(Ok(patient))
            })
        })
    }

    fn revoke_patient(&self, patient: PatientScope) -> StoreFuture<'_, Revoked> {
        self.write(move |conn| {
            atomic(conn, |conn| {
                let now = now_text();
                let ids = params![patient.trial.as_str(), patient.patient.as_str(), now];
                let credentials = conn.execute(
                    "UPDATE tokens SET revoked_at = ?3
                     WHERE project_id = ?1 AND patient_id = ?2 AND revoked_at IS NULL",
                    ids,
                )?;
                let codes = conn.execute(
                    "UPDATE patient_invites SET revoked_at = ?3
                     WHERE project_id = ?1 AND patient_id = ?2 AND revoked_at IS NULL AND used_at IS NULL",
                    ids,
                )?;
                Ok(Revoked {
                    credentials: credentials as u64,
                    codes: codes as u64,
                })
            })
        })
    }

    fn tokens(&self) -> StoreFuture<'_, Vec<TokenRecord>> {
        self.read(|conn| {
            conn.prepare(
                "SELECT id, scopes, label, created_at, revoked_at, project_id, patient_id
                 FROM tokens ORDER BY id",
            )?
            .query_map([], |row| {
                Ok(TokenRecord {
                    id: row.get(0)?,
                    scopes: scopes_of(&row.get::<_, String>(1)?),
                    label: row.get(2)?,
                    created_at: row.get(3)?,
                    revoked_at: row.get(4)?,
                    patient: patient_of(row, 5)?,
                })
            })?
            .collect::<Result<_, _>>()
            .map_err(StoreError::from)
        })
    }

    fn revoke_token(&self, id: i64) -> StoreFuture<'_, Option<bool>> {
        self.write(move |conn| {
            atomic(conn, |conn| {
                let revoked = conn.execute(
                    "UPDATE tokens SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
                    params![id, now_text()],
                )?;
                if revoked == 1 {
                    return Ok(Some(true));
                }
                let exists = conn
                    .query_row("SELECT 1 FROM tokens WHERE id = ?1", [id], |_| Ok(()))
                    .optional()?;
                Ok(exists.map(|()| false))
            })
        })
    }

    fn submit(&self, submission: NewSubmission) -> StoreFuture<'_, Accepted> {
        self.write(move |conn| {
            atomic(conn, |conn| {
                let hash = request_hash(&submission);
                if let Some(key) = &submission.idempotency_key {
                    let earlier = conn
                        .prepare_cached(
                            "SELECT id, request_hash FROM submissions WHERE token_id = ?1 AND idempotency_key = ?2",
                        )?
                        .query_row(params![submission.token_id, key], |row| {
                            Ok((row.get::<_, String>(0)?, row.get::<_, Vec<u8>>(1)?))
                        })
                        .optional()?;
                    if let Some((id, earlier_hash)) = earlier {
                        if earlier_hash != hash {
                            return Err(StoreError::IdempotencyMismatch);
                        }
                        return Ok(Accepted { id, created: false });
                    }
                }
                let id = uuid::Uuid::new_v4().to_string();
                let now = now_text();
                let local_date = submission.local_date.to_string();
                let inserted = conn
                    .prepare_cached(
                        "INSERT INTO submissions (id, project_id, patient_id, report, token_id, idempotency_key,
                             request_hash, status, attempts, due_at, accepted_at, updated_at,
                             completed_at, local_date, utc_offset_minutes, day_key)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?14, 0, ?8, ?9, ?9, ?10, ?11, ?12, ?13)
                         ON CONFLICT (project_id, patient_id, day_key) WHERE day_key IS NOT NULL DO NOTHING",
                    )?
                    .execute(params![
                        id,
                        submission.project_id,
                        submission.patient_id,
                        submission.report,
                        submission.token_id,
                        submission.idempotency_key,
                        hash,
                        now_ms(),
                        now,
                        submission.completion.map(|c| c.to_rfc3339()),
                        local_date,
                        submission.completion.map(|c| c.offset_minutes()),
                        submission.one_per_day.then_some(&local_date),
                        SubmissionStatus::Accepted,
                    ])?;
                if inserted == 0 {
                    return Err(StoreError::DiaryExists(submission.local_date));
                }
                Ok(Accepted { id, created: true })
            })
        })
    }

    fn submission(&self, id: String) -> StoreFuture<'_, Option<Submission>> {
        self.lookup(move |conn| {
            conn.prepare_cached(&format!("{SUBMISSION_COLUMNS} WHERE id = ?1"))?
                .query_row([&id], submission_row)
                .optional()
                .map_err(StoreError::from)
        })
    }

    fn submission_by_key(&self, token_id: i64, key: String) -> StoreFuture<'_, Option<Submission>> {
        self.lookup(move |conn| {
            conn.prepare_cached(&format!(
                "{SUBMISSION_COLUMNS} WHERE token_id = ?1 AND idempotency_key = ?2"
            ))?
            .query_row(params![token_id, key], submission_row)
            .optional()
            .map_err(StoreError::from)
        })
    }

    fn claim(&self, limit: usize, lease: Duration) -> StoreFuture<'_, Vec<Job>> {
        self.write(move |conn| {
            atomic(conn, |conn| {
                let now = now_ms();
                let until = now + lease_ms(lease);
                let mut claim = conn.prepare_cached(
                    "UPDATE submissions
                     SET status = ?6, attempts = attempts + 1, due_at = ?2, updated_at = ?4
                     WHERE id IN (SELECT id FROM submissions
                                  WHERE status IN (?5, ?6) AND due_at <= ?1
                                  ORDER BY due_at LIMIT ?3)
                     RETURNING id, project_id, patient_id, report,
                               COALESCE(local_date, substr(accepted_at, 1, 10)), attempts,
                               (SELECT protocol FROM projects WHERE projects.id = project_id)",
                )?;
                let jobs = claim
                    .query_map(
                        params![
                            now,
                            until,
                            limit as i64,
                            now_text(),
                            SubmissionStatus::Accepted,
                            SubmissionStatus::Processing
                        ],
                        |row| {
                            Ok(Job {
                                id: row.get(0)?,
                                project_id: row.get(1)?,
                                patient_id: row.get(2)?,
                                report: row.get(3)?,
                                as_of: row.get(4)?,
                                attempt: row.get(5)?,
                                protocol: row.get(6)?,
                            })
                        },
                    )?
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(jobs)
            })
        })
    }

    fn finish(&self, ends: Vec<(Job, JobEnd)>, max_attempts: u32) -> StoreFuture<'_, ()> {
        self.write(move |conn| {
            atomic(conn, |conn| {
                let now = now_text();
                for (job, end) in ends {
                    finish_one(conn, &job, end, max_attempts, &now)?;
                }
                Ok(())
            })
        })
    }

    fn next_due_in(&self) -> StoreFuture<'_, Option<u64>> {
        self.read(|conn| {
            let due: Option<i64> = conn.query_row(
                "SELECT MIN(due_at) FROM submissions WHERE status IN (?1, ?2)",
                params![SubmissionStatus::Accepted, SubmissionStatus::Processing],
                |row| row.get(0),
            )?;
            Ok(due.map(|due| u64::try_from(due - now_ms()).unwrap_or(0)))
        })
    }
}
