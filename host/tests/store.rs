//! The store's guarantees, for both stores: SQLite in a data dir and
//! PostgreSQL in a private cluster — durability of acknowledged writes,
//! idempotency, one diary a day, processing that takes effect once,
//! leases, tokens. Each case is written once and run against each.

mod common;

use std::sync::Arc;
use std::time::Duration;

use clinval_host::store::*;

/// Where a case's store lives.
enum Place {
    Sqlite(tempfile::TempDir),
    Postgres(String),
}

impl Place {
    fn sqlite() -> Place {
        Place::Sqlite(tempfile::tempdir().unwrap())
    }

    fn postgres() -> Place {
        Place::Postgres(common::postgres::shared().database())
    }

    fn location(&self) -> StoreLocation {
        match self {
            Place::Sqlite(dir) => StoreLocation::parse(None, dir.path()).unwrap(),
            Place::Postgres(url) => {
                StoreLocation::parse(Some(url), std::path::Path::new("")).unwrap()
            }
        }
    }

    /// Opens the store as a process starting would.
    async fn reopen(&self) -> Arc<dyn Store> {
        self.location().open().await.unwrap()
    }

    /// Opens the store with trial CT001 and token 1 (submit) in it.
    async fn open(&self) -> Arc<dyn Store> {
        let store = self.reopen().await;
        if store.is_empty().await.unwrap() {
            store
                .create_project(project("CT001", TrialStatus::Recruiting))
                .await
                .unwrap();
            store
                .create_token([7; 32], vec![Scope::Submit], "test".into())
                .await
                .unwrap();
        }
        store
    }
}

fn project(id: &str, status: TrialStatus) -> NewProject {
    NewProject {
        id: id.into(),
        name: format!("Trial {id}"),
        status,
        start_date: Some("2026-01-05".into()),
        protocol: "epro-daily".into(),
        target_enrollment: Some(100),
    }
}

fn submission(patient: &str, key: Option<&str>) -> NewSubmission {
    NewSubmission {
        project_id: "CT001".into(),
        patient_id: patient.into(),
        report: format!(r#"{{"pain": 3, "who": "{patient}"}}"#),
        token_id: 1,
        idempotency_key: key.map(str::to_owned),
        local_date: chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
        completion: None,
        one_per_day: false,
    }
}

/// A diary completed at `at` (RFC 3339 with offset), under the one-a-day rule.
fn diary(patient: &str, key: &str, at: &str) -> NewSubmission {
    let completion = clinval_host::completion::Completion::parse(at, chrono::Utc::now()).unwrap();
    NewSubmission {
        local_date: completion.local_date(),
        completion: Some(completion),
        one_per_day: true,
        ..submission(patient, Some(key))
    }
}

/// A `#[tokio::test]` per case and store.
macro_rules! for_each_store {
    ($($case:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    super::$case(&super::Place::sqlite()).await;
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    super::$case(&super::Place::postgres()).await;
                }
            )+
        }
    };
}

for_each_store!(
    projects_are_created_changed_and_counted,
    an_idempotency_key_names_one_submission_per_token,
    a_client_finds_what_became_of_its_key,
    one_diary_a_day_per_patient_in_the_patients_own_day,
    concurrent_submissions_are_all_stored_and_survive_a_reopen,
    processing_takes_effect_once_and_failures_retry_then_dead_letter,
    work_claimed_by_a_dead_process_is_due_again,
    tokens_are_found_by_hash_only,
    a_revoked_token_is_not_found_but_stays_listed,
);

async fn projects_are_created_changed_and_counted(place: &Place) {
    let store = place.open().await;
    assert!(matches!(
        store
            .create_project(project("CT001", TrialStatus::Recruiting))
            .await,
        Err(StoreError::ProjectExists(_))
    ));
    let patch = ProjectPatch {
        status: Some(TrialStatus::Completed),
        ..ProjectPatch::default()
    };
    let changed = store
        .update_project("CT001".into(), patch)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (changed.status, changed.name.as_str()),
        (TrialStatus::Completed, "Trial CT001")
    );
    assert!(
        store
            .update_project("CT404".into(), ProjectPatch::default())
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(store.projects().await.unwrap().len(), 1);
    assert!(store.project("nope".into()).await.unwrap().is_none());
}

async fn an_idempotency_key_names_one_submission_per_token(place: &Place) {
    let store = place.open().await;
    let first = store.submit(submission("P1", Some("k-1"))).await.unwrap();
    let again = store.submit(submission("P1", Some("k-1"))).await.unwrap();
    assert!(first.created && !again.created);
    assert_eq!(first.id, again.id);
    assert!(matches!(
        store.submit(submission("P2", Some("k-1"))).await,
        Err(StoreError::IdempotencyMismatch)
    ));
    let other = store.submit(submission("P1", None)).await.unwrap();
    assert_ne!(other.id, first.id);
    let counts = store
        .project("CT001".into())
        .await
        .unwrap()
        .unwrap()
        .submissions;
    assert_eq!(counts.accepted, 2);
}

async fn a_client_finds_what_became_of_its_key(place: &Place) {
    let store = place.open().await;
    let first = store.submit(submission("P1", Some("k-1"))).await.unwrap();
    let found = store
        .submission_by_key(1, "k-1".into())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.submission_id, first.id);
    assert!(
        store
            .submission_by_key(1, "k-2".into())
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .submission_by_key(2, "k-1".into())
            .await
            .unwrap()
            .is_none(),
        "another token's key"
    );
}

async fn one_diary_a_day_per_patient_in_the_patients_own_day(place: &Place) {
    let store = place.open().await;
    let night = store
        .submit(diary("P1", "a", "2026-11-30T01:30:00+08:00"))
        .await
        .unwrap();
    // Its lost reply's retry is the same submission, not a second diary.
    let retry = store
        .submit(diary("P1", "a", "2026-11-30T01:30:00+08:00"))
        .await
        .unwrap();
    assert_eq!(
        (retry.id.as_str(), retry.created),
        (night.id.as_str(), false)
    );
    // The same local day, another key: refused, by the unique index.
    let error = store
        .submit(diary("P1", "b", "2026-11-30T23:10:00+08:00"))
        .await
        .unwrap_err();
    assert!(
        matches!(error, StoreError::DiaryExists(day) if day.to_string() == "2026-11-30"),
        "{error}"
    );
    // The next local day, another patient, a protocol without the rule: stored.
    store
        .submit(diary("P1", "c", "2026-12-01T00:10:00+08:00"))
        .await
        .unwrap();
    store
        .submit(diary("P2", "d", "2026-11-30T01:30:00+08:00"))
        .await
        .unwrap();
    store
        .submit(NewSubmission {
            one_per_day: false,
            ..diary("P1", "e", "2026-11-30T12:00:00+08:00")
        })
        .await
        .unwrap();
    let stored = store.submission(night.id).await.unwrap().unwrap();
    assert_eq!(
        stored.completed_at.as_deref(),
        Some("2026-11-30T01:30:00+08:00")
    );
    assert_eq!(stored.local_date.as_deref(), Some("2026-11-30"));
    assert_eq!(stored.utc_offset.as_deref(), Some("+08:00"));
    // Re-validated as of the patient's day, not the server's.
    let jobs = store.claim(10, Duration::from_secs(60)).await.unwrap();
    let job = jobs.iter().find(|j| j.id == stored.submission_id).unwrap();
    assert_eq!(job.as_of, "2026-11-30");
}

async fn concurrent_submissions_are_all_stored_and_survive_a_reopen(place: &Place) {
    let store = place.open().await;
    let tasks: Vec<_> = (0..300)
        .map(|i| {
            let store = Arc::clone(&store);
            tokio::spawn(async move { store.submit(submission(&format!("P{i}"), None)).await })
        })
        .collect();
    let mut ids = Vec::new();
    for task in tasks {
        ids.push(task.await.unwrap().unwrap().id);
    }
    drop(store);
    let reopened = place.reopen().await;
    for id in &ids {
        assert_eq!(
            reopened
                .submission(id.clone())
                .await
                .unwrap()
                .unwrap()
                .status,
            SubmissionStatus::Accepted
        );
    }
}

async fn processing_takes_effect_once_and_failures_retry_then_dead_letter(place: &Place) {
    let store = place.open().await;
    let a = store.submit(submission("P1", None)).await.unwrap().id;
    let b = store.submit(submission("P1", None)).await.unwrap().id;
    let c = store.submit(submission("P2", None)).await.unwrap().id;
    let jobs = store.claim(10, Duration::from_secs(60)).await.unwrap();
    assert_eq!(jobs.len(), 3);
    assert!(
        store
            .claim(10, Duration::from_secs(60))
            .await
            .unwrap()
            .is_empty(),
        "leased"
    );
    let job = |id: &str| jobs.iter().find(|j| j.id == id).unwrap().clone();
    assert_eq!(job(&a).protocol, "epro-daily");
    assert_eq!(job(&a).attempt, 1);
    let done = JobEnd::Processed {
        scores: r#"{"symptomBurden": 3}"#.into(),
    };
    store
        .finish(vec![(job(&a), done.clone())], 3)
        .await
        .unwrap();
    store
        .finish(vec![(job(&a), done.clone())], 3)
        .await
        .unwrap(); // a redelivery
    store.finish(vec![(job(&b), done)], 3).await.unwrap();
    let project = store.project("CT001".into()).await.unwrap().unwrap();
    assert_eq!(project.enrolled_patients, 1, "P1 once");
    assert_eq!(project.submissions.processed, 2);
    let processed = store.submission(a.clone()).await.unwrap().unwrap();
    assert_eq!(
        processed.scores,
        Some(serde_json::json!({"symptomBurden": 3}))
    );
    assert!(processed.processed_at.is_some());

    // c fails twice (retried at once), then is given up on.
    let retry = |reason: &str| JobEnd::Retry {
        reason: reason.into(),
        after: Duration::ZERO,
    };
    store
        .finish(vec![(job(&c), retry("trap"))], 2)
        .await
        .unwrap();
    let again = store.claim(10, Duration::from_secs(60)).await.unwrap();
    assert_eq!((again.len(), again[0].attempt), (1, 2));
    store
        .finish(vec![(again[0].clone(), retry("trap again"))], 2)
        .await
        .unwrap();
    let failed = store.submission(c).await.unwrap().unwrap();
    assert_eq!(failed.status, SubmissionStatus::Failed);
    assert_eq!(
        failed.error.as_deref(),
        Some("gave up after 2 attempts: trap again")
    );
    assert!(
        store.next_due_in().await.unwrap().is_none(),
        "nothing left to do"
    );
}

async fn work_claimed_by_a_dead_process_is_due_again(place: &Place) {
    let store = place.open().await;
    let id = store.submit(submission("P1", None)).await.unwrap().id;
    let lease = Duration::from_millis(500);
    assert_eq!(store.claim(10, lease).await.unwrap().len(), 1);
    // The claimer dies; another process (SQLite: the next to open the
    // data dir; PostgreSQL: any replica, once the lease is over) takes it.
    drop(store);
    let reopened = place.reopen().await;
    tokio::time::sleep(lease).await;
    let jobs = reopened.claim(10, Duration::from_secs(60)).await.unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!((jobs[0].id.as_str(), jobs[0].attempt), (id.as_str(), 2));
}

async fn tokens_are_found_by_hash_only(place: &Place) {
    let store = place.open().await;
    let token = store.token([7; 32]).await.unwrap().unwrap();
    assert!(token.allows(Scope::Submit) && !token.allows(Scope::Read));
    assert!(store.token([8; 32]).await.unwrap().is_none());
    let id = store
        .create_token([9; 32], vec![Scope::Admin], "ops".into())
        .await
        .unwrap();
    let admin = store.token([9; 32]).await.unwrap().unwrap();
    assert_eq!(admin.id, id);
    assert!(admin.allows(Scope::Read) && admin.allows(Scope::Submit));
}

async fn a_revoked_token_is_not_found_but_stays_listed(place: &Place) {
    let store = place.open().await;
    let id = store
        .create_token([9; 32], vec![Scope::Read], "laptop".into())
        .await
        .unwrap();
    assert_eq!(store.revoke_token(id).await.unwrap(), Some(true));
    assert!(store.token([9; 32]).await.unwrap().is_none());
    assert!(
        store.token([7; 32]).await.unwrap().is_some(),
        "others still work"
    );
    assert_eq!(store.revoke_token(id).await.unwrap(), Some(false));
    assert_eq!(store.revoke_token(999).await.unwrap(), None);
    let listed = store.tokens().await.unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!((listed[1].id, listed[1].label.as_str()), (id, "laptop"));
    assert_eq!(listed[1].scopes, [Scope::Read]);
    assert!(listed[0].revoked_at.is_none() && listed[1].revoked_at.is_some());
}

#[cfg(unix)]
#[tokio::test]
async fn the_data_dir_and_database_are_the_owners_alone() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let db = data.join(clinval_host::store::sqlite::DB_FILE);
    let place = || StoreLocation::parse(None, &data).unwrap();
    {
        let _store = place().open().await.unwrap();
        assert_eq!(mode(&data), 0o700);
        assert_eq!(mode(&db), 0o600);
    }
    // An existing database made readable by others is tightened again.
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
    let _store = place().open().await.unwrap();
    assert_eq!(mode(&db), 0o600);
    let wal = db.with_extension("db-wal");
    if wal.exists() {
        assert_eq!(mode(&wal), 0o600);
    }
}

/// Two stores on one PostgreSQL database: two replicas.
async fn replicas() -> (Arc<dyn Store>, Arc<dyn Store>, Place) {
    let place = Place::postgres();
    let a = place.open().await;
    let b = place.reopen().await;
    (a, b, place)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_racing_on_one_idempotency_key_store_one_submission() {
    let (a, b, _place) = replicas().await;
    let tasks: Vec<_> = (0..40)
        .map(|i| {
            let store = Arc::clone(if i % 2 == 0 { &a } else { &b });
            tokio::spawn(async move { store.submit(submission("P1", Some("k-race"))).await })
        })
        .collect();
    let mut ids = std::collections::HashSet::new();
    let mut created = 0;
    for task in tasks {
        let accepted = task.await.unwrap().unwrap();
        created += usize::from(accepted.created);
        ids.insert(accepted.id);
    }
    assert_eq!((ids.len(), created), (1, 1));
    let counts = a
        .project("CT001".into())
        .await
        .unwrap()
        .unwrap()
        .submissions;
    assert_eq!(counts.accepted, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_claim_disjoint_work_and_count_effects_once() {
    let (a, b, _place) = replicas().await;
    for i in 0..60 {
        a.submit(submission(&format!("P{}", i % 20), None))
            .await
            .unwrap();
    }
    let lease = Duration::from_secs(60);
    let (mut ja, mut jb) = (Vec::new(), Vec::new());
    loop {
        let (x, y) = tokio::join!(a.claim(7, lease), b.claim(7, lease));
        let (x, y) = (x.unwrap(), y.unwrap());
        if x.is_empty() && y.is_empty() {
            break;
        }
        ja.extend(x);
        jb.extend(y);
    }
    let mut all: Vec<&str> = ja.iter().chain(&jb).map(|j| j.id.as_str()).collect();
    all.sort_unstable();
    all.dedup();
    assert_eq!(all.len(), 60, "every submission claimed once");
    let done = |jobs: &[Job]| {
        jobs.iter()
            .map(|j| {
                (
                    j.clone(),
                    JobEnd::Processed {
                        scores: "{}".into(),
                    },
                )
            })
            .collect::<Vec<_>>()
    };
    // Each replica finishes its own, and (a redelivery) the other's.
    for (store, jobs) in [(&a, &ja), (&b, &jb), (&a, &jb), (&b, &ja)] {
        store.finish(done(jobs), 3).await.unwrap();
    }
    let project = b.project("CT001".into()).await.unwrap().unwrap();
    assert_eq!(project.submissions.processed, 60);
    assert_eq!(project.enrolled_patients, 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_submission_stored_by_one_replica_wakes_the_workers_of_another() {
    let (a, b, _place) = replicas().await;
    let workers = Arc::new(tokio::sync::Notify::new());
    b.wake_on_work(Arc::clone(&workers));
    // The listener wakes them once when it starts listening.
    tokio::time::timeout(Duration::from_secs(10), workers.notified())
        .await
        .expect("listening");
    a.submit(submission("P1", None)).await.unwrap();
    tokio::time::timeout(Duration::from_secs(10), workers.notified())
        .await
        .expect("woken by the other replica's submission");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_with_a_newer_schema_is_refused() {
    let url = common::postgres::shared().database();
    let location = StoreLocation::parse(Some(&url), std::path::Path::new("")).unwrap();
    drop(location.open().await.unwrap());
    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    client
        .execute("INSERT INTO schema_migrations VALUES (99, 'later')", &[])
        .await
        .unwrap();
    let error = location.open().await.err().unwrap().to_string();
    assert!(error.contains("schema version 99"), "{error}");
}

#[test]
fn a_store_that_is_not_a_postgres_url_is_refused_without_echoing_it() {
    let dir = std::path::Path::new("data");
    let error = StoreLocation::parse(Some("mysql://u:secret@h/db"), dir)
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("postgres://") && !error.contains("secret"),
        "{error}"
    );
    let error = StoreLocation::parse(Some("postgres://u:secret@h:notaport/db"), dir)
        .unwrap_err()
        .to_string();
    assert!(!error.contains("secret"), "{error}");
    let named = StoreLocation::parse(Some("postgres://u:secret@db.example:5432/trials"), dir)
        .unwrap()
        .describe();
    assert_eq!(named, "PostgreSQL database trials on db.example");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgresql_error_is_said_without_the_values_its_detail_quotes() {
    let store = Place::postgres().open().await;
    // Token 1's hash again: a unique violation, whose DETAIL would quote the key.
    let error = store
        .create_token([7; 32], vec![Scope::Read], "again".into())
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("SQLSTATE 23505"), "{error}");
    assert!(
        !error.contains("Key (") && !error.contains("DETAIL"),
        "{error}"
    );
}
