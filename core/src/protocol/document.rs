//! The protocol document as written, read key by key.
//!
//! Table Schema keys keep their Table Schema names; clinval's own keys sit
//! beside them. The spec lets a descriptor carry properties of its own
//! (`rdfType`, `x-…`, anything), so an unknown key of the document or of a
//! field is kept as a warning, not refused; but a key that looks like a
//! typo of a known one (`maxLenght`, `Type`) is refused with the
//! suggestion, since it would silently drop a check, and so is any unknown
//! key inside `constraints` (a check clinval cannot run must not pass).
//! A key given twice is refused. Every refusal and warning names the key's
//! path. `compile` turns this into a [`super::Protocol`].
//!
//! Read by hand over [`crate::raw_json`] rather than derived: a derived
//! reader is a generic visitor per struct and per field type, a third of
//! the wasm module's protocol code; this is one function per struct.

use std::collections::BTreeMap;

use serde_json::value::RawValue;

use super::{ProtocolError, ProtocolWarning};
use crate::raw_json::{Entries, Shape, json_kind, shape};
use crate::types::{DateForm, DayMonthOrder};

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
    pub fields_match: Option<String>,
    pub missing_values: Option<Vec<String>>,
    /// One field name or a list.
    pub primary_key: Option<Vec<String>>,
    pub unique_keys: Vec<Vec<String>>,
    pub foreign_keys: Vec<ForeignKeyDoc>,
    pub cleaning: CleaningDoc,
    pub rules: Vec<RuleDoc>,
    pub scores: Vec<ScoreDoc>,
    pub codes: BTreeMap<String, String>,
}

/// clinval's `cleaning` (all off unless set).
#[derive(Debug, Default, Clone)]
pub(super) struct CleaningDoc {
    pub trim: bool,
    pub full_width: bool,
    pub headers: Option<String>,
    pub blank_rows: Option<String>,
    pub header_errors: Option<String>,
    pub bad_rows: Option<String>,
    pub json_scalars: Option<String>,
}

/// One entry of `foreignKeys`.
#[derive(Debug, Default)]
pub(super) struct ForeignKeyDoc {
    pub fields: Vec<String>,
    /// `None` (or `""`) refers to this table.
    pub resource: Option<String>,
    pub reference_fields: Vec<String>,
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
    pub decimal_char: Option<String>,
    pub group_char: Option<String>,
    pub bare_number: Option<bool>,
    pub delimiter: Option<String>,
    pub item_type: Option<String>,
    /// `categories`: values, each with its label if given.
    pub categories: Option<Vec<(Json, Option<String>)>>,
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
    /// Keys given that only some types take: `(key, path)`, for the
    /// compiler to check against the type.
    pub typed_keys: Vec<(&'static str, String)>,
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
    pub json_schema: Option<Json>,
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

/// A refusal, boxed: results stay small on the many `?` paths.
pub(super) type Result<T> = std::result::Result<T, Box<ProtocolError>>;

/// Which unknown keys an object allows.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Unknown {
    /// Refused (with a suggestion when one is close).
    Refuse,
    /// Kept as a warning, unless it is close to a known key (then refused)
    /// or starts with `x-` (then silently kept).
    Warn,
}

/// Reads one document, collecting warnings.
struct Reader {
    warnings: Vec<ProtocolWarning>,
}

/// Reads a protocol document: a syntax error with its line and column, or
/// the first key that cannot be used; and the warnings about keys kept
/// but not understood.
pub(super) fn read(text: &str) -> Result<(Document, Vec<ProtocolWarning>)> {
    let entries = match shape(text.as_bytes()) {
        Ok(Shape::Object(entries)) => entries,
        Ok(_) => {
            return Err(key_error(
                "(document)",
                format!("expected a JSON object, found {}", json_kind(text)),
            ));
        }
        Err(e) => {
            return Err(Box::new(ProtocolError::Syntax {
                line: e.line(),
                column: e.column(),
                message: e.to_string(),
            }));
        }
    };
    let mut reader = Reader {
        warnings: Vec::new(),
    };
    let doc = reader.document(entries)?;
    Ok((doc, reader.warnings))
}

/// The document's keys; `$schema` and `profile` are informative.
const DOCUMENT_KEYS: &[&str] = &[
    "$schema",
    "name",
    "title",
    "description",
    "version",
    "fields",
    "fieldsMatch",
    "missingValues",
    "primaryKey",
    "uniqueKeys",
    "foreignKeys",
    "cleaning",
    "rules",
    "scores",
    "codes",
];

/// A field's keys. `rdfType` is informative; `floatNumber` and
/// `arrayItem` are frictionless-py's (kept, see the warnings they get).
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
    "decimalChar",
    "groupChar",
    "bareNumber",
    "floatNumber",
    "delimiter",
    "itemType",
    "categories",
    "categoriesOrdered",
    "arrayItem",
    "rdfType",
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
    "jsonSchema",
    "systolic",
    "diastolic",
];

const CLEANING_KEYS: &[&str] = &[
    "trim",
    "fullWidth",
    "headers",
    "blankRows",
    "headerErrors",
    "badRows",
    "jsonScalars",
];

const RULE_KEYS: &[&str] = &["field", "op", "other", "code", "description"];
const SCORE_KEYS: &[&str] = &["name", "title", "titles", "description", "terms"];

impl Reader {
    fn document(&mut self, entries: Entries<'_>) -> Result<Document> {
        let mut doc = Document::default();
        let mut has_fields = false;
        for (key, value, at) in self.keys("", entries, DOCUMENT_KEYS, Unknown::Warn)? {
            match key {
                "$schema" => drop(optional(&at, value, string)?),
                "name" => doc.name = optional(&at, value, string)?,
                "title" => doc.title = optional(&at, value, string)?,
                "description" => doc.description = optional(&at, value, string)?,
                "version" => doc.version = optional(&at, value, string)?,
                "fields" => {
                    doc.fields = list(&at, value, |at, v| self.field(at, v))?;
                    has_fields = true;
                }
                "fieldsMatch" => doc.fields_match = optional(&at, value, string)?,
                "missingValues" => doc.missing_values = optional(&at, value, missing_values)?,
                "primaryKey" => doc.primary_key = optional(&at, value, names)?,
                "uniqueKeys" => doc.unique_keys = list(&at, value, names)?,
                "foreignKeys" => {
                    doc.foreign_keys = list(&at, value, |at, v| self.foreign_key(at, v))?
                }
                "cleaning" => doc.cleaning = self.cleaning(&at, value)?,
                "rules" => doc.rules = list(&at, value, |at, v| self.rule(at, v))?,
                "scores" => doc.scores = list(&at, value, |at, v| self.score(at, v))?,
                _ => doc.codes = texts(&at, value)?,
            }
        }
        if !has_fields {
            return Err(missing("", "fields"));
        }
        Ok(doc)
    }

    #[inline(never)]
    fn cleaning(&mut self, path: &str, raw: &RawValue) -> Result<CleaningDoc> {
        if let Ok(all) = boolean(path, raw) {
            let on = |text: &str| all.then(|| text.to_owned());
            return Ok(CleaningDoc {
                trim: all,
                full_width: all,
                headers: on("loose"),
                blank_rows: on("skip"),
                header_errors: on("reject"),
                bad_rows: on("malformed"),
                json_scalars: on("text"),
            });
        }
        let mut c = CleaningDoc::default();
        for (key, value, at) in
            self.keys(path, object(path, raw)?, CLEANING_KEYS, Unknown::Refuse)?
        {
            match key {
                "trim" => c.trim = boolean(&at, value)?,
                "fullWidth" => c.full_width = boolean(&at, value)?,
                "headers" => c.headers = optional(&at, value, string)?,
                "blankRows" => c.blank_rows = optional(&at, value, string)?,
                "headerErrors" => c.header_errors = optional(&at, value, string)?,
                "badRows" => c.bad_rows = optional(&at, value, string)?,
                _ => c.json_scalars = optional(&at, value, string)?,
            }
        }
        Ok(c)
    }

    #[inline(never)]
    fn field(&mut self, path: &str, raw: &RawValue) -> Result<FieldDoc> {
        let mut doc = FieldDoc::default();
        let mut named = false;
        let entries = object(path, raw)?;
        if let Some((key, _)) = entries
            .iter()
            .find(|(k, _)| CONSTRAINT_KEYS.contains(&k.as_ref()))
        {
            return Err(key_error(
                join(path, key),
                format!("`{key}` is a constraint: write it inside `constraints`"),
            ));
        }
        for (key, value, at) in self.keys(path, entries, FIELD_KEYS, Unknown::Warn)? {
            let typed = |doc: &mut FieldDoc| doc.typed_keys.push((key, at.clone()));
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
                "constraints" => doc.constraints = self.constraints(&at, value)?,
                "missingValues" => doc.missing_values = optional(&at, value, missing_values)?,
                "trueValues" | "falseValues" => {
                    typed(&mut doc);
                    let texts = optional(&at, value, strings)?;
                    if key == "trueValues" {
                        doc.true_values = texts;
                    } else {
                        doc.false_values = texts;
                    }
                }
                "decimalChar" | "groupChar" | "delimiter" | "itemType" => {
                    typed(&mut doc);
                    let text = optional(&at, value, string)?;
                    match key {
                        "decimalChar" => doc.decimal_char = text,
                        "groupChar" => doc.group_char = text,
                        "delimiter" => doc.delimiter = text,
                        _ => doc.item_type = text,
                    }
                }
                "bareNumber" => {
                    typed(&mut doc);
                    doc.bare_number = optional(&at, value, boolean)?;
                }
                "categories" => {
                    typed(&mut doc);
                    doc.categories = optional(&at, value, categories)?;
                }
                "categoriesOrdered" => {
                    optional(&at, value, boolean)?;
                }
                "rdfType" => drop(optional(&at, value, string)?),
                "floatNumber" => {
                    optional(&at, value, boolean)?;
                    self.warn(
                        &at,
                        "frictionless-py's own key: numbers are read the same either way",
                    );
                }
                "arrayItem" => {
                    drop(object(&at, value)?);
                    self.warn(
                        &at,
                        "frictionless-py's own key, not Table Schema: the items are not checked",
                    );
                }
                "titles" => doc.titles = texts(&at, value)?,
                "enumTitles" => doc.enum_titles = map(&at, value, texts)?,
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

    #[inline(never)]
    fn constraints(&mut self, path: &str, raw: &RawValue) -> Result<ConstraintsDoc> {
        let mut c = ConstraintsDoc::default();
        let kept = |value: &RawValue| (!is_null(value)).then(|| value.to_owned());
        for (key, value, at) in
            self.keys(path, object(path, raw)?, CONSTRAINT_KEYS, Unknown::Refuse)?
        {
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
                "jsonSchema" => {
                    c.json_schema =
                        optional(&at, value, |at, v| object(at, v).map(|_| v.to_owned()))?
                }
                "systolic" => c.systolic = optional(&at, value, |at, v| self.range(at, v))?,
                _ => c.diastolic = optional(&at, value, |at, v| self.range(at, v))?,
            }
        }
        Ok(c)
    }

    #[inline(never)]
    fn range(&mut self, path: &str, raw: &RawValue) -> Result<RangeDoc> {
        let (mut minimum, mut maximum) = (None, None);
        for (key, value, at) in self.keys(
            path,
            object(path, raw)?,
            &["minimum", "maximum"],
            Unknown::Refuse,
        )? {
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

    #[inline(never)]
    fn foreign_key(&mut self, path: &str, raw: &RawValue) -> Result<ForeignKeyDoc> {
        let mut doc = ForeignKeyDoc::default();
        let mut given = Vec::new();
        for (key, value, at) in self.keys(
            path,
            object(path, raw)?,
            &["fields", "reference"],
            Unknown::Refuse,
        )? {
            given.push(key);
            match key {
                "fields" => doc.fields = names(&at, value)?,
                _ => {
                    let mut has_fields = false;
                    for (key, value, at) in self.keys(
                        &at,
                        object(&at, value)?,
                        &["resource", "fields"],
                        Unknown::Refuse,
                    )? {
                        match key {
                            "resource" => {
                                // v1 wrote `""` for this table.
                                doc.resource =
                                    optional(&at, value, string)?.filter(|r| !r.is_empty());
                            }
                            _ => {
                                doc.reference_fields = names(&at, value)?;
                                has_fields = true;
                            }
                        }
                    }
                    if !has_fields {
                        return Err(missing(&at, "fields"));
                    }
                }
            }
        }
        require(path, &given, &["fields", "reference"])?;
        Ok(doc)
    }

    #[inline(never)]
    fn rule(&mut self, path: &str, raw: &RawValue) -> Result<RuleDoc> {
        let mut doc = RuleDoc::default();
        let mut given = Vec::new();
        for (key, value, at) in self.keys(path, object(path, raw)?, RULE_KEYS, Unknown::Refuse)? {
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

    #[inline(never)]
    fn score(&mut self, path: &str, raw: &RawValue) -> Result<ScoreDoc> {
        let mut doc = ScoreDoc::default();
        let mut given = Vec::new();
        for (key, value, at) in self.keys(path, object(path, raw)?, SCORE_KEYS, Unknown::Refuse)? {
            given.push(key);
            match key {
                "name" => doc.name = string(&at, value)?,
                "title" => doc.title = optional(&at, value, string)?,
                "titles" => doc.titles = texts(&at, value)?,
                "description" => doc.description = optional(&at, value, string)?,
                _ => doc.terms = list(&at, value, |at, v| self.term(at, v))?,
            }
        }
        require(path, &given, &["name", "terms"])?;
        Ok(doc)
    }

    #[inline(never)]
    fn term(&mut self, path: &str, raw: &RawValue) -> Result<TermDoc> {
        let mut doc = TermDoc::default();
        let mut given = Vec::new();
        for (key, value, at) in self.keys(
            path,
            object(path, raw)?,
            &["field", "weight", "values"],
            Unknown::Refuse,
        )? {
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

    #[inline(never)]
    fn warn(&mut self, path: &str, message: &str) {
        self.warnings.push(ProtocolWarning {
            path: path.to_owned(),
            message: message.to_owned(),
        });
    }

    /// An object's known entries with their paths, each given once; the
    /// key is borrowed from `known`, so callers match on it (their last
    /// arm, `_`, is the last known key: no key can fall through unread).
    /// Unknown keys are refused or warned about as `unknown` says.
    #[inline(never)]
    fn keys<'a>(
        &mut self,
        path: &str,
        entries: Entries<'a>,
        known: &[&'static str],
        unknown: Unknown,
    ) -> Result<Vec<(&'static str, &'a RawValue, String)>> {
        let mut checked: Vec<(&'static str, &'a RawValue, String)> = Vec::new();
        let mut others: Vec<String> = Vec::new();
        for (key, value) in entries {
            let at = join(path, &key);
            let Some(&known_key) = known.iter().find(|k| **k == key) else {
                if others.iter().any(|k| *k == key) {
                    return Err(key_error(at, "this key is given twice"));
                }
                let near = closest(&key, known);
                match (unknown, near) {
                    (_, Some(near)) => {
                        return Err(key_error(
                            at,
                            format!("unknown key `{key}`; did you mean `{near}`?"),
                        ));
                    }
                    (Unknown::Refuse, None) => {
                        return Err(key_error(
                            at,
                            format!("unknown key `{key}`; known keys: {}", known.join(", ")),
                        ));
                    }
                    (Unknown::Warn, None) if key.starts_with("x-") => {}
                    (Unknown::Warn, None) => {
                        self.warn(&at, "not a key clinval knows; kept, not checked")
                    }
                }
                others.push(key.into_owned());
                continue;
            };
            if checked.iter().any(|(k, ..)| *k == known_key) {
                return Err(key_error(at, "this key is given twice"));
            }
            checked.push((known_key, value, at));
        }
        Ok(checked)
    }
}

/// The known key `key` is probably a typo of: the same but for case, or
/// within a small edit distance (one edit for short keys, two for long).
#[inline(never)]
pub(super) fn closest<'k>(key: &str, known: &[&'k str]) -> Option<&'k str> {
    if key.starts_with("x-") {
        return None;
    }
    let limit = if key.chars().count() <= 4 { 1 } else { 2 };
    known
        .iter()
        .map(|k| {
            let distance = if k.eq_ignore_ascii_case(key) {
                0
            } else {
                edit_distance(&key.to_ascii_lowercase(), &k.to_ascii_lowercase())
            };
            (distance, *k)
        })
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// Optimal string alignment distance (Levenshtein with transpositions).
#[inline(never)]
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut rows = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in rows.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in rows[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (rows[i - 1][j] + 1)
                .min(rows[i][j - 1] + 1)
                .min(rows[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(rows[i - 2][j - 2] + 1);
            }
            rows[i][j] = best;
        }
    }
    rows[a.len()][b.len()]
}

/// `primaryKey`, a foreign key's `fields`: one field name or a list.
#[inline(never)]
fn names(path: &str, raw: &RawValue) -> Result<Vec<String>> {
    match raw.get().as_bytes().first() {
        Some(b'"') => Ok(vec![string(path, raw)?]),
        Some(b'[') => strings(path, raw),
        _ => Err(expected(path, "a field name or a list of field names", raw)),
    }
}

/// `missingValues`: strings, or (v2) objects `{"value", "label"?}`.
#[inline(never)]
fn missing_values(path: &str, raw: &RawValue) -> Result<Vec<String>> {
    list(path, raw, |at, item| match item.get().as_bytes().first() {
        Some(b'{') => labelled(at, item).map(|(value, _)| value),
        _ => string(at, item),
    })
}

/// `{"value": "...", "label"?: "..."}`.
#[inline(never)]
fn labelled(path: &str, raw: &RawValue) -> Result<(String, Option<String>)> {
    let (value, label) = labelled_json(path, raw)?;
    Ok((string(&join(path, "value"), &value)?, label))
}

/// `{"value": any, "label"?: "..."}`.
#[inline(never)]
fn labelled_json(path: &str, raw: &RawValue) -> Result<(Json, Option<String>)> {
    let (mut value, mut label) = (None, None);
    for (key, item) in object(path, raw)? {
        let at = join(path, &key);
        match key.as_ref() {
            "value" if value.is_none() => value = Some(item.to_owned()),
            "label" if label.is_none() => label = Some(string(&at, item)?),
            "value" | "label" => return Err(key_error(at, "this key is given twice")),
            other => {
                return Err(key_error(
                    at,
                    format!("unknown key `{other}`; known keys: value, label"),
                ));
            }
        }
    }
    Ok((value.ok_or_else(|| missing(path, "value"))?, label))
}

/// `categories`: values, or objects `{"value", "label"?}`.
#[inline(never)]
fn categories(path: &str, raw: &RawValue) -> Result<Vec<(Json, Option<String>)>> {
    list(path, raw, |at, item| match item.get().as_bytes().first() {
        Some(b'{') => labelled_json(at, item),
        _ => Ok((item.to_owned(), None)),
    })
}

#[inline(never)]
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

#[inline(never)]
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

/// A refusal of the key at `path`.
#[inline(never)]
pub(super) fn key_error(path: impl Into<String>, message: impl Into<String>) -> Box<ProtocolError> {
    Box::new(ProtocolError::Key {
        path: path.into(),
        message: message.into(),
    })
}

/// `path.key`, or `key` at the top.
#[inline(never)]
pub(super) fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

#[inline(never)]
fn expected(path: &str, what: &str, raw: &RawValue) -> Box<ProtocolError> {
    key_error(
        path,
        format!("expected {what}, found {}", json_kind(raw.get())),
    )
}

#[inline(never)]
fn missing(path: &str, key: &str) -> Box<ProtocolError> {
    let within = if path.is_empty() {
        String::new()
    } else {
        format!(" in `{path}`")
    };
    key_error(join(path, key), format!("this key is required{within}"))
}

#[inline(never)]
fn require(path: &str, given: &[&str], required: &[&str]) -> Result<()> {
    match required.iter().find(|key| !given.contains(key)) {
        Some(key) => Err(missing(path, key)),
        None => Ok(()),
    }
}

fn is_null(raw: &RawValue) -> bool {
    raw.get() == "null"
}

#[inline(never)]
fn object<'a>(path: &str, raw: &'a RawValue) -> Result<Entries<'a>> {
    match shape(raw.get().as_bytes()) {
        Ok(Shape::Object(entries)) => Ok(entries),
        _ => Err(expected(path, "an object", raw)),
    }
}

/// `null` is the same as leaving the key out.
#[inline(never)]
fn optional<'a, T>(
    path: &str,
    raw: &'a RawValue,
    read: impl FnOnce(&str, &'a RawValue) -> Result<T>,
) -> Result<Option<T>> {
    if is_null(raw) {
        Ok(None)
    } else {
        read(path, raw).map(Some)
    }
}

#[inline(never)]
fn string(path: &str, raw: &RawValue) -> Result<String> {
    match crate::raw_json::string(raw.get().as_bytes()) {
        Some(text) => Ok(text.into_owned()),
        None => Err(expected(path, "a string", raw)),
    }
}

#[inline(never)]
fn boolean(path: &str, raw: &RawValue) -> Result<bool> {
    match raw.get() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(expected(path, "true or false", raw)),
    }
}

#[inline(never)]
fn count(path: &str, raw: &RawValue) -> Result<usize> {
    raw.get()
        .parse()
        .map_err(|_| expected(path, "a whole number of 0 or more", raw))
}

#[inline(never)]
fn number(path: &str, raw: &RawValue) -> Result<f64> {
    match shape(raw.get().as_bytes()) {
        Ok(Shape::Number(x)) => Ok(x),
        _ => Err(expected(path, "a number", raw)),
    }
}

/// `read` of each item of a list, up to the first refusal. A loop, where
/// `collect::<Result<Vec<_>, _>>()` made an iterator adapter per call site
/// that LLVM copied whole: 40 KB of the wasm module.
#[inline(never)]
fn list<'a, T>(
    path: &str,
    raw: &'a RawValue,
    mut read: impl FnMut(&str, &'a RawValue) -> Result<T>,
) -> Result<Vec<T>> {
    let Ok(Shape::Array(items)) = shape(raw.get().as_bytes()) else {
        return Err(expected(path, "a list", raw));
    };
    let mut read_all = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        read_all.push(read(&format!("{path}[{i}]"), item)?);
    }
    Ok(read_all)
}

#[inline(never)]
fn strings(path: &str, raw: &RawValue) -> Result<Vec<String>> {
    list(path, raw, string)
}

/// An object of any keys, each value read by `read`.
#[inline(never)]
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
#[inline(never)]
fn texts(path: &str, raw: &RawValue) -> Result<BTreeMap<String, String>> {
    map(path, raw, string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_are_told_from_custom_keys() {
        let known = FIELD_KEYS;
        assert_eq!(closest("maxLenght", CONSTRAINT_KEYS), Some("maxLength"));
        assert_eq!(closest("Type", known), Some("type"));
        assert_eq!(closest("tittle", known), Some("title"));
        assert_eq!(closest("requred", CONSTRAINT_KEYS), Some("required"));
        assert_eq!(closest("rdfTypes", known), Some("rdfType"));
        assert_eq!(closest("unit", known), None);
        assert_eq!(closest("x-title", known), None);
        assert_eq!(closest("source", known), None);
        assert_eq!(edit_distance("ab", "ba"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
    }
}
