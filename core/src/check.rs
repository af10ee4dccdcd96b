//! Checking one field's value: cleaning, type, then constraints.
//!
//! A field gets at most one issue, the first check that fails, in the order
//! required → type → pattern → length → range → plausibility → enum. The
//! parsers for built-in types are written by hand (no regex on the hot path)
//! because this runs for every cell of every record.

use std::borrow::Cow;

use chrono::NaiveDate;

use crate::clean::{clean, clean_owned, collapse_whitespace};
use crate::date::{DateError, parse_date};
use crate::issue::{BoundText, Detail, Issue};
use crate::protocol::{DateLimit, Field, FieldKind, Limit, Pattern};
use crate::value::Value;

/// A field's value as a reader found it, before cleaning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawValue<'a> {
    /// No column or key for the field.
    Absent,
    /// JSON `null`.
    Null,
    /// Text (a CSV cell, a JSON string).
    Text(Cow<'a, str>),
    /// A JSON number, as written.
    Number(&'a str),
    /// A JSON boolean.
    Bool(bool),
    /// A JSON object or array (`"object"` / `"array"`).
    Compound(&'static str),
}

/// Checks one value against its field. `as_of` is the run's as-of date.
pub fn check_field<'a>(
    field: &Field,
    index: usize,
    raw: RawValue<'a>,
    as_of: NaiveDate,
) -> Result<Value<'a>, Issue> {
    let issue = |code: &crate::protocol::Code, detail: Detail, value: Option<String>| Issue {
        field: Some(index),
        code: code.clone(),
        detail,
        value,
    };
    let text: Cow<'a, str> = match raw {
        RawValue::Absent | RawValue::Null => Cow::Borrowed(""),
        RawValue::Text(t) => clean_owned(t),
        RawValue::Number(t) => clean(t),
        RawValue::Bool(b) => Cow::Borrowed(if b { "true" } else { "false" }),
        RawValue::Compound(found) => {
            return Err(issue(&field.codes.kind, Detail::NotScalar { found }, None));
        }
    };
    if text.is_empty() || field.missing_values.iter().any(|m| *m == *text) {
        return if field.required {
            Err(issue(
                &field.codes.required,
                Detail::Required,
                Some(text.into_owned()),
            ))
        } else {
            Ok(Value::Missing)
        };
    }
    let text = if field.collapse_whitespace {
        collapse_whitespace(text)
    } else {
        text
    };

    let value = match parse_typed(&field.kind, text.clone()) {
        Ok(v) => v,
        Err(TypeError::Ambiguous) => {
            return Err(issue(
                &field.codes.ambiguous,
                Detail::AmbiguousDate,
                Some(text.into_owned()),
            ));
        }
        Err(TypeError::Invalid) => {
            let detail = Detail::Type {
                expected: field.kind.type_name(),
            };
            return Err(issue(&field.codes.kind, detail, Some(text.into_owned())));
        }
    };
    if let Some(p) = &field.pattern
        && !p.is_match(&text)
    {
        let detail = Detail::Pattern {
            pattern: p.source.clone(),
        };
        return Err(issue(&field.codes.pattern, detail, Some(text.into_owned())));
    }
    if field.min_length.is_some() || field.max_length.is_some() {
        let length = text.chars().count();
        if let Some(min) = field.min_length
            && length < min
        {
            let detail = Detail::TooShort { min, length };
            return Err(issue(
                &field.codes.min_length,
                detail,
                Some(text.into_owned()),
            ));
        }
        if let Some(max) = field.max_length
            && length > max
        {
            let detail = Detail::TooLong { max, length };
            return Err(issue(
                &field.codes.max_length,
                detail,
                Some(text.into_owned()),
            ));
        }
    }
    if let Some((low, detail)) = range_failure(&field.kind, &value, as_of) {
        let code = if low {
            &field.codes.minimum
        } else {
            &field.codes.maximum
        };
        return Err(issue(code, detail, Some(value.canonical())));
    }
    if let (
        FieldKind::BloodPressure {
            systolic: s_range,
            diastolic: d_range,
        },
        Value::BloodPressure {
            systolic,
            diastolic,
        },
    ) = (&field.kind, &value)
    {
        let inside = |v: u16, (lo, hi): (u16, u16)| lo <= v && v <= hi;
        if !(systolic > diastolic && inside(*systolic, *s_range) && inside(*diastolic, *d_range)) {
            let detail = Detail::Implausible {
                systolic: *systolic,
                diastolic: *diastolic,
                systolic_range: *s_range,
                diastolic_range: *d_range,
            };
            return Err(issue(
                &field.codes.implausible,
                detail,
                Some(value.canonical()),
            ));
        }
    }
    if let Some(allowed) = &field.allowed {
        let canonical = value.canonical();
        if !allowed.contains(&canonical) {
            return Err(issue(
                &field.codes.allowed,
                Detail::NotAllowed,
                Some(canonical),
            ));
        }
    }
    Ok(value)
}

/// The canonical form of `text` as a value of `field`'s type, if it is one
/// (used to compile `enum` entries).
pub(crate) fn canonical(field: &Field, text: &str) -> Option<String> {
    parse_typed(&field.kind, clean(text))
        .ok()
        .map(|v| v.canonical())
}

enum TypeError {
    Invalid,
    Ambiguous,
}

fn parse_typed<'a>(kind: &FieldKind, text: Cow<'a, str>) -> Result<Value<'a>, TypeError> {
    let lexical_ok = |lexical: &Option<Pattern>| lexical.as_ref().is_none_or(|p| p.is_match(&text));
    match kind {
        FieldKind::String => Ok(Value::Text(text)),
        FieldKind::Integer { lexical, .. } => {
            if !lexical_ok(lexical) {
                return Err(TypeError::Invalid);
            }
            parse_integer(&text)
                .map(Value::Integer)
                .ok_or(TypeError::Invalid)
        }
        FieldKind::Number { lexical, .. } => {
            if !lexical_ok(lexical) {
                return Err(TypeError::Invalid);
            }
            parse_number(&text)
                .map(Value::Number)
                .ok_or(TypeError::Invalid)
        }
        FieldKind::Boolean {
            true_values,
            false_values,
        } => {
            if true_values.iter().any(|t| *t == *text) {
                Ok(Value::Boolean(true))
            } else if false_values.iter().any(|f| *f == *text) {
                Ok(Value::Boolean(false))
            } else {
                Err(TypeError::Invalid)
            }
        }
        FieldKind::Date { syntax, .. } => match parse_date(&text, syntax) {
            Ok(date) => Ok(Value::Date(date)),
            Err(DateError::Invalid) => Err(TypeError::Invalid),
            Err(DateError::Ambiguous) => Err(TypeError::Ambiguous),
        },
        FieldKind::BloodPressure { .. } => parse_blood_pressure(&text)
            .map(|(systolic, diastolic)| Value::BloodPressure {
                systolic,
                diastolic,
            })
            .ok_or(TypeError::Invalid),
    }
}

/// `[+-]?[0-9]+` into an `i64` (`None` past its range).
fn parse_integer(text: &str) -> Option<i64> {
    let unsigned = text.strip_prefix(['+', '-']).unwrap_or(text);
    if unsigned.is_empty() || !unsigned.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// A finite decimal number: `[+-]?digits[.digits][(e|E)[+-]?digits]`.
///
/// Checked here, then read by serde_json's float parser (which the module
/// has anyway) rather than `str::parse`, whose tables would be a second
/// copy in the wasm module.
pub(crate) fn parse_number(text: &str) -> Option<f64> {
    let bytes = text.as_bytes();
    let (negative, rest) = match bytes.first()? {
        b'+' => (false, &bytes[1..]),
        b'-' => (true, &bytes[1..]),
        _ => (false, bytes),
    };
    let digits = |from: usize| {
        rest[from..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count()
    };
    let whole = digits(0);
    let mut at = whole;
    if whole == 0 {
        return None;
    }
    if rest.get(at) == Some(&b'.') {
        let fraction = digits(at + 1);
        if fraction == 0 {
            return None;
        }
        at += 1 + fraction;
    }
    if matches!(rest.get(at), Some(b'e' | b'E')) {
        at += 1;
        if matches!(rest.get(at), Some(b'+' | b'-')) {
            at += 1;
        }
        let exponent = digits(at);
        if exponent == 0 {
            return None;
        }
        at += exponent;
    }
    if at != rest.len() {
        return None;
    }
    // JSON has no leading zeros: keep one digit of the whole part.
    let zeros = rest[..whole - 1].iter().take_while(|&&b| b == b'0').count();
    let mut json = Vec::with_capacity(rest.len() + 1);
    if negative {
        json.push(b'-');
    }
    json.extend_from_slice(&rest[zeros..]);
    match crate::raw_json::shape(&json) {
        Ok(crate::raw_json::Shape::Number(x)) if x.is_finite() => Some(x),
        _ => None,
    }
}

/// `S/D` with 2–3 digits each; white space around `/` is allowed.
fn parse_blood_pressure(text: &str) -> Option<(u16, u16)> {
    let (s, d) = text.split_once('/')?;
    let number = |t: &str| {
        ((2..=3).contains(&t.len()) && t.bytes().all(|b| b.is_ascii_digit()))
            .then(|| t.parse().ok())
            .flatten()
    };
    Some((number(s.trim_end())?, number(d.trim_start())?))
}

/// Which bound `value` breaks, if any: `(is_lower_bound, detail)`.
fn range_failure(kind: &FieldKind, value: &Value<'_>, as_of: NaiveDate) -> Option<(bool, Detail)> {
    fn below<T: PartialOrd>(v: T, l: &Limit<T>) -> bool {
        if l.exclusive {
            v <= l.value
        } else {
            v < l.value
        }
    }
    fn above<T: PartialOrd>(v: T, l: &Limit<T>) -> bool {
        if l.exclusive {
            v >= l.value
        } else {
            v > l.value
        }
    }
    fn text<T: Copy>(l: &Limit<T>, show: fn(T) -> String) -> BoundText {
        BoundText {
            text: show(l.value),
            exclusive: l.exclusive,
            as_of: false,
        }
    }
    fn numeric<T: PartialOrd + Copy>(
        v: T,
        minimum: &Option<Limit<T>>,
        maximum: &Option<Limit<T>>,
        show: fn(T) -> String,
    ) -> Option<(bool, Detail)> {
        let low = minimum.as_ref().is_some_and(|l| below(v, l));
        let high = maximum.as_ref().is_some_and(|l| above(v, l));
        (low || high).then(|| {
            let detail = Detail::OutOfRange {
                low: minimum.as_ref().map(|l| text(l, show)),
                high: maximum.as_ref().map(|l| text(l, show)),
            };
            (low, detail)
        })
    }
    match (kind, value) {
        (
            FieldKind::Integer {
                minimum, maximum, ..
            },
            Value::Integer(n),
        ) => numeric(*n, minimum, maximum, |n| n.to_string()),
        (
            FieldKind::Number {
                minimum, maximum, ..
            },
            Value::Number(x),
        ) => numeric(*x, minimum, maximum, crate::value::number_text),
        (
            FieldKind::Date {
                minimum, maximum, ..
            },
            Value::Date(d),
        ) => {
            let resolve = |l: &Limit<DateLimit>| Limit {
                value: match l.value {
                    DateLimit::Fixed(date) => date,
                    DateLimit::AsOf => as_of,
                },
                exclusive: l.exclusive,
            };
            // The bound's text is made only for a failure: this runs per record.
            let bound = |l: &Limit<DateLimit>| BoundText {
                text: Value::Date(resolve(l).value).canonical(),
                exclusive: l.exclusive,
                as_of: l.value == DateLimit::AsOf,
            };
            if let Some(l) = minimum
                && below(*d, &resolve(l))
            {
                return Some((true, Detail::TooEarly(bound(l))));
            }
            if let Some(l) = maximum
                && above(*d, &resolve(l))
            {
                return Some((false, Detail::TooLate(bound(l))));
            }
            None
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests;
