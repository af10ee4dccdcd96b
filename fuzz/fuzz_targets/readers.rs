//! The readers and decoders on any bytes: CSV, JSON and NDJSON, in any
//! encoding the sniffer may pick, against protocols of every kind, fed in
//! chunks of a size the input chooses.
//!
//! Besides not panicking, a run checks the streaming contract: feeding
//! the input in chunks gives the same records, issues and summary as
//! feeding it at once (or the same input error, after the same records).

#![no_main]

mod streaming;

use std::sync::{Arc, LazyLock};

use clinval_core::{Format, Protocol};
use libfuzzer_sys::fuzz_target;
use streaming::run;

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

fuzz_target!(|data: &[u8]| {
    let [selector, chunk, input @ ..] = data else {
        return;
    };
    let format = [Format::Csv, Format::Json, Format::Ndjson][usize::from(selector % 3)];
    let protocol = &PROTOCOLS[usize::from(selector / 3) % PROTOCOLS.len()];
    let mut options = streaming::options();
    options.max_record_bytes = 4096;
    let whole = run(protocol, format, &options, input, input.len());
    let chunked = run(protocol, format, &options, input, usize::from(*chunk));
    assert_eq!(whole, chunked);
});
