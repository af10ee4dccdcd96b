//! The protocol document as written: serde shapes of the JSON format.
//!
//! Table Schema keys keep their Table Schema names; clinval's own keys sit
//! beside them. Unknown keys are refused (a typo such as `maxLenght` must not
//! silently drop a check). `compile` turns this into a [`super::Protocol`].

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::value::RawValue;

/// A JSON value kept as written; read by the check that needs it.
pub(super) type Json = Box<RawValue>;

use crate::date::{DateForm, DayMonthOrder};

/// A whole protocol document.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct Document {
    #[serde(rename = "$schema")]
    pub _schema: Option<String>,
    pub name: Option<String>,
    pub title: Option<String>,
    pub description: Option<String>,
    pub version: Option<String>,
    pub fields: Vec<FieldDoc>,
    pub missing_values: Option<Vec<String>>,
    /// One field name or a list (read in compile: an untagged enum here
    /// would pull serde's content buffering into the wasm module).
    pub primary_key: Option<Json>,
    #[serde(default)]
    pub unique_keys: Vec<Vec<String>>,
    #[serde(default)]
    pub rules: Vec<RuleDoc>,
    #[serde(default)]
    pub scores: Vec<ScoreDoc>,
    #[serde(default)]
    pub codes: BTreeMap<String, String>,
}

/// One entry of `fields`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct FieldDoc {
    pub name: String,
    pub title: Option<String>,
    pub description: Option<String>,
    pub example: Option<Json>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub format: Option<String>,
    #[serde(default)]
    pub constraints: ConstraintsDoc,
    pub missing_values: Option<Vec<String>>,
    pub true_values: Option<Vec<String>>,
    pub false_values: Option<Vec<String>>,
    // clinval's own keys.
    #[serde(default)]
    pub titles: BTreeMap<String, String>,
    #[serde(default)]
    pub enum_titles: BTreeMap<String, BTreeMap<String, String>>,
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default)]
    pub collapse_whitespace: bool,
    pub type_pattern: Option<String>,
    pub date_forms: Option<Vec<DateForm>>,
    pub day_month_order: Option<DayMonthOrder>,
    pub allow_time: Option<bool>,
    #[serde(default)]
    pub codes: BTreeMap<String, String>,
}

/// `constraints` of a field.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct ConstraintsDoc {
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub unique: bool,
    pub min_length: Option<usize>,
    pub max_length: Option<usize>,
    pub minimum: Option<Json>,
    pub maximum: Option<Json>,
    pub exclusive_minimum: Option<Json>,
    pub exclusive_maximum: Option<Json>,
    pub pattern: Option<String>,
    #[serde(rename = "enum")]
    pub allowed: Option<Vec<Json>>,
    // clinval's own keys, for `bloodPressure`.
    pub systolic: Option<RangeDoc>,
    pub diastolic: Option<RangeDoc>,
}

/// An inclusive range of whole numbers.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RangeDoc {
    pub minimum: u16,
    pub maximum: u16,
}

/// One cross-field rule: `field op other`, checked when both are valid.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct RuleDoc {
    pub field: String,
    pub op: String,
    pub other: String,
    pub code: String,
    pub description: Option<String>,
}

/// One score of a valid record: the sum of its terms.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct ScoreDoc {
    pub name: String,
    pub title: Option<String>,
    #[serde(default)]
    pub titles: BTreeMap<String, String>,
    pub description: Option<String>,
    pub terms: Vec<TermDoc>,
}

/// One term of a score: a numeric or boolean field times `weight`, or a
/// text field's value looked up in `values`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct TermDoc {
    pub field: String,
    pub weight: Option<f64>,
    pub values: Option<BTreeMap<String, f64>>,
}
