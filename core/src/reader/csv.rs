//! CSV: RFC 4180 records split by `csv-core`, header matched to fields.
//!
//! `csv-core` is push-based and allocation-free; this adds what it leaves
//! out: the physical line each record starts on (counted here, since blank
//! lines and quoted line breaks make it differ from the record number), the
//! header (see [`super::header`]), and the mapping of columns to protocol
//! fields.
//!
//! Most data lines hold no quote at all. Such a line, whole in the chunk,
//! is split here at its delimiters and its cells borrowed from the input:
//! csv-core would read it the same way (the tests run both on the same
//! lines), but copies every byte through its state machine, the costliest
//! step of a batch in the wasm build. Quoted lines, the header, and lines
//! cut by a chunk's end go to csv-core.

use std::sync::Arc;

use csv_core::{ReadRecordResult, Reader, ReaderBuilder};

use super::header::{Header, read_header, record};
use super::{Cell, Dialect, Emit, InputError, Limits, RecordInput, count_newlines};
use crate::clean::clean;
use crate::issue::Detail;
use crate::protocol::Protocol;

/// Reads CSV text into records.
pub(crate) struct CsvReader {
    protocol: Arc<Protocol>,
    reader: Reader,
    out: Vec<u8>,
    ends: Vec<usize>,
    out_len: usize,
    ends_len: usize,
    /// `\n` characters csv-core did not read (blank lines skipped between
    /// records, plain lines split here); csv-core counts the others
    /// (`Reader::line`), so bytes are not scanned twice.
    skipped_newlines: u64,
    /// Where each cell of a plain line ends.
    plain_ends: Vec<usize>,
    /// How plain lines are split here (see the module comment), if they
    /// may be: the delimiter and quote are ASCII.
    plain: Option<PlainSplit>,
    /// Lines starting with this byte are comments (skipped).
    comment: Option<u8>,
    /// Inside a comment line.
    in_comment: bool,
    /// Between records (blank lines are read here, counting lines).
    at_start: bool,
    /// The last line ended with `\r`: a `\n` next belongs to it.
    crlf_tail: bool,
    record_line: u64,
    header: Option<Header>,
    limits: Limits,
}

impl CsvReader {
    pub(crate) fn new(protocol: Arc<Protocol>, limits: Limits, dialect: &Dialect) -> CsvReader {
        let reader = ReaderBuilder::new()
            .delimiter(dialect.delimiter)
            .quote(dialect.quote)
            .double_quote(dialect.double_quote)
            .escape(dialect.escape)
            .comment(dialect.comment)
            .build();
        let header = (!dialect.header).then(|| Header::by_position(&protocol));
        CsvReader {
            protocol,
            reader,
            // Never more than the limit, so a limit under 4 KiB holds too.
            out: vec![0; 4096.min(limits.bytes.max(1))],
            ends: vec![0; 64],
            out_len: 0,
            ends_len: 0,
            skipped_newlines: 0,
            plain_ends: Vec::new(),
            plain: (dialect.delimiter.is_ascii() && dialect.quote.is_ascii())
                .then(|| PlainSplit::new(dialect.delimiter, dialect.quote)),
            comment: dialect.comment,
            in_comment: false,
            at_start: true,
            crlf_tail: false,
            record_line: 1,
            header,
            limits,
        }
    }

    pub(crate) fn feed(&mut self, text: &str, emit: &mut dyn Emit) -> Result<(), InputError> {
        let mut at = 0;
        loop {
            if self.in_comment {
                at += self.comment_rest(&text.as_bytes()[at..]);
                if at == text.len() {
                    return Ok(());
                }
            }
            let input = &text.as_bytes()[at..];
            if self.at_start {
                let skip = input
                    .iter()
                    .position(|&b| b != b'\n' && b != b'\r')
                    .unwrap_or(input.len());
                self.blank_lines(&input[..skip], emit);
                self.skipped_newlines += count_newlines(&input[..skip]);
                at += skip;
                if at == text.len() {
                    return Ok(());
                }
                if self.comment == Some(input[skip]) {
                    self.in_comment = true;
                    continue;
                }
                self.crlf_tail = false;
                // csv-core's line starts at 1 and counts the `\n`s it read.
                self.record_line = self.skipped_newlines + self.reader.line();
                if let Some(read) = self.plain_line(&text[at..], emit)? {
                    at += read;
                    continue;
                }
                self.at_start = false;
            }
            let input = &text.as_bytes()[at..];
            let (result, read) = self.step(input)?;
            let ended_with_cr = read > 0 && input[read - 1] == b'\r';
            at += read;
            match result {
                ReadRecordResult::InputEmpty | ReadRecordResult::End => return Ok(()),
                ReadRecordResult::Record => {
                    self.complete(emit)?;
                    self.crlf_tail = ended_with_cr;
                }
                ReadRecordResult::OutputFull | ReadRecordResult::OutputEndsFull => {}
            }
        }
    }

    /// Skips the rest of a comment line (up to its line break, which it
    /// takes); returns the bytes taken. Comment lines are skipped here, not
    /// by csv-core, so that the next record's line is counted from after
    /// them.
    fn comment_rest(&mut self, input: &[u8]) -> usize {
        match memchr::memchr2(b'\n', b'\r', input) {
            Some(end) => {
                self.in_comment = false;
                let newline = input[end] == b'\n';
                self.skipped_newlines += u64::from(newline);
                self.crlf_tail = !newline;
                end + 1
            }
            None => input.len(),
        }
    }

    /// Reads the record `input` starts with if it is a plain line (see the
    /// module comment); returns the bytes it took, its line break
    /// included, or `None` to leave the line to csv-core.
    fn plain_line(
        &mut self,
        input: &str,
        emit: &mut dyn Emit,
    ) -> Result<Option<usize>, InputError> {
        let bytes = input.as_bytes();
        let Some(plain) = self.plain.as_ref().filter(|_| self.header.is_some()) else {
            return Ok(None);
        };
        // No line end in the chunk (the line goes on in the next one), a
        // quote or too many cells: csv-core's.
        let Some(end) = plain.split(bytes, self.limits.cells, &mut self.plain_ends) else {
            return Ok(None);
        };
        if end > self.limits.bytes {
            return Ok(None);
        }
        self.plain_ends.push(end);
        let cells = Cells {
            text: &input[..end],
            ends: &self.plain_ends,
            gap: 1,
        };
        dispatch(
            &self.protocol,
            &mut self.header,
            self.record_line,
            cells,
            emit,
        )?;
        let newline = bytes[end] == b'\n';
        self.skipped_newlines += u64::from(newline);
        self.crlf_tail = !newline;
        Ok(Some(end + 1))
    }

    /// Empty lines between records, which csv-core skips: records with a
    /// `blank_row` issue unless the protocol skips them (lines before the
    /// header are always skipped). `run` is line terminators only; a `\n`
    /// right after a `\r` ends the same line.
    fn blank_lines(&mut self, run: &[u8], emit: &mut dyn Emit) {
        let cleaning = &self.protocol.cleaning;
        if self.header.is_none() || cleaning.skip_blank_rows || cleaning.skip_empty_rows {
            return;
        }
        let mut line = self.skipped_newlines + self.reader.line();
        for &b in run {
            let tail = std::mem::replace(&mut self.crlf_tail, b == b'\r');
            if !(b == b'\n' && tail) {
                emit.record(RecordInput {
                    line,
                    malformed: Some(Detail::BlankRow),
                    ..RecordInput::default()
                });
            }
            if b == b'\n' {
                line += 1;
            }
        }
    }

    /// Flushes the last record (one without a final line break).
    pub(crate) fn finish(&mut self, emit: &mut dyn Emit) -> Result<(), InputError> {
        loop {
            let (result, _) = self.step(&[])?;
            match result {
                ReadRecordResult::Record => self.complete(emit)?,
                ReadRecordResult::End | ReadRecordResult::InputEmpty => break,
                ReadRecordResult::OutputFull | ReadRecordResult::OutputEndsFull => {}
            }
        }
        if self.header.is_none() {
            return Err(InputError::Empty);
        }
        Ok(())
    }

    /// One `csv-core` call; grows the buffers when it asks, within limits.
    fn step(&mut self, input: &[u8]) -> Result<(ReadRecordResult, usize), InputError> {
        let (result, read, written, ends) = self.reader.read_record(
            input,
            &mut self.out[self.out_len..],
            &mut self.ends[self.ends_len..],
        );
        self.out_len += written;
        self.ends_len += ends;
        match result {
            ReadRecordResult::OutputFull => {
                if self.out.len() >= self.limits.bytes {
                    return Err(InputError::RecordTooLarge {
                        line: self.record_line,
                        limit: self.limits.bytes,
                    });
                }
                let grown = (self.out.len() * 2).min(self.limits.bytes);
                self.out.resize(grown, 0);
            }
            ReadRecordResult::OutputEndsFull => {
                if self.ends.len() >= self.limits.cells {
                    return Err(InputError::TooManyCells {
                        line: self.record_line,
                        limit: self.limits.cells,
                    });
                }
                let grown = (self.ends.len() * 2).min(self.limits.cells);
                self.ends.resize(grown, 0);
            }
            _ => {}
        }
        Ok((result, read))
    }

    fn complete(&mut self, emit: &mut dyn Emit) -> Result<(), InputError> {
        if self.ends_len > self.limits.cells {
            return Err(InputError::TooManyCells {
                line: self.record_line,
                limit: self.limits.cells,
            });
        }
        let data = &self.out[..self.out_len];
        // Validate the record's UTF-8 once. It is always valid (the decoder
        // hands out UTF-8 and cells are cut at ASCII delimiters); should it
        // not be, the valid prefix is used rather than panicking.
        let text = match std::str::from_utf8(data) {
            Ok(text) => text,
            Err(e) => std::str::from_utf8(&data[..e.valid_up_to()]).unwrap_or_default(),
        };
        let cells = Cells {
            text,
            ends: &self.ends[..self.ends_len],
            gap: 0,
        };
        let result = dispatch(
            &self.protocol,
            &mut self.header,
            self.record_line,
            cells,
            emit,
        );
        self.out_len = 0;
        self.ends_len = 0;
        self.at_start = true;
        result
    }
}

/// Splits plain lines (see the module comment) at one dialect's
/// delimiter.
pub(super) struct PlainSplit {
    #[cfg(any(test, target_arch = "wasm32"))]
    delimiter: u8,
    #[cfg(any(test, target_arch = "wasm32"))]
    quote: u8,
    /// What each byte is to a plain line (the `CLASS_` constants): one
    /// load and test a byte, not four comparisons.
    #[cfg(any(test, not(target_arch = "wasm32")))]
    classes: [u8; 256],
}

#[cfg(any(test, not(target_arch = "wasm32")))]
const CLASS_DELIMITER: u8 = 1;
#[cfg(any(test, not(target_arch = "wasm32")))]
const CLASS_LINE_END: u8 = 2;
#[cfg(any(test, not(target_arch = "wasm32")))]
const CLASS_QUOTE: u8 = 3;

impl PlainSplit {
    /// For lines delimited by `delimiter` and quoted by `quote` (both
    /// ASCII, neither a line break).
    pub(super) fn new(delimiter: u8, quote: u8) -> PlainSplit {
        #[cfg(any(test, not(target_arch = "wasm32")))]
        let classes = {
            let mut classes = [0; 256];
            // In the order the searching split tests them.
            classes[usize::from(quote)] = CLASS_QUOTE;
            classes[usize::from(b'\n')] = CLASS_LINE_END;
            classes[usize::from(b'\r')] = CLASS_LINE_END;
            classes[usize::from(delimiter)] = CLASS_DELIMITER;
            classes
        };
        PlainSplit {
            #[cfg(any(test, target_arch = "wasm32"))]
            delimiter,
            #[cfg(any(test, target_arch = "wasm32"))]
            quote,
            #[cfg(any(test, not(target_arch = "wasm32")))]
            classes,
        }
    }

    /// Where the line `bytes` starts with ends (its first `\n` or `\r`),
    /// with the positions of its delimiters in `ends`; `None` if it holds
    /// a quote, more than `max_cells` cells, or has no end. Two ways to one
    /// answer (the tests hold them together): memchr's searches in wasm,
    /// where vector searches beat Cranelift's code for a byte loop, and a
    /// byte loop natively, where LLVM's loop beats seven short searches a
    /// line.
    fn split(&self, bytes: &[u8], max_cells: usize, ends: &mut Vec<usize>) -> Option<usize> {
        #[cfg(target_arch = "wasm32")]
        return self.split_searching(bytes, max_cells, ends);
        #[cfg(not(target_arch = "wasm32"))]
        self.split_looping(bytes, max_cells, ends)
    }

    #[cfg(any(test, target_arch = "wasm32"))]
    pub(super) fn split_searching(
        &self,
        bytes: &[u8],
        max_cells: usize,
        ends: &mut Vec<usize>,
    ) -> Option<usize> {
        let end = memchr::memchr2(b'\n', b'\r', bytes)?;
        let line = &bytes[..end];
        ends.clear();
        for at in memchr::memchr2_iter(self.delimiter, self.quote, line) {
            if line[at] == self.quote || ends.len() + 1 >= max_cells {
                return None;
            }
            ends.push(at);
        }
        Some(end)
    }

    #[cfg(any(test, not(target_arch = "wasm32")))]
    pub(super) fn split_looping(
        &self,
        bytes: &[u8],
        max_cells: usize,
        ends: &mut Vec<usize>,
    ) -> Option<usize> {
        ends.clear();
        for (at, &b) in bytes.iter().enumerate() {
            match self.classes[usize::from(b)] {
                0 => {}
                CLASS_DELIMITER => {
                    if ends.len() + 1 >= max_cells {
                        return None;
                    }
                    ends.push(at);
                }
                CLASS_LINE_END => return Some(at),
                _ => return None,
            }
        }
        None
    }
}

/// One record's cells: cell `i` ends at `ends[i]` in `text`, and the next
/// starts `gap` bytes later (csv-core's output has no delimiters, a plain
/// line has one).
struct Cells<'t> {
    text: &'t str,
    ends: &'t [usize],
    gap: usize,
}

impl<'t> Cells<'t> {
    fn len(&self) -> usize {
        self.ends.len()
    }

    #[inline]
    fn get(&self, i: usize) -> &'t str {
        let start = if i == 0 {
            0
        } else {
            self.ends[i - 1] + self.gap
        };
        self.text.get(start..self.ends[i]).unwrap_or_default()
    }
}

/// Hands one record to `emit`, or reads it as the header if there is none
/// yet.
fn dispatch(
    protocol: &Protocol,
    header: &mut Option<Header>,
    line: u64,
    cells: Cells<'_>,
    emit: &mut dyn Emit,
) -> Result<(), InputError> {
    let cell = |i: usize| cells.get(i);
    let count = cells.len();
    let Some(header) = header else {
        if count == 1 && clean(cell(0)).is_empty() {
            return Ok(()); // blank lines before the header
        }
        let names: Vec<&str> = (0..count).map(cell).collect();
        let read = read_header(protocol, &names, line)?;
        for issue in &read.issues {
            emit.table_issue(issue.clone());
        }
        if !read.allowed_extras.is_empty() {
            emit.unknown_columns(read.allowed_extras.clone());
        }
        *header = Some(read);
        return Ok(());
    };
    record(
        protocol,
        header,
        line,
        count,
        cell,
        |i, _| Cell::text(cell(i)),
        emit,
    );
    Ok(())
}
