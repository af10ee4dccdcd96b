//! What readers hand to the validator: one record's cells by field, and
//! the problems of its shape.

use std::borrow::Cow;

use crate::issue::Detail;
use crate::types::Scalar;

/// A field's cell as a reader found it, before cleaning and typing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell<'a> {
    /// The input has no column for the field (its header lacks it): the
    /// header's issue covers it, and the field is not checked.
    Absent,
    /// The record ended before the field's column (`missing_cell`).
    Short,
    /// JSON `null`, or a key a JSON object leaves out.
    Null,
    /// A value as written.
    Value(Scalar<'a>),
    /// A spreadsheet's error value (`#N/A`, `#DIV/0!`, ...), as Excel
    /// writes it: the formula behind the cell failed (`cell_error`).
    #[cfg(feature = "workbook")]
    SheetError(&'a str),
}

impl<'a> Cell<'a> {
    /// A text cell (a CSV cell, a JSON string).
    pub fn text(text: &'a str) -> Cell<'a> {
        Cell::Value(Scalar::Text(Cow::Borrowed(text)))
    }

    /// A JSON value as written.
    pub fn of_json(raw: &'a serde_json::value::RawValue) -> Cell<'a> {
        Scalar::of_json(raw).map_or(Cell::Null, Cell::Value)
    }
}

/// One record as a reader found it.
#[derive(Debug, Clone, Default)]
pub struct RecordInput<'a> {
    /// Physical line (1-based) where the record starts.
    pub line: u64,
    /// Each protocol field's cell, by field index.
    pub cells: Vec<Cell<'a>>,
    /// Columns/keys the protocol does not know: `(name, value)`, carried
    /// to the output unchanged.
    pub extras: Vec<(Cow<'a, str>, Cow<'a, str>)>,
    /// Set when the record as a whole is unusable (a blank row, a wrong
    /// cell count where the protocol asks for `malformed_row`, JSON that
    /// is not an object); then no field rule runs.
    pub malformed: Option<Detail>,
    /// More cells than the header: `(expected, found)`; the fields are
    /// still checked.
    pub extra_cells: Option<(usize, usize)>,
    /// The cells of multi-selects written one `0`/`1` column per choice
    /// (REDCap's `field___code`): `(field, choice, cell)`; the field's own
    /// cell is then [`Cell::Null`]. By field, then choice. Empty for every
    /// other protocol.
    pub choices: Vec<(usize, usize, &'a str)>,
    /// For a workbook's record: its sheet and each field's column, so
    /// issues can name their cells.
    pub sheet: Option<std::sync::Arc<super::SheetColumns>>,
}
