//! CSV: RFC 4180 records split by `csv-core`, header matched to fields.
//!
//! `csv-core` is push-based and allocation-free; this adds what it leaves
//! out: the physical line each record starts on (counted here, since blank
//! lines and quoted line breaks make it differ from the record number), the
//! header, and the mapping of columns to protocol fields.

use std::borrow::Cow;
use std::sync::Arc;

use csv_core::{ReadRecordResult, Reader};

use super::{Emit, InputError, count_newlines};
use crate::check::RawValue;
use crate::clean::{clean, header_key};
use crate::issue::Detail;
use crate::protocol::Protocol;
use crate::validator::RecordInput;

/// Most cells one record may have.
const MAX_CELLS: usize = 65_536;

#[derive(Debug, Clone, Copy)]
enum Slot {
    Field(usize),
    Extra(usize),
}

struct Header {
    slots: Vec<Slot>,
    extra_names: Vec<String>,
}

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
    /// Between records (blank lines are skipped here, counting lines).
    at_start: bool,
    record_line: u64,
    header: Option<Header>,
    max_record_bytes: usize,
}

impl CsvReader {
    pub(crate) fn new(protocol: Arc<Protocol>, max_record_bytes: usize) -> CsvReader {
        CsvReader {
            protocol,
            reader: Reader::new(),
            out: vec![0; 4096],
            ends: vec![0; 64],
            out_len: 0,
            ends_len: 0,
            skipped_newlines: 0,
            at_start: true,
            record_line: 1,
            header: None,
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
                self.skipped_newlines += count_newlines(&input[..skip]);
                input = &input[skip..];
                if input.is_empty() {
                    return Ok(());
                }
                self.at_start = false;
                // csv-core's line starts at 1 and counts the `\n`s it read.
                self.record_line = self.skipped_newlines + self.reader.line();
            }
            let (result, read) = self.step(input)?;
            input = &input[read..];
            match result {
                ReadRecordResult::InputEmpty | ReadRecordResult::End => return Ok(()),
                ReadRecordResult::Record => self.complete(emit)?,
                ReadRecordResult::OutputFull | ReadRecordResult::OutputEndsFull => {}
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
        if ends.len() == 1 && clean(cell(0)).is_empty() {
            return Ok(()); // a blank line is not a record
        }
        let Some(header) = &self.header else {
            let cells: Vec<&str> = (0..ends.len()).map(cell).collect();
            let header = read_header(&self.protocol, &cells, self.record_line)?;
            if !header.extra_names.is_empty() {
                emit.unknown_columns(header.extra_names.clone());
            }
            self.header = Some(header);
            return Ok(());
        };
        let mut input = RecordInput {
            line: self.record_line,
            ..RecordInput::default()
        };
        if ends.len() != header.slots.len() {
            input.malformed = Some(Detail::CellCount {
                expected: header.slots.len(),
                found: ends.len(),
            });
            emit.record(input);
            return Ok(());
        }
        input.values = vec![RawValue::Absent; self.protocol.fields.len()];
        for (i, slot) in header.slots.iter().enumerate() {
            match slot {
                Slot::Field(f) => input.values[*f] = RawValue::Text(Cow::Borrowed(cell(i))),
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

/// Maps header cells to fields; refuses missing and doubled columns.
fn read_header(protocol: &Protocol, cells: &[&str], line: u64) -> Result<Header, InputError> {
    let mut column_of_field: Vec<Option<usize>> = vec![None; protocol.fields.len()];
    let mut slots = Vec::with_capacity(cells.len());
    let mut extra_names = Vec::new();
    for (col, cell) in cells.iter().enumerate() {
        match protocol.column(&header_key(cell)) {
            Some(f) => {
                if let Some(first) = column_of_field[f] {
                    return Err(InputError::DuplicateColumn {
                        line,
                        field: protocol.fields[f].name.clone(),
                        first: first + 1,
                        second: col + 1,
                    });
                }
                column_of_field[f] = Some(col);
                slots.push(Slot::Field(f));
            }
            None => {
                let name = clean(cell);
                let name = if name.is_empty() {
                    format!("column{}", col + 1)
                } else {
                    name.into_owned()
                };
                slots.push(Slot::Extra(extra_names.len()));
                extra_names.push(name);
            }
        }
    }
    let missing: Vec<String> = protocol
        .fields
        .iter()
        .zip(&column_of_field)
        .filter(|(_, col)| col.is_none())
        .map(|(field, _)| {
            let mut accepted = vec![field.name.as_str()];
            accepted.extend(field.aliases.iter().map(String::as_str));
            format!(
                "`{}` (accepted headers: {})",
                field.name,
                accepted.join(", ")
            )
        })
        .collect();
    if !missing.is_empty() {
        return Err(InputError::MissingColumns { line, missing });
    }
    Ok(Header { slots, extra_names })
}
