//! Workbooks read as users expect: cell types kept (numbers, dates in
//! both date systems, booleans, error cells), formulas by their cached
//! values, merged cells, hidden rows and sheets, several sheets, issues
//! named by their cell; and every unusable workbook refused with a clear
//! error. The fixtures are real files by openpyxl and LibreOffice
//! (tests/fixtures/workbooks/make.py); parity with CSV and across the
//! module's faces is tests/parity.rs.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::NaiveDate;
use clinval_core::{
    Format, InputError, IssueLine, Lang, Options, Outcome, Protocol, SheetChoice, Sink, Summary,
    TableIssue, Warning, WorkbookError, validate_bytes,
};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/workbooks")
        .join(name)
}

fn protocol(json: &str) -> Arc<Protocol> {
    Arc::new(Protocol::from_json(json).expect("the protocol loads"))
}

fn types_protocol() -> Arc<Protocol> {
    protocol(&std::fs::read_to_string(fixture("types.protocol.json")).expect("protocol"))
}

/// What a run found: each issue as `(cell, field, code)`, each record's
/// values by field name, the warnings.
#[derive(Default)]
struct Found {
    protocol: Option<Arc<Protocol>>,
    issues: Vec<(String, String, String)>,
    records: Vec<Vec<(String, String)>>,
    warnings: Vec<Warning>,
}

impl Sink for Found {
    fn record(&mut self, outcome: &Outcome<'_>) {
        let protocol = self.protocol.clone().expect("protocol");
        for issue in &outcome.issues {
            let line = IssueLine::new(outcome, issue, &protocol, Lang::En);
            self.issues.push((
                line.cell.unwrap_or_default(),
                line.field.unwrap_or_default().to_owned(),
                line.code.to_owned(),
            ));
        }
        let values = protocol
            .fields
            .iter()
            .zip(&outcome.values)
            .map(|(field, value)| (field.name.clone(), value.canonical()))
            .collect();
        self.records.push(values);
    }
    fn table_issue(&mut self, issue: &TableIssue) {
        self.issues.push((
            issue.cell.clone().unwrap_or_default(),
            String::new(),
            issue.issue.code.to_string(),
        ));
    }
    fn warning(&mut self, warning: &Warning) {
        self.warnings.push(warning.clone());
    }
}

fn options() -> Options {
    Options::new(NaiveDate::from_ymd_opt(2025, 6, 30).expect("date"))
}

fn read(
    name: &str,
    protocol: Arc<Protocol>,
    options: &Options,
) -> (Result<Summary, InputError>, Found) {
    let bytes = std::fs::read(fixture(name)).expect("fixture");
    let mut found = Found {
        protocol: Some(Arc::clone(&protocol)),
        ..Found::default()
    };
    // In pieces, as hosts feed it.
    let mut session = clinval_core::Session::new(protocol, Format::Workbook, options);
    let mut result = Ok(());
    for chunk in bytes.chunks(4096) {
        result = result.and_then(|()| session.feed(chunk, &mut found));
    }
    (result.and_then(|()| session.finish(&mut found)), found)
}

fn value<'a>(found: &'a Found, record: usize, field: &str) -> &'a str {
    let values = &found.records[record];
    let (_, value) = values
        .iter()
        .find(|(name, _)| name == field)
        .expect("field");
    value
}

#[test]
fn cell_types_formulas_merges_and_errors_in_every_format() {
    for name in ["types.xlsx", "types.xls", "types.ods"] {
        let (summary, found) = read(name, types_protocol(), &options());
        let summary = summary.unwrap_or_else(|e| panic!("{name}: {e}"));
        // Five rows, the hidden one (P4) among them.
        assert_eq!((summary.records, summary.valid), (5, 1), "{name}");
        let facts = summary.workbook.expect("workbook facts");
        assert_eq!(facts.sheet, "visits", "{name}: the first sheet with data");
        assert_eq!(
            facts.sheets,
            ["Notes", "visits", "labs", "lookup"],
            "{name}"
        );
        // The hidden `lookup` sheet is not offered; `labs` is.
        assert_eq!(
            found.warnings,
            [Warning::OtherSheets {
                read: "visits".into(),
                others: vec!["labs".into()],
            }],
            "{name}"
        );
        // P1: Excel's 30.0 is the integer 30; a date cell is a date though
        // the field writes dates `%d/%m/%Y`; a time, a date-time, a
        // boolean; the formula =C2/10 by its cached value.
        let p1 = [
            ("id", "P1"),
            ("site", "Site A"),
            ("age", "30"),
            ("weight", "70.5"),
            ("visit_date", "2024-05-01"),
            ("visit_time", "08:30:00"),
            ("seen_at", "2024-05-01T08:30:00"),
            ("consent", "true"),
            ("score", "3"),
        ];
        for (field, expected) in p1 {
            assert_eq!(value(&found, 0, field), expected, "{name}: P1 {field}");
        }
        let issues: Vec<(&str, &str, &str)> = found
            .issues
            .iter()
            .map(|(c, f, k)| (c.as_str(), f.as_str(), k.as_str()))
            .collect();
        // P2's site is the merged B2:B3: no `required` issue. Error cells
        // are `cell_error` at their cells, whatever the field's type.
        let expected = [
            ("visits!I3", "score", "cell_error"),
            ("visits!C4", "age", "cell_error"),
            ("visits!I4", "score", "cell_error"),
            ("visits!C5", "age", "type"),
            ("visits!E5", "visit_date", "out_of_range"),
            ("visits!C6", "age", "out_of_range"),
            ("visits!D6", "weight", "type"),
            ("visits!E6", "visit_date", "invalid_date"),
            ("visits!F6", "visit_time", "type"),
            ("visits!H6", "consent", "type"),
            ("visits!I6", "score", "cell_error"),
        ];
        assert_eq!(issues, expected, "{name}");
        assert_eq!(value(&found, 1, "site"), "Site A", "{name}: merged");
    }
}

#[test]
fn the_1904_date_system_gives_the_same_days() {
    let mac = protocol(
        r#"{"name": "mac", "fields": [{"name": "id"}, {"name": "visit_date", "type": "date"}]}"#,
    );
    let (summary, found) = read("dates-1904.xlsx", mac, &options());
    let summary = summary.expect("it reads");
    assert!(summary.workbook.expect("facts").date1904);
    assert_eq!(value(&found, 0, "visit_date"), "2024-05-01");
    assert_eq!(value(&found, 1, "visit_date"), "1999-12-31");
}

#[test]
fn a_sheet_is_chosen_by_name_or_position() {
    let labs = protocol(
        r#"{"name": "labs", "fields": [{"name": "id"}, {"name": "hb", "type": "number"}]}"#,
    );
    for choice in ["labs", "3"] {
        let mut options = options();
        options.sheet = Some(SheetChoice(choice.into()));
        let (summary, found) = read("types.xlsx", Arc::clone(&labs), &options);
        let summary = summary.expect("it reads");
        assert_eq!(summary.workbook.expect("facts").sheet, "labs");
        assert_eq!(value(&found, 0, "hb"), "13.5");
        assert!(found.warnings.is_empty(), "a named sheet needs no warning");
    }
    // A hidden sheet is read when named.
    let mut options = options();
    options.sheet = Some(SheetChoice("lookup".into()));
    let (summary, _) = read("types.xlsx", Arc::clone(&labs), &options);
    assert_eq!(
        summary.expect("it reads").workbook.expect("facts").sheet,
        "lookup"
    );
}

#[test]
fn a_chinese_sheet_from_a_gb18030_export_names_its_cells() {
    let (summary, found) = read(
        "patients-zh.xlsx",
        Arc::new(Protocol::builtin("patient").expect("builtin")),
        &options(),
    );
    let summary = summary.expect("it reads");
    assert_eq!(summary.workbook.expect("facts").sheet, "患者");
    assert!(summary.invalid > 0);
    assert!(
        found
            .issues
            .iter()
            .all(|(cell, _, _)| cell.starts_with("患者!")),
        "{:?}",
        found.issues
    );
}

fn refused(name: &str, options: &Options) -> InputError {
    let (result, _) = read(name, types_protocol(), options);
    result.expect_err(name)
}

#[test]
fn unusable_workbooks_are_refused_with_their_reason() {
    let options = options();
    let kind = |name: &str| refused(name, &options).kind();
    assert_eq!(kind("encrypted.xlsx"), "workbook_encrypted");
    assert_eq!(kind("no-worksheet.xlsx"), "no_sheets");
    assert_eq!(kind("empty-sheet.xlsx"), "no_data");
    assert_eq!(kind("make.py"), "not_a_workbook");
    // A row far past the last a sheet can have: refused, not read up to.
    let far = refused("row-past-end.xlsx", &options);
    assert_eq!(far.kind(), "workbook_unreadable");
    assert!(
        far.to_string()
            .contains("row 2000000, past a sheet's last row"),
        "{far}"
    );
    // calamine's xls parser panics on this one: caught, and reported.
    assert_eq!(
        refused("damaged.xls", &options),
        InputError::Workbook(WorkbookError::ReaderFailed)
    );
    let mut named = options.clone();
    named.sheet = Some(SheetChoice("patients".into()));
    assert_eq!(
        refused("types.xlsx", &named),
        InputError::Workbook(WorkbookError::NoSuchSheet {
            wanted: "patients".into(),
            sheets: vec![
                "Notes".into(),
                "visits".into(),
                "labs".into(),
                "lookup".into()
            ],
        })
    );
    named.sheet = Some(SheetChoice("Notes".into()));
    assert_eq!(refused("types.xlsx", &named).kind(), "empty_sheet");
    named.sheet = Some(SheetChoice("9".into()));
    assert_eq!(refused("types.xlsx", &named).kind(), "no_such_sheet");
    let mut small = options.clone();
    small.max_workbook_bytes = 10_000;
    assert_eq!(
        refused("patients.xlsx", &small),
        InputError::Workbook(WorkbookError::TooLarge { limit: 10_000 })
    );
}

#[test]
fn damaged_workbooks_are_refused_not_panicked_on() {
    let whole = std::fs::read(fixture("types.xlsx")).expect("fixture");
    let protocol = types_protocol();
    // Cut anywhere, and with bytes flipped: an error (or, rarely, still a
    // readable workbook), never a panic.
    for cut in (0..whole.len()).step_by(97) {
        let mut bytes = whole[..cut].to_vec();
        let mut sink = Found {
            protocol: Some(Arc::clone(&protocol)),
            ..Found::default()
        };
        // Cut short, then with a byte flipped as well.
        for flipped in [false, true] {
            if flipped && let Some(b) = bytes.get_mut(cut / 2) {
                *b ^= 0x55;
            }
            let _ = validate_bytes(
                Arc::clone(&protocol),
                Format::Workbook,
                &options(),
                &bytes,
                &mut sink,
            );
        }
    }
    let truncated = &whole[..whole.len() / 2];
    let mut sink = Found {
        protocol: Some(Arc::clone(&protocol)),
        ..Found::default()
    };
    let error = validate_bytes(protocol, Format::Workbook, &options(), truncated, &mut sink)
        .expect_err("half a zip");
    assert_eq!(error.kind(), "workbook_unreadable");
    assert!(
        error
            .to_string()
            .starts_with("cannot read the xlsx workbook"),
        "{error}"
    );
}
