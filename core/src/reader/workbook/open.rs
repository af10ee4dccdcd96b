//! The calamine side: opening the container, choosing the sheet,
//! turning calamine's cells into [`SheetCell`]s.

use std::io::Cursor;

use calamine::{
    CellErrorType, Data, DataRef, Dimensions, ExcelDateTime, Ods, Range, Reader, SheetType,
    SheetVisible, Xls, Xlsb, Xlsx, open_workbook_from_rs,
};
use chrono::{NaiveDate, NaiveDateTime, NaiveTime, Timelike};

use super::table::{Merge, SheetCell, SheetTable, number_text};
use super::{SheetChoice, WorkbookError, WorkbookFacts, WorkbookReader};
use crate::reader::{Emit, InputError};
use crate::types::Moment;

type Source<'b> = Cursor<&'b [u8]>;

/// A workbook, opened.
enum Book<'b> {
    Xlsx(Xlsx<Source<'b>>),
    Xlsb(Xlsb<Source<'b>>),
    Xls(Xls<Source<'b>>),
    Ods(Ods<Source<'b>>),
}

const ZIP: &[u8] = b"PK\x03\x04";
/// The rows a sheet can have (Excel's and LibreOffice's limit).
const MAX_ROWS: u32 = 1 << 20;
const OLE: &[u8] = b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1";

fn unreadable(format: &'static str, error: impl std::fmt::Display) -> InputError {
    WorkbookError::Unreadable {
        format,
        message: error.to_string(),
    }
    .into()
}

fn open(bytes: &[u8]) -> Result<Book<'_>, InputError> {
    let source = || Cursor::new(bytes);
    if bytes.starts_with(OLE) {
        // An encrypted xlsx is an OLE file holding the encrypted package.
        if contains_utf16(bytes, "EncryptedPackage") {
            return Err(WorkbookError::Encrypted.into());
        }
        return match open_workbook_from_rs::<Xls<_>, _>(source()) {
            Ok(book) => Ok(Book::Xls(book)),
            Err(calamine::XlsError::Password) => Err(WorkbookError::Encrypted.into()),
            Err(e) => Err(unreadable("xls", e)),
        };
    }
    if !bytes.starts_with(ZIP) {
        return Err(WorkbookError::NotWorkbook.into());
    }
    // Which zip: by the part that names its workbook.
    if contains(bytes, b"content.xml") && contains(bytes, b"opendocument.spreadsheet") {
        return open_workbook_from_rs::<Ods<_>, _>(source())
            .map(Book::Ods)
            .map_err(|e| unreadable("ods", e));
    }
    if contains(bytes, b"xl/workbook.bin") {
        return open_workbook_from_rs::<Xlsb<_>, _>(source())
            .map(Book::Xlsb)
            .map_err(|e| unreadable("xlsb", e));
    }
    open_workbook_from_rs::<Xlsx<_>, _>(source())
        .map(Book::Xlsx)
        .map_err(|e| unreadable("xlsx", e))
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    memchr::memmem::find(haystack, needle).is_some()
}

fn contains_utf16(haystack: &[u8], needle: &str) -> bool {
    let wide: Vec<u8> = needle.encode_utf16().flat_map(u16::to_le_bytes).collect();
    contains(haystack, &wide)
}

impl Book<'_> {
    fn format(&self) -> &'static str {
        match self {
            Book::Xlsx(_) => "xlsx",
            Book::Xlsb(_) => "xlsb",
            Book::Xls(_) => "xls",
            Book::Ods(_) => "ods",
        }
    }

    fn metadata(&self) -> &[calamine::Sheet] {
        match self {
            Book::Xlsx(b) => b.sheets_metadata(),
            Book::Xlsb(b) => b.sheets_metadata(),
            Book::Xls(b) => b.sheets_metadata(),
            Book::Ods(b) => b.sheets_metadata(),
        }
    }

    fn date1904(&self) -> bool {
        match self {
            Book::Xlsx(b) => b.has_1904_epoch(),
            _ => false,
        }
    }

    /// A whole sheet (read so for xls, xlsb and ods; an xlsx's is streamed).
    fn range(&mut self, name: &str) -> Result<Range<Data>, InputError> {
        let format = self.format();
        match self {
            Book::Xlsx(b) => b.worksheet_range(name).map_err(|e| unreadable(format, e)),
            Book::Xlsb(b) => b.worksheet_range(name).map_err(|e| unreadable(format, e)),
            Book::Xls(b) => b.worksheet_range(name).map_err(|e| unreadable(format, e)),
            Book::Ods(b) => b.worksheet_range(name).map_err(|e| unreadable(format, e)),
        }
    }

    /// Whether the sheet has a cell with a value: an xlsx sheet is read
    /// only up to its first such cell.
    fn has_data(&mut self, name: &str) -> Result<bool, InputError> {
        if let Book::Xlsx(b) = self {
            let mut cells = b
                .worksheet_cells_reader(name)
                .map_err(|e| unreadable("xlsx", e))?;
            while let Some(cell) = cells.next_cell().map_err(|e| unreadable("xlsx", e))? {
                if !sheet_cell_ref(cell.get_value()).is_empty() {
                    return Ok(true);
                }
            }
            return Ok(false);
        }
        Ok(self
            .range(name)?
            .used_cells()
            .any(|(_, _, cell)| !sheet_cell(cell.clone()).is_empty()))
    }

    /// The sheet's merged regions (none known for xlsb).
    fn merged(&mut self, name: &str, bytes: &[u8]) -> Vec<Dimensions> {
        let merged = match self {
            Book::Xlsx(b) => b.merge_cells_by_sheet_name(name).ok(),
            Book::Xls(b) => b.merge_cells_by_sheet_name(name).ok(),
            Book::Ods(_) => ods_merged(bytes, name),
            Book::Xlsb(_) => None,
        };
        merged.unwrap_or_default()
    }
}

/// Reads `bytes` as a workbook for `reader`.
pub(super) fn workbook(
    reader: &WorkbookReader,
    bytes: &[u8],
    emit: &mut dyn Emit,
) -> Result<(WorkbookFacts, Vec<String>), InputError> {
    let mut book = open(bytes)?;
    let sheets: Vec<calamine::Sheet> = book
        .metadata()
        .iter()
        .filter(|s| s.typ == SheetType::WorkSheet)
        .cloned()
        .collect();
    let names: Vec<String> = sheets.iter().map(|s| s.name.clone()).collect();
    if names.is_empty() {
        return Err(WorkbookError::NoSheets.into());
    }
    let (sheet, others) = match &reader.choice {
        Some(choice) => {
            let name = chosen(choice, &names)?;
            if !book.has_data(&name)? {
                return Err(WorkbookError::EmptySheet { sheet: name }.into());
            }
            (name, Vec::new())
        }
        None => {
            // Visible sheets first: a hidden one is read only when no
            // visible sheet has data.
            let mut with_data = Vec::new();
            for visible in [true, false] {
                for s in &sheets {
                    if (s.visible == SheetVisible::Visible) == visible && book.has_data(&s.name)? {
                        with_data.push(s.name.clone());
                    }
                }
                if !with_data.is_empty() {
                    break;
                }
            }
            if with_data.is_empty() {
                return Err(WorkbookError::NoData { sheets: names }.into());
            }
            let sheet = with_data.remove(0);
            (sheet, with_data)
        }
    };
    let merged = book
        .merged(&sheet, bytes)
        .into_iter()
        .map(|d| Merge {
            first_row: d.start.0,
            last_row: d.end.0,
            first_column: d.start.1,
            last_column: d.end.1,
            value: None,
        })
        .collect();
    let mut cells = Vec::new();
    let table = if let Book::Xlsx(b) = &mut book {
        let mut stream = b
            .worksheet_cells_reader(&sheet)
            .map_err(|e| unreadable("xlsx", e))?;
        let used = stream.dimensions();
        let last_column = (used.len() > 1).then_some(used.end.1);
        let mut table = SheetTable::new(reader, &sheet, merged, last_column);
        let mut at: Option<u32> = None;
        while let Some(cell) = stream.next_cell().map_err(|e| unreadable("xlsx", e))? {
            let (row, column) = cell.get_position();
            // A damaged sheet could name a row far past the last (the
            // empty rows up to it would be read one by one).
            if row >= MAX_ROWS {
                return Err(unreadable(
                    "xlsx",
                    format!(
                        "a cell is at row {}, past a sheet's last row ({MAX_ROWS})",
                        u64::from(row) + 1
                    ),
                ));
            }
            if at.is_some_and(|r| r != row) {
                flush(&mut table, &mut at, row, &mut cells, emit)?;
            }
            at = Some(row);
            cells.push((column, sheet_cell_ref(cell.get_value())));
        }
        if let Some(row) = at {
            table.row(row, &mut cells, emit)?;
        }
        table
    } else {
        let range = book.range(&sheet)?;
        let (top, left) = range.start().unwrap_or((0, 0));
        let last_column = range.end().map(|(_, column)| column);
        let mut table = SheetTable::new(reader, &sheet, merged, last_column);
        let ods = matches!(book, Book::Ods(_));
        for (r, row) in range.rows().enumerate() {
            for (c, data) in row.iter().enumerate() {
                let cell = match data {
                    // ods stores a formula's error as its text (with an
                    // attribute calamine does not read).
                    Data::String(text) if ods && is_error_text(text) => {
                        SheetCell::Error(text.clone())
                    }
                    other => sheet_cell(other.clone()),
                };
                cells.push((left + c as u32, cell));
            }
            table.row(top + r as u32, &mut cells, emit)?;
            cells.clear();
        }
        table
    };
    if !table.has_header() {
        return Err(WorkbookError::EmptySheet { sheet }.into());
    }
    let facts = WorkbookFacts {
        format: book.format().to_owned(),
        sheet,
        sheets: names,
        date1904: book.date1904(),
    };
    Ok((facts, others))
}

/// Ends the row at `at` (the stream moved on to `next`), and the empty
/// rows between them: a CSV export writes those as blank lines.
fn flush(
    table: &mut SheetTable<'_>,
    at: &mut Option<u32>,
    next: u32,
    cells: &mut Vec<(u32, SheetCell)>,
    emit: &mut dyn Emit,
) -> Result<(), InputError> {
    let Some(row) = *at else { return Ok(()) };
    table.row(row, cells, emit)?;
    cells.clear();
    for empty in row + 1..next {
        table.row(empty, cells, emit)?;
    }
    *at = Some(next);
    Ok(())
}

/// An ods sheet's merged regions: cells that span rows or columns
/// (`table:number-rows-spanned`, `table:number-columns-spanned`), which
/// calamine does not report. `None` if content.xml cannot be read (calamine
/// has read it, so it can).
fn ods_merged(bytes: &[u8], sheet: &str) -> Option<Vec<Dimensions>> {
    use quick_xml::events::{BytesStart, Event};

    fn number(e: &BytesStart<'_>, name: &str) -> u32 {
        e.try_get_attribute(name)
            .ok()
            .flatten()
            .and_then(|a| a.value.parse().ok())
            .unwrap_or(1)
    }

    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).ok()?;
    let content = zip.by_name("content.xml").ok()?;
    let mut xml = quick_xml::Reader::from_reader(std::io::BufReader::new(content));
    let mut buf = Vec::new();
    let mut merged = Vec::new();
    let (mut inside, mut row, mut column) = (false, 0u32, 0u32);
    loop {
        let event = xml.read_event_into(&mut buf).ok()?;
        let empty = matches!(event, Event::Empty(_));
        match event {
            Event::Start(e) | Event::Empty(e) => match e.name().as_ref() {
                "table:table" => {
                    inside = e
                        .try_get_attribute("table:name")
                        .ok()
                        .flatten()
                        .is_some_and(|a| {
                            quick_xml::escape::unescape(&a.value).is_ok_and(|name| name == sheet)
                        });
                    row = 0;
                }
                "table:table-row" if inside => {
                    column = 0;
                    if empty {
                        row = row.saturating_add(number(&e, "table:number-rows-repeated"));
                    }
                }
                "table:table-cell" | "table:covered-table-cell" if inside => {
                    let (rows, columns) = (
                        number(&e, "table:number-rows-spanned"),
                        number(&e, "table:number-columns-spanned"),
                    );
                    if rows > 1 || columns > 1 {
                        merged.push(Dimensions::new(
                            (row, column),
                            (row + rows - 1, column + columns - 1),
                        ));
                    }
                    column = column.saturating_add(number(&e, "table:number-columns-repeated"));
                }
                _ => {}
            },
            Event::End(e) => match e.name().as_ref() {
                "table:table" if inside => return Some(merged),
                // A repeated row with cells stands for that many rows.
                "table:table-row" if inside => row = row.saturating_add(1),
                _ => {}
            },
            Event::Eof => return Some(merged),
            _ => {}
        }
        buf.clear();
    }
}

/// The sheet named (or at the 1-based position) `choice`.
fn chosen(choice: &SheetChoice, names: &[String]) -> Result<String, InputError> {
    if let Some(name) = names.iter().find(|n| **n == choice.0) {
        return Ok(name.clone());
    }
    choice
        .0
        .parse::<usize>()
        .ok()
        .and_then(|n| n.checked_sub(1))
        .and_then(|i| names.get(i))
        .cloned()
        .ok_or_else(|| {
            WorkbookError::NoSuchSheet {
                wanted: choice.0.clone(),
                sheets: names.to_vec(),
            }
            .into()
        })
}

/// A calamine cell as clinval reads it (its text moved, not copied).
fn sheet_cell(data: Data) -> SheetCell {
    match data {
        Data::Empty => SheetCell::Empty,
        Data::String(s) => SheetCell::Text(s),
        Data::Float(f) => SheetCell::Number(number_text(f)),
        Data::Int(i) => SheetCell::Number(i.to_string()),
        Data::Bool(b) => SheetCell::Bool(b),
        Data::DateTime(at) => excel_moment(&at),
        Data::DateTimeIso(text) => iso_moment(&text),
        Data::DurationIso(text) => iso_duration(&text),
        Data::Error(e) => SheetCell::Error(error_text(&e).to_owned()),
    }
}

/// A streamed xlsx cell as clinval reads it (a shared string copied once).
fn sheet_cell_ref(data: &DataRef<'_>) -> SheetCell {
    sheet_cell(Data::from(data.clone()))
}

/// Whether an ods text is a formula's error value: Excel's (`#N/A`, ...)
/// or LibreOffice's own (`Err:502`).
fn is_error_text(text: &str) -> bool {
    const EXCEL: [&str; 8] = [
        "#DIV/0!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#REF!", "#VALUE!", "#DATA!",
    ];
    EXCEL.contains(&text)
        || text
            .strip_prefix("Err:")
            .is_some_and(|code| code.len() == 3 && code.bytes().all(|b| b.is_ascii_digit()))
}

fn error_text(error: &CellErrorType) -> &'static str {
    match error {
        CellErrorType::Div0 => "#DIV/0!",
        CellErrorType::NA => "#N/A",
        CellErrorType::Name => "#NAME?",
        CellErrorType::Null => "#NULL!",
        CellErrorType::Num => "#NUM!",
        CellErrorType::Ref => "#REF!",
        CellErrorType::Value => "#VALUE!",
        CellErrorType::GettingData => "#DATA!",
    }
}

fn moment(moment: Moment) -> SheetCell {
    SheetCell::Moment(moment, moment.iso())
}

/// A date serial (in the workbook's date system) as a date, a time
/// (below one day) or a date-time; a duration (`[h]:mm`) as ISO 8601.
fn excel_moment(at: &ExcelDateTime) -> SheetCell {
    let serial = at.as_f64();
    if at.is_duration() {
        let seconds = (serial * 86_400.0).round() as i64;
        let (h, m, s) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
        return SheetCell::Text(format!("PT{h}H{m}M{s}S"));
    }
    let (year, month, day, hour, minute, second, milli) = at.to_ymd_hms_milli();
    let time =
        NaiveTime::from_hms_milli_opt(hour.into(), minute.into(), second.into(), milli.into());
    if (0.0..1.0).contains(&serial) {
        return time.map_or(SheetCell::Number(number_text(serial)), |t| {
            moment(Moment::Time(t))
        });
    }
    match (
        NaiveDate::from_ymd_opt(year.into(), month.into(), day.into()),
        time,
    ) {
        (Some(date), Some(time)) if time == NaiveTime::MIN => moment(Moment::Date(date)),
        (Some(date), Some(time)) => moment(Moment::DateTime(date.and_time(time))),
        // Excel's 1900-02-29 (a day that never was) and serials
        // outside its range: the serial, as a number.
        _ => SheetCell::Number(number_text(serial)),
    }
}

/// An ods date or date-time (`2024-05-01`, `2024-05-01T08:30:00`).
fn iso_moment(text: &str) -> SheetCell {
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return moment(Moment::Date(date));
    }
    match NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f") {
        Ok(at) if at.time() == NaiveTime::MIN => moment(Moment::Date(at.date())),
        Ok(at) => moment(Moment::DateTime(at)),
        Err(_) => SheetCell::Text(text.to_owned()),
    }
}

/// An ods time cell (`PT08H30M00S`): a time of day when under a day,
/// else the duration's text.
fn iso_duration(text: &str) -> SheetCell {
    let time = text.strip_prefix("PT").and_then(|rest| {
        let (h, rest) = rest.split_once('H')?;
        let (m, rest) = rest.split_once('M')?;
        let s = rest.strip_suffix('S')?;
        let seconds: f64 = s.parse().ok()?;
        NaiveTime::from_hms_opt(h.parse().ok()?, m.parse().ok()?, 0)?
            .with_nanosecond((seconds.fract() * 1e9).round() as u32)?
            .with_second(seconds.trunc() as u32)
    });
    match time {
        Some(t) => moment(Moment::Time(t)),
        None => SheetCell::Text(text.to_owned()),
    }
}
