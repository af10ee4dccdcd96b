//! The OpenAPI 3.1 document of the HTTP API, served at
//! `GET /api/v1/openapi.json`.
//!
//! Paths, parameters and answers are written in `openapi.json` beside this
//! file (docs/http.md is their prose); the schemas of results and bodies
//! are generated here from the Rust types that produce or read them — the
//! module's results (`clinval_wasm::schema`), projects, submissions — so
//! the document cannot drift from them. Responses are described as they
//! are serialized, request bodies as they are read (`Option` members may
//! be left out). Tests hold the document to the routes, and schemathesis
//! (in the test command) holds the server to the document; the end-to-end
//! tests call every documented operation.

use schemars::generate::{SchemaGenerator, SchemaSettings};
use serde_json::Value;

use crate::store::{NewProject, Project, ProjectPatch, Revoked, Submission};

use super::patients::{CredentialDoc, ExchangeDoc, InvitationDoc};
use super::submissions::SubmissionDoc;

/// The hand-written part.
const TEMPLATE: &str = include_str!("openapi.json");

/// Where OpenAPI keeps schemas.
const SCHEMAS: &str = "#/components/schemas/";

/// The document for a server of `version` serving `protocols` (the
/// protocols a project may name).
pub fn document(version: &str, protocols: &[&str]) -> Result<Value, serde_json::Error> {
    let mut document: Value = serde_json::from_str(TEMPLATE)?;
    let mut responses = generator(SchemaSettings::draft2020_12().for_serialize());
    clinval_wasm::schema::add_results(&mut responses);
    responses.subschema_for::<Project>();
    responses.subschema_for::<Submission>();
    responses.subschema_for::<InvitationDoc>();
    responses.subschema_for::<CredentialDoc>();
    responses.subschema_for::<Revoked>();
    let mut requests = generator(SchemaSettings::draft2020_12().for_deserialize());
    requests.subschema_for::<SubmissionDoc>();
    requests.subschema_for::<ExchangeDoc>();
    requests.subschema_for::<NewProject>();
    requests.subschema_for::<ProjectPatch>();
    if let Some(schemas) = document["components"]["schemas"].as_object_mut() {
        schemas.extend(responses.take_definitions(true));
        schemas.extend(requests.take_definitions(true));
    }
    for body in ["NewProject", "ProjectPatch"] {
        let protocol = &mut document["components"]["schemas"][body]["properties"]["protocol"];
        if let Some(schema) = protocol.as_object_mut() {
            schema.insert("enum".into(), Value::from(protocols));
        }
    }
    document["info"]["version"] = Value::from(version);
    Ok(document)
}

fn generator(settings: SchemaSettings) -> SchemaGenerator {
    let mut settings = settings;
    settings.definitions_path = SCHEMAS.into();
    settings.into_generator()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `$ref` in `value`.
    fn refs<'v>(value: &'v Value, found: &mut Vec<&'v str>) {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(target)) = map.get("$ref") {
                    found.push(target);
                }
                map.values().for_each(|v| refs(v, found));
            }
            Value::Array(items) => items.iter().for_each(|v| refs(v, found)),
            _ => {}
        }
    }

    #[test]
    fn every_reference_resolves() {
        let document = document("9.9.9", &["patient"]).unwrap();
        assert_eq!(document["openapi"], "3.1.0");
        assert_eq!(document["info"]["version"], "9.9.9");
        let mut found = Vec::new();
        refs(&document, &mut found);
        assert!(found.len() > 40);
        for target in found {
            let path: Vec<&str> = target.trim_start_matches("#/").split('/').collect();
            let resolved = path.iter().try_fold(&document, |node, key| node.get(*key));
            assert!(resolved.is_some(), "{target} does not resolve");
        }
    }

    #[test]
    fn bodies_are_read_as_documented() {
        let document = document("0", &["patient", "epro-daily"]).unwrap();
        let patch = &document["components"]["schemas"]["ProjectPatch"];
        assert_eq!(
            patch["additionalProperties"], false,
            "unknown members are refused"
        );
        assert!(patch.get("required").is_none(), "every change is optional");
        assert_eq!(
            patch["properties"]["protocol"]["enum"],
            serde_json::json!(["patient", "epro-daily"])
        );
        let submission = &document["components"]["schemas"]["Submission"];
        assert!(
            submission["required"]
                .as_array()
                .unwrap()
                .contains(&"error".into())
        );
    }
}
