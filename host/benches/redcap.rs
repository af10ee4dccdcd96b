//! A real REDCap instrument at scale: the shared `redcapr-vignette-repeating`
//! dictionary (227 fields, 135 branching expressions, 5 calculated fields,
//! a repeating instrument) imported as a protocol, on an export of
//! `--records N` rows (default 100,000) made of its 99-row export repeated
//! with fresh record ids.
//!
//! Run: `cargo bench -p clinval-host --bench redcap [-- --records N --rounds R]`
//! (after `cargo run -p clinval-wasm-pack`; default 3 rounds). One core,
//! thread CPU time (see `through_abi`). Prints records/s natively (the
//! engine layer the module wraps) and through `clinval_full_bg.wasm`'s C
//! ABI in wasmtime, then where the time goes: the same export against the
//! protocol without its logic (no `showIf`, `requiredIf`, `calc`), and
//! with every field's checks removed too (reading and cleaning only).

mod through_abi;

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use serde_json::Value;
use through_abi::{Wasm, count_arg, native_events};

const OPTIONS: &str = r#"{"asOf": "2026-12-01"}"#;

fn main() {
    let shared = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data/redcap/redcapr-vignette-repeating");
    let dictionary = std::fs::read(shared.join("dictionary.csv")).expect("the shared dictionary");
    let protocol = clinval_core::redcap::import(&dictionary, "vignette")
        .expect("it imports")
        .protocol;
    let export = std::fs::read_to_string(shared.join("data.csv")).expect("the shared export");
    let records = count_arg("--records", 100_000);
    let rounds = count_arg("--rounds", 3);
    let bytes = scaled(&export, records);
    println!(
        "input: the vignette export repeated to {records} rows ({:.1} MB); protocol {} fields",
        bytes.len() as f64 / 1e6,
        fields(&protocol).len()
    );
    let module_path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../wasm/pkg/clinval_full_bg.wasm"
    );
    let wasm =
        Wasm::new(&std::fs::read(module_path).expect("wasm/pkg (cargo run -p clinval-wasm-pack)"));

    let without_logic = strip(
        &protocol,
        &["showIf", "requiredIf", "calc", "unsupportedLogic"],
    );
    let reading_only = strip(
        &without_logic,
        &[
            "type",
            "format",
            "constraints",
            "categories",
            "typePattern",
            "choiceColumns",
            "delimiter",
        ],
    );
    for (label, protocol) in [
        ("the dictionary", &protocol),
        ("without its logic", &without_logic),
        ("reading and cleaning only", &reading_only),
    ] {
        let (mut native, mut module) = (Duration::MAX, Duration::MAX);
        let mut issues = 0;
        for _ in 0..rounds {
            native = native.min(native_events(protocol, OPTIONS, "csv", &bytes));
            let through_abi::Run {
                cpu: time, summary, ..
            } = wasm.run(protocol, OPTIONS, "csv", &bytes);
            assert_eq!(summary["records"], records, "the module read every record");
            issues = summary["issues"].as_u64().unwrap_or(0);
            module = module.min(time);
        }
        let rate = |t: Duration| records as f64 / t.as_secs_f64();
        println!(
            "{label} ({issues} issues): native {:.0} records/s ({:.3} s), wasm {:.0} records/s ({:.3} s): {:.1}% (best of {rounds})",
            rate(native),
            native.as_secs_f64(),
            rate(module),
            module.as_secs_f64(),
            native.as_secs_f64() / module.as_secs_f64() * 100.0
        );
    }
}

/// The export's header, then its rows repeated until there are `records`,
/// each copy's record ids made new (`07` → `07-3`), so that repeating rows
/// still follow their record.
fn scaled(export: &str, records: usize) -> Vec<u8> {
    let mut lines = export.lines();
    let header = lines.next().expect("a header");
    let rows: Vec<&str> = lines.filter(|l| !l.trim().is_empty()).collect();
    let mut out = Vec::with_capacity(export.len() * (records / rows.len() + 1));
    writeln!(out, "{header}").expect("write to memory");
    for n in 0..records {
        let row = rows[n % rows.len()];
        let (id, rest) = row.split_once(',').expect("a record id first");
        writeln!(out, "{id}-{},{rest}", n / rows.len()).expect("write to memory");
    }
    out
}

/// The protocol's fields.
fn fields(protocol: &str) -> Vec<Value> {
    let doc: Value = serde_json::from_str(protocol).expect("protocol JSON");
    doc["fields"].as_array().cloned().unwrap_or_default()
}

/// The protocol with `keys` removed from every field.
fn strip(protocol: &str, keys: &[&str]) -> String {
    let mut doc: Value = serde_json::from_str(protocol).expect("protocol JSON");
    for field in doc["fields"].as_array_mut().expect("fields") {
        if let Some(field) = field.as_object_mut() {
            for key in keys {
                field.remove(*key);
            }
        }
    }
    doc.to_string()
}
