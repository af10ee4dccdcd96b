//! `clinval serve`: validates uploads over HTTP with the wasm module.
//!
//! hyper's HTTP/1 server on tokio with axum's router on top; connections
//! are accepted here (not by `axum::serve`) so that header and idle
//! timeouts and graceful shutdown are ours to set.

mod api;
mod app;
mod bearer;
mod body;
mod config;
mod demo;
mod error;

mod openapi;
mod patients;

mod projects;

mod submissions;
#[cfg(test)]
mod tests;
mod transport;
mod web;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use anyhow::{Context, Result};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};

use crate::metrics::Metrics;
use crate::pool::Pool;
use crate::protocols::Protocols;
use crate::service::tokens::Tokens;
use crate::service::{ServiceSettings, Services, processor};
use crate::wasm_host::{Build, Limits, ModuleBytes, WasmHost};
use app::{App, ModuleFacts};
use config::{Config, LogFormat, Settings};

/// Arguments of `clinval serve`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A TOML file of settings (keys as the flags below, e.g.
    /// `listen = "0.0.0.0:8080"`, `body_limit = "200MiB"`). Environment
    /// variables override it; flags override both.
    #[arg(long, env = "CLINVAL_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,

    /// Seed an empty data dir with two demo trials (CT001 recruiting,
    /// CT002 completed) and print a demo token with the submit and read
    /// scopes.
    #[arg(long, env = "CLINVAL_DEMO")]
    demo: bool,

    #[command(flatten)]
    settings: Settings,
}

/// Runs the server until SIGTERM or SIGINT; returns the exit status.
pub fn run(args: Args) -> ExitCode {
    let demo = args.demo;
    let config = match resolve(args) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("clinval: error: {}", crate::explain::explain(&error));
            return ExitCode::from(2);
        }
    };
    init_logging(config.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("clinval-http")
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            tracing::error!(error = %error, "cannot start the runtime");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(serve(config, demo)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(
                error = crate::explain::explain(&error),
                "the server stopped"
            );
            ExitCode::from(2)
        }
    }
}

fn resolve(args: Args) -> Result<Config> {
    let file = match &args.config {
        Some(path) => Settings::from_file(path)?,
        None => Settings::default(),
    };
    let mut settings = args.settings.or(file);
    if args.demo && settings.log_format.is_none() {
        // A person is watching a demo: readable lines, unless asked otherwise.
        settings.log_format = Some(LogFormat::Text);
    }
    let config = settings.resolve()?;
    if args.demo && config.allowed_hosts == config::AllowedHosts::Any {
        // The demo serves its token to the page: a rebound name must not get it.
        anyhow::bail!("--demo answers only allowed hosts: allowed_hosts `*` is refused with it");
    }
    Ok(config)
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("CLINVAL_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_span_list(false)
            .try_init(),
        LogFormat::Text => builder
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .try_init(),
    };
}

/// Loads the modules and the protocols: everything a server needs.
fn build_app(config: Config) -> Result<Arc<App>> {
    let bytes = ModuleBytes::load(config.module.as_deref(), config.full_module.as_deref())?;
    let limits = Limits {
        // One more for start-up and replacing a trapped instance.
        instances: config.workers + 1,
        memory_bytes: config.instance_memory,
        call_timeout: config.call_timeout,
    };
    let host = WasmHost::new(&bytes, config.cache_dir.as_deref(), limits)?;
    let facts = |build: Build| -> Result<Option<ModuleFacts>> {
        let Some(sha256) = host.sha256(build) else {
            return Ok(None);
        };
        let info: serde_json::Value = serde_json::from_slice(&host.client(build)?.info()?)
            .with_context(|| format!("the clinval_info of {}", build.file()))?;
        Ok(Some(ModuleFacts {
            build,
            sha256: sha256.to_owned(),
            version: info["engine"].as_str().unwrap_or("unknown").to_owned(),
            abi: info["abi"]
                .as_u64()
                .and_then(|v| u32::try_from(v).ok())
                .unwrap_or(0),
        }))
    };
    let module = facts(Build::Compact)?.context("the compact module")?;
    let full_module = facts(Build::Full)?;
    let protocols = Protocols::load(&host, config.protocols_dir.as_deref())?;
    let store = tokio::runtime::Handle::current()
        .block_on(config.store.open())
        .with_context(|| config.store.describe())?;
    let work = Arc::new(Notify::new());
    if config.process_workers > 0 {
        store.wake_on_work(Arc::clone(&work));
    }
    let metrics = Arc::new(Metrics::new(config.workers));
    let pool = Arc::new(Pool::new(
        host,
        config.workers,
        config.queue,
        config.queue_timeout,
        Arc::clone(&metrics),
    ));
    let token_cache_ttl = config.token_cache_ttl;
    let openapi = openapi::document(env!("CARGO_PKG_VERSION"), &protocols.names())?;
    let services = Arc::new(Services {
        store,
        pool,
        protocols,
        metrics,
        work,
        tokens: Tokens::new(token_cache_ttl),
        settings: ServiceSettings {
            busy_retry_after: config.retry_after,
            process_workers: config.process_workers,
            max_attempts: config.max_attempts,
            lease: config.process_lease,
            retry_base: config.retry_base,
        },
    });
    Ok(Arc::new(App {
        config,
        services,
        module,
        full_module,
        ready: AtomicBool::new(true),
        module_bytes: Build::ALL.map(|build| bytes.get(build).map(bytes::Bytes::copy_from_slice)),
        demo_token: std::sync::OnceLock::new(),
        openapi: serde_json::to_vec(&openapi)?.into(),
    }))
}

async fn serve(config: Config, demo: bool) -> Result<()> {
    let app = tokio::task::block_in_place(|| build_app(config))?;
    if demo {
        demo::seed(&app).await?;
    }
    let listener = TcpListener::bind(app.config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", app.config.listen))?;
    let address = listener.local_addr()?;
    tracing::info!(
        %address,
        module_sha256 = app.module.sha256,
        workers = app.config.workers,
        queue = app.config.queue,
        protocols = app.services.protocols.names().len(),
        "listening"
    );
    if demo {
        println!("demo: open http://{address}/ (the ePRO form) and http://{address}/batch.html");
        let link = demo::patient_link(&app, &format!("http://{address}")).await?;
        println!("demo patient link ({}): {link}", demo::PATIENT);
    }
    let router = app::with_layers(app::routes(), Arc::clone(&app));
    let (stop, stopping) = watch::channel(false);
    let workers = processor::start(&app.services, stopping);
    let served = serve_on(listener, router, &app, shutdown_signal()).await;
    // In-flight requests are done; let workers finish their current job.
    let _ = stop.send(true);
    for worker in workers {
        let _ = worker.await;
    }
    served
}

/// Serves `router` on `listener` until `shutdown` completes, then lets
/// in-flight requests finish (up to the grace period).
async fn serve_on(
    listener: TcpListener,
    router: axum::Router,
    app: &App,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<()> {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        // Also bounds the idle time between requests on a kept-alive
        // connection (hyper ≥ 1.6).
        .header_read_timeout(app.config.header_timeout)
        .keep_alive(true);
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, _peer) = match accepted {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        // Out of descriptors and the like: wait, go on.
                        tracing::warn!(error = %error, "accept failed");
                        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let service = TowerToHyperService::new(router.clone());
                let stream = TokioIo::new(transport::JsonErrors::new(stream));
                let connection = http.serve_connection(stream, service);
                let watched = graceful.watch(connection);
                tokio::spawn(async move {
                    if let Err(error) = watched.await {
                        tracing::debug!(error = %error, "connection ended with an error");
                    }
                });
            }
            () = &mut shutdown => break,
        }
    }
    app.stop_ready();
    drop(listener);
    tracing::info!("shutting down: finishing in-flight requests");
    tokio::select! {
        () = graceful.shutdown() => tracing::info!("all connections closed"),
        () = tokio::time::sleep(app.config.shutdown_grace) => {
            tracing::warn!("grace period over; closing the remaining connections");
        }
    }
    Ok(())
}

/// Completes on SIGTERM or SIGINT.
async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(signal) => signal,
                Err(_) => {
                    let _ = interrupt.await;
                    return;
                }
            };
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}
