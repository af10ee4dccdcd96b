//! The protocol loaders on any text: protocol JSON and plain Table
//! Schemas, and REDCap data dictionaries (whose import must give a
//! protocol the loader accepts).

#![no_main]

use clinval_core::{Protocol, redcap};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(protocol) = Protocol::from_json(text) {
            let _ = protocol.describe();
            let _ = protocol.describe_scores();
        }
    }
    if let Ok(import) = redcap::import(data, "fuzz") {
        if let Err(error) = Protocol::from_json(&import.protocol) {
            panic!("an imported dictionary is refused: {error}\n{}", import.protocol);
        }
    }
});
