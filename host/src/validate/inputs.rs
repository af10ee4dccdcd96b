//! Turning the command line's paths into a list of inputs with formats.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clinval_core::Format;

/// One file to validate.
#[derive(Debug, Clone)]
pub struct Input {
    /// Where it is.
    pub path: PathBuf,
    /// How to read it.
    pub format: Format,
    /// Its size in bytes (for progress).
    pub size: u64,
}

/// Expands directories (recursively, in name order) and picks each file's
/// format: `forced` if given, else from its extension.
pub fn expand(paths: &[PathBuf], forced: Option<Format>) -> Result<Vec<Input>> {
    let mut inputs = Vec::new();
    for path in paths {
        let meta =
            std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
        if meta.is_dir() {
            let before = inputs.len();
            walk(path, forced, &mut inputs)?;
            if inputs.len() == before {
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
                        "{}: cannot tell the format from the file name; use --format csv|json|ndjson",
                        path.display()
                    )
                })?,
            };
            inputs.push(Input {
                path: path.clone(),
                format,
                size: meta.len(),
            });
        }
    }
    Ok(inputs)
}

fn format_of(path: &Path) -> Option<Format> {
    Format::from_path(&path.file_name()?.to_string_lossy())
}

fn walk(dir: &Path, forced: Option<Format>, inputs: &mut Vec<Input>) -> Result<()> {
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
            walk(&path, forced, inputs)?;
        } else if let Some(format) = format_of(&path).map(|f| forced.unwrap_or(f)) {
            inputs.push(Input {
                path,
                format,
                size: meta.len(),
            });
        }
    }
    Ok(())
}
