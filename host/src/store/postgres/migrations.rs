//! The PostgreSQL schema's versioned migrations, applied in order at
//! start-up in one transaction under an advisory lock (replicas starting
//! together migrate once), each recorded in `schema_migrations`. Never
//! edit a released migration: add the next one.
//!
//! The schema is the SQLite store's (the same columns, the same unique
//! indexes carrying the same guarantees), in PostgreSQL's types.

use tokio_postgres::Client;

use crate::store::StoreError;

/// `(version, SQL)`, in order.
const MIGRATIONS: &[(i32, &str)] = &[
    (
        1,
        r#"
CREATE TABLE projects (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    start_date TEXT,
    protocol TEXT NOT NULL,
    target_enrollment BIGINT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE tokens (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    hash BYTEA NOT NULL UNIQUE,
    scopes TEXT NOT NULL,
    label TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT,
    project_id TEXT REFERENCES projects(id),
    patient_id TEXT
);
CREATE INDEX tokens_patient ON tokens(project_id, patient_id) WHERE patient_id IS NOT NULL;
CREATE TABLE submissions (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects(id),
    patient_id TEXT NOT NULL,
    report TEXT NOT NULL,
    token_id BIGINT NOT NULL REFERENCES tokens(id),
    idempotency_key TEXT,
    request_hash BYTEA NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    due_at BIGINT NOT NULL,
    error TEXT,
    scores TEXT,
    accepted_at TEXT NOT NULL,
    processed_at TEXT,
    updated_at TEXT NOT NULL,
    completed_at TEXT,
    local_date TEXT,
    utc_offset_minutes INTEGER,
    day_key TEXT
);
CREATE UNIQUE INDEX submissions_idempotency
    ON submissions(token_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE UNIQUE INDEX submissions_one_per_day
    ON submissions(project_id, patient_id, day_key) WHERE day_key IS NOT NULL;
CREATE INDEX submissions_due ON submissions(status, due_at);
CREATE INDEX submissions_project ON submissions(project_id, status);
CREATE TABLE enrollments (
    project_id TEXT NOT NULL REFERENCES projects(id),
    patient_id TEXT NOT NULL,
    first_submission TEXT NOT NULL,
    PRIMARY KEY (project_id, patient_id)
);
CREATE TABLE patient_invites (
    code_hash BYTEA PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects(id),
    patient_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at TEXT,
    token_id BIGINT REFERENCES tokens(id),
    revoked_at TEXT
);
CREATE INDEX patient_invites_patient ON patient_invites(project_id, patient_id);
"#,
    ),
    // The work still to do, in the order it is claimed: a claim reads the
    // first rows of this index instead of sorting every pending row (7.8
    // ms a claim with a backlog of thousands, the most of the database's
    // time under load). The statuses are written as the claim writes them
    // (`PENDING` in postgres/mod.rs), so that the planner matches them.
    (
        2,
        "CREATE INDEX submissions_pending ON submissions (due_at)
             WHERE status IN ('accepted', 'processing');",
    ),
];

/// The advisory lock key replicas migrate under ("clinval" in ASCII).
const LOCK: i64 = 0x0063_6c69_6e76_616c;

/// The newest schema version this build knows.
pub fn latest() -> i32 {
    MIGRATIONS.last().map_or(0, |(version, _)| *version)
}

/// The predicates (`WHERE …`) of the partial indexes the migrations make.
#[cfg(test)]
pub fn index_predicates() -> impl Iterator<Item = String> {
    MIGRATIONS.iter().flat_map(|(_, sql)| {
        sql.split(';')
            .filter(|statement| statement.contains("CREATE INDEX"))
            .filter_map(|statement| {
                let (_, predicate) = statement.split_once("WHERE ")?;
                Some(predicate.split_whitespace().collect::<Vec<_>>().join(" "))
            })
            .collect::<Vec<_>>()
    })
}

/// Brings the database to the latest version; refuses a newer one.
pub async fn migrate(client: &mut Client) -> Result<(), StoreError> {
    let tx = client.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK])
        .await?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version INTEGER PRIMARY KEY,
             applied_at TEXT NOT NULL
         )",
    )
    .await?;
    let current: i32 = tx
        .query_one(
            "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
            &[],
        )
        .await?
        .try_get(0)?;
    if current > latest() {
        return Err(StoreError::NewerSchema {
            found: i64::from(current),
            known: i64::from(latest()),
        });
    }
    for (version, sql) in MIGRATIONS.iter().filter(|(v, _)| *v > current) {
        tx.batch_execute(sql).await?;
        tx.execute(
            "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)",
            &[version, &crate::store::now_text()],
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}
