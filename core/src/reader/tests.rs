//! Readers through a whole session: positions, shapes, encodings, limits.

use std::sync::Arc;

use serde_json::{Value as Json, json};

use super::*;
use crate::session::{Options, Session, Sink};
use crate::validator::Outcome;
use crate::{Protocol, RecordJson};

#[derive(Debug, Clone, PartialEq)]
struct Seen {
    row: u64,
    line: u64,
    issues: Vec<(Option<String>, String)>,
    record: Option<Json>,
    /// The record as serialised, to check key order.
    record_text: Option<String>,
}

#[derive(Debug, Default)]
struct Collect {
    protocol: Option<Arc<Protocol>>,
    seen: Vec<Seen>,
    warnings: Vec<Warning>,
    /// Issues of the table: `(column, field, code)`.
    table: Vec<(Option<usize>, Option<String>, String)>,
}

impl Sink for Collect {
    fn record(&mut self, outcome: &Outcome<'_>) {
        let protocol = self.protocol.as_ref().unwrap();
        self.seen.push(Seen {
            row: outcome.row,
            line: outcome.line,
            issues: outcome
                .issues
                .iter()
                .map(|i| {
                    (
                        i.field_name(protocol).map(str::to_owned),
                        i.code.to_string(),
                    )
                })
                .collect(),
            record: outcome
                .is_valid()
                .then(|| serde_json::to_value(RecordJson { protocol, outcome }).unwrap()),
            record_text: outcome
                .is_valid()
                .then(|| serde_json::to_string(&RecordJson { protocol, outcome }).unwrap()),
        });
    }
    fn warning(&mut self, warning: &Warning) {
        self.warnings.push(warning.clone());
    }
    fn table_issue(&mut self, issue: &crate::TableIssue) {
        let protocol = self.protocol.as_ref().unwrap();
        self.table.push((
            issue.column,
            issue.issue.field_name(protocol).map(str::to_owned),
            issue.issue.code.to_string(),
        ));
    }
}

fn run_with(
    format: Format,
    input: &[u8],
    chunk: usize,
    options: &Options,
) -> Result<Collect, InputError> {
    let protocol = Arc::new(Protocol::builtin("patient").unwrap());
    let mut sink = Collect {
        protocol: Some(Arc::clone(&protocol)),
        ..Collect::default()
    };
    let mut session = Session::new(protocol, format, options);
    for piece in input.chunks(chunk.max(1)) {
        session.feed(piece, &mut sink)?;
    }
    session.finish(&mut sink)?;
    Ok(sink)
}

fn options() -> Options {
    Options::new(chrono::NaiveDate::from_ymd_opt(2025, 6, 30).unwrap())
}

/// Runs whole, then in 1-, 2-, 3- and 7-byte chunks, and checks all agree.
fn run(format: Format, input: &[u8]) -> Result<Vec<Seen>, InputError> {
    let whole = run_with(format, input, usize::MAX, &options()).map(|c| c.seen);
    for chunk in [1, 2, 3, 7] {
        let pieces = run_with(format, input, chunk, &options()).map(|c| c.seen);
        assert_eq!(pieces, whole, "chunk size {chunk} changed the result");
    }
    whole
}

/// `(row, line, [(field, code)])` of a record.
type Codes<'a> = (u64, u64, Vec<(Option<&'a str>, &'a str)>);

fn codes(seen: &[Seen]) -> Vec<Codes<'_>> {
    seen.iter()
        .map(|s| {
            let issues = s
                .issues
                .iter()
                .map(|(f, c)| (f.as_deref(), c.as_str()))
                .collect();
            (s.row, s.line, issues)
        })
        .collect()
}

const HEADER: &str = "patient_id,patient_name,age,visit_date,blood_pressure\n";

#[test]
fn csv_positions_with_blank_lines_quoted_breaks_and_crlf() {
    let csv = format!(
        "{HEADER}P1,Ann,30,2024-01-01,120/80\n\n\r\nP2,\"Line\r\nBreak, \"\"Jr\"\"\",31,2024-01-02,121/80\r\n　\nP3,Cy,17,2024-01-03,122/80"
    );
    let seen = run(Format::Csv, csv.as_bytes()).unwrap();
    assert_eq!(
        codes(&seen),
        vec![
            (1, 2, vec![]),
            (2, 5, vec![]),
            (3, 8, vec![(Some("age"), "out_of_range")]),
        ]
    );
    assert_eq!(
        seen[1].record.as_ref().unwrap()["name"],
        "Line Break, \"Jr\""
    );
}

#[test]
fn csv_with_bom_and_headers_in_any_order_and_spelling() {
    let csv = "\u{FEFF}Blood Pressure,AGE,Visit-Date,Patient Name,PatientID\n120/80,40,2024-01-01,Ann,P1\n";
    let seen = run(Format::Csv, csv.as_bytes()).unwrap();
    assert_eq!(
        seen[0].record,
        Some(
            json!({"id": "P1", "name": "Ann", "age": 40, "visitDate": "2024-01-01", "bloodPressure": "120/80"})
        )
    );
}

#[test]
fn gb18030_with_chinese_headers() {
    let text =
        "患者编号,姓名,年龄,就诊日期,血压\r\n　P1 ,李娜,７０,2024年7月31日,１４５／１０６\r\n";
    let (bytes, _, _) = encoding_rs::GB18030.encode(text);
    let seen = run(Format::Csv, &bytes).unwrap();
    assert_eq!(
        seen[0].record,
        Some(
            json!({"id": "P1", "name": "李娜", "age": 70, "visitDate": "2024-07-31", "bloodPressure": "145/106"})
        )
    );
}

#[test]
fn malformed_rows_get_one_row_issue_and_no_field_rules() {
    let csv = format!("{HEADER}P1,Ann,30,2024-01-01\nP2,Bo,31,2024-01-02,120/80,extra\n,,,,\n");
    let seen = run(Format::Csv, csv.as_bytes()).unwrap();
    assert_eq!(
        codes(&seen),
        vec![
            (1, 2, vec![(None, "malformed_row")]),
            (2, 3, vec![(None, "malformed_row")]),
            (
                3,
                4,
                vec![
                    (Some("id"), "required"),
                    (Some("name"), "required"),
                    (Some("age"), "required"),
                    (Some("visitDate"), "required"),
                    (Some("bloodPressure"), "required"),
                ]
            ),
        ]
    );
}

#[test]
fn duplicates_compare_cleaned_ids_and_normalised_dates() {
    let csv = format!(
        "{HEADER}P1,Ann,17,2024-01-05,120/80\n　P1 ,Bo,40,2024年1月5日,120/80\nP1,Cy,40,20240105,1/8\nP1,Di,40,2024-13-05,120/80\nP2,Ed,40,2024-01-05,120/80\nP1,Fa,40,2024-01-06,120/80\n"
    );
    let seen = run(Format::Csv, csv.as_bytes()).unwrap();
    assert_eq!(
        codes(&seen),
        vec![
            // The first record is invalid, still the earlier one.
            (1, 2, vec![(Some("age"), "out_of_range")]),
            (2, 3, vec![(None, "duplicate")]),
            // Other fields failing does not stop the duplicate check.
            (
                3,
                4,
                vec![(Some("bloodPressure"), "pattern"), (None, "duplicate")]
            ),
            // A key field failing its own rule does.
            (4, 5, vec![(Some("visitDate"), "invalid_date")]),
            (5, 6, vec![]),
            (6, 7, vec![]),
        ]
    );
}

#[test]
fn unknown_columns_are_carried_and_warned_once() {
    let csv = "id,site,name,age,visitDate,bp\nP1, Ward 3 ,Ann,30,2024-01-01,120/80\nP2,,Bo,31,2024-01-02,120/80\n";
    let collected = run_with(Format::Csv, csv.as_bytes(), usize::MAX, &options()).unwrap();
    assert_eq!(
        collected.warnings,
        vec![Warning::UnknownColumns {
            columns: vec!["site".into()]
        }]
    );
    let record = collected.seen[0].record.as_ref().unwrap();
    assert_eq!(record["site"], " Ward 3 ");
    assert_eq!(
        collected.seen[0].record_text.as_deref(),
        Some(
            r#"{"id":"P1","name":"Ann","age":30,"visitDate":"2024-01-01","bloodPressure":"120/80","site":" Ward 3 "}"#
        )
    );
}

#[test]
fn header_problems_reject_the_whole_file() {
    let missing = run(Format::Csv, b"id,name,age\nP1,Ann,30\n").unwrap_err();
    assert!(
        matches!(&missing, InputError::MissingColumns { line: 1, missing } if missing.len() == 2)
    );
    assert!(
        missing
            .to_string()
            .contains("`visitDate` (accepted headers: visitDate, 就诊日期)")
    );
    let twice = run(Format::Csv, b"\n\nid,patient_id,name,age,visitDate,bp\n").unwrap_err();
    assert_eq!(
        twice,
        InputError::DuplicateColumn {
            line: 3,
            field: "id".into(),
            first: 1,
            second: 2
        }
    );
    assert_eq!(run(Format::Csv, b""), Err(InputError::Empty));
    assert_eq!(run(Format::Csv, b" \n\r\n"), Err(InputError::Empty));
    assert!(matches!(
        run(Format::Csv, HEADER.as_bytes()),
        Err(InputError::NoRecords(_))
    ));
}

#[test]
fn records_with_too_many_cells_stop_with_their_line_exactly_at_the_limit() {
    let mut options = options();
    options.max_record_cells = 5;
    // The header's five cells are within the limit; six are not, in the
    // plain-line path, the quoted path and a long record past 64 cells.
    let csv = format!("{HEADER}P1,A,30,2024-01-01,120/80\n");
    assert!(run_with(Format::Csv, csv.as_bytes(), 100, &options).is_ok());
    let too_many = InputError::TooManyCells { line: 3, limit: 5 };
    for (row, chunk) in [
        ("P1,A,30,2024-01-01,120/80,x", 100),
        ("P1,\"A\",30,2024-01-01,120/80,x", 3),
    ] {
        let csv = format!("{HEADER}P1,A,30,2024-01-01,120/80\n{row}\n");
        assert_eq!(
            run_with(Format::Csv, csv.as_bytes(), chunk, &options).err(),
            Some(too_many.clone())
        );
    }
    options.max_record_cells = 100;
    let wide = format!("{HEADER}P1,\"A\",30,2024-01-01,120/80{}\n", ",x".repeat(96));
    let error = run_with(Format::Csv, wide.as_bytes(), 100, &options).unwrap_err();
    assert_eq!(
        error,
        InputError::TooManyCells {
            line: 2,
            limit: 100
        }
    );
    assert_eq!(error.kind(), "too_many_cells");
    options.max_record_cells = 2;
    let ndjson = "{\"id\": \"P1\", \"name\": \"A\"}\n{\"id\": \"P2\", \"a\": 1, \"b\": 2}\n";
    assert_eq!(
        run_with(Format::Ndjson, ndjson.as_bytes(), 100, &options).err(),
        Some(InputError::TooManyCells { line: 2, limit: 2 })
    );
    let json = "[{\"id\": \"P1\"},\n {\"id\": \"P2\", \"a\": 1, \"b\": 2}]";
    assert_eq!(
        run_with(Format::Json, json.as_bytes(), 5, &options).err(),
        Some(InputError::TooManyCells { line: 2, limit: 2 })
    );
}

#[test]
fn oversized_records_stop_with_their_line() {
    let mut options = options();
    options.max_record_bytes = 1024;
    let csv = format!("{HEADER}P1,{},30,2024-01-01,120/80\n", "x".repeat(5000));
    let error = run_with(Format::Csv, csv.as_bytes(), 100, &options).unwrap_err();
    assert_eq!(
        error,
        InputError::RecordTooLarge {
            line: 2,
            limit: 1024
        }
    );
    // A limit under 4 KiB is the limit too, for a quoted record as well.
    options.max_record_bytes = 100;
    let quoted = format!("{HEADER}P1,\"{}\",30,2024-01-01,120/80\n", "x".repeat(150));
    let error = run_with(Format::Csv, quoted.as_bytes(), 7, &options).unwrap_err();
    assert_eq!(
        error,
        InputError::RecordTooLarge {
            line: 2,
            limit: 100
        }
    );
    options.max_record_bytes = 1024;
    let ndjson = format!("{{\"name\": \"{}\"}}\n", "x".repeat(5000));
    let error = run_with(Format::Ndjson, ndjson.as_bytes(), 100, &options).unwrap_err();
    assert_eq!(
        error,
        InputError::RecordTooLarge {
            line: 1,
            limit: 1024
        }
    );
    let json = format!("[{{\"name\": \"{}\"}}]", "x".repeat(5000));
    let error = run_with(Format::Json, json.as_bytes(), 100, &options).unwrap_err();
    assert_eq!(
        error,
        InputError::RecordTooLarge {
            line: 1,
            limit: 1024
        }
    );
}

#[test]
fn json_arrays_with_numbers_aliases_and_bad_elements() {
    let json = r#"[
  {"Patient ID": "P1", "name": "Ann", "age": 30, "visitDate": "2024-01-01", "bp": "120/80", "site": 3},
  {"id": 42, "name": "Bo \"B\"", "age": 30.5, "visitDate": "2024-01-02", "bloodPressure": "120/80"},
  [1, 2],
  {"id": "P3", "name": {"first": "Cy"}, "age": null, "visitDate": "2024-01-03", "bloodPressure": "120/80"},
  {"id": "P4", "patient_id": "P4", "name": "Di", "age": 30, "visitDate": "2024-01-04", "bp": "120/80"},
  {"id": "P5" "name": "Ed"},
  17
]"#;
    let seen = run(Format::Json, json.as_bytes()).unwrap();
    assert_eq!(
        codes(&seen),
        vec![
            (1, 2, vec![]),
            (2, 3, vec![(Some("age"), "type")]),
            (3, 4, vec![(None, "malformed_row")]),
            (
                4,
                5,
                vec![(Some("name"), "type"), (Some("age"), "required")]
            ),
            (5, 6, vec![(None, "malformed_row")]),
            (6, 7, vec![(None, "malformed_row")]),
            (7, 8, vec![(None, "malformed_row")]),
        ]
    );
    assert_eq!(seen[0].record.as_ref().unwrap()["site"], "3");
}

#[test]
fn json_structure_errors_have_line_and_column() {
    assert_eq!(
        run(Format::Json, b"{\"id\": 1}"),
        Err(InputError::Json {
            line: 1,
            column: 1,
            message: "expected a JSON array of objects (`[`); for one object per line use the ndjson format".into()
        })
    );
    let broken = run(Format::Json, b"[\n {\"id\": 1}\n {\"id\": 2}]").unwrap_err();
    assert_eq!(
        broken,
        InputError::Json {
            line: 3,
            column: 2,
            message: "expected `,` or `]` after a record".into()
        }
    );
    assert!(matches!(
        run(Format::Json, b"[{\"id\": 1},"),
        Err(InputError::Json { .. })
    ));
    assert!(matches!(
        run(Format::Json, b"[{\"id\": 1}] x"),
        Err(InputError::Json { .. })
    ));
    assert!(matches!(
        run(Format::Json, b" [ ] "),
        Err(InputError::NoRecords(_))
    ));
    assert_eq!(run(Format::Json, b"  "), Err(InputError::Empty));
}

#[test]
fn ndjson_lines_blank_lines_and_broken_lines() {
    let ndjson = "{\"id\":\"P1\",\"name\":\"Ann\",\"age\":\"30\",\"visitDate\":\"2024-01-01\",\"bp\":\"120/80\"}\r\n\n  \n{\"id\": \n[]\n{\"id\":\"P2\",\"name\":\"Bo\",\"age\":81,\"visitDate\":\"2024-01-01\",\"bp\":\"120/80\"}";
    let seen = run(Format::Ndjson, ndjson.as_bytes()).unwrap();
    assert_eq!(
        codes(&seen),
        vec![
            (1, 1, vec![]),
            (2, 4, vec![(None, "malformed_row")]),
            (3, 5, vec![(None, "malformed_row")]),
            (4, 6, vec![(Some("age"), "out_of_range")]),
        ]
    );
}

#[test]
fn binary_input_is_refused() {
    let mut bytes = HEADER.as_bytes().to_vec();
    bytes.extend_from_slice(&[0x00, 0xFF, 0x13, 0x37]);
    assert!(matches!(
        run(Format::Csv, &bytes),
        Err(InputError::Decode(_))
    ));
}

#[test]
fn formats_by_name_and_extension() {
    assert_eq!(Format::from_path("a/b.CSV"), Some(Format::Csv));
    assert_eq!(Format::from_path("x.jsonl"), Some(Format::Ndjson));
    assert_eq!(Format::from_path("x.json"), Some(Format::Json));
    for workbook in ["x.xlsx", "x.XLSM", "x.xlsb", "x.xls", "x.ods"] {
        assert_eq!(
            Format::from_path(workbook),
            Some(Format::Workbook),
            "{workbook}"
        );
    }
    assert_eq!(Format::from_path("x.numbers"), None);
    assert_eq!("NDJSON".parse::<Format>(), Ok(Format::Ndjson));
    assert_eq!("xlsx".parse::<Format>(), Ok(Format::Workbook));
    assert!("xml".parse::<Format>().is_err());
}

#[test]
fn formats_by_media_type() {
    let of = Format::from_media_type;
    assert_eq!(of("text/csv; charset=utf-8"), Some(Format::Csv));
    assert_eq!(of("Application/JSON"), Some(Format::Json));
    assert_eq!(of("application/x-ndjson"), Some(Format::Ndjson));
    assert_eq!(
        of("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        Some(Format::Workbook)
    );
    assert_eq!(of("application/vnd.ms-excel"), Some(Format::Workbook));
    assert_eq!(
        of("application/vnd.oasis.opendocument.spreadsheet"),
        Some(Format::Workbook)
    );
    assert_eq!(of("text/plain"), None);
    assert_eq!(of("application/octet-stream"), None);
}

/// Plain lines (no quote) are split by the reader itself when whole in a
/// chunk, and by csv-core otherwise: `run` compares whole input against
/// 1-, 2-, 3- and 7-byte chunks, where nearly every line is cut.
#[test]
fn plain_lines_read_as_csv_core_reads_them() {
    let csv = format!(
        "{HEADER}P1,Ann,30,2024-01-01,120/80\rP2,Bo,31,2024-01-02,121/80\r\n\rP3,Cy,32,2024-01-03,122/80,\nP4,Di\n,,,,\n  \nP5,E\"d,33,2024-01-05,123/80\nP6,\"Fa\",34,2024-01-06,124/80\nP7,Gu,35,2024-01-07,125/80"
    );
    let seen = run(Format::Csv, csv.as_bytes()).unwrap();
    assert_eq!(
        codes(&seen),
        vec![
            // A lone `\r` ends a record but not a line (lines count `\n`).
            (1, 2, vec![]),
            (2, 2, vec![]),
            (3, 3, vec![(None, "malformed_row")]),
            (4, 4, vec![(None, "malformed_row")]),
            (
                5,
                5,
                ["id", "name", "age", "visitDate", "bloodPressure"]
                    .map(|f| (Some(f), "required"))
                    .to_vec()
            ),
            (6, 7, vec![]),
            (7, 8, vec![]),
            (8, 9, vec![]),
        ]
    );
    assert_eq!(seen[5].record.as_ref().unwrap()["name"], "E\"d");
    assert_eq!(seen[6].record.as_ref().unwrap()["name"], "Fa");

    // Another delimiter, and comment lines, which stay csv-core's.
    let mut options = options();
    options.dialect.delimiter = b';';
    options.dialect.comment = Some(b'#');
    let csv = "patient_id;patient_name;age;visit_date;blood_pressure\n#P0;x\nP1;Ann;30;2024-01-01;120/80\n";
    let whole = run_with(Format::Csv, csv.as_bytes(), usize::MAX, &options).unwrap();
    let bytewise = run_with(Format::Csv, csv.as_bytes(), 1, &options).unwrap();
    assert_eq!(whole.seen, bytewise.seen);
    assert_eq!(codes(&whole.seen), vec![(1, 3, vec![])]);
}

/// The two ways of splitting a plain line agree, on lines of every mix of
/// delimiters, quotes, line ends and text.
#[test]
fn plain_lines_split_alike_by_search_and_by_loop() {
    use super::csv::PlainSplit;
    let alphabet = b",;\"\r\na1 \xC3\xA9";
    let mut seed = 0x2545_F491_4F6C_DD1D_u64;
    let (mut searched, mut looped) = (Vec::new(), Vec::new());
    for _ in 0..20_000 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let len = (seed % 90) as usize;
        let line: Vec<u8> = (0..len)
            .map(|i| alphabet[((seed >> (i % 60)) as usize + i * 7) % alphabet.len()])
            .collect();
        for (delimiter, quote) in [(b',', b'"'), (b';', b'\'')] {
            let split = PlainSplit::new(delimiter, quote);
            let a = split.split_searching(&line, usize::MAX, &mut searched);
            let b = split.split_looping(&line, usize::MAX, &mut looped);
            assert_eq!(a, b, "{line:?}");
            if a.is_some() {
                assert_eq!(searched, looped, "{line:?}");
            }
        }
    }
}

#[test]
fn a_warning_code_is_the_one_it_serializes_with() {
    for warning in [
        Warning::UnknownColumns { columns: vec![] },
        Warning::ForeignKeyNotChecked {
            fields: vec![],
            resource: None,
        },
        Warning::UnsupportedLogic { fields: vec![] },
    ] {
        let json = serde_json::to_value(&warning).unwrap();
        assert_eq!(json["code"], warning.code());
    }
}

/// One record's issues: `(field, code, message)`.
type Messages = Vec<(Option<String>, String, String)>;

/// Each record's issues, and the summary.
fn issues_and_summary(
    protocol: &str,
    format: Format,
    input: &[u8],
    chunk: usize,
    options: &Options,
) -> (Vec<Messages>, crate::Summary) {
    struct Each(Arc<Protocol>, Vec<Messages>);
    impl Sink for Each {
        fn record(&mut self, outcome: &Outcome<'_>) {
            let protocol = &self.0;
            let lang = crate::Lang::En;
            self.1.push(
                outcome
                    .issues
                    .iter()
                    .map(|i| {
                        let field = i.field_name(protocol).map(str::to_owned);
                        (field, i.code.to_string(), i.message(protocol, lang))
                    })
                    .collect(),
            );
        }
        fn table_issue(&mut self, _: &crate::TableIssue) {}
    }
    let protocol = Arc::new(Protocol::builtin(protocol).unwrap());
    let mut sink = Each(Arc::clone(&protocol), Vec::new());
    let mut session = Session::new(protocol, format, options);
    for piece in input.chunks(chunk) {
        session.feed(piece, &mut sink).unwrap();
    }
    let summary = session.finish(&mut sink).unwrap();
    (sink.1, summary)
}

#[test]
fn bytes_invalid_in_the_encoding_are_an_issue_of_their_record() {
    // F2: the second record's name has bytes that are not UTF-8. The first
    // record stays valid and as written; the second gets `encoding` on
    // its name (not whatever else a garbled name would break), with the
    // byte offset; the summary says how the file was read.
    let csv = b"id,name,age,visit_date,bp\nP1,Zo\xC3\xAB,30,2024-01-01,120/80\nP2,Zo\xFF\xFE,30,2024-01-01,120/80\n";
    for chunk in [csv.len(), 7, 1] {
        let (records, summary) = issues_and_summary("patient", Format::Csv, csv, chunk, &options());
        assert_eq!(records[0], vec![]);
        let [(field, code, message)] = records[1].as_slice() else {
            panic!("{records:?}")
        };
        assert_eq!(
            (field.as_deref(), code.as_str()),
            (Some("name"), "encoding")
        );
        assert!(
            message.contains("at byte 60 are not valid UTF-8"),
            "{message}"
        );
        assert_eq!((summary.valid, summary.invalid), (1, 1));
        assert_eq!(summary.by_code["encoding"], 1);
        assert_eq!(summary.encoding, Some(crate::TextEncoding::Utf8));
    }
    // The same in NDJSON, and in a column the protocol does not know (a
    // row issue).
    let ndjson = b"{\"id\": \"P1\", \"name\": \"A\", \"age\": 30, \"visitDate\": \"2024-01-01\", \"bp\": \"120/80\", \"site\": \"Z\xFF\"}\n";
    let (records, _) = issues_and_summary("patient", Format::Ndjson, ndjson, 5, &options());
    assert_eq!(records[0].len(), 1, "{records:?}");
    assert_eq!(
        (records[0][0].0.as_deref(), records[0][0].1.as_str()),
        (None, "encoding")
    );
    // A U+FFFD the file already holds is flagged, without an offset.
    let lost = "id,name,age,visit_date,bp\nP1,Zo\u{FFFD},30,2024-01-01,120/80\n";
    let (records, _) = issues_and_summary("patient", Format::Csv, lost.as_bytes(), 64, &options());
    assert!(records[0][0].2.contains("holds U+FFFD"), "{records:?}");
}

#[test]
fn a_given_encoding_overrides_detection() {
    let (gbk, _, _) =
        encoding_rs::GB18030.encode("id,name,age,visit_date,bp\nP1,李娜,30,2024-01-01,120/80\n");
    let (records, summary) = issues_and_summary("patient", Format::Csv, &gbk, 100, &options());
    assert_eq!(
        (records[0].len(), summary.encoding),
        (0, Some(crate::TextEncoding::Gb18030))
    );
    let mut utf8 = options();
    utf8.encoding = Some(crate::TextEncoding::Utf8);
    let (records, summary) = issues_and_summary("patient", Format::Csv, &gbk, 100, &utf8);
    assert_eq!(records[0][0].1, "encoding");
    assert_eq!(summary.encoding, Some(crate::TextEncoding::Utf8));
}
