//! Report shapes shared by every host: the summary, the error-log line and
//! the cleaned record, all serialised the same way everywhere.

use std::collections::BTreeMap;

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};

use crate::issue::{Issue, Lang, TableIssue};
use crate::protocol::{Protocol, ScoresJson};
use crate::reader::Warning;
use crate::validator::Outcome;
use crate::value::Value;

/// Numbers by name, `null` where one cannot be computed (scores and
/// calculated fields, as results carry them).
#[cfg(feature = "schema")]
pub type Scores = BTreeMap<String, Option<f64>>;

/// Counts over one input (or several, merged).
#[derive(Debug, Clone, Default, PartialEq, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// Records read (blank lines are not records).
    pub records: u64,
    /// Records without issues.
    pub valid: u64,
    /// Records with at least one issue.
    pub invalid: u64,
    /// Issues in all.
    pub issues: u64,
    /// Issues by code.
    pub by_code: BTreeMap<String, u64>,
    /// Issues of the input as a whole (its header), counted in `issues`.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub table_issues: u64,
    /// Notes about the input.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<Warning>,
    /// The encoding the input was read with (`UTF-8`, `GB18030`,
    /// `UTF-16`); merged over several inputs, the first one's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoding: Option<crate::TextEncoding>,
    /// For a workbook: its format and the sheet read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workbook: Option<crate::WorkbookFacts>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl Summary {
    /// Counts one record's verdict.
    pub fn add(&mut self, outcome: &Outcome<'_>) {
        self.records += 1;
        if outcome.is_valid() {
            self.valid += 1;
            return;
        }
        self.invalid += 1;
        for issue in &outcome.issues {
            self.count(&issue.code);
        }
    }

    /// Counts an issue of the whole input.
    pub fn add_table_issue(&mut self, issue: &TableIssue) {
        self.table_issues += 1;
        self.count(&issue.issue.code);
    }

    fn count(&mut self, code: &str) {
        self.issues += 1;
        match self.by_code.get_mut(code) {
            Some(n) => *n += 1,
            None => {
                self.by_code.insert(code.to_owned(), 1);
            }
        }
    }

    /// Whether everything checked passed: no invalid record, no issue of
    /// the input as a whole.
    pub fn is_clean(&self) -> bool {
        self.invalid == 0 && self.table_issues == 0
    }

    /// Adds another summary's counts to this one.
    pub fn merge(&mut self, other: &Summary) {
        self.records += other.records;
        self.valid += other.valid;
        self.invalid += other.invalid;
        self.issues += other.issues;
        self.table_issues += other.table_issues;
        for (code, n) in &other.by_code {
            *self.by_code.entry(code.clone()).or_default() += n;
        }
        self.warnings.extend(other.warnings.iter().cloned());
        self.encoding = self.encoding.or(other.encoding);
        self.workbook = self.workbook.take().or_else(|| other.workbook.clone());
    }
}

/// One line of the error log: `{"row","line","field","code","message","value"}`
/// (and `column` for an issue of the header).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct IssueLine<'a> {
    /// 1-based record index; `null` for an issue of the input as a whole.
    pub row: Option<u64>,
    /// Physical line where the record (or the header) starts.
    pub line: u64,
    /// The header column concerned (1-based), for header issues.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
    /// In a workbook: the sheet and cell (`patients!C17`), or the row
    /// (`patients!17:17`) for a row issue; `line` is the sheet's row.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cell: Option<String>,
    /// Field output key; `null` for a row issue.
    pub field: Option<&'a str>,
    /// Stable issue code.
    pub code: &'a str,
    /// Message for people, in the run's language.
    pub message: String,
    /// The cleaned value concerned.
    pub value: Option<&'a str>,
}

impl<'a> IssueLine<'a> {
    /// The error-log line for `issue` of `outcome`.
    pub fn new(
        outcome: &Outcome<'_>,
        issue: &'a Issue,
        protocol: &'a Protocol,
        lang: Lang,
    ) -> Self {
        IssueLine {
            row: Some(outcome.row),
            line: outcome.line,
            column: None,
            cell: outcome.cell(issue.field),
            field: issue.field_name(protocol),
            code: &issue.code,
            message: issue.message(protocol, lang),
            value: issue.value.as_deref(),
        }
    }
}

impl<'a> IssueLine<'a> {
    /// The error-log line for an issue of the input as a whole.
    pub fn of_table(issue: &'a TableIssue, protocol: &'a Protocol, lang: Lang) -> Self {
        IssueLine {
            row: None,
            line: issue.line,
            column: issue.column,
            cell: issue.cell.clone(),
            field: issue.issue.field_name(protocol),
            code: &issue.issue.code,
            message: issue.issue.message(protocol, lang),
            value: issue.issue.value.as_deref(),
        }
    }
}

/// An issue of a single record or value (no row or line): what forms and
/// the one-record API show.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct FieldIssue {
    /// Field output key; `null` for a row issue.
    pub field: Option<String>,
    /// Stable issue code.
    pub code: String,
    /// Message for people.
    pub message: String,
    /// The message for the patient a form shows: the question's title in
    /// the run's language, plain words, no field keys (full module; absent
    /// for issues no patient meets in a form).
    #[serde(rename = "patientMessage", skip_serializing_if = "Option::is_none")]
    pub patient_message: Option<String>,
    /// The cleaned value concerned.
    pub value: Option<String>,
}

impl FieldIssue {
    /// The issue as shown for one record.
    pub fn new(issue: &Issue, protocol: &Protocol, lang: Lang) -> FieldIssue {
        FieldIssue {
            field: issue.field_name(protocol).map(str::to_owned),
            code: issue.code.to_string(),
            message: issue.message(protocol, lang),
            patient_message: issue.patient_message(protocol, lang),
            value: issue.value.clone(),
        }
    }
}

/// The verdict on one record: `{"valid", "issues", "record"}`, the same
/// answer in the browser, the server and a partner's host.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RecordVerdict {
    /// No issue.
    pub valid: bool,
    /// Every issue.
    pub issues: Vec<FieldIssue>,
    /// The cleaned record when valid, else `null`.
    #[cfg_attr(
        feature = "schema",
        schemars(with = "Option<serde_json::Map<String, serde_json::Value>>")
    )]
    pub record: Option<Box<serde_json::value::RawValue>>,
    /// The protocol's scores of a valid record (absent when the protocol
    /// defines none): `{"name": number | null}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<crate::report::Scores>"))]
    pub scores: Option<Box<serde_json::value::RawValue>>,
    /// The fields branching hides in this record, by output key (absent
    /// when the protocol has no logic): a form does not show them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hidden: Option<Vec<String>>,
    /// The calculated fields' values, valid or not (absent when the
    /// protocol has none): `{"name": number | null}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<crate::report::Scores>"))]
    pub calculated: Option<Box<serde_json::value::RawValue>>,
}

impl RecordVerdict {
    /// The verdict for `outcome`.
    pub fn new(outcome: &Outcome<'_>, protocol: &Protocol, lang: Lang) -> RecordVerdict {
        let valid = outcome.is_valid();
        RecordVerdict {
            valid,
            issues: outcome
                .issues
                .iter()
                .map(|issue| FieldIssue::new(issue, protocol, lang))
                .collect(),
            // Serialising a record to a JSON value cannot fail.
            record: valid
                .then(|| RecordJson { protocol, outcome }.to_raw())
                .flatten(),
            scores: scores_json(protocol, outcome),
            hidden: protocol.logic.as_ref().map(|_| {
                outcome
                    .hidden
                    .iter()
                    .map(|&f| protocol.fields[f].name.clone())
                    .collect()
            }),
            calculated: protocol
                .logic
                .as_ref()
                .filter(|logic| !logic.calcs.is_empty())
                .and_then(|_| {
                    serde_json::value::to_raw_value(&CalculatedJson { protocol, outcome }).ok()
                }),
        }
    }
}

/// A record's calculated values as `{"name": number | null}`.
struct CalculatedJson<'o, 'a> {
    protocol: &'o Protocol,
    outcome: &'o Outcome<'a>,
}

impl Serialize for CalculatedJson<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let calculated = &self.outcome.calculated;
        let mut map = s.serialize_map(Some(calculated.len()))?;
        for &(field, value) in calculated {
            let value = value.map_or(Value::Missing, Value::Number);
            map.serialize_entry(&self.protocol.fields[field].name, &value)?;
        }
        map.end()
    }
}

/// A valid record as output JSON: fields in protocol order, then the
/// carried extra columns.
pub struct RecordJson<'o, 'a> {
    /// The protocol (for field names).
    pub protocol: &'o Protocol,
    /// The record's verdict.
    pub outcome: &'o Outcome<'a>,
}

impl RecordJson<'_, '_> {
    /// The record as a JSON text (`None` only if serialising failed, which
    /// these types cannot).
    pub fn to_raw(&self) -> Option<Box<serde_json::value::RawValue>> {
        serde_json::value::to_raw_value(self).ok()
    }
}

impl Serialize for RecordJson<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let fields = &self.protocol.fields;
        let extras = &self.outcome.extras;
        let mut map = s.serialize_map(Some(fields.len() + extras.len()))?;
        for (field, value) in fields.iter().zip(&self.outcome.values) {
            map.serialize_entry(&field.name, value)?;
        }
        for (name, value) in extras {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

/// The protocol's scores of a valid record, `{"name": number | null}`;
/// `None` for an invalid record or a protocol without scores.
pub fn scores_json(
    protocol: &Protocol,
    outcome: &Outcome<'_>,
) -> Option<Box<serde_json::value::RawValue>> {
    if !outcome.is_valid() || protocol.scores.is_empty() {
        return None;
    }
    let scores = ScoresJson {
        scores: &protocol.scores,
        values: &outcome.values,
    };
    serde_json::value::to_raw_value(&scores).ok()
}
