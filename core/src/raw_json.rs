//! JSON one level at a time: a value's shape, with an object's entries or
//! an array's items kept as written (`&RawValue`) for the caller to read
//! next. The record reader, the protocol reader and the wasm module's
//! option readers all read JSON through here.
//!
//! Why not `Deserialize` for each type: a derived (or serde's own) reader is
//! a generic visitor per type, and its type errors format serde's
//! `Unexpected`, which pulls `f64` and `str` Debug formatting with their
//! tables into the wasm module (~30 KB). One visitor that accepts every
//! shape, driven by `deserialize_any`, never builds such an error; callers
//! say what they expected in their own words.

use std::borrow::Cow;
use std::cell::Cell;
use std::fmt;

use serde::de::{Deserialize, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

/// An object's entries in document order (repeated keys kept), keys
/// borrowed unless they have escapes.
pub type Entries<'a> = Vec<(Cow<'a, str>, &'a RawValue)>;

/// One JSON value, its children unread.
#[derive(Debug)]
pub enum Shape<'a> {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number, as serde_json reads it into an `f64` (read the raw text
    /// for exact integers).
    Number(f64),
    /// A string, unescaped (borrowed unless it had escapes).
    Text(Cow<'a, str>),
    /// An array's items.
    Array(Vec<&'a RawValue>),
    /// An object's entries.
    Object(Entries<'a>),
}

/// The shape of the JSON text `bytes` (a syntax error otherwise).
pub fn shape(bytes: &[u8]) -> Result<Shape<'_>, serde_json::Error> {
    read(bytes, usize::MAX, &Cell::new(false))
}

/// Why [`shape_within`] gave no shape.
#[derive(Debug)]
pub enum ShapeError {
    /// The object has more members than the limit.
    TooManyMembers,
    /// The text is not JSON.
    Json(serde_json::Error),
}

/// The shape of the JSON text `bytes`, refusing an object of more than
/// `max_members` members: members past the limit are skipped as they are
/// read, so a huge object costs one pass over its text and no more memory
/// than the limit.
pub fn shape_within(bytes: &[u8], max_members: usize) -> Result<Shape<'_>, ShapeError> {
    let over = Cell::new(false);
    let shape = read(bytes, max_members, &over);
    if over.get() {
        return Err(ShapeError::TooManyMembers);
    }
    shape.map_err(ShapeError::Json)
}

/// One reading path for both (one copy of serde_json's parser in wasm).
fn read<'a>(
    bytes: &'a [u8],
    max_members: usize,
    over: &Cell<bool>,
) -> serde_json::Result<Shape<'a>> {
    let mut reader = serde_json::Deserializer::from_slice(bytes);
    let shape = ShapeVisitor { max_members, over }.deserialize(&mut reader)?;
    reader.end()?;
    Ok(shape)
}

/// The string a JSON text holds, if it is one string.
pub fn string(bytes: &[u8]) -> Option<Cow<'_, str>> {
    match shape(bytes) {
        Ok(Shape::Text(text)) => Some(text),
        _ => None,
    }
}

/// How many items an array, or members an object, has (`None` for
/// other values and for text that is not JSON).
pub fn children(bytes: &[u8]) -> Option<usize> {
    match shape(bytes).ok()? {
        Shape::Array(items) => Some(items.len()),
        Shape::Object(entries) => Some(entries.len()),
        _ => None,
    }
}

/// What kind of JSON value a text is, for messages (`an array`, `null`).
pub fn json_kind(text: &str) -> &'static str {
    match text.trim_start().as_bytes().first() {
        Some(b'[') => "an array",
        Some(b'"') => "a string",
        Some(b't' | b'f') => "a boolean",
        Some(b'n') => "null",
        Some(b'{') => "an object",
        _ => "a number",
    }
}

/// Reads one value's shape; an object of more than `max_members` members
/// sets `over` (and keeps only the first ones).
#[derive(Clone, Copy)]
struct ShapeVisitor<'f> {
    max_members: usize,
    over: &'f Cell<bool>,
}

impl<'de> DeserializeSeed<'de> for ShapeVisitor<'_> {
    type Value = Shape<'de>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Shape<'de>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ShapeVisitor<'_> {
    type Value = Shape<'de>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E>(self) -> Result<Shape<'de>, E> {
        Ok(Shape::Null)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Shape<'de>, E> {
        Ok(Shape::Bool(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Shape<'de>, E> {
        Ok(Shape::Number(v as f64))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Shape<'de>, E> {
        Ok(Shape::Number(v as f64))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Shape<'de>, E> {
        Ok(Shape::Number(v))
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Shape<'de>, E> {
        Ok(Shape::Text(Cow::Borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Shape<'de>, E> {
        Ok(Shape::Text(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E>(self, v: String) -> Result<Shape<'de>, E> {
        Ok(Shape::Text(Cow::Owned(v)))
    }
    fn visit_seq<S: SeqAccess<'de>>(self, mut seq: S) -> Result<Shape<'de>, S::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<&'de RawValue>()? {
            items.push(item);
        }
        Ok(Shape::Array(items))
    }
    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Shape<'de>, M::Error> {
        let mut entries = Vec::new();
        while let Some((key, value)) = map.next_entry::<Key<'de>, &'de RawValue>()? {
            if entries.len() == self.max_members {
                self.over.set(true);
            } else {
                entries.push((key.0, value));
            }
        }
        Ok(Shape::Object(entries))
    }
}

/// A key that borrows from the input unless it has escapes.
struct Key<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string key")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
        }
        d.deserialize_any(KeyVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_limit_on_members_stops_reading_at_the_first_too_many() {
        assert!(
            matches!(shape_within(br#"{"a": 1, "b": [1, 2, 3]}"#, 2), Ok(Shape::Object(e)) if e.len() == 2)
        );
        assert!(matches!(
            shape_within(br#"{"a": 1, "b": 2, "c": 3}"#, 2),
            Err(ShapeError::TooManyMembers)
        ));
        // The limit is on the object read, not on those inside it.
        assert!(shape_within(br#"{"a": {"x": 1, "y": 2, "z": 3}}"#, 2).is_ok());
        assert!(matches!(
            shape_within(br#"{"a": 1"#, 2),
            Err(ShapeError::Json(_))
        ));
        assert!(matches!(
            shape_within(br#"{"a": 1} x"#, 2),
            Err(ShapeError::Json(_))
        ));
        assert!(matches!(shape_within(b"[1, 2, 3]", 2), Ok(Shape::Array(_))));
    }

    #[test]
    fn reads_one_level() {
        let Shape::Object(entries) =
            shape(br#"{"a": [1, {"b": 2}], "a\u0062": "x", "a": null}"#).unwrap()
        else {
            panic!("an object")
        };
        let keys: Vec<_> = entries.iter().map(|(k, v)| (k.as_ref(), v.get())).collect();
        assert_eq!(
            keys,
            [("a", r#"[1, {"b": 2}]"#), ("ab", r#""x""#), ("a", "null")]
        );
        let Shape::Array(items) = shape(entries[0].1.get().as_bytes()).unwrap() else {
            panic!("an array")
        };
        let items: Vec<_> = items.iter().map(|v| v.get()).collect();
        assert_eq!(items, ["1", r#"{"b": 2}"#]);
        assert!(matches!(shape(b" -1.5e1 "), Ok(Shape::Number(-15.0))));
        assert!(
            matches!(shape(b"18446744073709551615"), Ok(Shape::Number(x)) if x == u64::MAX as f64)
        );
        assert!(matches!(shape(b"true"), Ok(Shape::Bool(true))));
        assert!(matches!(shape(b"null"), Ok(Shape::Null)));
        assert_eq!(string(br#""\u00e9t\u00e9""#).as_deref(), Some("été"));
        assert_eq!(string(br#""plain""#), Some(Cow::Borrowed("plain")));
        assert_eq!(string(b"5"), None);
        assert!(shape(b"[1,]").is_err());
        assert!(shape(b"1e400").is_err());
        assert_eq!(json_kind(" [1]"), "an array");
    }
}
