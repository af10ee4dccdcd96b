//! Protocols: a trial's record rules as data.
//!
//! A protocol is a JSON document in Frictionless Table Schema's vocabulary
//! plus clinval's own keys (aliases, clinical types, date forms, cross-field
//! rules, issue codes); `docs/protocol.md` is its reference. Loading checks
//! the whole document and compiles it (regexes built, bounds typed, header
//! names indexed) so validating a record does no lookups by name.

mod compile;
mod field;
mod logic;
mod score;
mod tree;

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde_json::value::RawValue as RawJson;
use thiserror::Error;

pub use crate::pattern::Pattern;
use crate::types::Type;
use crate::value::Value;
pub use logic::{Assert, Branch, Logic, Repeat, Texts};
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
    /// The protocol uses something this build leaves out: the compact
    /// wasm module has no regex engine, strptime formats, geo types or
    /// JSON compound types (see docs/abi.md); the full module has them.
    #[error(
        "protocol key `{path}`: {feature} needs clinval's full module (clinval_full_bg.wasm); this is the compact one"
    )]
    NeedsFullModule {
        /// Where: a path such as `fields[2].type`.
        path: String,
        /// What is missing, for people: `the geojson type`.
        feature: String,
    },
    /// No built-in protocol has this name.
    #[error("no built-in protocol named `{0}` (built-in: {list})", list = builtin_names().join(", "))]
    UnknownBuiltin(String),
}

/// Names of the built-in protocols.
pub fn builtin_names() -> Vec<&'static str> {
    BUILTINS.iter().map(|(name, _)| *name).collect()
}

/// Something about a protocol that does not stop it loading: a key kept
/// but not understood, a value no record can have.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ProtocolWarning {
    /// Where: a path such as `fields[2].unit`.
    pub path: String,
    /// What about it.
    pub message: String,
}

impl std::fmt::Display for ProtocolWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "protocol key `{}`: {}", self.path, self.message)
    }
}

/// How a table's header is matched to the protocol's fields (Table
/// Schema v2's `fieldsMatch`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FieldsMatch {
    /// The same fields, in the same order: columns map by position.
    #[default]
    Exact,
    /// The same fields, by name, in any order.
    Equal,
    /// Every field, by name; more columns allowed.
    Subset,
    /// Only fields of the protocol, by name; some may be absent.
    Superset,
    /// At least one field, by name.
    Partial,
}

impl FieldsMatch {
    /// The value's name in protocol documents.
    pub fn name(self) -> &'static str {
        match self {
            FieldsMatch::Exact => "exact",
            FieldsMatch::Equal => "equal",
            FieldsMatch::Subset => "subset",
            FieldsMatch::Superset => "superset",
            FieldsMatch::Partial => "partial",
        }
    }
}

/// clinval's cleaning and leniency, each the protocol's explicit choice
/// (`cleaning`); all off for a plain Table Schema, which then means what
/// the spec says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Cleaning {
    /// White space around cells and header names is removed.
    pub trim: bool,
    /// Full-width forms U+FF01..U+FF5E and U+3000 become ASCII.
    pub full_width: bool,
    /// Header names and JSON keys match ignoring case, spaces, `_` and `-`.
    pub loose_headers: bool,
    /// Header names and JSON keys match ignoring case only (`caseless`).
    pub caseless_headers: bool,
    /// An empty line is not a record (else it is a `blank_row` issue).
    pub skip_blank_rows: bool,
    /// A row whose cells are all empty is not a record (`ignore`).
    pub skip_empty_rows: bool,
    /// A header that lacks a field or names one twice refuses the file
    /// (else the problems are issues and the rows are still checked).
    pub reject_header_errors: bool,
    /// A record with too few or too many cells gets one `malformed_row`
    /// issue and no field checks (else `missing_cell` / `extra_cell`).
    pub malformed_rows: bool,
    /// A JSON number or boolean where text is wanted is read as its text.
    pub json_scalars_as_text: bool,
}

/// How diaries of a protocol are submitted to a server (`diary`): rules
/// of the submission service, not of a record's values. The full build's
/// (see [`Full`](crate::types::Full)): the compact module has no room left.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Diary {
    /// The date field recording when the diary was completed
    /// (`completionField`): forms fill it in with the device's local time
    /// instead of asking, and the server takes the patient's day from the
    /// submission's `completedAt`.
    pub completion_field: Option<usize>,
    /// At most one diary per patient and local day is stored (`onePerDay`).
    pub one_per_day: bool,
    /// Only the full build has diaries.
    pub full: crate::types::Full,
}

/// [`Diary`] as hosts see it (absent when the protocol has no `diary`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct DiaryInfo {
    /// The field a form fills in with the completion time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub completion_field: Option<String>,
    /// At most one diary per patient and local day.
    pub one_per_day: bool,
    /// Only the full build has diaries.
    #[serde(skip)]
    #[cfg_attr(feature = "schema", schemars(skip))]
    pub full: crate::types::Full,
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
    /// How a header maps to the fields.
    pub fields_match: FieldsMatch,
    /// The encoding its inputs are in (`encoding`: `utf-8`, `gb18030`);
    /// `None` (`auto`): detected from each input's first bytes.
    pub encoding: Option<crate::TextEncoding>,
    /// clinval's cleaning choices.
    pub cleaning: Cleaning,
    /// Uniqueness checks over several fields (`primaryKey`, `uniqueKeys`).
    pub keys: Vec<UniqueKey>,
    /// References to keys of this table or of another resource.
    pub foreign_keys: Vec<ForeignKey>,
    /// Cross-field rules.
    pub rules: Vec<CompareRule>,
    /// Scores of valid records.
    pub scores: Vec<Score>,
    /// How diaries of this protocol are submitted (`diary`; full build).
    pub diary: Option<Diary>,
    /// Code for a record whose shape is wrong (cell count, not an object).
    pub malformed_code: Code,
    /// What loading noticed but did not refuse.
    pub warnings: Vec<ProtocolWarning>,
    /// A field whose column is absent reads as empty (`absentColumns`:
    /// `empty`), not as unchecked; no header issue names it.
    pub absent_columns_empty: bool,
    /// Columns allowed, carried and never warned about (`systemColumns`;
    /// a `*` at the start or end matches any text), header keys.
    pub system_columns: Vec<String>,
    /// Branching, conditional requirement, calculated fields, assertions
    /// and repeating forms (`None` when the protocol has none).
    pub logic: Option<Logics>,
    /// Header key (see [`Protocol::header_key`]) → field index.
    columns: HashMap<String, usize>,
    /// Header key of a `field___code` column → (multi-select field, choice).
    choice_columns: HashMap<String, (usize, usize)>,
    /// The document text it was compiled from.
    source: Arc<str>,
}

/// A protocol's [`Logic`]. Only the full build reads logic (the
/// [`crate::types::Full`] marker): the compact module's compiler refuses
/// it, this is never `Some` there, and the code evaluating it is left out.
#[derive(Debug)]
pub struct Logics(Box<Logic>, crate::types::Full);

impl std::ops::Deref for Logics {
    type Target = Logic;

    fn deref(&self) -> &Logic {
        &self.0
    }
}

impl Logics {
    /// `logic`, marked as the full build's.
    pub(crate) fn new(logic: Logic, full: crate::types::Full) -> Logics {
        Logics(Box::new(logic), full)
    }
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

    /// The key a header name or JSON key is matched by: its cleaned text,
    /// normalised (lowercase, no spaces, `_` or `-`) with loose headers.
    pub fn header_key<'h>(&self, header: &'h str) -> Cow<'h, str> {
        self.cleaning.header_key(header)
    }

    /// The field a header or JSON key names, by name or alias.
    pub fn column(&self, header: &str) -> Option<usize> {
        self.columns.get(self.header_key(header).as_ref()).copied()
    }

    /// The multi-select field and choice a `field___code` header names.
    pub fn choice_column(&self, header: &str) -> Option<(usize, usize)> {
        if self.choice_columns.is_empty() {
            return None;
        }
        self.choice_columns
            .get(self.header_key(header).as_ref())
            .copied()
    }

    /// Whether a (cleaned) header is one of the protocol's system columns.
    pub fn is_system_column(&self, header: &str) -> bool {
        if self.system_columns.is_empty() {
            return false;
        }
        let key = self.header_key(header);
        self.system_columns.iter().any(|pattern| {
            match (pattern.strip_prefix('*'), pattern.strip_suffix('*')) {
                (Some(suffix), _) => key.ends_with(suffix),
                (_, Some(prefix)) => key.starts_with(prefix),
                _ => key == pattern.as_str(),
            }
        })
    }

    /// The document text this protocol was compiled from.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The index of the field a name or alias names.
    pub fn field_index(&self, name: &str) -> Option<usize> {
        self.column(name)
    }

    /// What a form needs to know of each field, in order.
    pub fn describe(&self) -> Vec<FieldInfo> {
        self.fields.iter().map(Field::info).collect()
    }

    /// The protocol's scores, as a form shows them.
    pub fn describe_scores(&self) -> Vec<ScoreInfo> {
        self.scores.iter().map(Score::info).collect()
    }

    /// The protocol's `diary`, as hosts see it (`None` when it has none).
    pub fn describe_diary(&self) -> Option<DiaryInfo> {
        self.diary.map(|diary| DiaryInfo {
            completion_field: diary.completion_field.map(|f| self.fields[f].name.clone()),
            one_per_day: diary.one_per_day,
            full: diary.full,
        })
    }
}

impl Cleaning {
    /// Cleans one cell's text as the protocol says (see [`crate::clean`]).
    #[inline(always)]
    pub fn cell<'a>(&self, text: Cow<'a, str>) -> Cow<'a, str> {
        let mut text = text;
        self.clean(&mut text);
        text
    }

    /// [`Cleaning::cell`] in place: a text the protocol does not clean is
    /// not moved at all.
    #[inline(always)]
    pub fn clean(&self, text: &mut Cow<'_, str>) {
        if self.trim || self.full_width {
            *text = crate::clean::clean_owned(std::mem::take(text), self.trim, self.full_width);
        }
    }

    /// The key a header name is matched by.
    pub fn header_key<'h>(&self, header: &'h str) -> Cow<'h, str> {
        if self.loose_headers {
            Cow::Owned(crate::clean::header_key(header))
        } else if self.caseless_headers {
            Cow::Owned(self.cell(Cow::Borrowed(header)).trim().to_ascii_lowercase())
        } else {
            self.cell(Cow::Borrowed(header))
        }
    }
}

/// A field as a form builder sees it: label, type and limits.
#[derive(Debug, Clone, serde::Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
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
    /// Type name (`string`, `integer`, `date`, … `bloodPressure`).
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The type's format, when not the default (`email`, `%d/%m/%Y`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// Must be given.
    pub required: bool,
    /// Lower bound (a value of the field's type, or `$asOf`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<serde_json::Value>"))]
    pub minimum: Option<Box<RawJson>>,
    /// Upper bound.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<serde_json::Value>"))]
    pub maximum: Option<Box<RawJson>>,
    /// Exclusive lower bound.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<serde_json::Value>"))]
    pub exclusive_minimum: Option<Box<RawJson>>,
    /// Exclusive upper bound.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<serde_json::Value>"))]
    pub exclusive_maximum: Option<Box<RawJson>>,
    /// Shortest value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_length: Option<usize>,
    /// Longest value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_length: Option<usize>,
    /// Pattern the text must match.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    /// Allowed values (canonical text).
    #[serde(rename = "enum", skip_serializing_if = "Option::is_none")]
    pub allowed: Option<Vec<String>>,
    /// Labels of the allowed values (`categories`): canonical value → label.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: Titles,
    /// An example value.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<serde_json::Value>"))]
    pub example: Option<Box<RawJson>>,
    /// The form (instrument) it belongs to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub form: Option<String>,
    /// The heading of the section it starts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub section: Option<String>,
}

impl Field {
    /// This field as a form builder sees it.
    pub fn info(&self) -> FieldInfo {
        let bound = |bounds: &[Bound], exclusive: bool| {
            bounds
                .iter()
                .find(|b| b.exclusive == exclusive)
                .and_then(|b| match &b.value {
                    BoundValue::AsOf => {
                        RawJson::from_string(format!("\"{}\"", compile::AS_OF)).ok()
                    }
                    BoundValue::Fixed(value) => serde_json::value::to_raw_value(value).ok(),
                })
        };
        FieldInfo {
            name: self.name.clone(),
            title: self.title.clone().unwrap_or_else(|| self.name.clone()),
            titles: self.titles.clone(),
            enum_titles: self.enum_titles.clone(),
            description: self.description.clone(),
            kind: self.ty.name(),
            format: self.format.clone(),
            required: self.required,
            minimum: bound(&self.minimum, false),
            maximum: bound(&self.maximum, false),
            exclusive_minimum: bound(&self.minimum, true),
            exclusive_maximum: bound(&self.maximum, true),
            min_length: self.min_length,
            max_length: self.max_length,
            pattern: self.pattern.as_ref().map(|p| p.source.clone()),
            allowed: self.allowed_text(),
            labels: self.labels.clone(),
            example: self.example.clone(),
            form: self.form.clone(),
            section: self.section.clone(),
        }
    }

    /// The allowed values as canonical texts (for messages and forms); a
    /// multi-select's choice codes.
    pub fn allowed_text(&self) -> Option<Vec<String>> {
        if let crate::types::Type::MultiSelect(select) = &self.ty {
            return Some(select.choices.clone());
        }
        self.allowed
            .as_ref()
            .map(|values| values.iter().map(Value::canonical).collect())
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
    /// Labels of the allowed values (`categories`' labels): value → label.
    pub labels: Titles,
    /// Longer help text.
    pub description: Option<String>,
    /// An example value, as the document gives it (for forms and docs).
    pub example: Option<Box<RawJson>>,
    /// Other header names that mean this field (as written).
    pub aliases: Vec<String>,
    /// Type, with its format.
    pub ty: Type,
    /// The format as written, when not the default.
    pub format: Option<String>,
    /// A missing value is an issue.
    pub required: bool,
    /// Texts that count as missing (`missingValues`, exactly as listed).
    pub missing_values: Vec<String>,
    /// Inner runs of white space become one space.
    pub collapse_whitespace: bool,
    /// Length bounds: characters of a text, items of a list, array or object.
    pub min_length: Option<usize>,
    /// See `min_length`.
    pub max_length: Option<usize>,
    /// The text must match this (anchored at both ends).
    pub pattern: Option<Pattern>,
    /// Lower bounds (`minimum` and/or `exclusiveMinimum`).
    pub minimum: Vec<Bound>,
    /// Upper bounds (`maximum` and/or `exclusiveMaximum`).
    pub maximum: Vec<Bound>,
    /// Allowed values (`enum`, else `categories`), as logical values.
    pub allowed: Option<Vec<Value<'static>>>,
    /// No two records may have the same value.
    pub unique: bool,
    /// Identifies a person (REDCap's `Identifier?`): issues about it show
    /// no value.
    pub identifier: bool,
    /// The form (instrument) it belongs to.
    pub form: Option<String>,
    /// The heading of the section it starts (REDCap's section header).
    pub section: Option<String>,
    /// Issue codes of this field's checks.
    pub codes: FieldCodes,
}

/// A bound on a value: inclusive (`minimum`) or exclusive (`exclusiveMinimum`).
#[derive(Debug, Clone, PartialEq)]
pub struct Bound {
    /// The bound.
    pub value: BoundValue,
    /// Whether the bound itself is outside the range.
    pub exclusive: bool,
}

/// A bound's value: fixed, or the run's as-of date.
#[derive(Debug, Clone, PartialEq)]
pub enum BoundValue {
    /// A value of the field's type.
    Fixed(Value<'static>),
    /// The as-of date of the run (`"$asOf"`), for `date` and `datetime`.
    AsOf,
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
    /// A value where `showIf` hides the field.
    pub hidden: Code,
}

/// A uniqueness check over several fields.
#[derive(Debug)]
pub struct UniqueKey {
    /// Field indexes, in key order.
    pub fields: Vec<usize>,
    /// Code of a repeat.
    pub code: Code,
}

/// A foreign key: the values of `fields` must be values of the key
/// `reference_fields` of a resource (this table when `resource` is `None`).
#[derive(Debug, Clone)]
pub struct ForeignKey {
    /// Field indexes of this table, in key order.
    pub fields: Vec<usize>,
    /// The referenced resource's name; `None` for this table.
    pub resource: Option<String>,
    /// The referenced fields' names, in key order.
    pub reference_fields: Vec<String>,
    /// Code of a value with no match (`foreign_key`).
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
