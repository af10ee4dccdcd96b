//! Typed, cleaned field values and their canonical output form.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::fmt::Write as _;

use chrono::{Datelike, NaiveDate};
use serde::ser::{Serialize, Serializer};

/// A field's value after cleaning and type checks.
#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    /// Missing (allowed only for fields that are not required).
    Missing,
    /// Text, cleaned.
    Text(Cow<'a, str>),
    /// A whole number.
    Integer(i64),
    /// A decimal number (always finite).
    Number(f64),
    /// True or false.
    Boolean(bool),
    /// A calendar date; output as ISO `YYYY-MM-DD`.
    Date(NaiveDate),
    /// Blood pressure in mmHg; output as `"S/D"`.
    BloodPressure {
        /// Systolic pressure.
        systolic: u16,
        /// Diastolic pressure.
        diastolic: u16,
    },
}

impl Value<'_> {
    /// Appends the canonical text of the value (what JSON output shows, as
    /// text): `51`, `2024-05-29`, `120/80`; nothing for a missing value.
    pub fn write_canonical(&self, out: &mut String) {
        // Writing to a String cannot fail.
        let _ = match self {
            Value::Missing => Ok(()),
            Value::Text(t) => {
                out.push_str(t);
                Ok(())
            }
            Value::Integer(n) => write!(out, "{n}"),
            Value::Number(x) => {
                out.push_str(&number_text(*x));
                Ok(())
            }
            Value::Boolean(b) => write!(out, "{b}"),
            Value::Date(d) => {
                out.push_str(iso_date(*d, &mut [0; 10]));
                Ok(())
            }
            Value::BloodPressure {
                systolic,
                diastolic,
            } => {
                out.push_str(pressure(*systolic, *diastolic, &mut [0; 11]));
                Ok(())
            }
        };
    }

    /// The canonical text as a new string.
    pub fn canonical(&self) -> String {
        let mut out = String::new();
        self.write_canonical(&mut out);
        out
    }

    /// Orders two values of the same type; `None` for different types or
    /// types without an order.
    pub fn compare(&self, other: &Value<'_>) -> Option<Ordering> {
        match (self, other) {
            (Value::Text(a), Value::Text(b)) => Some(a.as_ref().cmp(b.as_ref())),
            (Value::Integer(a), Value::Integer(b)) => Some(a.cmp(b)),
            (Value::Number(a), Value::Number(b)) => a.partial_cmp(b),
            (Value::Date(a), Value::Date(b)) => Some(a.cmp(b)),
            _ => None,
        }
    }
}

impl Serialize for Value<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Missing => s.serialize_none(),
            Value::Text(t) => s.serialize_str(t),
            Value::Integer(n) => s.serialize_i64(*n),
            Value::Number(x) => match whole(*x) {
                Some(n) => s.serialize_i64(n),
                None => s.serialize_f64(*x),
            },
            Value::Boolean(b) => s.serialize_bool(*b),
            Value::Date(date) => {
                let mut buffer = [0u8; 10];
                s.serialize_str(iso_date(*date, &mut buffer))
            }
            Value::BloodPressure {
                systolic,
                diastolic,
            } => {
                let mut buffer = [0u8; 11];
                s.serialize_str(pressure(*systolic, *diastolic, &mut buffer))
            }
        }
    }
}

/// `x` as a whole number, when it is one (and exactly representable).
fn whole(x: f64) -> Option<i64> {
    (x.fract() == 0.0 && x.abs() < 9.0e15).then_some(x as i64)
}

/// The canonical text of a number: `30` for a whole number, else the
/// shortest text that reads back as the same `f64` (as JSON output shows it).
/// serde_json's formatter is used rather than `{}`: one float formatter in
/// the wasm module, not two.
pub fn number_text(x: f64) -> String {
    match whole(x) {
        Some(n) => n.to_string(),
        None => serde_json::Number::from_f64(x).map_or_else(|| "NaN".into(), |n| n.to_string()),
    }
}

/// `YYYY-MM-DD` into `buffer`, without the formatting machinery (this runs
/// for every valid record written out). Years outside 0..=9999 cannot come
/// from the date forms clinval reads; they are clamped rather than mangled.
fn iso_date(date: NaiveDate, buffer: &mut [u8; 10]) -> &str {
    let year = date.year().clamp(0, 9999) as u32;
    let digits = |n: u32, out: &mut [u8]| {
        let mut n = n;
        for slot in out.iter_mut().rev() {
            *slot = b'0' + (n % 10) as u8;
            n /= 10;
        }
    };
    digits(year, &mut buffer[0..4]);
    buffer[4] = b'-';
    digits(date.month(), &mut buffer[5..7]);
    buffer[7] = b'-';
    digits(date.day(), &mut buffer[8..10]);
    std::str::from_utf8(buffer).unwrap_or_default()
}

/// `S/D` into `buffer`.
fn pressure(systolic: u16, diastolic: u16, buffer: &mut [u8; 11]) -> &str {
    let mut len = push_decimal(systolic, buffer, 0);
    buffer[len] = b'/';
    len = push_decimal(diastolic, buffer, len + 1);
    std::str::from_utf8(&buffer[..len]).unwrap_or_default()
}

/// Writes `n` in decimal at `buffer[at..]`; returns the end.
fn push_decimal(n: u16, buffer: &mut [u8], at: usize) -> usize {
    let mut digits = [0u8; 5];
    let mut count = 0;
    let mut n = n;
    loop {
        digits[count] = b'0' + (n % 10) as u8;
        count += 1;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for (slot, digit) in buffer[at..at + count]
        .iter_mut()
        .zip(digits[..count].iter().rev())
    {
        *slot = *digit;
    }
    at + count
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_forms() {
        let date = Value::Date(NaiveDate::from_ymd_opt(2024, 5, 9).unwrap());
        assert_eq!(date.canonical(), "2024-05-09");
        let bp = Value::BloodPressure {
            systolic: 120,
            diastolic: 80,
        };
        assert_eq!(serde_json::to_string(&bp).unwrap(), "\"120/80\"");
        let edge = Value::BloodPressure {
            systolic: 65535,
            diastolic: 0,
        };
        assert_eq!(edge.canonical(), "65535/0");
        let early = Value::Date(NaiveDate::from_ymd_opt(900, 1, 2).unwrap());
        assert_eq!(serde_json::to_string(&early).unwrap(), "\"0900-01-02\"");
        assert_eq!(serde_json::to_string(&Value::Integer(51)).unwrap(), "51");
        assert_eq!(serde_json::to_string(&Value::Number(30.0)).unwrap(), "30");
        assert_eq!(Value::Number(30.0).canonical(), "30");
        assert_eq!(Value::Number(0.1).canonical(), "0.1");
        assert_eq!(
            serde_json::to_string(&Value::Number(-2.5e-7)).unwrap(),
            Value::Number(-2.5e-7).canonical()
        );
        assert_eq!(serde_json::to_string(&Value::Missing).unwrap(), "null");
    }

    #[test]
    fn comparisons_only_within_a_type() {
        assert_eq!(
            Value::Integer(1).compare(&Value::Integer(2)),
            Some(Ordering::Less)
        );
        assert_eq!(Value::Integer(1).compare(&Value::Number(2.0)), None);
    }
}
