//! Scores: numbers a protocol derives from a valid record (a
//! questionnaire's total, a symptom burden), each the sum of weighted
//! terms. Computed by the engine so every host gets the same number.

use std::collections::HashMap;

use serde::ser::{Serialize, SerializeMap, Serializer};

use serde_json::value::RawValue;

use super::Field;
use super::compile::check_titles;
use super::tree::{Notes, Obj, Result, Unknown, key_error};
use crate::types::Type;
use crate::value::Value;

/// One score.
#[derive(Debug, Clone)]
pub struct Score {
    /// Output key.
    pub name: String,
    /// Human label.
    pub title: Option<String>,
    /// The label in other languages, by language tag.
    pub titles: super::Titles,
    /// What it measures.
    pub description: Option<String>,
    terms: Vec<Term>,
}

#[derive(Debug, Clone)]
struct Term {
    field: usize,
    weight: f64,
    /// For text fields: each allowed value's points.
    values: Option<HashMap<String, f64>>,
}

/// A score's description for forms: `{"name", "title", "description"?}`.
#[derive(Debug, Clone, serde::Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ScoreInfo {
    /// Output key.
    pub name: String,
    /// Label (the name when the protocol gives no title).
    pub title: String,
    /// The label in other languages, by language tag.
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub titles: super::Titles,
    /// What it measures.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

impl Score {
    /// The score of a record's cleaned `values` (by field index); `None`
    /// when a term's field is missing or its text has no points.
    pub fn of(&self, values: &[Value<'_>]) -> Option<f64> {
        self.terms.iter().try_fold(0.0, |sum, term| {
            let points = match (values.get(term.field)?, &term.values) {
                (Value::Integer(n), None) => *n as f64,
                (Value::Number(n), None) => *n,
                (Value::Boolean(b), None) => f64::from(u8::from(*b)),
                (Value::Text(text), Some(values)) => *values.get(text.as_ref())?,
                _ => return None,
            };
            Some(sum + points * term.weight)
        })
    }

    /// This score as a form sees it.
    pub fn info(&self) -> ScoreInfo {
        ScoreInfo {
            name: self.name.clone(),
            title: self.title.clone().unwrap_or_else(|| self.name.clone()),
            titles: self.titles.clone(),
            description: self.description.clone(),
        }
    }
}

/// Every score of a record as a JSON object, in protocol order; a score
/// that cannot be computed is `null`.
pub struct ScoresJson<'a> {
    /// The protocol's scores.
    pub scores: &'a [Score],
    /// The record's cleaned values.
    pub values: &'a [Value<'a>],
}

impl Serialize for ScoresJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.scores.len()))?;
        for score in self.scores {
            map.serialize_entry(&score.name, &score.of(self.values))?;
        }
        map.end()
    }
}

const SCORE_KEYS: &[&str] = &["name", "title", "titles", "description", "terms"];

/// Compiles the score at `path`.
pub(super) fn compile_score(
    path: &str,
    raw: &RawValue,
    fields: &[Field],
    by_name: &impl Fn(&str, &str) -> Result<usize>,
    notes: &mut Notes,
) -> Result<Score> {
    let doc = Obj::open(path.to_owned(), raw, SCORE_KEYS, Unknown::Refuse, notes)?;
    let name = doc
        .text("name")?
        .ok_or_else(|| key_error(doc.at("name"), format!("this key is required in `{path}`")))?;
    if !doc.has("terms") {
        return Err(key_error(
            doc.at("terms"),
            format!("this key is required in `{path}`"),
        ));
    }
    let term_items = doc.list("terms")?;
    if term_items.is_empty() {
        return Err(key_error(
            doc.at("terms"),
            "a score needs at least one term",
        ));
    }
    let mut terms = Vec::with_capacity(term_items.len());
    for (at, raw) in term_items {
        let term = Obj::open(
            at,
            raw,
            &["field", "weight", "values"],
            Unknown::Refuse,
            notes,
        )?;
        let field_name = term.text("field")?.ok_or_else(|| {
            key_error(
                term.at("field"),
                format!("this key is required in `{}`", term.path),
            )
        })?;
        let field = by_name(&term.at("field"), &field_name)?;
        let weight = term.number("weight")?.unwrap_or(1.0);
        if !weight.is_finite() {
            return Err(key_error(term.at("weight"), "must be a finite number"));
        }
        let points = if term.has("values") {
            let table = term.object("values", &[], Unknown::Any, notes)?;
            let mut points = HashMap::new();
            for (value, _) in table.entries() {
                let x = table.number(value)?.unwrap_or(f64::NAN);
                if !x.is_finite() {
                    return Err(key_error(
                        term.at("values"),
                        "points must be finite numbers",
                    ));
                }
                points.insert(value.to_string(), x);
            }
            Some(points)
        } else {
            None
        };
        let kind = &fields[field].ty;
        let values = match (points, kind) {
            (Some(points), Type::String(_) | Type::Any) => Some(points),
            (None, Type::Integer { .. } | Type::Number { .. } | Type::Boolean { .. }) => None,
            (Some(_), _) => {
                return Err(key_error(
                    term.at("values"),
                    format!(
                        "only a string field's values can be given points; `{field_name}` is {}",
                        kind.name()
                    ),
                ));
            }
            (None, _) => {
                return Err(key_error(
                    term.path.clone(),
                    format!(
                        "`{field_name}` is a {} field: give its values points with `values`",
                        kind.name()
                    ),
                ));
            }
        };
        terms.push(Term {
            field,
            weight,
            values,
        });
    }
    let titles = doc.texts_by_key("titles", notes)?;
    check_titles(&doc.at("titles"), &titles)?;
    Ok(Score {
        name,
        title: doc.text("title")?,
        titles,
        description: doc.text("description")?,
        terms,
    })
}
