//! Protocols: a trial's record rules as data.
//!
//! A protocol is a JSON document in Frictionless Table Schema's vocabulary
//! plus clinval's own keys (aliases, clinical types, date forms, cross-field
//! rules, issue codes); `docs/protocol.md` is its reference. Loading checks
//! the whole document and compiles it (regexes built, bounds typed, header
//! names indexed) so validating a record does no lookups by name.

mod compile;
mod document;
mod score;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::NaiveDate;
use thiserror::Error;

use serde_json::value::RawValue as RawJson;

use crate::date::DateSyntax;
pub use crate::pattern::Pattern;
pub use score::{Score, ScoreInfo, ScoresJson};

/// Built-in protocols, compiled into the crate: `(name, document)`.
const BUILTINS: &[(&str, &str)] = &[
    ("patient", include_str!("patient.json")),
    ("epro-daily", include_str!("epro-daily.json")),
];

/// Why a protocol document was refused.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ProtocolError {
    /// The document is not well-formed JSON.
    #[error("protocol is not valid JSON (line {line}, column {column}): {message}")]
    Syntax {
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// A key has a value that cannot be used.
    #[error("protocol key `{path}`: {message}")]
    Key {
        /// Where: a path such as `fields[2].constraints.pattern`.
        path: String,
        /// What is wrong with it.
        message: String,
    },
    /// No built-in protocol has this name.
    #[error("no built-in protocol named `{0}` (built-in: {list})", list = builtin_names().join(", "))]
    UnknownBuiltin(String),
}

/// Names of the built-in protocols.
pub fn builtin_names() -> Vec<&'static str> {
    BUILTINS.iter().map(|(name, _)| *name).collect()
}

/// A compiled protocol, ready to validate records.
#[derive(Debug)]
pub struct Protocol {
    /// The protocol's name (`name` key; `custom` when absent).
    pub name: String,
    /// Human title.
    pub title: Option<String>,
    /// What the protocol is for.
    pub description: Option<String>,
    /// Protocol version, as the document gives it.
    pub version: Option<String>,
    /// Fields, in document order (which is the output key order).
    pub fields: Vec<Field>,
    /// Uniqueness checks over several fields (`primaryKey`, `uniqueKeys`).
    pub keys: Vec<UniqueKey>,
    /// Cross-field rules.
    pub rules: Vec<CompareRule>,
    /// Scores of valid records.
    pub scores: Vec<Score>,
    /// Code for a record whose shape is wrong (cell count, not an object).
    pub malformed_code: Code,
    /// Header key (see [`crate::clean::header_key`]) → field index.
    columns: HashMap<String, usize>,
    /// The document text it was compiled from.
    source: Arc<str>,
}

/// Texts by key (a language tag, or an allowed value).
pub type Titles = BTreeMap<String, String>;

/// An issue code: stable, machine-readable, set by the protocol.
pub type Code = Arc<str>;

impl Protocol {
    /// Loads and checks a protocol document.
    pub fn from_json(text: &str) -> Result<Protocol, ProtocolError> {
        compile::compile(text)
    }

    /// One of the built-in protocols, by name (e.g. `patient`).
    pub fn builtin(name: &str) -> Result<Protocol, ProtocolError> {
        let (_, text) = BUILTINS
            .iter()
            .find(|(n, _)| *n == name)
            .ok_or_else(|| ProtocolError::UnknownBuiltin(name.to_owned()))?;
        Protocol::from_json(text)
    }

    /// The field a header or JSON key names, by name or alias, after
    /// [`crate::clean::header_key`] normalisation.
    pub fn column(&self, header_key: &str) -> Option<usize> {
        self.columns.get(header_key).copied()
    }

    /// The document text this protocol was compiled from.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The index of the field a name or alias names.
    pub fn field_index(&self, name: &str) -> Option<usize> {
        self.column(&crate::clean::header_key(name))
    }

    /// What a form needs to know of each field, in order.
    pub fn describe(&self) -> Vec<FieldInfo> {
        self.fields.iter().map(Field::info).collect()
    }

    /// The protocol's scores, as a form shows them.
    pub fn describe_scores(&self) -> Vec<ScoreInfo> {
        self.scores.iter().map(Score::info).collect()
    }
}

/// A field as a form builder sees it: label, type and limits.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldInfo {
    /// Output key.
    pub name: String,
    /// Label (the name when the protocol gives no title).
    pub title: String,
    /// The label in other languages, by language tag.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub titles: Titles,
    /// Labels of the allowed values in other languages: tag → value → label.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub enum_titles: BTreeMap<String, Titles>,
    /// Help text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Type name (`string`, `integer`, `number`, `boolean`, `date`, `bloodPressure`).
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Must be given.
    pub required: bool,
    /// Lower bound (number, or ISO date, or `$asOf`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub minimum: Option<Box<RawJson>>,
    /// Upper bound.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub maximum: Option<Box<RawJson>>,
    /// Exclusive lower bound.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exclusive_minimum: Option<Box<RawJson>>,
    /// Exclusive upper bound.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exclusive_maximum: Option<Box<RawJson>>,
    /// Shortest text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_length: Option<usize>,
    /// Longest text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_length: Option<usize>,
    /// Pattern the text must match.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    /// Allowed values (canonical text).
    #[serde(rename = "enum", skip_serializing_if = "Option::is_none")]
    pub allowed: Option<Vec<String>>,
    /// An example value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub example: Option<Box<RawJson>>,
}

impl Field {
    /// This field as a form builder sees it.
    pub fn info(&self) -> FieldInfo {
        /// `(inclusive, exclusive)` of a bound, as JSON text.
        fn bound<T: Copy>(
            limit: &Option<Limit<T>>,
            to_json: impl Fn(T) -> String,
        ) -> [Option<Box<RawJson>>; 2] {
            let json = |value| RawJson::from_string(to_json(value)).ok();
            match limit {
                Some(l) if l.exclusive => [None, json(l.value)],
                Some(l) => [json(l.value), None],
                None => [None, None],
            }
        }
        let date = |d: DateLimit| match d {
            DateLimit::Fixed(date) => format!("\"{}\"", crate::Value::Date(date).canonical()),
            DateLimit::AsOf => format!("\"{}\"", compile::AS_OF),
        };
        let (minimum, maximum) = match &self.kind {
            FieldKind::Integer {
                minimum, maximum, ..
            } => (
                bound(minimum, |n: i64| n.to_string()),
                bound(maximum, |n: i64| n.to_string()),
            ),
            FieldKind::Number {
                minimum, maximum, ..
            } => (
                bound(minimum, crate::value::number_text),
                bound(maximum, crate::value::number_text),
            ),
            FieldKind::Date {
                minimum, maximum, ..
            } => (bound(minimum, date), bound(maximum, date)),
            _ => ([None, None], [None, None]),
        };
        let ([minimum, exclusive_minimum], [maximum, exclusive_maximum]) = (minimum, maximum);
        FieldInfo {
            name: self.name.clone(),
            title: self.title.clone().unwrap_or_else(|| self.name.clone()),
            titles: self.titles.clone(),
            enum_titles: self.enum_titles.clone(),
            description: self.description.clone(),
            kind: self.kind.type_name(),
            required: self.required,
            minimum,
            maximum,
            exclusive_minimum,
            exclusive_maximum,
            min_length: self.min_length,
            max_length: self.max_length,
            pattern: self.pattern.as_ref().map(|p| p.source.clone()),
            allowed: self.allowed.clone(),
            example: self.example.clone(),
        }
    }
}

/// One field of a record.
#[derive(Debug)]
pub struct Field {
    /// Output key.
    pub name: String,
    /// Human label.
    pub title: Option<String>,
    /// The label in other languages, by language tag (`zh-CN`).
    pub titles: Titles,
    /// Labels of the allowed values in other languages: tag → value → label.
    pub enum_titles: BTreeMap<String, Titles>,
    /// Longer help text.
    pub description: Option<String>,
    /// An example value, as the document gives it (for forms and docs).
    pub example: Option<Box<RawJson>>,
    /// Other header names that mean this field (as written).
    pub aliases: Vec<String>,
    /// Type and type-specific checks.
    pub kind: FieldKind,
    /// A missing value is an issue.
    pub required: bool,
    /// Cleaned texts that count as missing (beyond the empty text).
    pub missing_values: Vec<String>,
    /// Inner runs of white space become one space.
    pub collapse_whitespace: bool,
    /// Length bounds in characters, of the cleaned text.
    pub min_length: Option<usize>,
    /// See `min_length`.
    pub max_length: Option<usize>,
    /// The cleaned text must match this (anchored at both ends).
    pub pattern: Option<Pattern>,
    /// Allowed values, in canonical output form.
    pub allowed: Option<Vec<String>>,
    /// No two records may have the same value.
    pub unique: bool,
    /// Issue codes of this field's checks.
    pub codes: FieldCodes,
}

/// A bound on a value: inclusive (`minimum`) or exclusive (`exclusiveMinimum`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limit<T> {
    /// The bound.
    pub value: T,
    /// Whether the bound itself is outside the range.
    pub exclusive: bool,
}

/// A date bound: a fixed date or the run's as-of date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateLimit {
    /// A fixed date.
    Fixed(NaiveDate),
    /// The as-of date of the run (`"$asOf"`).
    AsOf,
}

/// A field's type, with the checks that belong to it.
#[derive(Debug)]
pub enum FieldKind {
    /// Any text.
    String,
    /// A whole number; `lexical` (clinval's `typePattern`) narrows how it may be written.
    Integer {
        /// When set, the cleaned text must match it or it is a `type` issue.
        lexical: Option<Pattern>,
        /// Lower bound.
        minimum: Option<Limit<i64>>,
        /// Upper bound.
        maximum: Option<Limit<i64>>,
    },
    /// A decimal number.
    Number {
        /// When set, the cleaned text must match it or it is a `type` issue.
        lexical: Option<Pattern>,
        /// Lower bound.
        minimum: Option<Limit<f64>>,
        /// Upper bound.
        maximum: Option<Limit<f64>>,
    },
    /// `true`/`false` by the field's true and false values.
    Boolean {
        /// Texts read as true.
        true_values: Vec<String>,
        /// Texts read as false.
        false_values: Vec<String>,
    },
    /// A calendar date, output as ISO `YYYY-MM-DD`.
    Date {
        /// Accepted forms.
        syntax: DateSyntax,
        /// Earliest date.
        minimum: Option<Limit<DateLimit>>,
        /// Latest date.
        maximum: Option<Limit<DateLimit>>,
    },
    /// `systolic/diastolic` in mmHg, output as `"S/D"`.
    BloodPressure {
        /// Plausible systolic range (inclusive).
        systolic: (u16, u16),
        /// Plausible diastolic range (inclusive).
        diastolic: (u16, u16),
    },
}

impl FieldKind {
    /// The type's name in protocol documents.
    pub fn type_name(&self) -> &'static str {
        match self {
            FieldKind::String => "string",
            FieldKind::Integer { .. } => "integer",
            FieldKind::Number { .. } => "number",
            FieldKind::Boolean { .. } => "boolean",
            FieldKind::Date { .. } => "date",
            FieldKind::BloodPressure { .. } => "bloodPressure",
        }
    }
}

/// The issue code each check of a field reports.
#[derive(Debug, Clone)]
pub struct FieldCodes {
    /// Missing value.
    pub required: Code,
    /// Not of the field's type (date: not a date).
    pub kind: Code,
    /// Day and month order cannot be told.
    pub ambiguous: Code,
    /// Does not match `pattern`.
    pub pattern: Code,
    /// Shorter than `minLength`.
    pub min_length: Code,
    /// Longer than `maxLength`.
    pub max_length: Code,
    /// Below `minimum`.
    pub minimum: Code,
    /// Above `maximum`.
    pub maximum: Code,
    /// Not one of `enum`.
    pub allowed: Code,
    /// Repeats an earlier record's value (`unique`).
    pub unique: Code,
    /// A clinical value outside physiological limits.
    pub implausible: Code,
}

/// A uniqueness check over several fields.
#[derive(Debug)]
pub struct UniqueKey {
    /// Field indexes, in key order.
    pub fields: Vec<usize>,
    /// Code of a repeat.
    pub code: Code,
}

/// Comparison operators of cross-field rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    /// `<`
    Less,
    /// `<=`
    LessOrEqual,
    /// `>`
    Greater,
    /// `>=`
    GreaterOrEqual,
    /// `==`
    Equal,
    /// `!=`
    NotEqual,
}

impl CompareOp {
    /// The operator as written in protocols.
    pub fn symbol(self) -> &'static str {
        match self {
            CompareOp::Less => "<",
            CompareOp::LessOrEqual => "<=",
            CompareOp::Greater => ">",
            CompareOp::GreaterOrEqual => ">=",
            CompareOp::Equal => "==",
            CompareOp::NotEqual => "!=",
        }
    }

    /// Whether `ordering` (left compared with right) satisfies the operator.
    pub fn holds(self, ordering: std::cmp::Ordering) -> bool {
        use std::cmp::Ordering::*;
        match self {
            CompareOp::Less => ordering == Less,
            CompareOp::LessOrEqual => ordering != Greater,
            CompareOp::Greater => ordering == Greater,
            CompareOp::GreaterOrEqual => ordering != Less,
            CompareOp::Equal => ordering == Equal,
            CompareOp::NotEqual => ordering != Equal,
        }
    }
}

/// `field op other`, checked when both fields hold valid values.
#[derive(Debug)]
pub struct CompareRule {
    /// The field the issue is reported on.
    pub field: usize,
    /// The comparison that must hold.
    pub op: CompareOp,
    /// The field compared with.
    pub other: usize,
    /// Code of a failure.
    pub code: Code,
    /// What the rule is for.
    pub description: Option<String>,
}

#[cfg(test)]
mod tests;
