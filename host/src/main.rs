//! `clinval`: the command-line host of the clinval validation engine.
//!
//! Thin by design: the commands and their arguments; what they do is the
//! `clinval_host` library's (`src/lib.rs`), every verdict `clinval-core`'s.

use clinval_host::{access, auth, import, serve, validate};

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Validate clinical-trial data against a trial protocol.
#[derive(Debug, Parser)]
#[command(name = "clinval", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Validate CSV, JSON, NDJSON and workbook (xlsx, xls, ods) files:
    /// valid records to --out, every
    /// issue to --errors, a summary on stderr.
    ///
    /// Exit status: 0 when every record is valid, 1 when some are invalid,
    /// 2 when an input or an argument cannot be used.
    Validate(validate::Args),
    /// Serve validation over HTTP with the WebAssembly module (the same
    /// bytes browsers and partners run).
    ///
    /// Endpoints: POST /api/v1/validate, POST /api/v1/batches,
    /// GET /api/v1/protocols[/{name}], GET /api/v1/version, /healthz,
    /// /readyz, /metrics. Stops on SIGTERM or SIGINT after in-flight
    /// requests finish.
    Serve(Box<serve::Args>),
    /// Manage API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Work with protocols.
    #[command(subcommand)]
    Protocol(ProtocolCommand),
    /// Patients' access to the ePRO form.
    #[command(subcommand)]
    Patient(PatientCommand),
}

#[derive(Debug, Subcommand)]
enum PatientCommand {
    /// Make an access code for one patient of one trial and print the
    /// patient's link (shown once; the code opens one device, once).
    Invite(access::InviteArgs),
    /// Revoke a patient's access: their devices' credentials and unused
    /// codes stop working (a running server within `token_cache_ttl`).
    Revoke(access::PatientArgs),
}

#[derive(Debug, Subcommand)]
enum ProtocolCommand {
    /// Print a REDCap data dictionary as the protocol JSON clinval reads
    /// it as (notes on what it left out on stderr).
    Import(import::ImportArgs),
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Create a token and print it once (only its hash is stored).
    Create(auth::CreateArgs),
    /// List tokens: id, scopes, dates, label (never the token itself).
    List(auth::StoreArgs),
    /// Revoke a token by id: a running server refuses it within its
    /// `token_cache_ttl`; submissions made with it stay.
    Revoke(auth::RevokeArgs),
}

fn main() -> ExitCode {
    quiet_workbook_reader_panics();
    let cli = Cli::parse();
    match cli.command {
        Command::Validate(args) => validate::run(args),
        Command::Serve(args) => serve::run(*args),
        Command::Token(TokenCommand::Create(args)) => auth::run_create(args),
        Command::Token(TokenCommand::List(store)) => auth::run_list(store),
        Command::Token(TokenCommand::Revoke(args)) => auth::run_revoke(args),
        Command::Protocol(ProtocolCommand::Import(args)) => import::run(args),
        Command::Patient(PatientCommand::Invite(args)) => access::run_invite(args),
        Command::Patient(PatientCommand::Revoke(args)) => access::run_revoke(args),
    }
}

/// calamine's xls parser panics on some damaged files; the workbook reader
/// catches that and reports the file as unreadable (its error is the
/// message), so the panic's own report is not printed. Every other panic
/// is reported as usual.
fn quiet_workbook_reader_panics() {
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !info
            .location()
            .is_some_and(|at| at.file().contains("calamine"))
        {
            report(info);
        }
    }));
}
