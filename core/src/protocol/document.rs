//! The protocol document as written, read key by key.
//!
//! Table Schema keys keep their Table Schema names; clinval's own keys sit
//! beside them. Unknown and repeated keys are refused (a typo such as
//! `maxLenght` must not silently drop a check), and every refusal names the
//! key's path. `compile` turns this into a [`super::Protocol`].
//!
//! Read by hand over [`crate::raw_json`] rather than derived: a derived
//! reader is a generic visitor per struct and per field type, a third of
//! the wasm module's protocol code; this is one function per struct.

use std::collections::BTreeMap;

use serde_json::value::RawValue;

use super::ProtocolError;
use super::compile::{each, key_error};
use crate::date::{DateForm, DayMonthOrder};
use crate::raw_json::{Entries, Shape, json_kind, shape};

/// A JSON value kept as written; read by the check that needs it.
pub(super) type Json = Box<RawValue>;

/// A whole protocol document.
#[derive(Debug, Default)]
pub(super) struct Document {
    pub name: Option<String>,
    pub title: Option<String>,
    pub description: Option<String>,
    pub version: Option<String>,
    pub fields: Vec<FieldDoc>,
    pub missing_values: Option<Vec<String>>,
    /// One field name or a list.
    pub primary_key: Option<Vec<String>>,
    pub unique_keys: Vec<Vec<String>>,
    pub rules: Vec<RuleDoc>,
    pub scores: Vec<ScoreDoc>,
    pub codes: BTreeMap<String, String>,
}

/// One entry of `fields`.
#[derive(Debug, Default)]
pub(super) struct FieldDoc {
    pub name: String,
    pub title: Option<String>,
    pub description: Option<String>,
    pub example: Option<Json>,
    pub kind: Option<String>,
    pub format: Option<String>,
    pub constraints: ConstraintsDoc,
    pub missing_values: Option<Vec<String>>,
    pub true_values: Option<Vec<String>>,
    pub false_values: Option<Vec<String>>,
    // clinval's own keys.
    pub titles: BTreeMap<String, String>,
    pub enum_titles: BTreeMap<String, BTreeMap<String, String>>,
    pub aliases: Vec<String>,
    pub collapse_whitespace: bool,
    pub type_pattern: Option<String>,
    pub date_forms: Option<Vec<DateForm>>,
    pub day_month_order: Option<DayMonthOrder>,
    pub allow_time: Option<bool>,
    pub codes: BTreeMap<String, String>,
}

/// `constraints` of a field.
#[derive(Debug, Default)]
pub(super) struct ConstraintsDoc {
    pub required: bool,
    pub unique: bool,
    pub min_length: Option<usize>,
    pub max_length: Option<usize>,
    pub minimum: Option<Json>,
    pub maximum: Option<Json>,
    pub exclusive_minimum: Option<Json>,
    pub exclusive_maximum: Option<Json>,
    pub pattern: Option<String>,
    pub allowed: Option<Vec<Json>>,
    // clinval's own keys, for `bloodPressure`.
    pub systolic: Option<RangeDoc>,
    pub diastolic: Option<RangeDoc>,
}

/// An inclusive range of whole numbers.
#[derive(Debug, Clone, Copy)]
pub(super) struct RangeDoc {
    pub minimum: u16,
    pub maximum: u16,
}

/// One cross-field rule: `field op other`, checked when both are valid.
#[derive(Debug, Default)]
pub(super) struct RuleDoc {
    pub field: String,
    pub op: String,
    pub other: String,
    pub code: String,
    pub description: Option<String>,
}

/// One score of a valid record: the sum of its terms.
#[derive(Debug, Default)]
pub(super) struct ScoreDoc {
    pub name: String,
    pub title: Option<String>,
    pub titles: BTreeMap<String, String>,
    pub description: Option<String>,
    pub terms: Vec<TermDoc>,
}

/// One term of a score: a numeric or boolean field times `weight`, or a
/// text field's value looked up in `values`.
#[derive(Debug, Default)]
pub(super) struct TermDoc {
    pub field: String,
    pub weight: Option<f64>,
    pub values: Option<BTreeMap<String, f64>>,
}

type Result<T> = std::result::Result<T, ProtocolError>;

/// Reads a protocol document: a syntax error with its line and column, or
/// the first key that cannot be used.
pub(super) fn read(text: &str) -> Result<Document> {
    let entries = match shape(text.as_bytes()) {
        Ok(Shape::Object(entries)) => entries,
        Ok(_) => {
            return Err(key_error(
                "(document)",
                format!("expected a JSON object, found {}", json_kind(text)),
            ));
        }
        Err(e) => {
            return Err(ProtocolError::Syntax {
                line: e.line(),
                column: e.column(),
                message: e.to_string(),
            });
        }
    };
    let mut doc = Document::default();
    let mut has_fields = false;
    for (key, value, at) in keys("", entries, DOCUMENT_KEYS)? {
        match key {
            "$schema" => drop(optional(&at, value, string)?),
            "name" => doc.name = optional(&at, value, string)?,
            "title" => doc.title = optional(&at, value, string)?,
            "description" => doc.description = optional(&at, value, string)?,
            "version" => doc.version = optional(&at, value, string)?,
            "fields" => {
                doc.fields = list(&at, value, field)?;
                has_fields = true;
            }
            "missingValues" => doc.missing_values = optional(&at, value, strings)?,
            "primaryKey" => doc.primary_key = optional(&at, value, primary_key)?,
            "uniqueKeys" => doc.unique_keys = list(&at, value, strings)?,
            "rules" => doc.rules = list(&at, value, rule)?,
            "scores" => doc.scores = list(&at, value, score)?,
            _ => doc.codes = texts(&at, value)?,
        }
    }
    if !has_fields {
        return Err(missing("", "fields"));
    }
    Ok(doc)
}

const DOCUMENT_KEYS: &[&str] = &[
    "$schema",
    "name",
    "title",
    "description",
    "version",
    "fields",
    "missingValues",
    "primaryKey",
    "uniqueKeys",
    "rules",
    "scores",
    "codes",
];

fn field(path: &str, raw: &RawValue) -> Result<FieldDoc> {
    let mut doc = FieldDoc::default();
    let mut named = false;
    for (key, value, at) in keys(path, object(path, raw)?, FIELD_KEYS)? {
        match key {
            "name" => {
                doc.name = string(&at, value)?;
                named = true;
            }
            "title" => doc.title = optional(&at, value, string)?,
            "description" => doc.description = optional(&at, value, string)?,
            "example" => doc.example = Some(value.to_owned()),
            "type" => doc.kind = optional(&at, value, string)?,
            "format" => doc.format = optional(&at, value, string)?,
            "constraints" => doc.constraints = constraints(&at, value)?,
            "missingValues" => doc.missing_values = optional(&at, value, strings)?,
            "trueValues" => doc.true_values = optional(&at, value, strings)?,
            "falseValues" => doc.false_values = optional(&at, value, strings)?,
            "titles" => doc.titles = texts(&at, value)?,
            "enumTitles" => {
                doc.enum_titles = map(&at, value, texts)?;
            }
            "aliases" => doc.aliases = strings(&at, value)?,
            "collapseWhitespace" => doc.collapse_whitespace = boolean(&at, value)?,
            "typePattern" => doc.type_pattern = optional(&at, value, string)?,
            "dateForms" => doc.date_forms = optional(&at, value, date_forms)?,
            "dayMonthOrder" => doc.day_month_order = optional(&at, value, day_month_order)?,
            "allowTime" => doc.allow_time = optional(&at, value, boolean)?,
            _ => doc.codes = texts(&at, value)?,
        }
    }
    if !named {
        return Err(missing(path, "name"));
    }
    Ok(doc)
}

const FIELD_KEYS: &[&str] = &[
    "name",
    "title",
    "description",
    "example",
    "type",
    "format",
    "constraints",
    "missingValues",
    "trueValues",
    "falseValues",
    "titles",
    "enumTitles",
    "aliases",
    "collapseWhitespace",
    "typePattern",
    "dateForms",
    "dayMonthOrder",
    "allowTime",
    "codes",
];

fn constraints(path: &str, raw: &RawValue) -> Result<ConstraintsDoc> {
    let mut c = ConstraintsDoc::default();
    let kept = |value: &RawValue| (!is_null(value)).then(|| value.to_owned());
    for (key, value, at) in keys(path, object(path, raw)?, CONSTRAINT_KEYS)? {
        match key {
            "required" => c.required = boolean(&at, value)?,
            "unique" => c.unique = boolean(&at, value)?,
            "minLength" => c.min_length = optional(&at, value, count)?,
            "maxLength" => c.max_length = optional(&at, value, count)?,
            "minimum" => c.minimum = kept(value),
            "maximum" => c.maximum = kept(value),
            "exclusiveMinimum" => c.exclusive_minimum = kept(value),
            "exclusiveMaximum" => c.exclusive_maximum = kept(value),
            "pattern" => c.pattern = optional(&at, value, string)?,
            "enum" => {
                c.allowed = optional(&at, value, |at, v| list(at, v, |_, v| Ok(v.to_owned())))?;
            }
            "systolic" => c.systolic = optional(&at, value, range)?,
            _ => c.diastolic = optional(&at, value, range)?,
        }
    }
    Ok(c)
}

const CONSTRAINT_KEYS: &[&str] = &[
    "required",
    "unique",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "pattern",
    "enum",
    "systolic",
    "diastolic",
];

fn range(path: &str, raw: &RawValue) -> Result<RangeDoc> {
    let (mut minimum, mut maximum) = (None, None);
    for (key, value, at) in keys(path, object(path, raw)?, &["minimum", "maximum"])? {
        let bound = value
            .get()
            .parse::<u16>()
            .map_err(|_| expected(&at, "a whole number from 0 to 65535", value))?;
        match key {
            "minimum" => minimum = Some(bound),
            _ => maximum = Some(bound),
        }
    }
    Ok(RangeDoc {
        minimum: minimum.ok_or_else(|| missing(path, "minimum"))?,
        maximum: maximum.ok_or_else(|| missing(path, "maximum"))?,
    })
}

fn rule(path: &str, raw: &RawValue) -> Result<RuleDoc> {
    let mut doc = RuleDoc::default();
    let mut given = Vec::new();
    for (key, value, at) in keys(path, object(path, raw)?, RULE_KEYS)? {
        given.push(key);
        match key {
            "field" => doc.field = string(&at, value)?,
            "op" => doc.op = string(&at, value)?,
            "other" => doc.other = string(&at, value)?,
            "code" => doc.code = string(&at, value)?,
            _ => doc.description = optional(&at, value, string)?,
        }
    }
    require(path, &given, &RULE_KEYS[..4])?;
    Ok(doc)
}

const RULE_KEYS: &[&str] = &["field", "op", "other", "code", "description"];

fn score(path: &str, raw: &RawValue) -> Result<ScoreDoc> {
    let mut doc = ScoreDoc::default();
    let mut given = Vec::new();
    for (key, value, at) in keys(path, object(path, raw)?, SCORE_KEYS)? {
        given.push(key);
        match key {
            "name" => doc.name = string(&at, value)?,
            "title" => doc.title = optional(&at, value, string)?,
            "titles" => doc.titles = texts(&at, value)?,
            "description" => doc.description = optional(&at, value, string)?,
            _ => doc.terms = list(&at, value, term)?,
        }
    }
    require(path, &given, &["name", "terms"])?;
    Ok(doc)
}

const SCORE_KEYS: &[&str] = &["name", "title", "titles", "description", "terms"];

fn term(path: &str, raw: &RawValue) -> Result<TermDoc> {
    let mut doc = TermDoc::default();
    let mut given = Vec::new();
    for (key, value, at) in keys(path, object(path, raw)?, &["field", "weight", "values"])? {
        given.push(key);
        match key {
            "field" => doc.field = string(&at, value)?,
            "weight" => doc.weight = optional(&at, value, number)?,
            _ => doc.values = optional(&at, value, |at, v| map(at, v, number))?,
        }
    }
    require(path, &given, &["field"])?;
    Ok(doc)
}

/// `primaryKey`: one field name or a list of them.
fn primary_key(path: &str, raw: &RawValue) -> Result<Vec<String>> {
    match raw.get().as_bytes().first() {
        Some(b'"') => Ok(vec![string(path, raw)?]),
        Some(b'[') => strings(path, raw),
        _ => Err(expected(path, "a field name or a list of field names", raw)),
    }
}

fn date_forms(path: &str, raw: &RawValue) -> Result<Vec<DateForm>> {
    list(path, raw, |at, value| {
        let name = string(at, value)?;
        DateForm::ALL
            .into_iter()
            .find(|form| form.name() == name)
            .ok_or_else(|| {
                let names: Vec<_> = DateForm::ALL.iter().map(|f| f.name()).collect();
                key_error(
                    at,
                    format!("`{name}` is not a date form ({})", names.join(", ")),
                )
            })
    })
}

fn day_month_order(path: &str, raw: &RawValue) -> Result<DayMonthOrder> {
    match string(path, raw)?.as_str() {
        "infer" => Ok(DayMonthOrder::Infer),
        "dayFirst" => Ok(DayMonthOrder::DayFirst),
        "monthFirst" => Ok(DayMonthOrder::MonthFirst),
        other => Err(key_error(
            path,
            format!("`{other}` is not one of infer, dayFirst, monthFirst"),
        )),
    }
}

// ---- One value of each JSON shape, with the path for errors. ----

/// `path.key`, or `key` at the top.
fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

fn expected(path: &str, what: &str, raw: &RawValue) -> ProtocolError {
    key_error(
        path,
        format!("expected {what}, found {}", json_kind(raw.get())),
    )
}

fn missing(path: &str, key: &str) -> ProtocolError {
    let within = if path.is_empty() {
        String::new()
    } else {
        format!(" in `{path}`")
    };
    key_error(join(path, key), format!("this key is required{within}"))
}

fn require(path: &str, given: &[&str], required: &[&str]) -> Result<()> {
    match required.iter().find(|key| !given.contains(key)) {
        Some(key) => Err(missing(path, key)),
        None => Ok(()),
    }
}

fn is_null(raw: &RawValue) -> bool {
    raw.get() == "null"
}

fn object<'a>(path: &str, raw: &'a RawValue) -> Result<Entries<'a>> {
    match shape(raw.get().as_bytes()) {
        Ok(Shape::Object(entries)) => Ok(entries),
        _ => Err(expected(path, "an object", raw)),
    }
}

/// An object's entries with their paths, each key known and given once;
/// the key is borrowed from `known`, so callers match on it (their last
/// arm, `_`, is the last known key: no key can fall through unread).
fn keys<'a>(
    path: &str,
    entries: Entries<'a>,
    known: &[&'static str],
) -> Result<Vec<(&'static str, &'a RawValue, String)>> {
    let mut checked: Vec<(&'static str, &'a RawValue, String)> = Vec::new();
    for (key, value) in entries {
        let at = join(path, &key);
        let Some(&known_key) = known.iter().find(|k| **k == key) else {
            return Err(key_error(
                at,
                format!("unknown key `{key}`; known keys: {}", known.join(", ")),
            ));
        };
        if checked.iter().any(|(k, ..)| *k == known_key) {
            return Err(key_error(at, "this key is given twice"));
        }
        checked.push((known_key, value, at));
    }
    Ok(checked)
}

/// `null` is the same as leaving the key out.
fn optional<'a, T>(
    path: &str,
    raw: &'a RawValue,
    read: impl Fn(&str, &'a RawValue) -> Result<T>,
) -> Result<Option<T>> {
    if is_null(raw) {
        Ok(None)
    } else {
        read(path, raw).map(Some)
    }
}

fn string(path: &str, raw: &RawValue) -> Result<String> {
    match crate::raw_json::string(raw.get().as_bytes()) {
        Some(text) => Ok(text.into_owned()),
        None => Err(expected(path, "a string", raw)),
    }
}

fn boolean(path: &str, raw: &RawValue) -> Result<bool> {
    match raw.get() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(expected(path, "true or false", raw)),
    }
}

fn count(path: &str, raw: &RawValue) -> Result<usize> {
    raw.get()
        .parse()
        .map_err(|_| expected(path, "a whole number of 0 or more", raw))
}

fn number(path: &str, raw: &RawValue) -> Result<f64> {
    let text = raw.get();
    let numeric = matches!(text.as_bytes().first(), Some(b'-' | b'0'..=b'9'));
    numeric
        .then(|| crate::check::parse_number(text))
        .flatten()
        .ok_or_else(|| expected(path, "a number", raw))
}

fn list<'a, T>(
    path: &str,
    raw: &'a RawValue,
    read: impl Fn(&str, &'a RawValue) -> Result<T>,
) -> Result<Vec<T>> {
    let Ok(Shape::Array(items)) = shape(raw.get().as_bytes()) else {
        return Err(expected(path, "a list", raw));
    };
    each(items, |i, item| read(&format!("{path}[{i}]"), item))
}

fn strings(path: &str, raw: &RawValue) -> Result<Vec<String>> {
    list(path, raw, string)
}

/// An object of any keys, each value read by `read`.
fn map<'a, T>(
    path: &str,
    raw: &'a RawValue,
    read: impl Fn(&str, &'a RawValue) -> Result<T>,
) -> Result<BTreeMap<String, T>> {
    let mut map = BTreeMap::new();
    for (key, value) in object(path, raw)? {
        let at = join(path, &key);
        if map.contains_key(key.as_ref()) {
            return Err(key_error(at, "this key is given twice"));
        }
        let value = read(&at, value)?;
        map.insert(key.into_owned(), value);
    }
    Ok(map)
}

/// An object of texts (titles by language, codes by check).
fn texts(path: &str, raw: &RawValue) -> Result<BTreeMap<String, String>> {
    map(path, raw, string)
}
