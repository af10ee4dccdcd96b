//! In-process tests: the router called as a tower Service (no socket),
//! and what the binary cannot be made to do from outside (a handler that
//! panics).

use std::sync::Arc;

use axum::routing::get;
use tokio::net::TcpListener;

use super::app;
use super::config::Settings;
use super::{build_app, serve_on};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_handler_gets_500_json_and_the_server_lives_on() {
    let data = tempfile::tempdir().unwrap();
    let config = Settings {
        workers: Some(1),
        data_dir: Some(data.path().to_owned()),
        ..Settings::default()
    }
    .resolve()
    .unwrap();
    let app = tokio::task::block_in_place(|| build_app(config)).unwrap();
    let routes = app::routes().route(
        "/test/panic",
        get(|| async {
            panic!("boom");
            #[allow(unreachable_code)]
            ""
        }),
    );
    let router = app::with_layers(routes, Arc::clone(&app));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        serve_on(listener, router, &app, async {
            let _ = stopped.await;
        })
        .await
    });

    let answers = tokio::task::spawn_blocking(move || {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let mut answers = Vec::new();
        for path in ["/test/panic", "/healthz", "/test/panic", "/metrics"] {
            let mut response = agent.get(&format!("{base}{path}")).call().unwrap();
            let body = response.body_mut().read_to_string().unwrap();
            answers.push((response.status().as_u16(), body));
        }
        answers
    })
    .await
    .unwrap();
    let _ = stop.send(());
    server.await.unwrap().unwrap();

    let error: serde_json::Value = serde_json::from_str(&answers[0].1).unwrap();
    assert_eq!(answers[0].0, 500);
    assert_eq!(error["error"]["code"], "internal");
    assert!(
        !answers[0].1.contains("boom"),
        "the panic message is not shown"
    );
    assert_eq!(answers[1].0, 200, "still serving");
    assert_eq!(answers[2].0, 500);
    assert!(
        answers[3].1.contains(
            r#"clinval_http_requests_total{method="GET",route="/test/panic",status="500"} 2"#
        ),
        "{}",
        answers[3].1
    );
}

/// The app on a fresh data dir, and its data dir.
fn app() -> (Arc<super::app::App>, tempfile::TempDir) {
    let data = tempfile::tempdir().unwrap();
    let config = Settings {
        workers: Some(1),
        process_workers: Some(0),
        data_dir: Some(data.path().to_owned()),
        ..Settings::default()
    }
    .resolve()
    .unwrap();
    (
        tokio::task::block_in_place(|| build_app(config)).unwrap(),
        data,
    )
}

/// `request` through every route and layer, in-process: (status, JSON body).
async fn call(
    app: &Arc<super::app::App>,
    request: axum::http::Request<axum::body::Body>,
) -> (u16, serde_json::Value) {
    use tower::ServiceExt;
    let router = app::with_layers(app::routes(), Arc::clone(app));
    let response = router.oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    (status, serde_json::from_slice(&bytes).unwrap_or_default())
}

fn post(path: &str, token: &str, body: serde_json::Value) -> axum::http::Request<axum::body::Body> {
    axum::http::Request::post(path)
        .header("host", "127.0.0.1")
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .body(axum::body::Body::from(body.to_string()))
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_patients_credential_is_refused_for_anyone_else_in_process() {
    use crate::store::{NewProject, Scope, TrialStatus};
    let (app, _data) = app();
    app.services
        .store
        .create_project(NewProject {
            id: "CT001".into(),
            name: "Trial".into(),
            status: TrialStatus::Recruiting,
            start_date: None,
            protocol: "epro-daily".into(),
            target_enrollment: None,
        })
        .await
        .unwrap();
    let admin = crate::auth::create(app.services.store.as_ref(), vec![Scope::Admin], "t")
        .await
        .unwrap();
    let (status, invited) = call(
        &app,
        post(
            "/api/v1/projects/CT001/patients/P-1/invites",
            &admin,
            serde_json::Value::Null,
        ),
    )
    .await;
    assert_eq!(status, 201, "{invited}");
    let (status, credential) = call(
        &app,
        post(
            "/api/v1/patient-access",
            "",
            serde_json::json!({ "code": invited["code"] }),
        ),
    )
    .await;
    assert_eq!(status, 201, "{credential}");
    let token = credential["token"].as_str().unwrap();
    let diary = |patient: &str| serde_json::json!({"patientId": patient, "trialId": "CT001", "reportData": {}});
    let (status, refused) = call(&app, post("/api/v1/submissions", token, diary("P-2"))).await;
    assert_eq!(
        (status, refused["error"]["code"].as_str()),
        (403, Some("forbidden"))
    );
    // Its own diary gets as far as the answers' check.
    let (status, checked) = call(&app, post("/api/v1/submissions", token, diary("P-1"))).await;
    assert_eq!(
        (status, checked["error"]["code"].as_str()),
        (422, Some("invalid_report"))
    );
}

/// The submissions service, called as the handlers and the processor call
/// it: no request, no router.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_submissions_service_keeps_its_rules_without_http() {
    use crate::ids::IdempotencyKey;
    use crate::service::submissions::{Draft, SubmitError};
    use crate::store::{NewProject, Scope, TrialStatus};

    let (app, _data) = app();
    let services = &app.services;
    for (id, status) in [
        ("CT001", TrialStatus::Recruiting),
        ("CT002", TrialStatus::Completed),
    ] {
        services
            .store
            .create_project(NewProject {
                id: id.into(),
                name: id.into(),
                status,
                start_date: None,
                protocol: "epro-daily".into(),
                target_enrollment: None,
            })
            .await
            .unwrap();
    }
    let id = services
        .store
        .create_token([1; 32], vec![Scope::Submit], "t".into())
        .await
        .unwrap();
    let token = services.store.token([1; 32]).await.unwrap().unwrap();
    assert_eq!(token.id, id);
    let draft = |trial: &str, pain: u32, key: &str| Draft {
        trial_id: trial.into(),
        patient_id: "P-001".into(),
        report: serde_json::value::to_raw_value(&serde_json::json!({
            "pain": pain, "fatigue": 4, "sleepQuality": "good", "nausea": "no",
            "symptoms": ["headache"], "completedAt": "2026-01-10 08:30"
        }))
        .unwrap(),
        completed_at: None,
        idempotency_key: Some(IdempotencyKey::parse(key.as_bytes()).unwrap()),
    };
    let first = services
        .submit(&token, draft("CT001", 3, "k1"))
        .await
        .unwrap();
    let again = services
        .submit(&token, draft("CT001", 3, "k1"))
        .await
        .unwrap();
    assert!(first.created && !again.created && first.id == again.id);
    assert!(matches!(
        services.submit(&token, draft("CT001", 4, "k1")).await,
        Err(SubmitError::KeyReused)
    ));
    assert!(matches!(
        services.submit(&token, draft("CT002", 3, "k2")).await,
        Err(SubmitError::NotRecruiting {
            status: TrialStatus::Completed,
            ..
        })
    ));
    assert!(matches!(
        services.submit(&token, draft("CT404", 3, "k3")).await,
        Err(SubmitError::UnknownTrial(_))
    ));
    match services.submit(&token, draft("CT001", 11, "k4")).await {
        Err(SubmitError::Invalid { issues }) => {
            assert_eq!(issues[0]["field"], "pain", "{issues:?}");
        }
        other => panic!("{other:?}"),
    }
    let stored = services
        .submission(&token, first.id.clone())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (stored.trial_id.as_str(), stored.patient_id.as_str()),
        ("CT001", "P-001")
    );
}
