//! What the reader targets share: an input run through a session in
//! chunks of a chosen size, and everything it reports as text, so a run in
//! chunks can be compared with the run at once (the streaming contract).

use std::sync::Arc;

use clinval_core::{Format, Options, Outcome, Protocol, Session, Sink, TableIssue};

/// Everything a run reports, in order, as text.
#[derive(Default, PartialEq, Debug)]
pub struct Trace(Vec<String>);

impl Sink for Trace {
    fn record(&mut self, outcome: &Outcome<'_>) {
        let issues: Vec<_> = outcome.issues.iter().map(|i| (outcome.cell(i.field), i.code.clone())).collect();
        self.0.push(format!("{} {} {issues:?} {:?}", outcome.row, outcome.line, outcome.values));
    }
    fn table_issue(&mut self, issue: &TableIssue) {
        self.0.push(format!("{issue:?}"));
    }
}

/// `input` read as `format` under `protocol` with `options`, fed `chunk`
/// bytes at a time: what it reported, and how it ended.
pub fn run(protocol: &Arc<Protocol>, format: Format, options: &Options, input: &[u8], chunk: usize) -> (Trace, String) {
    let mut session = Session::new(protocol.clone(), format, options);
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

/// The as-of date of every run.
pub fn options() -> Options {
    Options::new(chrono::NaiveDate::from_ymd_opt(2025, 6, 30).expect("date"))
}
