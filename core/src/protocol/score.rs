//! Scores: numbers a protocol derives from a valid record (a
//! questionnaire's total, a symptom burden), each the sum of weighted
//! terms. Computed by the engine so every host gets the same number.

use std::collections::HashMap;

use serde::ser::{Serialize, SerializeMap, Serializer};

use super::Field;
use super::document::{ScoreDoc, key_error};
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
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.scores.len()))?;
        for score in self.scores {
            map.serialize_entry(&score.name, &score.of(self.values))?;
        }
        map.end()
    }
}

/// Compiles `scores[i]`.
pub(super) fn compile_score(
    path: &str,
    doc: &ScoreDoc,
    fields: &[Field],
    by_name: &impl Fn(&str, &str) -> super::document::Result<usize>,
) -> super::document::Result<Score> {
    if doc.terms.is_empty() {
        return Err(key_error(
            format!("{path}.terms"),
            "a score needs at least one term",
        ));
    }
    let mut terms = Vec::with_capacity(doc.terms.len());
    for (t, term) in doc.terms.iter().enumerate() {
        let at = format!("{path}.terms[{t}]");
        let field = by_name(&format!("{at}.field"), &term.field)?;
        let weight = term.weight.unwrap_or(1.0);
        if !weight.is_finite() {
            return Err(key_error(format!("{at}.weight"), "must be a finite number"));
        }
        let kind = &fields[field].ty;
        let values = match (&term.values, kind) {
            (Some(values), Type::String(_) | Type::Any) => {
                if values.values().any(|v| !v.is_finite()) {
                    return Err(key_error(
                        format!("{at}.values"),
                        "points must be finite numbers",
                    ));
                }
                Some(values.clone().into_iter().collect())
            }
            (None, Type::Integer { .. } | Type::Number { .. } | Type::Boolean { .. }) => None,
            (Some(_), _) => {
                return Err(key_error(
                    format!("{at}.values"),
                    format!(
                        "only a string field's values can be given points; `{}` is {}",
                        term.field,
                        kind.name()
                    ),
                ));
            }
            (None, _) => {
                return Err(key_error(
                    at,
                    format!(
                        "`{}` is a {} field: give its values points with `values`",
                        term.field,
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
    Ok(Score {
        name: doc.name.clone(),
        title: doc.title.clone(),
        titles: super::compile::compile_titles(&format!("{path}.titles"), &doc.titles)?,
        description: doc.description.clone(),
        terms,
    })
}
