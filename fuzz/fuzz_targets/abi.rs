//! The C ABI under random call sequences: validators and batches created,
//! fed in random chunks, finished and freed in any order, with stale,
//! foreign and made-up handles and arbitrary bytes as arguments.
//!
//! Every call must answer with a status and a JSON result (an error
//! result whenever the status is negative), never panic.

#![no_main]

use arbitrary::Arbitrary;
use clinval_wasm::abi::State;
use libfuzzer_sys::fuzz_target;

/// A handle argument: one the module gave out (by its index among them,
/// live or not), or any number at all.
#[derive(Arbitrary, Debug)]
enum Handle {
    Given(u8),
    Raw(i32),
}

#[derive(Arbitrary, Debug)]
enum Call {
    ValidatorNew { protocol: u8, options: Vec<u8> },
    ValidatorNewFrom { document: Vec<u8> },
    ValidatorFree(Handle),
    CheckField { validator: Handle, field: u8, value: Vec<u8> },
    CheckRecord { validator: Handle, record: Vec<u8> },
    BatchNew { validator: Handle, format: u8 },
    KeysNew { validator: Handle, foreign_key: i32, source: Handle, format: u8 },
    BatchFeed { batch: Handle, chunk: Vec<u8> },
    BatchFinish(Handle),
    BatchFree(Handle),
    Info,
}

const PROTOCOLS: [&[u8]; 4] = [
    b"patient",
    b"epro-daily",
    include_bytes!("../../tests/fixtures/parity/logic.protocol.json"),
    include_bytes!("../../tests/fixtures/datapackage/patients.schema.json"),
];
const OPTIONS: [&[u8]; 3] = [
    br#"{"asOf": "2025-06-30", "includeValid": true}"#,
    br#"{"asOf": "2025-06-30", "lang": "zh-CN", "maxRecordBytes": 64}"#,
    b"",
];
const FIELDS: [&[u8]; 5] = [b"id", b"age", b"visitDate", b"pain", b"nope"];
const FORMATS: [&[u8]; 4] = [b"csv", b"json", b"ndjson", b"xlsx"];

fn pick<'a>(choices: &[&'a [u8]], i: u8) -> &'a [u8] {
    choices[usize::from(i) % choices.len()]
}

fuzz_target!(|calls: Vec<Call>| {
    let mut state = State::default();
    let mut given: Vec<i32> = Vec::new();
    let handle = |h: &Handle, given: &[i32]| match *h {
        Handle::Given(i) if !given.is_empty() => given[usize::from(i) % given.len()],
        Handle::Given(i) => i32::from(i),
        Handle::Raw(raw) => raw,
    };
    for call in calls.iter().take(64) {
        let (status, created) = match call {
            Call::ValidatorNew { protocol, options } => {
                let options = if options.is_empty() { pick(&OPTIONS, *protocol) } else { options };
                (state.validator_new(pick(&PROTOCOLS, *protocol), options), true)
            }
            Call::ValidatorNewFrom { document } => (state.validator_new(document, OPTIONS[0]), true),
            Call::ValidatorFree(h) => (state.validator_free(handle(h, &given)), false),
            Call::CheckField { validator, field, value } => {
                (state.check_field(handle(validator, &given), pick(&FIELDS, *field), value), false)
            }
            Call::CheckRecord { validator, record } => (state.check_record(handle(validator, &given), record), false),
            Call::BatchNew { validator, format } => {
                (state.batch_new(handle(validator, &given), pick(&FORMATS, *format)), true)
            }
            Call::KeysNew { validator, foreign_key, source, format } => (
                state.keys_new(handle(validator, &given), *foreign_key, handle(source, &given), pick(&FORMATS, *format)),
                true,
            ),
            Call::BatchFeed { batch, chunk } => (state.batch_feed(handle(batch, &given), chunk), false),
            Call::BatchFinish(h) => (state.batch_finish(handle(h, &given)), false),
            Call::BatchFree(h) => (state.batch_free(handle(h, &given)), false),
            Call::Info => (state.info(), false),
        };
        let result: serde_json::Value = serde_json::from_slice(state.result())
            .unwrap_or_else(|e| panic!("{call:?}: the result is not JSON: {e}"));
        if status < 0 {
            assert!(result["error"]["code"].is_string(), "{call:?}: {result}");
        } else if created {
            assert!(status > 0, "{call:?}: handle {status}");
            given.push(status);
        } else {
            assert_eq!(status, 0, "{call:?}");
        }
    }
});
