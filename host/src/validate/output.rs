//! The output files (`--out`, `--errors`) and the summary text.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clinval_core::Summary;

use super::worker::Batch;

/// Where valid records and issues are written.
pub struct Outputs {
    records: Option<RecordsFile>,
    errors: Option<(PathBuf, BufWriter<File>)>,
}

struct RecordsFile {
    path: PathBuf,
    writer: BufWriter<File>,
    /// JSON array (else NDJSON).
    array: bool,
    written: u64,
}

fn create(path: &Path) -> Result<BufWriter<File>> {
    let file = File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    Ok(BufWriter::with_capacity(256 * 1024, file))
}

impl Outputs {
    /// Creates the files asked for.
    pub fn create(out: Option<&Path>, errors: Option<&Path>) -> Result<Outputs> {
        let records = match out {
            Some(path) => {
                let name = path.to_string_lossy().to_ascii_lowercase();
                let array = !(name.ends_with(".ndjson") || name.ends_with(".jsonl"));
                let mut writer = create(path)?;
                if array {
                    writer
                        .write_all(b"[")
                        .with_context(|| format!("cannot write {}", path.display()))?;
                }
                Some(RecordsFile {
                    path: path.to_owned(),
                    writer,
                    array,
                    written: 0,
                })
            }
            None => None,
        };
        let errors = match errors {
            Some(path) => Some((path.to_owned(), create(path)?)),
            None => None,
        };
        Ok(Outputs { records, errors })
    }

    /// Whether valid records are wanted.
    pub fn wants_records(&self) -> bool {
        self.records.is_some()
    }

    /// Whether the error log is wanted.
    pub fn wants_errors(&self) -> bool {
        self.errors.is_some()
    }

    /// Writes one batch.
    pub fn write(&mut self, batch: &Batch) -> Result<()> {
        if let Some(out) = &mut self.records {
            out.write(&batch.records)
                .with_context(|| format!("cannot write {}", out.path.display()))?;
        }
        if let Some((path, writer)) = &mut self.errors {
            writer
                .write_all(&batch.errors)
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        Ok(())
    }

    /// Closes the JSON array and flushes everything to disk.
    pub fn finish(self) -> Result<()> {
        if let Some(mut out) = self.records {
            let end: &[u8] = match (out.array, out.written) {
                (false, _) => b"",
                (true, 0) => b"]\n",
                (true, _) => b"\n]\n",
            };
            out.writer
                .write_all(end)
                .and_then(|()| out.writer.flush())
                .with_context(|| format!("cannot write {}", out.path.display()))?;
        }
        if let Some((path, mut writer)) = self.errors {
            writer
                .flush()
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        Ok(())
    }
}

impl RecordsFile {
    /// Writes records given one JSON object per line.
    fn write(&mut self, lines: &[u8]) -> std::io::Result<()> {
        if !self.array {
            return self.writer.write_all(lines);
        }
        for record in lines.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            self.writer
                .write_all(if self.written == 0 { b"\n" } else { b",\n" })?;
            self.writer.write_all(record)?;
            self.written += 1;
        }
        Ok(())
    }
}

/// `400 records: 321 valid, 79 invalid; 100 issues (duplicate 16, ...)`.
pub fn summary_text(summary: &Summary) -> String {
    let mut text = format!(
        "{} records: {} valid, {} invalid; {} issues",
        summary.records, summary.valid, summary.invalid, summary.issues
    );
    if !summary.by_code.is_empty() {
        let mut by_code: Vec<(&String, &u64)> = summary.by_code.iter().collect();
        by_code.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        let parts: Vec<String> = by_code
            .iter()
            .map(|(code, n)| format!("{code} {n}"))
            .collect();
        text.push_str(&format!(" ({})", parts.join(", ")));
    }
    text
}
