//! The examples in the docs are real: they load and do what the docs say.

use std::sync::Arc;

use clinval_core::{Format, Options, Protocol, validate_bytes};
use clinval_tests::Verdicts;

fn docs(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../docs")
        .join(name);
    std::fs::read_to_string(path).expect("docs file")
}

/// The fenced blocks of `lang` in `text`, in order.
fn blocks(text: &str, lang: &str) -> Vec<String> {
    let fence = format!("```{lang}\n");
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find(&fence) {
        let body = &rest[at + fence.len()..];
        let end = body.find("```").expect("closing fence");
        found.push(body[..end].to_owned());
        rest = &body[end + 3..];
    }
    found
}

#[test]
fn the_complete_protocol_example_loads_and_validates() {
    let example = blocks(&docs("protocol.md"), "json").remove(0);
    let protocol =
        Arc::new(Protocol::from_json(&example).expect("docs example is a valid protocol"));
    assert_eq!(protocol.name, "labs-v2");
    let csv = "Subject ID,sampled,received,hb,arm,血压\n\
               S0001,03/02/2024,2024-02-04 09:30,13.5,A,120/80\n\
               S0002,03/02/2024,2024-02-01,NA,C,80/120\n\
               S0001,2024-02-03,,30,placebo,\n";
    let mut sink = Verdicts::new(Arc::clone(&protocol));
    let as_of = "2025-06-30".parse().unwrap();
    validate_bytes(
        protocol,
        Format::Csv,
        &Options::new(as_of),
        csv.as_bytes(),
        &mut sink,
    )
    .unwrap();
    assert!(
        sink.table.is_empty(),
        "the header matches: {:?}",
        sink.table
    );
    let issues: Vec<String> = sink.lines.iter().map(|l| l["issues"].to_string()).collect();
    assert_eq!(
        issues,
        [
            "[]",
            r#"[["hb","required"],["arm","not_allowed"],["bp","implausible"],["received","received_before_sampled"]]"#,
            r#"[["hb","out_of_range"],[null,"duplicate"]]"#,
        ]
    );
}

#[test]
fn the_plain_table_schema_example_means_what_the_spec_says() {
    let example = blocks(&docs("protocol.md"), "json").remove(1);
    let protocol = Arc::new(Protocol::from_json(&example).expect("docs example loads"));
    assert!(protocol.warnings.is_empty(), "{:?}", protocol.warnings);
    let csv = "id,visit,weight\n1,04/07/2024,\"71,5\"\n1,2024-07-04,0\n";
    let mut sink = Verdicts::new(Arc::clone(&protocol));
    let as_of = "2025-06-30".parse().unwrap();
    validate_bytes(
        protocol,
        Format::Csv,
        &Options::new(as_of),
        csv.as_bytes(),
        &mut sink,
    )
    .unwrap();
    let issues: Vec<String> = sink.lines.iter().map(|l| l["issues"].to_string()).collect();
    assert_eq!(
        issues,
        [
            "[]",
            r#"[["visit","invalid_date"],["weight","out_of_range"],[null,"duplicate"]]"#
        ]
    );
}
