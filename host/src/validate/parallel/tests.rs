//! One large file read on several threads gives what one thread gives,
//! byte for byte: records, error log, summary or error. Each case first
//! checks that the file is cut into blocks (or, for the files that must be
//! read by one thread, that it is not).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::NaiveDate;
use clinval_core::{Lang, Options, Protocol, Summary};

use super::super::inputs;
use super::super::worker::{Job, Message};
use super::{cut, eligible};

const SCHEMA: &str = r#"{
  "fields": [
    {"name": "id", "type": "integer", "constraints": {"required": true, "unique": true}},
    {"name": "name", "type": "string", "constraints": {"required": true, "maxLength": 20}},
    {"name": "visit", "type": "date", "constraints": {"minimum": "2000-01-01"}},
    {"name": "score", "type": "number", "constraints": {"minimum": 0, "maximum": 100}},
    {"name": "arm", "type": "string", "constraints": {"enum": ["A", "B", "placebo"]}}
  ],
  "primaryKey": ["name", "visit"]
}"#;

/// What one run wrote and said.
#[derive(Debug, PartialEq)]
struct Run {
    records: Vec<u8>,
    errors: Vec<u8>,
    result: Result<Summary, String>,
}

/// A directory for one case's file, removed after it.
struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Dir {
        let dir =
            std::env::temp_dir().join(format!("clinval-parallel-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Dir(dir)
    }

    fn file(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn options() -> Options {
    Options::new(NaiveDate::from_ymd_opt(2025, 6, 30).unwrap())
}

fn job(threads: usize) -> Job<'static> {
    Job {
        wasm: None,
        lang: Lang::En,
        want_records: true,
        want_errors: true,
        progress: None,
        threads,
    }
}

fn run(input: &inputs::Input, job: &Job<'_>) -> Run {
    let (tx, rx) = std::sync::mpsc::sync_channel(4);
    let mut run = Run {
        records: Vec::new(),
        errors: Vec::new(),
        result: Err("no result".into()),
    };
    std::thread::scope(|scope| {
        scope.spawn(move || job.run(input, false, &tx));
        for message in rx {
            match message {
                Message::Batch(batch) => {
                    run.records.extend(batch.records);
                    run.errors.extend(batch.errors);
                }
                Message::Done(result) => run.result = result,
            }
        }
    });
    run
}

/// How many blocks the first pass cuts `input` into, if it may.
fn blocks(input: &inputs::Input) -> Option<usize> {
    let path = eligible(input, &job(3))?;
    let dialect = &input.options.dialect;
    let mut blocks = 0;
    let mut count = |cutter: &mut super::Cutter| blocks += cutter.blocks.drain(..).count();
    let whole = cut(path, dialect.delimiter, dialect.quote, &mut count).unwrap();
    whole.then_some(blocks)
}

/// Checks `bytes` under `protocol` on one thread and on three, with valid
/// records written and without; `cut` says whether the file must be cut
/// into blocks (when not, the threads give up on it, having checked blocks
/// the first pass had found before it met what it cannot cut, and one
/// thread reads it). Returns the one-thread run.
fn same_on_threads(name: &str, bytes: &[u8], protocol: &str, options: &Options, cut: bool) -> Run {
    let dir = Dir::new(name);
    let path = dir.file(&format!("{name}.csv"), bytes);
    let protocol = Arc::new(match protocol {
        "patient" => Protocol::builtin("patient").unwrap(),
        json => Protocol::from_json(json).unwrap(),
    });
    let input = inputs::expand(&[path], None, &protocol, options)
        .unwrap()
        .remove(0);
    let blocks = blocks(&input);
    assert_eq!(blocks.is_some(), cut, "{name}: cut into blocks");
    if let Some(blocks) = blocks {
        assert!(blocks > 3, "{name}: {blocks} blocks");
    }
    let one = run(&input, &job(1));
    for want_records in [true, false] {
        let many = run(
            &input,
            &Job {
                want_records,
                ..job(3)
            },
        );
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        assert_eq!(text(&many.errors), text(&one.errors), "{name}: error log");
        assert_eq!(many.result, one.result, "{name}: summary");
        let records = if want_records { &one.records[..] } else { &[] };
        assert_eq!(text(&many.records), text(records), "{name}: records");
    }
    one
}

/// Rows of the schema above, some breaking a rule, ids and (name, visit)
/// pairs coming back far apart (duplicates across blocks).
fn rows(n: u64, line_end: &str) -> String {
    let mut text = format!("id,name,visit,score,arm{line_end}");
    let arms = ["A", "B", "placebo"];
    for i in 1..=n {
        let id = if i % 997 == 0 { i / 2 } else { i };
        let name = format!("p{}", i % 7919);
        let visit = format!("20{:02}-{:02}-{:02}", 10 + i % 15, 1 + i % 12, 1 + i % 28);
        let score = match i % 37 {
            0 => "101".to_owned(),
            _ => format!("{}.{}", i % 100, i % 7),
        };
        let arm = if i % 41 == 0 {
            "C"
        } else {
            arms[(i % 3) as usize]
        };
        let _ = write!(text, "{id},{name},{visit},{score},{arm}{line_end}");
    }
    text
}

#[test]
fn plain_rows_with_duplicates_across_blocks() {
    let text = rows(60_000, "\n");
    let one = same_on_threads("plain", text.as_bytes(), SCHEMA, &options(), true);
    let summary = one.result.unwrap();
    assert!(
        summary.by_code.get("duplicate").is_some_and(|&n| n >= 20),
        "{summary:?}"
    );
}

/// A file without quotes is cut where walking its records one by one
/// cuts it: at the first record end at least a block's length after the
/// block's start, each block's first line counted.
#[test]
fn blocks_without_quotes_end_where_the_record_walk_ends_them() {
    for line_end in ["\n", "\r\n"] {
        let mut text = rows(70_000, line_end);
        // Long lines now and then, so that cuts fall anywhere in a read.
        for at in (5_000..text.len() - 100_000).step_by(97_331) {
            let at = text[at..].find('\n').unwrap() + at + 1;
            text.insert_str(
                at,
                &format!("1,{},2020-01-01,1,A{line_end}", "x".repeat(at % 9_000)),
            );
        }
        let bytes = text.as_bytes();
        let header_end = memchr::memchr(b'\n', bytes).unwrap() + 1;
        let mut expected = Vec::new();
        let (mut start, mut line) = (0, 1);
        for at in memchr::memchr_iter(b'\n', &bytes[header_end..]) {
            let end = (header_end + at + 1) as u64;
            if end >= start + super::BLOCK_BYTES {
                expected.push(super::Block {
                    start,
                    end,
                    first_line: line,
                });
                start = end;
                line = memchr::memchr_iter(b'\n', &bytes[..end as usize]).count() as u64 + 1;
            }
        }
        expected.push(super::Block {
            start,
            end: bytes.len() as u64,
            first_line: line,
        });
        let dir = Dir::new("walk");
        let path = dir.file("walk.csv", bytes);
        let mut found = Vec::new();
        let mut take = |cutter: &mut super::Cutter| found.append(&mut cutter.blocks);
        assert!(cut(&path, b',', b'"', &mut take).unwrap());
        assert!(expected.len() > 8, "{} blocks", expected.len());
        assert_eq!(found, expected, "{line_end:?}");
    }
}

#[test]
fn quoted_cells_line_breaks_and_literal_quotes_across_blocks() {
    let mut text = String::from("id,name,visit,score,arm\n");
    for i in 1..=30_000u64 {
        let name = match i % 5 {
            0 => format!("\"p{i}\nsecond line\""),
            1 => format!("\"say \"\"{i}\"\", twice\""),
            2 => format!("ab\"{i}"), // a quote inside an unquoted cell is a character
            3 => format!("\"p{i},\r\ncomma\""),
            _ => format!("p{i}"),
        };
        let _ = writeln!(text, "{i},{name},2020-01-{:02},{},A", 1 + i % 28, i % 120);
    }
    same_on_threads("quoted", text.as_bytes(), SCHEMA, &options(), true);
}

#[test]
fn crlf_blank_lines_short_and_long_rows_and_no_final_line_break() {
    let mut text = rows(50_000, "\r\n");
    for at in [3_000, 200_000, 700_000, 1_100_000] {
        let at = text[at..].find("\r\n").unwrap() + at + 2;
        text.insert_str(
            at,
            "\r\n\r\n7,short,2020-01-01\r\n8,long,2020-01-01,1,A,extra\r\n",
        );
    }
    text.truncate(text.len() - 2);
    same_on_threads("crlf", text.as_bytes(), SCHEMA, &options(), true);
}

#[test]
fn built_in_protocol_with_cleaning_bom_and_blank_lines_before_the_header() {
    let sample = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/patients-sample.csv"),
    )
    .unwrap();
    let (header, body) = sample.split_once('\n').unwrap();
    let mut text = format!("\u{feff}\n\n{header}\n");
    while text.len() < 1_500_000 {
        text.push_str(body);
    }
    same_on_threads("patient", text.as_bytes(), "patient", &options(), true);
}

#[test]
fn an_error_in_a_later_block_names_its_line_in_the_file() {
    let mut text = rows(40_000, "\n");
    let at = text[900_000..].find('\n').unwrap() + 900_001;
    text.insert_str(at, &format!("1,\"{}\",2020-01-01,1,A\n", "x".repeat(5_000)));
    let mut options = options();
    options.max_record_bytes = 4_000;
    let one = same_on_threads("too-large", text.as_bytes(), SCHEMA, &options, true);
    assert!(one.result.unwrap_err().contains("record is larger"));
}

#[test]
fn files_that_cannot_be_cut_safely_are_read_on_one_thread() {
    let text = rows(60_000, "\n");
    let mut gbk = text.clone().into_bytes();
    gbk.splice(800_000..800_000, [0xD5, 0xC5, b',']); // GBK, not UTF-8
    same_on_threads("gbk", &gbk, SCHEMA, &options(), false);
    let lone_cr = text.replacen('\n', "\r", 30_000);
    same_on_threads("lone-cr", lone_cr.as_bytes(), SCHEMA, &options(), false);
    let mut nul = text.clone().into_bytes();
    nul[900_000] = 0;
    same_on_threads("nul", &nul, SCHEMA, &options(), false);
    let unclosed = format!("{text}1,\"open");
    same_on_threads("unclosed", unclosed.as_bytes(), SCHEMA, &options(), false);
    let small = rows(1_000, "\n");
    same_on_threads("small", small.as_bytes(), SCHEMA, &options(), false);
}
