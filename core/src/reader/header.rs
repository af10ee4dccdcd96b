//! A CSV header matched to the protocol's fields, as `fieldsMatch` says:
//! `exact` maps columns by position and reports each name that differs;
//! the other modes map by name and differ in which missing and extra
//! columns are problems. Problems are issues of the table and the rows are
//! still checked, unless the protocol's cleaning rejects such a header.

use std::borrow::Cow;
use std::sync::Arc;

use super::{Cell, Emit, InputError, RecordInput};
use crate::issue::{Detail, Issue, TableIssue, codes};
use crate::protocol::{FieldsMatch, Protocol};

/// Where a column's cells go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Slot {
    /// To the field of this index.
    Field(usize),
    /// To a choice of this multi-select field (a `field___code` column:
    /// which choice, `Header::choice_columns` says).
    Choice(usize),
    /// Carried as the extra column of this index.
    Extra(usize),
}

/// A header, read.
pub(super) struct Header {
    /// One slot per column.
    pub slots: Vec<Slot>,
    /// The names of the extra columns.
    pub extra_names: Vec<String>,
    /// Per field: whether a column holds it (else its cells are absent).
    pub present: Vec<bool>,
    /// Extra columns the protocol allows (for the unknown-columns warning).
    pub allowed_extras: Vec<String>,
    /// Problems of the header.
    pub issues: Vec<TableIssue>,
    /// `(field, choice, column)` of every multi-select choice column, by
    /// field then choice (so a record's choice cells come in that order).
    pub choice_columns: Vec<(usize, usize, usize)>,
    /// The columns are the protocol's fields, in order: a row with one
    /// cell a column has its cells in field order.
    pub in_order: bool,
}

impl Header {
    /// No header row (a dialect's `header: false`): columns are the
    /// fields in order.
    pub(super) fn by_position(protocol: &Protocol) -> Header {
        let count = protocol.fields.len();
        Header {
            slots: (0..count).map(Slot::Field).collect(),
            extra_names: Vec::new(),
            present: vec![true; count],
            allowed_extras: Vec::new(),
            issues: Vec::new(),
            choice_columns: Vec::new(),
            in_order: true,
        }
    }
}

/// Reads the header `cells` (on `line`) for `protocol`.
pub(super) fn read_header(
    protocol: &Protocol,
    cells: &[&str],
    line: u64,
) -> Result<Header, InputError> {
    let fields = &protocol.fields;
    let mode = protocol.fields_match;
    let mut header = Header {
        slots: Vec::with_capacity(cells.len()),
        extra_names: Vec::new(),
        present: vec![false; fields.len()],
        allowed_extras: Vec::new(),
        issues: Vec::new(),
        choice_columns: Vec::new(),
        in_order: false,
    };
    let mut first_column: Vec<Option<usize>> = vec![None; fields.len()];
    let issue =
        |column: Option<usize>, field: Option<usize>, code: &str, detail: Detail| TableIssue {
            line,
            column,
            cell: None,
            issue: Issue {
                field,
                code: Arc::from(code),
                detail,
                value: None,
            },
        };
    let mut duplicates = Vec::new();
    for (col, cell) in cells.iter().enumerate() {
        let name = protocol.cleaning.cell(Cow::Borrowed(cell));
        let blank = name.is_empty();
        let column = Some(col + 1);
        let extra_name = || {
            if blank {
                format!("column{}", col + 1)
            } else {
                name.clone().into_owned()
            }
        };
        let matched = protocol.column(cell);
        if matched.is_none()
            && let Some((f, choice)) = protocol.choice_column(cell)
        {
            header.present[f] = true;
            let at = header
                .choice_columns
                .partition_point(|&(g, c, _)| (g, c) < (f, choice));
            header
                .choice_columns
                .insert(at, (f, choice, header.slots.len()));
            header.slots.push(Slot::Choice(f));
            continue;
        }
        if matched.is_none() && protocol.is_system_column(&name) {
            header.slots.push(Slot::Extra(header.extra_names.len()));
            header.extra_names.push(extra_name());
            continue;
        }
        if mode == FieldsMatch::Exact {
            if col < fields.len() {
                header.slots.push(Slot::Field(col));
                header.present[col] = true;
                if blank {
                    header.issues.push(issue(
                        column,
                        Some(col),
                        codes::BLANK_LABEL,
                        Detail::BlankLabel,
                    ));
                } else if matched != Some(col) {
                    let found = name.into_owned();
                    header.issues.push(issue(
                        column,
                        Some(col),
                        codes::INCORRECT_LABEL,
                        Detail::IncorrectLabel { found },
                    ));
                }
            } else {
                let name = extra_name();
                header.issues.push(issue(
                    column,
                    None,
                    codes::EXTRA_LABEL,
                    Detail::ExtraLabel { name: name.clone() },
                ));
                header.slots.push(Slot::Extra(header.extra_names.len()));
                header.extra_names.push(name);
            }
            continue;
        }
        let extras_allowed = matches!(mode, FieldsMatch::Subset | FieldsMatch::Partial);
        match matched.filter(|_| !blank) {
            Some(f) if first_column[f].is_none() => {
                first_column[f] = Some(col);
                header.present[f] = true;
                header.slots.push(Slot::Field(f));
                continue;
            }
            Some(f) => {
                let first = first_column[f].unwrap_or(0) + 1;
                duplicates.push((f, first, col + 1));
                let detail = Detail::DuplicateLabel {
                    name: name.clone().into_owned(),
                    first_column: first,
                };
                header
                    .issues
                    .push(issue(column, Some(f), codes::DUPLICATE_LABEL, detail));
            }
            None if extras_allowed => header.allowed_extras.push(extra_name()),
            None if blank => {
                header
                    .issues
                    .push(issue(column, None, codes::BLANK_LABEL, Detail::BlankLabel))
            }
            None => {
                let detail = Detail::ExtraLabel { name: extra_name() };
                header
                    .issues
                    .push(issue(column, None, codes::EXTRA_LABEL, detail));
            }
        }
        header.slots.push(Slot::Extra(header.extra_names.len()));
        header.extra_names.push(extra_name());
    }
    let mut missing = Vec::new();
    for (f, field) in fields.iter().enumerate() {
        // A calculated field's column is allowed, never expected.
        let calculated = protocol.logic.as_ref().is_some_and(|l| l.is_calculated(f));
        let wanted = !protocol.absent_columns_empty
            && !calculated
            && match mode {
                FieldsMatch::Exact | FieldsMatch::Equal | FieldsMatch::Subset => true,
                FieldsMatch::Superset | FieldsMatch::Partial => field.required,
            };
        if !header.present[f] && wanted {
            missing.push(f);
            header.issues.push(issue(
                None,
                Some(f),
                codes::MISSING_LABEL,
                Detail::MissingLabel,
            ));
        }
    }
    if mode == FieldsMatch::Partial && !fields.is_empty() && !header.present.contains(&true) {
        header.issues.push(issue(
            None,
            None,
            codes::UNMATCHED_HEADER,
            Detail::UnmatchedHeader,
        ));
    }
    if protocol.cleaning.reject_header_errors && !header.issues.is_empty() {
        return Err(rejection(
            protocol,
            line,
            &missing,
            &duplicates,
            &header.issues,
        ));
    }
    header.in_order = header.slots.len() == fields.len()
        && (header.slots.iter().enumerate()).all(|(i, slot)| *slot == Slot::Field(i));
    Ok(header)
}

/// Why a header the protocol rejects is refused.
fn rejection(
    protocol: &Protocol,
    line: u64,
    missing: &[usize],
    duplicates: &[(usize, usize, usize)],
    issues: &[TableIssue],
) -> InputError {
    if let Some(&(field, first, second)) = duplicates.first() {
        return InputError::DuplicateColumn {
            line,
            field: protocol.fields[field].name.clone(),
            first,
            second,
        };
    }
    if !missing.is_empty() {
        let missing = missing
            .iter()
            .map(|&f| {
                let field = &protocol.fields[f];
                let mut accepted = vec![field.name.as_str()];
                accepted.extend(field.aliases.iter().map(String::as_str));
                format!(
                    "`{}` (accepted headers: {})",
                    field.name,
                    accepted.join(", ")
                )
            })
            .collect();
        return InputError::MissingColumns { line, missing };
    }
    let problems: Vec<String> = issues
        .iter()
        .map(|t| t.issue.message(protocol, crate::Lang::En))
        .collect();
    InputError::Header {
        line,
        problems: problems.join("; "),
    }
}

/// Hands one record of a table read with `header` to `emit`: its `count`
/// cells, cell `i` as text `text(i)` (for the blank-row checks) and as the
/// cell of field `f` `cell(i, f)` (a CSV cell is its text; a workbook's
/// keeps its type). Blank rows, cell counts, extra columns and
/// multi-select choice columns are read here, for every tabular format.
#[inline]
pub(super) fn record<'t>(
    protocol: &Protocol,
    header: &Header,
    line: u64,
    count: usize,
    text: impl Fn(usize) -> &'t str,
    cell: impl Fn(usize, usize) -> Cell<'t>,
    emit: &mut dyn Emit,
) {
    let cleaning = &protocol.cleaning;
    let mut input = RecordInput {
        line,
        ..RecordInput::default()
    };
    if cleaning.skip_empty_rows {
        if (0..count).all(|i| cleaning.cell(Cow::Borrowed(text(i))).is_empty()) {
            return; // a row of empty cells is not a record
        }
    } else if cleaning.skip_blank_rows {
        if count == 1 && cleaning.cell(Cow::Borrowed(text(0))).is_empty() {
            return; // a blank line is not a record
        }
    } else if (0..count).all(|i| {
        let text = cleaning.cell(Cow::Borrowed(text(i)));
        match header.slots.get(i) {
            Some(Slot::Field(f)) => protocol.fields[*f]
                .missing_values
                .iter()
                .any(|m| *m == *text),
            _ => text.is_empty(),
        }
    }) {
        // Every cell missing: a blank row, as frictionless counts one.
        input.malformed = Some(Detail::BlankRow);
        emit.record(input);
        return;
    }
    let columns = header.slots.len();
    if count != columns && cleaning.malformed_rows {
        input.malformed = Some(Detail::CellCount {
            expected: columns,
            found: count,
        });
        emit.record(input);
        return;
    }
    if count > columns {
        input.extra_cells = Some((columns, count));
    }
    input.cells = emit.cell_buffer();
    if header.in_order && count == columns {
        // The usual row: its cells are the fields' cells, as they come.
        input.cells.extend((0..count).map(|i| cell(i, i)));
        emit.record(input);
        return;
    }
    let absent_empty = protocol.absent_columns_empty;
    input
        .cells
        .extend(header.present.iter().map(|&present| match present {
            true => Cell::Short,
            false if absent_empty => Cell::Null,
            false => Cell::Absent,
        }));
    for (i, slot) in header.slots.iter().enumerate().take(count) {
        match slot {
            Slot::Field(f) => input.cells[*f] = cell(i, *f),
            Slot::Choice(f) => input.cells[*f] = Cell::Null,
            Slot::Extra(e) => input.extras.push((
                Cow::Borrowed(header.extra_names[*e].as_str()),
                Cow::Borrowed(text(i)),
            )),
        }
    }
    for &(f, choice, i) in header.choice_columns.iter().filter(|c| c.2 < count) {
        input.choices.push((f, choice, text(i)));
    }
    emit.record(input);
}
