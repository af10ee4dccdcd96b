//! Versioned schema migrations, applied in order at start-up, each in its
//! own transaction and recorded in `schema_migrations`. Never edit a
//! released migration: add the next one.

use rusqlite::{Connection, TransactionBehavior};

use super::StoreError;

/// `(version, SQL)`, in order.
const MIGRATIONS: &[(i64, &str)] = &[
    (
        1,
        r#"
CREATE TABLE projects (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    start_date TEXT,
    protocol TEXT NOT NULL,
    target_enrollment INTEGER,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE tokens (
    id INTEGER PRIMARY KEY,
    hash BLOB NOT NULL UNIQUE,
    scopes TEXT NOT NULL,
    label TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE submissions (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects(id),
    patient_id TEXT NOT NULL,
    report TEXT NOT NULL,
    token_id INTEGER NOT NULL REFERENCES tokens(id),
    idempotency_key TEXT,
    request_hash BLOB NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    due_at INTEGER NOT NULL,
    error TEXT,
    scores TEXT,
    accepted_at TEXT NOT NULL,
    processed_at TEXT,
    updated_at TEXT NOT NULL
);
CREATE UNIQUE INDEX submissions_idempotency
    ON submissions(token_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX submissions_due ON submissions(status, due_at);
CREATE INDEX submissions_project ON submissions(project_id, status);
CREATE TABLE enrollments (
    project_id TEXT NOT NULL REFERENCES projects(id),
    patient_id TEXT NOT NULL,
    first_submission TEXT NOT NULL,
    PRIMARY KEY (project_id, patient_id)
);
"#,
    ),
    // Tokens can be revoked (`clinval token revoke`); a revoked token's row
    // stays, since submissions refer to it.
    (2, "ALTER TABLE tokens ADD COLUMN revoked_at TEXT;"),
    // The patient's day and the device's completion time. `day_key` is the
    // local date for a protocol that takes one diary a day (else NULL):
    // the unique index, not a read, keeps it to one.
    (
        3,
        r#"
ALTER TABLE submissions ADD COLUMN completed_at TEXT;
ALTER TABLE submissions ADD COLUMN local_date TEXT;
ALTER TABLE submissions ADD COLUMN utc_offset_minutes INTEGER;
ALTER TABLE submissions ADD COLUMN day_key TEXT;
CREATE UNIQUE INDEX submissions_one_per_day
    ON submissions(project_id, patient_id, day_key) WHERE day_key IS NOT NULL;
"#,
    ),
    // Patients' access codes, and the credentials they were exchanged for:
    // a token bound to one patient of one trial.
    (
        4,
        r#"
ALTER TABLE tokens ADD COLUMN project_id TEXT REFERENCES projects(id);
ALTER TABLE tokens ADD COLUMN patient_id TEXT;
CREATE INDEX tokens_patient ON tokens(project_id, patient_id) WHERE patient_id IS NOT NULL;
CREATE TABLE patient_invites (
    code_hash BLOB PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects(id),
    patient_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at TEXT,
    token_id INTEGER REFERENCES tokens(id),
    revoked_at TEXT
);
CREATE INDEX patient_invites_patient ON patient_invites(project_id, patient_id);
"#,
    ),
];

/// The newest schema version this build knows.
pub fn latest() -> i64 {
    MIGRATIONS.last().map_or(0, |(version, _)| *version)
}

/// Brings the database to the latest version; refuses a newer one.
pub fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version INTEGER PRIMARY KEY,
             applied_at TEXT NOT NULL
         )",
    )?;
    let current: i64 = conn.query_row(
        "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
        [],
        |row| row.get(0),
    )?;
    if current > latest() {
        return Err(StoreError::NewerSchema {
            found: current,
            known: latest(),
        });
    }
    for (version, sql) in MIGRATIONS.iter().filter(|(v, _)| *v > current) {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute_batch(sql)?;
        tx.execute(
            "INSERT INTO schema_migrations (version, applied_at) VALUES (?1, ?2)",
            (version, super::now_text()),
        )?;
        tx.commit()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrating_twice_is_a_no_op_and_newer_schemas_are_refused() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        migrate(&mut conn).unwrap();
        let versions: i64 = conn
            .query_row("SELECT COUNT(*) FROM schema_migrations", [], |r| r.get(0))
            .unwrap();
        assert_eq!(versions, latest());
        conn.execute(
            "INSERT INTO schema_migrations VALUES (?1, 'later')",
            [latest() + 1],
        )
        .unwrap();
        let error = migrate(&mut conn).unwrap_err().to_string();
        assert!(error.contains("newer"), "{error}");
    }
}
