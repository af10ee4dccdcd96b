//! Turning the command line's paths into inputs: files with formats, and
//! the tables of Data Packages with their own schemas and dialects.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use clinval_core::{Format, Options, Protocol, ReferencedKeys};

/// Where an input's bytes are.
#[derive(Debug, Clone)]
pub enum Source {
    /// Files read one after the other as one input (a multipart resource).
    Files(Vec<PathBuf>),
    /// Bytes in memory (a resource's inline `data`).
    Inline(Arc<[u8]>),
}

/// What an input is called in messages and error logs.
#[derive(Debug, Clone)]
pub enum Label {
    /// A file, by its path.
    File(String),
    /// A Data Package resource, by its name.
    Resource(String),
}

impl Label {
    /// The label as text.
    pub fn text(&self) -> &str {
        match self {
            Label::File(path) | Label::Resource(path) => path,
        }
    }
}

/// One table to validate.
#[derive(Debug, Clone)]
pub struct Input {
    /// Its bytes.
    pub source: Source,
    /// What it is called.
    pub label: Label,
    /// How to read it.
    pub format: Format,
    /// Its size in bytes (for progress).
    pub size: u64,
    /// The protocol its records are checked against.
    pub protocol: Arc<Protocol>,
    /// Run options (as-of date, CSV dialect).
    pub options: Options,
    /// Keys its foreign keys refer to: `(foreign key index, keys)`.
    pub references: Vec<(usize, Arc<ReferencedKeys>)>,
}

/// Expands directories (recursively, in name order) and picks each file's
/// format: `forced` if given, else from its extension. Every file is
/// checked against `protocol` with `options`.
pub fn expand(
    paths: &[PathBuf],
    forced: Option<Format>,
    protocol: &Arc<Protocol>,
    options: &Options,
) -> Result<Vec<Input>> {
    let mut files = Vec::new();
    for path in paths {
        let meta =
            std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
        if meta.is_dir() {
            let before = files.len();
            walk(path, forced, &mut files)?;
            if files.len() == before {
                bail!(
                    "{}: no .csv, .json, .ndjson or .jsonl files in this directory",
                    path.display()
                );
            }
        } else {
            let format = match forced {
                Some(format) => format,
                None => format_of(path).with_context(|| {
                    format!(
                        "{}: cannot tell the format from the file name; use --format csv|json|ndjson|workbook",
                        path.display()
                    )
                })?,
            };
            files.push((path.clone(), format, meta.len()));
        }
    }
    Ok(files
        .into_iter()
        .map(|(path, format, size)| Input {
            label: Label::File(path.to_string_lossy().into_owned()),
            source: Source::Files(vec![path]),
            format,
            size,
            protocol: Arc::clone(protocol),
            options: options.clone(),
            references: Vec::new(),
        })
        .collect())
}

/// The format a file's name implies.
pub fn format_of(path: &Path) -> Option<Format> {
    Format::from_path(&path.file_name()?.to_string_lossy())
}

/// Whether a path names a Data Package descriptor (`datapackage.json`,
/// or `….datapackage.json`).
pub fn is_package(path: &Path) -> bool {
    path.file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .is_some_and(|n| n == "datapackage.json" || n.ends_with(".datapackage.json"))
}

fn walk(dir: &Path, forced: Option<Format>, files: &mut Vec<(PathBuf, Format, u64)>) -> Result<()> {
    let mut entries = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read directory {}", dir.display()))?
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("cannot read directory {}", dir.display()))?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let meta = entry
            .metadata()
            .with_context(|| format!("cannot read {}", path.display()))?;
        if meta.is_dir() {
            walk(&path, forced, files)?;
        } else if let Some(format) = format_of(&path).map(|f| forced.unwrap_or(f)) {
            files.push((path, format, meta.len()));
        }
    }
    Ok(())
}
