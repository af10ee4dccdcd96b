//! JSON Schemas of every result the module gives (feature `schema`, never
//! in the wasm modules): generated from the Rust types that produce the
//! results, so they cannot drift from them. The pack tool writes them to
//! `wasm/pkg/clinval.schema.json` with TypeScript types beside them, and
//! the server's OpenAPI document takes the same ones.

use schemars::SchemaGenerator;

use clinval_core::{FieldIssue, IssueLine, RecordVerdict, Summary};

use crate::abi::ErrorBody;
use crate::engine::{Events, FieldVerdict, ModuleInfo, ProtocolInfo};

/// The result shapes, by the name docs/abi.md gives them.
pub const RESULTS: [&str; 8] = [
    "ModuleInfo",
    "ProtocolInfo",
    "FieldVerdict",
    "RecordVerdict",
    "Events",
    "Summary",
    "IssueLine",
    "ErrorBody",
];

/// Adds every result shape (and the shapes inside them) to `generator`'s
/// definitions; [`RESULTS`] names the roots.
pub fn add_results(generator: &mut SchemaGenerator) {
    generator.subschema_for::<ModuleInfo>();
    generator.subschema_for::<ProtocolInfo>();
    generator.subschema_for::<FieldVerdict>();
    generator.subschema_for::<RecordVerdict>();
    generator.subschema_for::<Events>();
    generator.subschema_for::<Summary>();
    generator.subschema_for::<IssueLine<'static>>();
    generator.subschema_for::<FieldIssue>();
    generator.subschema_for::<ErrorBody<'static>>();
}

/// One JSON Schema document (draft 2020-12) with every result shape under
/// `$defs`.
pub fn results_document() -> serde_json::Value {
    let mut generator = schemars::generate::SchemaSettings::draft2020_12()
        .for_serialize()
        .into_generator();
    add_results(&mut generator);
    serde_json::json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "clinval module results (docs/abi.md)",
        "$defs": generator.take_definitions(true),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_result_has_a_definition() {
        let document = results_document();
        let defs = document["$defs"].as_object().unwrap();
        for name in RESULTS {
            assert!(defs.contains_key(name), "{name}: {:?}", defs.keys());
        }
        assert_eq!(
            defs["RecordVerdict"]["required"],
            serde_json::json!(["valid", "issues", "record"])
        );
    }
}
