//! JSON arrays of objects, split element by element as the text arrives.
//!
//! A small scanner finds where each element of the top-level array begins
//! and ends (tracking strings, escapes and nesting), so a 1 GB array never
//! sits in memory; each element is then parsed on its own by `serde_json`.
//! A broken element is a `malformed_row` issue for that record only; broken
//! structure *between* elements stops the input with its line and column.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

use super::{Cell, Emit, InputError, Limits, RecordInput};
use crate::issue::{Detail, Issue, TableIssue, codes};
use crate::protocol::{FieldsMatch, Protocol};
use crate::raw_json::{Shape, ShapeError, json_kind, shape_within};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Before `[`.
    Start,
    /// After `[`: an element or `]`.
    First,
    /// After `,`: an element.
    Next,
    /// Inside an element.
    Element,
    /// After an element: `,` or `]`.
    After,
    /// After `]`.
    End,
}

/// Reads a JSON array of objects into records.
pub(crate) struct JsonArrayReader {
    keys: KeyResolver,
    state: State,
    element: Vec<u8>,
    element_line: u64,
    depth: u32,
    in_string: bool,
    escaped: bool,
    line: u64,
    column: u64,
    max_record_bytes: usize,
}

impl JsonArrayReader {
    pub(crate) fn new(protocol: Arc<Protocol>, limits: Limits) -> JsonArrayReader {
        JsonArrayReader {
            keys: KeyResolver::new(protocol, limits.cells),
            state: State::Start,
            element: Vec::new(),
            element_line: 1,
            depth: 0,
            in_string: false,
            escaped: false,
            line: 1,
            column: 0,
            max_record_bytes: limits.bytes,
        }
    }

    pub(crate) fn feed(&mut self, text: &str, emit: &mut dyn Emit) -> Result<(), InputError> {
        for &b in text.as_bytes() {
            if b == b'\n' {
                self.line += 1;
                self.column = 0;
            } else if b & 0xC0 != 0x80 {
                self.column += 1; // count characters, not bytes
            }
            self.byte(b, emit)?;
        }
        Ok(())
    }

    pub(crate) fn finish(&mut self, emit: &mut dyn Emit) -> Result<(), InputError> {
        if self.state == State::Element && self.depth == 0 && !self.in_string {
            self.complete(emit)?; // a bare scalar right at the end
            self.state = State::After;
        }
        match self.state {
            State::Start => Err(InputError::Empty),
            State::End => {
                self.keys.report(emit);
                Ok(())
            }
            _ => Err(self.error("the input ends inside the JSON array (no closing `]`)")),
        }
    }

    fn byte(&mut self, b: u8, emit: &mut dyn Emit) -> Result<(), InputError> {
        let space = matches!(b, b' ' | b'\t' | b'\r' | b'\n');
        match self.state {
            State::Start if space => {}
            State::Start if b == b'[' => self.state = State::First,
            State::Start => {
                return Err(self.error(
                    "expected a JSON array of objects (`[`); for one object per line use the ndjson format",
                ));
            }
            State::First | State::Next | State::After | State::End if space => {}
            State::First if b == b']' => self.state = State::End,
            State::Next if b == b']' => return Err(self.error("a comma before `]`")),
            State::First | State::Next => self.begin(b)?,
            State::After if b == b',' => self.state = State::Next,
            State::After if b == b']' => self.state = State::End,
            State::After => return Err(self.error("expected `,` or `]` after a record")),
            State::End => return Err(self.error("more data after the end of the JSON array")),
            State::Element => self.inside(b, space, emit)?,
        }
        Ok(())
    }

    fn begin(&mut self, b: u8) -> Result<(), InputError> {
        self.state = State::Element;
        self.element.clear();
        self.element_line = self.line;
        self.depth = 0;
        self.in_string = false;
        self.escaped = false;
        self.push(b)?;
        match b {
            b'{' | b'[' => self.depth = 1,
            b'"' => self.in_string = true,
            _ => {}
        }
        Ok(())
    }

    fn inside(&mut self, b: u8, space: bool, emit: &mut dyn Emit) -> Result<(), InputError> {
        if self.depth == 0 && !self.in_string {
            // A bare scalar (number, literal, finished string) ends here.
            if space || b == b',' || b == b']' {
                self.complete(emit)?;
                self.state = State::After;
                return self.byte(b, emit);
            }
            return self.push(b);
        }
        self.push(b)?;
        if self.in_string {
            if self.escaped {
                self.escaped = false;
            } else if b == b'\\' {
                self.escaped = true;
            } else if b == b'"' {
                self.in_string = false;
            }
            return Ok(());
        }
        match b {
            b'"' => self.in_string = true,
            b'{' | b'[' => self.depth += 1,
            b'}' | b']' => {
                self.depth -= 1;
                if self.depth == 0 {
                    self.complete(emit)?;
                    self.state = State::After;
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn push(&mut self, b: u8) -> Result<(), InputError> {
        if self.element.len() >= self.max_record_bytes {
            return Err(InputError::RecordTooLarge {
                line: self.element_line,
                limit: self.max_record_bytes,
            });
        }
        self.element.push(b);
        Ok(())
    }

    fn complete(&mut self, emit: &mut dyn Emit) -> Result<(), InputError> {
        let input = json_record(&self.element, self.element_line, &mut self.keys)?;
        self.keys.report_issues(emit);
        emit.record(input);
        Ok(())
    }

    fn error(&self, message: &str) -> InputError {
        InputError::Json {
            line: self.line,
            column: self.column,
            message: message.to_owned(),
        }
    }
}

/// Maps JSON keys to fields (cached per distinct key) and remembers the
/// unknown ones for the once-per-input warning (or, where `fieldsMatch`
/// allows no extra fields, the once-per-key `extra_label` issue).
pub(crate) struct KeyResolver {
    protocol: Arc<Protocol>,
    /// Most keys an object may have.
    max_keys: usize,
    cache: HashMap<String, Option<usize>>,
    unknown: Vec<String>,
    /// Issues found since the last report.
    issues: Vec<TableIssue>,
}

impl KeyResolver {
    pub(crate) fn new(protocol: Arc<Protocol>, max_keys: usize) -> KeyResolver {
        KeyResolver {
            protocol,
            max_keys,
            cache: HashMap::new(),
            unknown: Vec::new(),
            issues: Vec::new(),
        }
    }

    fn resolve(&mut self, key: &str, line: u64) -> Option<usize> {
        if let Some(slot) = self.cache.get(key) {
            return *slot;
        }
        let slot = self.protocol.column(key);
        if slot.is_none() {
            let extras_allowed = matches!(
                self.protocol.fields_match,
                FieldsMatch::Subset | FieldsMatch::Partial
            );
            if extras_allowed {
                self.unknown.push(key.to_owned());
            } else {
                self.issues.push(TableIssue {
                    line,
                    column: None,
                    cell: None,
                    issue: Issue {
                        field: None,
                        code: Arc::from(codes::EXTRA_LABEL),
                        detail: Detail::ExtraLabel {
                            name: key.to_owned(),
                        },
                        value: None,
                    },
                });
            }
        }
        self.cache.insert(key.to_owned(), slot);
        slot
    }

    /// Sends the issues found so far (before the record that found them).
    pub(crate) fn report_issues(&mut self, emit: &mut dyn Emit) {
        for issue in self.take_issues() {
            emit.table_issue(issue);
        }
    }

    /// The issues found so far.
    pub(crate) fn take_issues(&mut self) -> Vec<TableIssue> {
        std::mem::take(&mut self.issues)
    }

    /// Sends the unknown-columns warning, if there were any.
    pub(crate) fn report(&mut self, emit: &mut dyn Emit) {
        self.report_issues(emit);
        if !self.unknown.is_empty() {
            emit.unknown_columns(std::mem::take(&mut self.unknown));
        }
    }
}

/// Builds the record for one JSON element (an object, we hope); an object
/// with more keys than the limit is an error of the input.
pub(crate) fn json_record<'a>(
    bytes: &'a [u8],
    line: u64,
    keys: &mut KeyResolver,
) -> Result<RecordInput<'a>, InputError> {
    let mut input = RecordInput {
        line,
        ..RecordInput::default()
    };
    let entries = match shape_within(bytes, keys.max_keys) {
        Err(ShapeError::TooManyMembers) => {
            return Err(InputError::TooManyCells {
                line,
                limit: keys.max_keys,
            });
        }
        Ok(Shape::Object(entries)) => entries,
        Ok(_) => {
            let text = String::from_utf8_lossy(bytes);
            input.malformed = Some(Detail::NotObject {
                found: json_kind(&text),
            });
            return Ok(input);
        }
        Err(ShapeError::Json(e)) => {
            input.malformed = Some(Detail::BadJson {
                message: e.to_string(),
            });
            return Ok(input);
        }
    };
    input.cells = vec![Cell::Null; keys.protocol.fields.len()];
    let mut given = vec![false; input.cells.len()];
    for (key, raw) in entries {
        match keys.resolve(&key, line) {
            Some(f) if given[f] => {
                input.malformed = Some(Detail::RepeatedField { field: f });
                input.cells.clear();
                input.extras.clear();
                return Ok(input);
            }
            Some(f) => {
                given[f] = true;
                input.cells[f] = Cell::of_json(raw);
            }
            None => {
                let text = match Cell::of_json(raw) {
                    Cell::Value(crate::types::Scalar::Text(t)) => t,
                    Cell::Null => Cow::Borrowed(""),
                    _ => Cow::Borrowed(raw.get()),
                };
                input.extras.push((key, text));
            }
        }
    }
    Ok(input)
}
