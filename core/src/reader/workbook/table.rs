//! A sheet read as a table: calamine's cells as clinval reads them, the
//! header, merged regions, and the records handed to the shared row
//! reader ([`super::super::header::record`]).

use std::sync::Arc;

use super::super::header::{Header, Slot, read_header, record};
use super::super::{Cell, Emit, InputError, RecordInput};
use super::{SheetColumns, WorkbookReader};
use crate::issue::TableIssue;
use crate::types::{Moment, Scalar, Type};

/// One cell of a sheet, as clinval reads it.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum SheetCell {
    /// No value.
    Empty,
    /// A text.
    Text(String),
    /// A number, as a CSV export writes it (15 significant digits).
    Number(String),
    /// A boolean, with its text (`TRUE`, `FALSE`).
    Bool(bool),
    /// A date, time or date-time, with its ISO 8601 text.
    Moment(Moment, String),
    /// An error value (`#N/A`).
    Error(String),
}

impl SheetCell {
    /// The text a CSV export of the sheet writes for the cell.
    pub(super) fn text(&self) -> &str {
        match self {
            SheetCell::Empty => "",
            SheetCell::Text(t) | SheetCell::Number(t) | SheetCell::Moment(_, t) => t,
            SheetCell::Bool(true) => "TRUE",
            SheetCell::Bool(false) => "FALSE",
            SheetCell::Error(e) => e,
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        match self {
            SheetCell::Empty => true,
            SheetCell::Text(t) => t.is_empty(),
            _ => false,
        }
    }

    /// The cell for a field of type `ty`: typed where the type takes the
    /// cell's type, else its text.
    fn for_field(&self, ty: &Type) -> Cell<'_> {
        match self {
            SheetCell::Number(n) if ty.takes_numbers() => Cell::Value(Scalar::Number(n)),
            SheetCell::Bool(b) if matches!(ty, Type::Boolean { .. }) => {
                Cell::Value(Scalar::Bool(*b))
            }
            SheetCell::Moment(m, _)
                if matches!(ty, Type::Date(_) | Type::DateTime(_) | Type::Time(_)) =>
            {
                Cell::Value(Scalar::Moment(*m))
            }
            SheetCell::Error(e) => Cell::SheetError(e),
            other => Cell::text(other.text()),
        }
    }
}

/// A number as Excel shows and exports it: whole numbers without a
/// fraction, others to 15 significant digits (so `0.1 + 0.2` is `0.3`).
pub(super) fn number_text(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        return format!("{}", value as i64);
    }
    let rounded: f64 = format!("{value:.14e}").parse().unwrap_or(value);
    format!("{rounded}")
}

/// A sheet being read as a table: its header once found, and the records
/// after it.
pub(super) struct SheetTable<'r> {
    reader: &'r WorkbookReader,
    sheet: String,
    header: Option<SheetHeader>,
    place: Option<Arc<SheetColumns>>,
    merged: Vec<Merge>,
    /// The sheet's last used column (0-based), where known: the header
    /// spans up to it, as a CSV export of the sheet does.
    last_column: Option<u32>,
    /// Dense cells of the current row, from the header's first column.
    row: Vec<SheetCell>,
}

/// A sheet's header row, read.
struct SheetHeader {
    header: Header,
    /// The sheet column (0-based) of the table's first column.
    first: u32,
    /// Its columns.
    width: usize,
}

/// A merged region and the value of its top-left cell, once read.
pub(super) struct Merge {
    pub(super) first_row: u32,
    pub(super) last_row: u32,
    pub(super) first_column: u32,
    pub(super) last_column: u32,
    pub(super) value: Option<SheetCell>,
}

impl<'r> SheetTable<'r> {
    pub(super) fn new(
        reader: &'r WorkbookReader,
        sheet: &str,
        merged: Vec<Merge>,
        last_column: Option<u32>,
    ) -> SheetTable<'r> {
        SheetTable {
            reader,
            sheet: sheet.to_owned(),
            header: None,
            place: None,
            merged,
            last_column,
            row: Vec::new(),
        }
    }

    /// Whether a header row was found.
    pub(super) fn has_header(&self) -> bool {
        self.header.is_some()
    }

    /// One sheet row (0-based `row`): its non-empty cells by 0-based
    /// column, in column order.
    pub(super) fn row(
        &mut self,
        row: u32,
        cells: &mut Vec<(u32, SheetCell)>,
        emit: &mut dyn Emit,
    ) -> Result<(), InputError> {
        let line = u64::from(row) + 1;
        cells.retain(|(_, c)| !c.is_empty());
        // In column order, one cell a column (a damaged file may repeat
        // or reorder them; the last one given wins). Already sorted in
        // valid files, where the sort is one pass.
        cells.reverse();
        cells.sort_by_key(|(column, _)| *column);
        cells.dedup_by_key(|(column, _)| *column);
        let Some(&SheetHeader { first, width, .. }) = self.header.as_ref() else {
            if cells.is_empty() {
                return Ok(()); // empty rows before the header
            }
            return self.read_header(line, cells, emit);
        };
        self.fill_merged(row, first, cells);
        let last = cells
            .iter()
            .filter(|(c, _)| *c >= first)
            .map(|(c, _)| (c - first) as usize + 1)
            .max()
            .unwrap_or(0);
        let count = width.max(last);
        if count > self.reader.limits.cells {
            return Err(InputError::TooManyCells {
                line,
                limit: self.reader.limits.cells,
            });
        }
        self.row.clear();
        self.row.resize(count, SheetCell::Empty);
        for (column, cell) in cells.drain(..) {
            if column >= first {
                self.row[(column - first) as usize] = cell;
            }
        }
        let protocol = &self.reader.protocol;
        let Some(SheetHeader { header, .. }) = &self.header else {
            return Ok(());
        };
        let cells = &self.row;
        let mut recorder = Placed {
            emit,
            place: self.place.as_ref(),
        };
        record(
            protocol,
            header,
            line,
            count,
            |i| cells[i].text(),
            |i, f| cells[i].for_field(&protocol.fields[f].ty),
            &mut recorder,
        );
        Ok(())
    }

    fn read_header(
        &mut self,
        line: u64,
        cells: &[(u32, SheetCell)],
        emit: &mut dyn Emit,
    ) -> Result<(), InputError> {
        let first = cells[0].0;
        let last = cells[cells.len() - 1].0.max(self.last_column.unwrap_or(0));
        let width = (last - first) as usize + 1;
        if width > self.reader.limits.cells {
            return Err(InputError::TooManyCells {
                line,
                limit: self.reader.limits.cells,
            });
        }
        let mut names = vec![""; width];
        for (column, cell) in cells {
            names[(column - first) as usize] = cell.text();
        }
        let protocol = &self.reader.protocol;
        let header = read_header(protocol, &names, line)?;
        let mut columns = vec![None; protocol.fields.len()];
        for (i, slot) in header.slots.iter().enumerate() {
            if let Slot::Field(f) = slot {
                columns[*f] = Some(first + i as u32);
            }
        }
        let place = SheetColumns::new(&self.sheet, columns);
        for issue in &header.issues {
            let mut issue: TableIssue = issue.clone();
            issue.cell = Some(match issue.column {
                Some(column) => place.cell(first + column as u32 - 1, line),
                None => format!("{}!{line}:{line}", place.sheet),
            });
            emit.table_issue(issue);
        }
        if !header.allowed_extras.is_empty() {
            emit.unknown_columns(header.allowed_extras.clone());
        }
        self.place = Some(Arc::new(place));
        self.header = Some(SheetHeader {
            header,
            first,
            width,
        });
        Ok(())
    }

    /// Gives the cells of merged regions on `row` their region's value.
    fn fill_merged(&mut self, row: u32, first: u32, cells: &mut Vec<(u32, SheetCell)>) {
        let mut filled = false;
        for merge in &mut self.merged {
            if row < merge.first_row || row > merge.last_row || merge.last_column < first {
                continue;
            }
            if row == merge.first_row {
                merge.value = cells
                    .iter()
                    .find(|(c, _)| *c == merge.first_column)
                    .map(|(_, v)| v.clone());
            }
            let Some(value) = &merge.value else { continue };
            for column in merge.first_column..=merge.last_column {
                if (row, column) != (merge.first_row, merge.first_column)
                    && !cells.iter().any(|(c, _)| *c == column)
                {
                    cells.push((column, value.clone()));
                    filled = true;
                }
            }
        }
        if filled {
            cells.sort_by_key(|(c, _)| *c);
        }
    }
}

/// Hands records on with the sheet's columns, for cell references.
struct Placed<'e, 'p> {
    emit: &'e mut dyn Emit,
    place: Option<&'p Arc<SheetColumns>>,
}

impl Emit for Placed<'_, '_> {
    fn record(&mut self, mut input: RecordInput<'_>) {
        input.sheet = self.place.cloned();
        self.emit.record(input);
    }
    fn cell_buffer(&mut self) -> Vec<Cell<'static>> {
        self.emit.cell_buffer()
    }
    fn unknown_columns(&mut self, columns: Vec<String>) {
        self.emit.unknown_columns(columns);
    }
    fn table_issue(&mut self, issue: TableIssue) {
        self.emit.table_issue(issue);
    }
}

#[cfg(test)]
mod tests {
    use super::number_text;

    #[test]
    fn numbers_read_as_a_csv_export_writes_them() {
        assert_eq!(number_text(30.0), "30");
        assert_eq!(number_text(-0.0), "0");
        assert_eq!(number_text(0.1 + 0.2), "0.3");
        assert_eq!(number_text(120.5), "120.5");
        assert_eq!(number_text(1e20), "100000000000000000000");
        assert_eq!(number_text(1.0 / 3.0), "0.333333333333333");
    }
}
