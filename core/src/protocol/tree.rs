//! A protocol document read as a tree of objects that know their path.
//!
//! The compiler walks the document through these few accessors (one
//! non-generic function per JSON shape), so every refusal names its key
//! (`fields[2].constraints.pattern`) without each key needing code of its
//! own: the wasm module carries one small reader, not a struct reader per
//! object. Opening an object checks its keys once: the spec lets a
//! descriptor carry properties of its own (`rdfType`, `x-…`, anything), so
//! an unknown key is kept as a warning, unless it looks like a typo of a
//! known one (`maxLenght`, `Type`) — refused with the suggestion, since it
//! would silently drop a check — or the object allows no unknown keys
//! (`constraints`: a check clinval cannot run must not pass). A key given
//! twice is refused. `null` is a key left out.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde_json::value::RawValue;

use super::{ProtocolError, ProtocolWarning};
use crate::raw_json::{Shape, json_kind, shape};

/// A refusal, boxed: results stay small on the many `?` paths.
pub(super) type Result<T> = std::result::Result<T, Box<ProtocolError>>;

/// A refusal of the key at `path`.
pub(super) fn key_error(path: impl Into<String>, message: impl Into<String>) -> Box<ProtocolError> {
    Box::new(ProtocolError::Key {
        path: path.into(),
        message: message.into(),
    })
}

/// `path.key`, or `key` at the top.
pub(super) fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

/// `expected {what}, found {kind of raw}` at `path`.
pub(super) fn expected(path: &str, what: &str, raw: &RawValue) -> Box<ProtocolError> {
    key_error(
        path,
        format!("expected {what}, found {}", json_kind(raw.get())),
    )
}

/// Which unknown keys an object allows.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Unknown {
    /// Refused (with a suggestion when one is close).
    Refuse,
    /// Kept as a warning, unless close to a known key (then refused) or
    /// starting with `x-` (then kept silently).
    Warn,
    /// Any key (titles by language, codes by check): no suggestion.
    Any,
}

/// Collects what reading noticed but did not refuse.
#[derive(Default)]
pub(super) struct Notes {
    pub warnings: Vec<ProtocolWarning>,
}

impl Notes {
    /// Keeps a warning about the key at `path`.
    pub fn warn(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.warnings.push(ProtocolWarning {
            path: path.into(),
            message: message.into(),
        });
    }
}

/// One JSON object of the document, its keys checked.
pub(super) struct Obj<'a> {
    /// Its path (`""` for the document).
    pub path: String,
    entries: Vec<(Cow<'a, str>, &'a RawValue)>,
}

impl<'a> Obj<'a> {
    /// The document itself, which must be an object.
    pub fn document(text: &'a str, known: &[&str], notes: &mut Notes) -> Result<Obj<'a>> {
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
        Obj::checked(String::new(), entries, known, Unknown::Warn, notes)
    }

    /// The object `raw` at `path`, its keys checked against `known`.
    #[inline(never)]
    pub fn open(
        path: String,
        raw: &'a RawValue,
        known: &[&str],
        unknown: Unknown,
        notes: &mut Notes,
    ) -> Result<Obj<'a>> {
        match shape(raw.get().as_bytes()) {
            Ok(Shape::Object(entries)) => Obj::checked(path, entries, known, unknown, notes),
            _ => Err(expected(&path, "an object", raw)),
        }
    }

    fn checked(
        path: String,
        entries: Vec<(Cow<'a, str>, &'a RawValue)>,
        known: &[&str],
        unknown: Unknown,
        notes: &mut Notes,
    ) -> Result<Obj<'a>> {
        for (i, (key, _)) in entries.iter().enumerate() {
            let at = join(&path, key);
            if entries[..i].iter().any(|(k, _)| k == key) {
                return Err(key_error(at, "this key is given twice"));
            }
            if unknown == Unknown::Any || known.contains(&key.as_ref()) {
                continue;
            }
            match (unknown, closest(key, known)) {
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
                _ if key.starts_with("x-") => {}
                _ => notes.warn(at, "not a key clinval knows; kept, not checked"),
            }
        }
        Ok(Obj { path, entries })
    }

    /// The path of `key` in this object.
    pub fn at(&self, key: &str) -> String {
        join(&self.path, key)
    }

    /// The value of `key`, unless absent or `null`.
    pub fn raw(&self, key: &str) -> Option<&'a RawValue> {
        self.entries
            .iter()
            .find(|(k, v)| k == key && v.get() != "null")
            .map(|(_, v)| *v)
    }

    /// Whether `key` is given (and not `null`).
    pub fn has(&self, key: &str) -> bool {
        self.raw(key).is_some()
    }

    /// Every entry, in document order.
    pub fn entries(&self) -> &[(Cow<'a, str>, &'a RawValue)] {
        &self.entries
    }

    /// A string.
    #[inline(never)]
    pub fn text(&self, key: &str) -> Result<Option<String>> {
        self.raw(key).map(|v| text(&self.at(key), v)).transpose()
    }

    /// `true` or `false`.
    #[inline(never)]
    pub fn flag(&self, key: &str) -> Result<Option<bool>> {
        self.raw(key)
            .map(|v| match v.get() {
                "true" => Ok(true),
                "false" => Ok(false),
                _ => Err(expected(&self.at(key), "true or false", v)),
            })
            .transpose()
    }

    /// A whole number of 0 or more.
    #[inline(never)]
    pub fn count(&self, key: &str) -> Result<Option<usize>> {
        self.raw(key)
            .map(|v| {
                v.get()
                    .parse()
                    .map_err(|_| expected(&self.at(key), "a whole number of 0 or more", v))
            })
            .transpose()
    }

    /// A number.
    #[inline(never)]
    pub fn number(&self, key: &str) -> Result<Option<f64>> {
        self.raw(key)
            .map(|v| match shape(v.get().as_bytes()) {
                Ok(Shape::Number(x)) => Ok(x),
                _ => Err(expected(&self.at(key), "a number", v)),
            })
            .transpose()
    }

    /// A list's items with their paths (empty when absent).
    #[inline(never)]
    pub fn list(&self, key: &str) -> Result<Vec<(String, &'a RawValue)>> {
        match self.raw(key) {
            None => Ok(Vec::new()),
            Some(v) => items(&self.at(key), v),
        }
    }

    /// A list of strings (empty when absent).
    pub fn texts(&self, key: &str) -> Result<Vec<String>> {
        let mut out = Vec::new();
        for (at, item) in self.list(key)? {
            out.push(text(&at, item)?);
        }
        Ok(out)
    }

    /// One field name or a list of them (`primaryKey`, a foreign key's `fields`).
    #[inline(never)]
    pub fn names(&self, key: &str) -> Result<Option<Vec<String>>> {
        let Some(v) = self.raw(key) else {
            return Ok(None);
        };
        match v.get().as_bytes().first() {
            Some(b'"') => Ok(Some(vec![text(&self.at(key), v)?])),
            Some(b'[') => self.texts(key).map(Some),
            _ => Err(expected(
                &self.at(key),
                "a field name or a list of field names",
                v,
            )),
        }
    }

    /// The object at `key`, its keys checked (an empty one when absent).
    pub fn object(
        &self,
        key: &str,
        known: &[&str],
        unknown: Unknown,
        notes: &mut Notes,
    ) -> Result<Obj<'a>> {
        match self.raw(key) {
            Some(v) => Obj::open(self.at(key), v, known, unknown, notes),
            None => Ok(Obj {
                path: self.at(key),
                entries: Vec::new(),
            }),
        }
    }

    /// An object of texts by any key (titles by language, codes by check).
    #[inline(never)]
    pub fn texts_by_key(&self, key: &str, notes: &mut Notes) -> Result<BTreeMap<String, String>> {
        let obj = self.object(key, &[], Unknown::Any, notes)?;
        let mut map = BTreeMap::new();
        for (name, value) in &obj.entries {
            map.insert(name.to_string(), text(&obj.at(name), value)?);
        }
        Ok(map)
    }
}

/// A string at `path`.
#[inline(never)]
pub(super) fn text(path: &str, raw: &RawValue) -> Result<String> {
    match crate::raw_json::string(raw.get().as_bytes()) {
        Some(text) => Ok(text.into_owned()),
        None => Err(expected(path, "a string", raw)),
    }
}

/// A list's items at `path`, each with its own path.
#[inline(never)]
pub(super) fn items<'a>(path: &str, raw: &'a RawValue) -> Result<Vec<(String, &'a RawValue)>> {
    let Ok(Shape::Array(items)) = shape(raw.get().as_bytes()) else {
        return Err(expected(path, "a list", raw));
    };
    Ok(items
        .into_iter()
        .enumerate()
        .map(|(i, item)| (format!("{path}[{i}]"), item))
        .collect())
}

/// The known key `key` is probably a typo of: the same but for case, or
/// within a small edit distance (one edit for short keys, two for long).
pub(super) fn closest<'k>(key: &str, known: &[&'k str]) -> Option<&'k str> {
    if key.starts_with("x-") {
        return None;
    }
    let limit = if key.chars().count() <= 4 { 1 } else { 2 };
    let key = key.to_ascii_lowercase();
    known
        .iter()
        .map(|k| (edit_distance(&key, &k.to_ascii_lowercase()), *k))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// Optimal string alignment distance (Levenshtein with transpositions).
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let width = b.len() + 1;
    let mut rows = vec![0usize; (a.len() + 1) * width];
    for (j, cell) in rows[..width].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        rows[i * width] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (rows[(i - 1) * width + j] + 1)
                .min(rows[i * width + j - 1] + 1)
                .min(rows[(i - 1) * width + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(rows[(i - 2) * width + j - 2] + 1);
            }
            rows[i * width + j] = best;
        }
    }
    rows[a.len() * width + b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_are_told_from_custom_keys() {
        let known = ["name", "title", "type", "rdfType", "maxLength", "required"];
        assert_eq!(closest("maxLenght", &known), Some("maxLength"));
        assert_eq!(closest("Type", &known), Some("type"));
        assert_eq!(closest("tittle", &known), Some("title"));
        assert_eq!(closest("requred", &known), Some("required"));
        assert_eq!(closest("rdfTypes", &known), Some("rdfType"));
        assert_eq!(closest("unit", &known), None);
        assert_eq!(closest("x-title", &known), None);
        assert_eq!(closest("source", &known), None);
        assert_eq!(edit_distance("ab", "ba"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
    }
}
