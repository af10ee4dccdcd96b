//! Workbooks: xlsx, xlsm, xlsb, xls and ods, read with `calamine`.
//!
//! A workbook is a container (a zip, or an OLE compound file) whose parts
//! are found through a directory at its end, so it cannot be read as it
//! arrives: its bytes are gathered, up to a limit, and read when the input
//! ends. An xlsx sheet is then read cell by cell (memory: the file, its
//! shared strings and one row); xls and ods sheets are read whole, as
//! calamine reads them (memory: about the file plus 32 bytes a cell).
//!
//! A sheet is a table as a CSV is: its first non-empty row is the header
//! (matched to the protocol as a CSV header is), its columns start at the
//! header's first cell, and each later row is a record, checked by the
//! same rules. What a CSV cannot say is kept: a number cell stays a number
//! (an integer field given Excel's `30.0` gets 30), a date cell is a date
//! whatever format a field writes dates in, a boolean a boolean, and an
//! error cell (`#N/A`) is a `cell_error` issue. Where a field does not take
//! the cell's type, the cell is read as the text a spreadsheet's CSV export
//! writes (`1001`, `TRUE`, `2024-05-01`), so a workbook and its CSV get the
//! same verdicts. Formulas give their cached values; hidden rows are rows
//! (a CSV export keeps them too); a merged region's value is every cell's
//! of the region, as the sheet shows it (below the header).

use std::sync::Arc;

use thiserror::Error;

use super::{Emit, InputError, Limits};
use crate::protocol::Protocol;

#[cfg(feature = "workbook")]
mod open;
#[cfg(feature = "workbook")]
mod table;

/// Default limit on a workbook's size in bytes: it is held whole.
pub const DEFAULT_MAX_WORKBOOK_BYTES: usize = 100 * 1024 * 1024;

/// Which sheet of a workbook to read: a sheet's name, or else its 1-based
/// position (`2`: the second sheet).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SheetChoice(pub String);

/// Why a workbook cannot be read.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum WorkbookError {
    /// This build has no workbook reader (the compact module).
    #[error(
        "workbooks (xlsx, xls, ods) need clinval's full module (clinval_full_bg.wasm); this is the compact one"
    )]
    NotBuiltIn,
    /// Larger than the limit.
    #[cfg(feature = "workbook")]
    #[error("the workbook is larger than the {limit}-byte limit (workbooks are held whole)")]
    TooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// Neither a zip (xlsx, xlsm, xlsb, ods) nor an OLE file (xls).
    #[cfg(feature = "workbook")]
    #[error(
        "the input is not a workbook: it is neither an xlsx, xlsb or ods (zip) nor an xls file"
    )]
    NotWorkbook,
    /// Encrypted with a password.
    #[cfg(feature = "workbook")]
    #[error(
        "the workbook is password-protected: open it, remove the password to open, save it and send it again"
    )]
    Encrypted,
    /// The container or a part of it is damaged.
    #[cfg(feature = "workbook")]
    #[error("cannot read the {format} workbook: {message}")]
    Unreadable {
        /// `xlsx`, `xls`, ...
        format: &'static str,
        /// calamine's message.
        message: String,
    },
    /// The reader failed on a damaged part of the file (calamine's xls
    /// parser panicked: caught natively; in wasm the call traps, and hosts
    /// report this same error).
    #[cfg(feature = "workbook")]
    #[error("cannot read the workbook: its reader failed on a damaged part of the file")]
    ReaderFailed,
    /// No worksheet at all.
    #[cfg(feature = "workbook")]
    #[error("the workbook has no worksheet")]
    NoSheets,
    /// No sheet of this name or position.
    #[cfg(feature = "workbook")]
    #[error("the workbook has no sheet `{wanted}` (its sheets: {})", .sheets.join(", "))]
    NoSuchSheet {
        /// As asked.
        wanted: String,
        /// The sheets it has.
        sheets: Vec<String>,
    },
    /// The sheet asked for has no cell with a value.
    #[cfg(feature = "workbook")]
    #[error("sheet `{sheet}` is empty")]
    EmptySheet {
        /// The sheet.
        sheet: String,
    },
    /// No sheet has a cell with a value.
    #[cfg(feature = "workbook")]
    #[error("the workbook has no sheet with data (its sheets: {})", .sheets.join(", "))]
    NoData {
        /// The sheets it has.
        sheets: Vec<String>,
    },
}

impl WorkbookError {
    /// A stable kind: `needs_full_module`, `workbook_too_large`,
    /// `not_a_workbook`, `workbook_encrypted`, `workbook_unreadable`,
    /// `no_sheets`, `no_such_sheet`, `empty_sheet`, `no_data`.
    pub fn kind(&self) -> &'static str {
        match self {
            WorkbookError::NotBuiltIn => "needs_full_module",
            #[cfg(feature = "workbook")]
            WorkbookError::TooLarge { .. } => "workbook_too_large",
            #[cfg(feature = "workbook")]
            WorkbookError::NotWorkbook => "not_a_workbook",
            #[cfg(feature = "workbook")]
            WorkbookError::Encrypted => "workbook_encrypted",
            #[cfg(feature = "workbook")]
            WorkbookError::Unreadable { .. } | WorkbookError::ReaderFailed => "workbook_unreadable",
            #[cfg(feature = "workbook")]
            WorkbookError::NoSheets => "no_sheets",
            #[cfg(feature = "workbook")]
            WorkbookError::NoSuchSheet { .. } => "no_such_sheet",
            #[cfg(feature = "workbook")]
            WorkbookError::EmptySheet { .. } => "empty_sheet",
            #[cfg(feature = "workbook")]
            WorkbookError::NoData { .. } => "no_data",
        }
    }
}

/// What was read of a workbook.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct WorkbookFacts {
    /// Its format: `xlsx` (also xlsm), `xlsb`, `xls` or `ods`.
    pub format: String,
    /// The sheet read.
    pub sheet: String,
    /// Every sheet, in workbook order.
    pub sheets: Vec<String>,
    /// Whether it uses the 1904 date system (older Mac workbooks); its
    /// date serials are read as such.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub date1904: bool,
}

/// Where a sheet's records are: the sheet's name and each field's column,
/// so an issue can name its cell (`patients!C17`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SheetColumns {
    /// The sheet's name as a reference writes it (quoted where needed).
    sheet: String,
    /// Each field's sheet column (0-based), by field index.
    columns: Vec<Option<u32>>,
}

impl SheetColumns {
    #[cfg_attr(not(feature = "workbook"), allow(dead_code))]
    fn new(sheet: &str, columns: Vec<Option<u32>>) -> SheetColumns {
        let plain = sheet
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '.')
            && !sheet.starts_with(|c: char| c.is_ascii_digit());
        let sheet = if plain {
            sheet.to_owned()
        } else {
            format!("'{}'", sheet.replace('\'', "''"))
        };
        SheetColumns { sheet, columns }
    }

    /// The reference of `field`'s cell on sheet row `row` (`patients!C17`),
    /// or of the whole row for a row issue or a field with no column
    /// (`patients!17:17`).
    pub fn reference(&self, field: Option<usize>, row: u64) -> String {
        match field.and_then(|f| self.columns.get(f).copied().flatten()) {
            Some(column) => self.cell(column, row),
            None => format!("{}!{row}:{row}", self.sheet),
        }
    }

    /// The reference of the cell at 0-based `column` on sheet row `row`.
    #[cfg_attr(not(feature = "workbook"), allow(dead_code))]
    fn cell(&self, column: u32, row: u64) -> String {
        format!("{}!{}{row}", self.sheet, column_letters(column))
    }
}

/// Excel's letters of a 0-based column: `A`, ..., `Z`, `AA`, ...
fn column_letters(column: u32) -> String {
    let mut letters = Vec::new();
    let mut n = column + 1;
    while n > 0 {
        let digit = (n - 1) % 26;
        letters.push(b'A' + digit as u8);
        n = (n - 1) / 26;
    }
    letters.reverse();
    String::from_utf8(letters).unwrap_or_default()
}

/// Gathers a workbook's bytes and reads its sheet when the input ends.
#[cfg_attr(not(feature = "workbook"), allow(dead_code))]
pub(crate) struct WorkbookReader {
    protocol: Arc<Protocol>,
    limits: Limits,
    choice: Option<SheetChoice>,
    max_bytes: usize,
    bytes: Vec<u8>,
}

impl WorkbookReader {
    pub(crate) fn new(
        protocol: Arc<Protocol>,
        limits: Limits,
        choice: Option<SheetChoice>,
        max_bytes: usize,
    ) -> WorkbookReader {
        WorkbookReader {
            protocol,
            limits,
            choice,
            max_bytes,
            bytes: Vec::new(),
        }
    }

    /// Takes the next bytes.
    #[cfg(feature = "workbook")]
    pub(crate) fn feed(&mut self, chunk: &[u8]) -> Result<(), InputError> {
        if self.bytes.len() + chunk.len() > self.max_bytes {
            self.bytes = Vec::new();
            return Err(WorkbookError::TooLarge {
                limit: self.max_bytes,
            }
            .into());
        }
        self.bytes.extend_from_slice(chunk);
        Ok(())
    }

    /// Refuses every byte: this build has no workbook reader.
    #[cfg(not(feature = "workbook"))]
    pub(crate) fn feed(&mut self, _chunk: &[u8]) -> Result<(), InputError> {
        Err(WorkbookError::NotBuiltIn.into())
    }

    /// Reads the workbook: its sheet's records go to `emit`. Returns what
    /// was read, and the warning naming the other sheets with data when
    /// none was named.
    #[cfg(feature = "workbook")]
    pub(crate) fn finish(
        &mut self,
        emit: &mut dyn Emit,
    ) -> Result<(WorkbookFacts, Option<super::Warning>), InputError> {
        let bytes = std::mem::take(&mut self.bytes);
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(InputError::Empty);
        }
        // calamine's xls (BIFF) parser indexes records unchecked, and a
        // damaged file can make it panic (vendor/calamine/PATCHES.md):
        // natively that is this error, not a crash. (In wasm a panic
        // aborts: hosts see a trap, and clinval's server answers it as
        // this error too; docs/abi.md.)
        let read = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            open::workbook(self, &bytes, emit)
        }));
        let (facts, others) = read.unwrap_or_else(|_| Err(WorkbookError::ReaderFailed.into()))?;
        let warning = (!others.is_empty()).then(|| super::Warning::OtherSheets {
            read: facts.sheet.clone(),
            others,
        });
        Ok((facts, warning))
    }

    /// Nothing to read: this build has no workbook reader.
    #[cfg(not(feature = "workbook"))]
    pub(crate) fn finish(
        &mut self,
        _emit: &mut dyn Emit,
    ) -> Result<(WorkbookFacts, Option<super::Warning>), InputError> {
        Err(WorkbookError::NotBuiltIn.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_letters_are_excels() {
        let letters: Vec<String> = [0, 1, 25, 26, 27, 51, 52, 701, 702, 16_383]
            .into_iter()
            .map(column_letters)
            .collect();
        assert_eq!(
            letters,
            ["A", "B", "Z", "AA", "AB", "AZ", "BA", "ZZ", "AAA", "XFD"]
        );
    }

    #[test]
    fn references_quote_sheet_names_that_need_it() {
        let plain = SheetColumns::new("patients", vec![Some(2), None]);
        assert_eq!(plain.reference(Some(0), 17), "patients!C17");
        assert_eq!(plain.reference(Some(1), 17), "patients!17:17");
        assert_eq!(plain.reference(None, 4), "patients!4:4");
        let spaced = SheetColumns::new("Site A's data", vec![Some(0)]);
        assert_eq!(spaced.reference(Some(0), 2), "'Site A''s data'!A2");
        assert_eq!(
            SheetColumns::new("2024", vec![]).reference(None, 1),
            "'2024'!1:1"
        );
        assert_eq!(
            SheetColumns::new("患者", vec![Some(0)]).reference(Some(0), 3),
            "患者!A3"
        );
    }
}
