//! CSV: RFC 4180 records split by `csv-core`, header matched to fields.
//!
//! `csv-core` is push-based and allocation-free; this adds what it leaves
//! out: the physical line each record starts on (counted here, since blank
//! lines and quoted line breaks make it differ from the record number), the
//! header (see [`super::header`]), and the mapping of columns to protocol
//! fields.

use std::borrow::Cow;
use std::sync::Arc;

use csv_core::{ReadRecordResult, Reader, ReaderBuilder};

use super::header::{Header, Slot, read_header};
use super::{Cell, Dialect, Emit, InputError, RecordInput, count_newlines};
use crate::clean::clean;
use crate::issue::Detail;
use crate::protocol::Protocol;

/// Most cells one record may have.
const MAX_CELLS: usize = 65_536;

/// Reads CSV text into records.
pub(crate) struct CsvReader {
    protocol: Arc<Protocol>,
    reader: Reader,
    out: Vec<u8>,
    ends: Vec<usize>,
    out_len: usize,
    ends_len: usize,
    /// `\n` characters in the blank lines skipped between records; csv-core
    /// counts the others (`Reader::line`), so bytes are not scanned twice.
    skipped_newlines: u64,
    /// Between records (blank lines are read here, counting lines).
    at_start: bool,
    /// The last line ended with `\r`: a `\n` next belongs to it.
    crlf_tail: bool,
    record_line: u64,
    header: Option<Header>,
    max_record_bytes: usize,
}

impl CsvReader {
    pub(crate) fn new(
        protocol: Arc<Protocol>,
        max_record_bytes: usize,
        dialect: &Dialect,
    ) -> CsvReader {
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
            out: vec![0; 4096],
            ends: vec![0; 64],
            out_len: 0,
            ends_len: 0,
            skipped_newlines: 0,
            at_start: true,
            crlf_tail: false,
            record_line: 1,
            header,
            max_record_bytes,
        }
    }

    pub(crate) fn feed(&mut self, text: &str, emit: &mut dyn Emit) -> Result<(), InputError> {
        let mut input = text.as_bytes();
        loop {
            if self.at_start {
                let skip = input
                    .iter()
                    .position(|&b| b != b'\n' && b != b'\r')
                    .unwrap_or(input.len());
                self.blank_lines(&input[..skip], emit);
                self.skipped_newlines += count_newlines(&input[..skip]);
                input = &input[skip..];
                if input.is_empty() {
                    return Ok(());
                }
                self.at_start = false;
                self.crlf_tail = false;
                // csv-core's line starts at 1 and counts the `\n`s it read.
                self.record_line = self.skipped_newlines + self.reader.line();
            }
            let (result, read) = self.step(input)?;
            let ended_with_cr = read > 0 && input[read - 1] == b'\r';
            input = &input[read..];
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

    /// Empty lines between records, which csv-core skips: records with a
    /// `blank_row` issue unless the protocol skips them (lines before the
    /// header are always skipped). `run` is line terminators only; a `\n`
    /// right after a `\r` ends the same line.
    fn blank_lines(&mut self, run: &[u8], emit: &mut dyn Emit) {
        if self.header.is_none() || self.protocol.cleaning.skip_blank_rows {
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
                if self.out.len() >= self.max_record_bytes {
                    return Err(InputError::RecordTooLarge {
                        line: self.record_line,
                        limit: self.max_record_bytes,
                    });
                }
                let grown = (self.out.len() * 2).min(self.max_record_bytes);
                self.out.resize(grown, 0);
            }
            ReadRecordResult::OutputEndsFull => {
                if self.ends.len() >= MAX_CELLS {
                    return Err(InputError::RecordTooLarge {
                        line: self.record_line,
                        limit: self.max_record_bytes,
                    });
                }
                self.ends.resize(self.ends.len() * 2, 0);
            }
            _ => {}
        }
        Ok((result, read))
    }

    fn complete(&mut self, emit: &mut dyn Emit) -> Result<(), InputError> {
        let result = self.dispatch(emit);
        self.out_len = 0;
        self.ends_len = 0;
        self.at_start = true;
        result
    }

    fn dispatch(&mut self, emit: &mut dyn Emit) -> Result<(), InputError> {
        let data = &self.out[..self.out_len];
        // Validate the record's UTF-8 once. It is always valid (the decoder
        // hands out UTF-8 and cells are cut at ASCII delimiters); should it
        // not be, the valid prefix is used rather than panicking.
        let text = match std::str::from_utf8(data) {
            Ok(text) => text,
            Err(e) => std::str::from_utf8(&data[..e.valid_up_to()]).unwrap_or_default(),
        };
        let ends = &self.ends[..self.ends_len];
        let cell = |i: usize| -> &str {
            let start = if i == 0 { 0 } else { ends[i - 1] };
            text.get(start..ends[i]).unwrap_or_default()
        };
        let cleaning = &self.protocol.cleaning;
        let Some(header) = &self.header else {
            if ends.len() == 1 && clean(cell(0)).is_empty() {
                return Ok(()); // blank lines before the header
            }
            let cells: Vec<&str> = (0..ends.len()).map(cell).collect();
            let header = read_header(&self.protocol, &cells, self.record_line)?;
            for issue in &header.issues {
                emit.table_issue(issue.clone());
            }
            if !header.allowed_extras.is_empty() {
                emit.unknown_columns(header.allowed_extras.clone());
            }
            self.header = Some(header);
            return Ok(());
        };
        let mut input = RecordInput {
            line: self.record_line,
            ..RecordInput::default()
        };
        if cleaning.skip_blank_rows {
            if ends.len() == 1 && cleaning.cell(Cow::Borrowed(cell(0))).is_empty() {
                return Ok(()); // a blank line is not a record
            }
        } else if (0..ends.len()).all(|i| {
            let text = cleaning.cell(Cow::Borrowed(cell(i)));
            match header.slots.get(i) {
                Some(Slot::Field(f)) => self.protocol.fields[*f]
                    .missing_values
                    .iter()
                    .any(|m| *m == *text),
                _ => text.is_empty(),
            }
        }) {
            // Every cell missing: a blank row, as frictionless counts one.
            input.malformed = Some(Detail::BlankRow);
            emit.record(input);
            return Ok(());
        }
        let columns = header.slots.len();
        if ends.len() != columns && cleaning.malformed_rows {
            input.malformed = Some(Detail::CellCount {
                expected: columns,
                found: ends.len(),
            });
            emit.record(input);
            return Ok(());
        }
        if ends.len() > columns {
            input.extra_cells = Some((columns, ends.len()));
        }
        input.cells = header
            .present
            .iter()
            .map(|&present| if present { Cell::Short } else { Cell::Absent })
            .collect();
        for (i, slot) in header.slots.iter().enumerate().take(ends.len()) {
            match slot {
                Slot::Field(f) => input.cells[*f] = Cell::text(cell(i)),
                Slot::Extra(e) => input.extras.push((
                    Cow::Borrowed(header.extra_names[*e].as_str()),
                    Cow::Borrowed(cell(i)),
                )),
            }
        }
        emit.record(input);
        Ok(())
    }
}
