//! In-process tests of what the binary cannot be made to do from outside:
//! a handler that panics.

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
