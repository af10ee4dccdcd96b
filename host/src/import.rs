//! `clinval protocol import`: a REDCap data dictionary as the protocol JSON
//! clinval reads it as (the same document `validate --protocol DICT.csv`
//! and the server's `--protocols-dir` use), printed for people to read,
//! keep or edit.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clinval_core::redcap::Import;

/// Arguments of `clinval protocol import`.
#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// The dictionary (CSV, either header style).
    #[arg(value_name = "DICTIONARY")]
    dictionary: PathBuf,
    /// The protocol's name [default: the file's name].
    #[arg(long)]
    name: Option<String>,
}

/// Runs the command: the protocol on stdout, notes on stderr.
pub fn run(args: ImportArgs) -> ExitCode {
    let result = std::fs::read(&args.dictionary)
        .with_context(|| format!("cannot read {}", args.dictionary.display()))
        .and_then(|bytes| named(&args.dictionary, &bytes, args.name.as_deref()));
    match result {
        Ok(import) => {
            for note in &import.notes {
                eprintln!(
                    "{}: warning: field `{}`: {}",
                    args.dictionary.display(),
                    note.field,
                    note.message
                );
            }
            println!("{}", import.protocol);
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("clinval: error: {}", crate::explain::explain(&error));
            ExitCode::from(2)
        }
    }
}

/// The dictionary at `path` (its `bytes`) as a protocol named after the file.
pub fn dictionary(path: &Path, bytes: &[u8]) -> Result<Import> {
    named(path, bytes, None)
}

fn named(path: &Path, bytes: &[u8], name: Option<&str>) -> Result<Import> {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "redcap".into());
    let name = name.map_or(stem, str::to_owned);
    clinval_core::redcap::import(bytes, &name)
        .with_context(|| format!("REDCap dictionary {}", path.display()))
}
