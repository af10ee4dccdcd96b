//! The readers and decoders on any bytes: CSV, JSON and NDJSON, in any
//! encoding the sniffer may pick, against protocols of every kind, fed in
//! chunks of a size the input chooses.
//!
//! Besides not panicking, a run checks the streaming contract: feeding
//! the input in chunks gives the same records, issues and summary as
//! feeding it at once (or the same input error, after the same records).

#![no_main]

use std::sync::{Arc, LazyLock};

use clinval_core::{Format, Options, Outcome, Protocol, Session, Sink, TableIssue};
use libfuzzer_sys::fuzz_target;

static PROTOCOLS: LazyLock<Vec<Arc<Protocol>>> = LazyLock::new(|| {
    let documents = [
        include_str!("../../tests/fixtures/parity/table-schema.protocol.json"),
        include_str!("../../tests/fixtures/parity/logic.protocol.json"),
        include_str!("../../tests/fixtures/parity/labs.protocol.json"),
    ];
    let mut protocols: Vec<Arc<Protocol>> = ["patient", "epro-daily"]
        .into_iter()
        .map(|name| Arc::new(Protocol::builtin(name).expect("built-in protocol")))
        .collect();
    protocols.extend(
        documents
            .into_iter()
            .map(|doc| Arc::new(Protocol::from_json(doc).expect("fixture protocol"))),
    );
    protocols
});

/// Everything a run reports, in order, as text.
#[derive(Default, PartialEq, Debug)]
struct Trace(Vec<String>);

impl Sink for Trace {
    fn record(&mut self, outcome: &Outcome<'_>) {
        let codes: Vec<_> = outcome.issues.iter().map(|i| format!("{:?}", i.code)).collect();
        self.0.push(format!("{} {} {codes:?} {:?}", outcome.row, outcome.line, outcome.values));
    }
    fn table_issue(&mut self, issue: &TableIssue) {
        self.0.push(format!("{issue:?}"));
    }
}

fn run(protocol: &Arc<Protocol>, format: Format, input: &[u8], chunk: usize) -> (Trace, String) {
    let as_of = chrono::NaiveDate::from_ymd_opt(2025, 6, 30).expect("date");
    let mut options = Options::new(as_of);
    options.max_record_bytes = 4096;
    let mut session = Session::new(protocol.clone(), format, &options);
    let mut trace = Trace::default();
    for piece in input.chunks(chunk.max(1)) {
        if let Err(error) = session.feed(piece, &mut trace) {
            return (trace, format!("error {error}"));
        }
    }
    let end = match session.finish(&mut trace) {
        Ok(summary) => format!("{summary:?}"),
        Err(error) => format!("error {error}"),
    };
    (trace, end)
}

fuzz_target!(|data: &[u8]| {
    let [selector, chunk, input @ ..] = data else {
        return;
    };
    let format = [Format::Csv, Format::Json, Format::Ndjson][usize::from(selector % 3)];
    let protocol = &PROTOCOLS[usize::from(selector / 3) % PROTOCOLS.len()];
    let whole = run(protocol, format, input, input.len());
    let chunked = run(protocol, format, input, usize::from(*chunk));
    assert_eq!(whole, chunked);
});
