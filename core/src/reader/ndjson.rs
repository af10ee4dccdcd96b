//! NDJSON / JSON Lines: one object per line.
//!
//! Lines are cut at `\n` as text arrives; a line that is not a JSON object
//! is a `malformed_row` issue for that record, and reading goes on.

use std::sync::Arc;

use super::json::{KeyResolver, json_record};
use super::{Emit, InputError, Limits};
use crate::protocol::Protocol;

/// Reads NDJSON text into records.
pub(crate) struct NdjsonReader {
    keys: KeyResolver,
    partial: Vec<u8>,
    /// Line number of the line in `partial` (1-based).
    line: u64,
    seen_text: bool,
    max_record_bytes: usize,
}

impl NdjsonReader {
    pub(crate) fn new(protocol: Arc<Protocol>, limits: Limits) -> NdjsonReader {
        NdjsonReader {
            keys: KeyResolver::new(protocol, limits.cells),
            partial: Vec::new(),
            line: 1,
            seen_text: false,
            max_record_bytes: limits.bytes,
        }
    }

    pub(crate) fn feed(&mut self, text: &str, emit: &mut dyn Emit) -> Result<(), InputError> {
        let mut rest = text.as_bytes();
        while let Some(at) = memchr::memchr(b'\n', rest) {
            let piece = &rest[..at];
            rest = &rest[at + 1..];
            if self.partial.is_empty() {
                self.check_size(piece.len())?;
                self.line_done(piece, emit)?;
            } else {
                self.check_size(self.partial.len() + piece.len())?;
                let mut whole = std::mem::take(&mut self.partial);
                whole.extend_from_slice(piece);
                self.line_done(&whole, emit)?;
                whole.clear();
                self.partial = whole;
            }
        }
        self.check_size(self.partial.len() + rest.len())?;
        self.partial.extend_from_slice(rest);
        Ok(())
    }

    pub(crate) fn finish(&mut self, emit: &mut dyn Emit) -> Result<(), InputError> {
        let last = std::mem::take(&mut self.partial);
        self.line_done(&last, emit)?;
        if !self.seen_text {
            return Err(InputError::Empty);
        }
        self.keys.report(emit);
        Ok(())
    }

    fn check_size(&self, size: usize) -> Result<(), InputError> {
        if size > self.max_record_bytes {
            return Err(InputError::RecordTooLarge {
                line: self.line,
                limit: self.max_record_bytes,
            });
        }
        Ok(())
    }

    fn line_done(&mut self, line: &[u8], emit: &mut dyn Emit) -> Result<(), InputError> {
        let line_no = self.line;
        self.line += 1;
        if line.iter().all(u8::is_ascii_whitespace) {
            return Ok(()); // an empty line is not a record
        }
        self.seen_text = true;
        let input = json_record(line, line_no, &mut self.keys)?;
        self.keys.report_issues(emit);
        emit.record(input);
        Ok(())
    }
}
