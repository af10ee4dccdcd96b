//! `clinval validate`: files in, valid records and an error log out.
//!
//! Inputs are validated on a fixed pool of worker threads (one input per
//! worker at a time); each worker renders its records and error-log lines
//! into batches, and the main thread writes the batches in input order.

mod inputs;
mod output;
mod package;
mod parallel;
mod worker;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use chrono::NaiveDate;
use clinval_core::{Format, Lang, Options, Protocol, Summary};
use indicatif::{ProgressBar, ProgressStyle};

use crate::ordered_pool::run_ordered;
use crate::wasm_host::Build;
use inputs::{Input, Source};
use output::Outputs;
use worker::{Job, Message};

/// Batches buffered per input ahead of the writer.
const BATCHES_AHEAD: usize = 8;
/// Inputs at least this large (in all) get a progress bar on a terminal.
const PROGRESS_MIN_BYTES: u64 = 8 * 1024 * 1024;

/// Arguments of `clinval validate`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Files or directories to validate (directories: every .csv, .json,
    /// .ndjson, .jsonl, .xlsx, .xlsm, .xlsb, .xls and .ods file below them,
    /// in name order), or Data Package
    /// descriptors (`datapackage.json`): every tabular resource with its
    /// own schema, foreign keys checked.
    #[arg(required = true, value_name = "INPUT")]
    inputs: Vec<PathBuf>,

    /// A built-in protocol name, a protocol (or plain Table Schema) JSON
    /// file, or a REDCap data dictionary CSV (recognised by its header)
    /// [default: patient]. Data Packages bring their own.
    #[arg(long, value_name = "FILE|NAME")]
    protocol: Option<String>,

    /// With a Data Package: validate only this resource (its foreign keys
    /// still read the resources they refer to).
    #[arg(long, value_name = "NAME")]
    resource: Option<String>,

    /// The character between CSV cells (default `,`; e.g. `;`).
    #[arg(long, value_name = "CHAR")]
    delimiter: Option<char>,

    /// The inputs' text encoding: `utf-8` or `gb18030` (also `gbk`);
    /// `auto` (default): the protocol's `encoding`, else detected from
    /// each file's first 64 KiB (UTF-16 by its byte-order mark).
    #[arg(long, value_enum, default_value_t = EncodingArg::Auto)]
    encoding: EncodingArg,

    /// Input format; by default from each file's extension (`workbook`:
    /// xlsx, xlsm, xlsb, xls or ods, told by the file's bytes).
    #[arg(long, value_name = "csv|json|ndjson|workbook")]
    format: Option<Format>,

    /// A workbook's sheet to read: its name, or its position (`2`: the
    /// second sheet). Default: the first sheet with data (a visible one
    /// before a hidden one); a warning names the other sheets with data.
    #[arg(long, value_name = "NAME|INDEX")]
    sheet: Option<String>,

    /// Write valid records here: a JSON array, or NDJSON when the name
    /// ends in .ndjson or .jsonl.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,

    /// Write every issue here, one JSON object per line.
    #[arg(long, value_name = "FILE")]
    errors: Option<PathBuf>,

    /// Dates after this day are in the future (YYYY-MM-DD; default: today).
    #[arg(long, value_name = "YYYY-MM-DD")]
    as_of: Option<NaiveDate>,

    /// Language of messages.
    #[arg(long, default_value = "en", value_name = "en|zh-CN")]
    lang: Lang,

    /// Worker threads (default: the number of cores). Several files are
    /// read one per thread; one large CSV file is cut into blocks checked
    /// on all of them (the output is the same as on one).
    #[arg(long, value_name = "N")]
    jobs: Option<usize>,

    /// Validate with the native engine, or with the WebAssembly module in
    /// wasmtime (the exact module browsers and the server run, for audits).
    #[arg(long, value_enum, default_value_t = Engine::Native)]
    engine: Engine,

    /// With --engine wasm: the compact module to run (default: the one
    /// built into this binary).
    #[arg(long, value_name = "FILE")]
    module: Option<PathBuf>,

    /// With --engine wasm: the full module, for protocols the compact one
    /// cannot run (default: the one built into this binary).
    #[arg(long, value_name = "FILE")]
    full_module: Option<PathBuf>,
}

/// Which engine validates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Engine {
    /// clinval-core, compiled into this binary.
    Native,
    /// clinval_bg.wasm in wasmtime, through its C ABI.
    Wasm,
}

/// `--encoding`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum EncodingArg {
    /// The protocol's `encoding`, else detected.
    Auto,
    /// UTF-8.
    #[value(name = "utf-8", alias = "utf8")]
    Utf8,
    /// GB18030 (GBK, GB2312).
    #[value(alias = "gbk")]
    Gb18030,
}

/// Runs the command; prints errors itself and returns the exit status.
pub fn run(args: Args) -> ExitCode {
    match execute(args) {
        Ok(status) => status,
        Err(error) => {
            eprintln!("clinval: error: {}", crate::explain::explain(&error));
            ExitCode::from(2)
        }
    }
}

fn execute(args: Args) -> Result<ExitCode> {
    let as_of = args
        .as_of
        .unwrap_or_else(|| chrono::Local::now().date_naive());
    let mut options = Options::new(as_of);
    options.sheet = args.sheet.clone().map(clinval_core::SheetChoice);
    options.encoding = match args.encoding {
        EncodingArg::Auto => None,
        EncodingArg::Utf8 => Some(clinval_core::TextEncoding::Utf8),
        EncodingArg::Gb18030 => Some(clinval_core::TextEncoding::Gb18030),
    };
    if let Some(delimiter) = args.delimiter {
        options.dialect.delimiter = u8::try_from(delimiter)
            .ok()
            .filter(u8::is_ascii)
            .with_context(|| format!("--delimiter `{delimiter}`: expected one ASCII character"))?;
    }
    let inputs = collect_inputs(&args, &options)?;
    let labelled = inputs.len() > 1
        || inputs
            .iter()
            .any(|i| matches!(i.label, inputs::Label::Resource(_)));
    let mut outputs = Outputs::create(args.out.as_deref(), args.errors.as_deref())?;
    let progress = progress_bar(&inputs);
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1);
    let workers = jobs.min(inputs.len().max(1));

    let wasm = match args.engine {
        Engine::Native => None,
        Engine::Wasm => Some(wasm_host(
            args.module.as_deref(),
            args.full_module.as_deref(),
            workers,
        )?),
    };
    if let Some(host) = &wasm {
        for build in Build::ALL {
            if let Some(sha256) = host.sha256(build) {
                eprintln!("engine: {} sha256 {sha256}", build.file());
            }
        }
    }
    let job = Job {
        wasm: wasm.as_ref(),
        lang: args.lang,
        want_records: outputs.wants_records(),
        want_errors: outputs.wants_errors(),
        progress: progress.as_ref(),
        // One input alone may take every thread (a large CSV file is cut
        // into blocks); several share them one each.
        threads: if inputs.len() == 1 { jobs } else { 1 },
    };
    let mut total = Summary::default();
    let mut failed_inputs = 0usize;
    let mut write_error = None;
    run_ordered(
        inputs.clone(),
        workers,
        BATCHES_AHEAD,
        |input: Input, tx| job.run(&input, labelled, &tx),
        |index, rx| {
            let input = &inputs[index];
            for message in rx {
                match message {
                    Message::Batch(batch) if write_error.is_none() => {
                        if let Err(e) = outputs.write(&batch) {
                            write_error = Some(e);
                        }
                    }
                    Message::Batch(_) => {}
                    Message::Done(Ok(summary)) => {
                        report(input, &summary, labelled, progress.as_ref());
                        total.merge(&summary);
                    }
                    Message::Done(Err(message)) => {
                        failed_inputs += 1;
                        let line = format!("clinval: error: {}: {message}", input.label.text());
                        match &progress {
                            Some(bar) => bar.suspend(|| eprintln!("{line}")),
                            None => eprintln!("{line}"),
                        }
                    }
                }
            }
        },
    );
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    if let Some(error) = write_error {
        return Err(error);
    }
    outputs.finish()?;
    if labelled {
        eprintln!("total: {}", output::summary_text(&total));
    }
    Ok(if failed_inputs > 0 {
        ExitCode::from(2)
    } else if !total.is_clean() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// The modules, compiled once (cached on disk) for `workers` instances.
fn wasm_host(
    module: Option<&std::path::Path>,
    full_module: Option<&std::path::Path>,
    workers: usize,
) -> Result<crate::wasm_host::WasmHost> {
    let bytes = crate::wasm_host::ModuleBytes::load(module, full_module)?;
    let cache = crate::wasm_host::default_cache_dir();
    let limits = crate::wasm_host::Limits {
        instances: u32::try_from(workers).unwrap_or(u32::MAX),
        ..crate::wasm_host::Limits::default()
    };
    crate::wasm_host::WasmHost::new(&bytes, cache.as_deref(), limits)
}

/// The inputs the command line names: files and directories under
/// `--protocol`, and the resources of Data Packages.
fn collect_inputs(args: &Args, options: &Options) -> Result<Vec<Input>> {
    let (packages, files): (Vec<PathBuf>, Vec<PathBuf>) = args
        .inputs
        .iter()
        .cloned()
        .partition(|p| inputs::is_package(p));
    if !packages.is_empty() && args.protocol.is_some() {
        bail!("a Data Package brings its own schemas: leave out --protocol");
    }
    if packages.is_empty() && args.resource.is_some() {
        bail!("--resource picks a resource of a Data Package (datapackage.json)");
    }
    let mut all = Vec::new();
    for package in &packages {
        all.extend(package::inputs(package, args.resource.as_deref(), options)?);
    }
    if !files.is_empty() {
        let protocol = Arc::new(load_protocol(
            args.protocol.as_deref().unwrap_or("patient"),
        )?);
        all.extend(inputs::expand(&files, args.format, &protocol, options)?);
    }
    Ok(all)
}

/// A built-in protocol, a protocol (or Table Schema) JSON file, or a
/// REDCap data dictionary (recognised by its header).
fn load_protocol(spec: &str) -> Result<Protocol> {
    if clinval_core::protocol::builtin_names().contains(&spec) {
        return Ok(Protocol::builtin(spec)?);
    }
    let bytes = std::fs::read(spec).with_context(|| {
        format!(
            "cannot read protocol file `{spec}` (built-in protocols: {})",
            clinval_core::protocol::builtin_names().join(", ")
        )
    })?;
    let text = if clinval_core::redcap::is_dictionary(&bytes) {
        let import = crate::import::dictionary(Path::new(spec), &bytes)?;
        for note in &import.notes {
            eprintln!("{spec}: warning: field `{}`: {}", note.field, note.message);
        }
        import.protocol
    } else {
        String::from_utf8(bytes).with_context(|| format!("protocol `{spec}` is not UTF-8 text"))?
    };
    let protocol = Protocol::from_json(&text).with_context(|| format!("protocol `{spec}`"))?;
    print_warnings(spec, &protocol);
    Ok(protocol)
}

/// Tells what loading `protocol` (from `source`) noticed but kept.
fn print_warnings(source: &str, protocol: &Protocol) {
    for warning in &protocol.warnings {
        eprintln!("{source}: warning: {warning}");
    }
}

/// Reads `source` in [`clinval_core::READ_CHUNK`] pieces, its files one
/// after the other; `each` gets every piece.
fn read_source(
    source: &Source,
    mut each: impl FnMut(&[u8]) -> Result<(), String>,
) -> Result<(), String> {
    let files = match source {
        Source::Inline(bytes) => return each(bytes),
        Source::Files(files) => files,
    };
    let mut buffer = vec![0u8; clinval_core::READ_CHUNK];
    for path in files {
        let mut file = std::fs::File::open(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        loop {
            let n = match std::io::Read::read(&mut file, &mut buffer) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
            };
            each(&buffer[..n])?;
        }
    }
    Ok(())
}

fn progress_bar(inputs: &[Input]) -> Option<ProgressBar> {
    let total: u64 = inputs.iter().map(|i| i.size).sum();
    if total < PROGRESS_MIN_BYTES || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::new(total);
    let style = ProgressStyle::with_template(
        "{bar:40} {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} eta {eta}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    Some(bar)
}

fn report(input: &Input, summary: &Summary, labelled: bool, progress: Option<&ProgressBar>) {
    let print = || {
        for warning in &summary.warnings {
            eprintln!(
                "{}: warning {}: {}",
                input.label.text(),
                warning.code(),
                warning.message()
            );
        }
        let text = output::summary_text(summary);
        if labelled {
            eprintln!("{}: {text}", input.label.text());
        } else {
            eprintln!("{text}");
        }
    };
    match progress {
        Some(bar) => bar.suspend(print),
        None => print(),
    }
}
