//! Checking one record with the module: the lease of an instance, the
//! protocol's validator in it, and the verdict read into a type, so that
//! no caller reads the module's JSON itself.

use clinval_core::Lang;
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::pool::Busy;
use crate::protocols::Entry;
use crate::wasm_host::CallError;

use super::Services;

/// Why a record could not be checked.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// No instance came free (the queue is full, or waited too long).
    #[error("no validation worker is free")]
    Busy {
        /// Why.
        busy: Busy,
        /// When to try again.
        retry_after: std::time::Duration,
    },
    /// The module refused the input or failed.
    #[error(transparent)]
    Call(#[from] CallError),
    /// The module's verdict is not a RecordVerdict.
    #[error("the module's verdict could not be read: {0}")]
    Unreadable(#[source] serde_json::Error),
}

/// The module's verdict on one record (a RecordVerdict, docs/abi.md).
#[derive(Debug)]
pub struct RecordVerdict {
    /// No issue.
    pub valid: bool,
    /// The issues (FieldIssue objects).
    pub issues: Vec<serde_json::Value>,
    /// The scores of a valid record.
    pub scores: Option<Box<RawValue>>,
    /// The verdict as the module wrote it (answered as is).
    pub json: Vec<u8>,
}

impl RecordVerdict {
    /// Reads the module's verdict.
    pub fn parse(json: Vec<u8>) -> Result<RecordVerdict, CheckError> {
        #[derive(Deserialize)]
        struct Read {
            valid: bool,
            issues: Vec<serde_json::Value>,
            scores: Option<Box<RawValue>>,
        }
        let read: Read = serde_json::from_slice(&json).map_err(CheckError::Unreadable)?;
        Ok(RecordVerdict {
            valid: read.valid,
            issues: read.issues,
            scores: read.scores,
            json,
        })
    }

    /// The issues' codes.
    pub fn codes(&self) -> impl Iterator<Item = &str> {
        self.issues.iter().filter_map(|i| i["code"].as_str())
    }

    /// `field: code, ...` of the issues (no values: they are data).
    pub fn field_codes(&self) -> String {
        let codes: Vec<String> = self
            .issues
            .iter()
            .filter_map(|i| Some(format!("{}: {}", i["field"].as_str()?, i["code"].as_str()?)))
            .collect();
        codes.join(", ")
    }
}

/// Module options for checking records as of `as_of` (YYYY-MM-DD).
pub fn record_options(as_of: &str, lang: Lang) -> serde_json::Value {
    serde_json::json!({ "asOf": as_of, "lang": lang.tag(), "includeValid": false })
}

/// Names a protocol + options pair in an instance's validator cache.
pub fn validator_key(protocol: &Entry, options: &serde_json::Value) -> String {
    format!("{}\n{options}", protocol.name)
}

impl Services {
    /// Checks one record (a JSON object) against `protocol` with the
    /// module `options`, on a leased instance; counts it in the metrics.
    pub async fn check_record(
        &self,
        protocol: &Entry,
        options: serde_json::Value,
        record: &[u8],
    ) -> Result<RecordVerdict, CheckError> {
        let mut lease = self.lease(protocol.build).await?;
        let key = validator_key(protocol, &options);
        let json = lease.run_inline(|worker| {
            let validator = worker.validator(&key, &protocol.source, &options)?;
            worker.client.check_record(validator, record)
        })?;
        drop(lease);
        let verdict = RecordVerdict::parse(json)?;
        let mut summary = clinval_core::Summary {
            records: 1,
            ..Default::default()
        };
        for code in verdict.codes() {
            *summary.by_code.entry(code.to_owned()).or_default() += 1;
        }
        self.metrics.count_summary(&summary);
        Ok(verdict)
    }
}
