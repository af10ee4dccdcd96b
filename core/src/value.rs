//! Typed, cleaned field values: their canonical text, their JSON output
//! and their order.
//!
//! Every Table Schema type has one variant here, so the checker, the
//! uniqueness index, the bounds of the protocol and the output all agree on
//! what a value *is* (its logical value, in the spec's words) rather than
//! on how it was written.

use std::borrow::Cow;
use std::cmp::Ordering;

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime, Timelike};
use serde::ser::{Serialize, SerializeSeq, Serializer};

/// A field's value after cleaning and type checks.
#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    /// Missing (allowed only for fields that are not required).
    Missing,
    /// Text (a `string` field; an `any` field's text).
    Text(Cow<'a, str>),
    /// A whole number.
    Integer(i64),
    /// A number; `NaN` and the infinities are values too (Table Schema allows them).
    Number(f64),
    /// True or false.
    Boolean(bool),
    /// A calendar date; output as ISO `YYYY-MM-DD`.
    Date(NaiveDate),
    /// A time of day, with the UTC offset it was written with, if any.
    Time {
        /// The time as written.
        time: NaiveTime,
        /// Seconds east of UTC.
        offset: Option<i32>,
    },
    /// A date and time, with its UTC offset, if any.
    DateTime {
        /// The date and time as written.
        datetime: NaiveDateTime,
        /// Seconds east of UTC.
        offset: Option<i32>,
    },
    /// A calendar year (`year`).
    Year(i32),
    /// A month of a year (`yearmonth`).
    YearMonth {
        /// The year.
        year: i32,
        /// 1..=12.
        month: u8,
    },
    /// An ISO 8601 / XML Schema duration.
    Duration(Box<Duration>),
    /// A point: longitude and latitude in degrees.
    GeoPoint {
        /// −180..=180.
        lon: f64,
        /// −90..=90.
        lat: f64,
    },
    /// A JSON object or array (`object`, `array`, `geojson`, and an `any`
    /// field's JSON value), as compact JSON text with sorted keys.
    Json(Cow<'a, str>),
    /// The items of a `list` field.
    List(Vec<Value<'a>>),
    /// Blood pressure in mmHg; output as `"S/D"`.
    BloodPressure {
        /// Systolic pressure.
        systolic: u16,
        /// Diastolic pressure.
        diastolic: u16,
    },
}

/// A duration: `PnYnMnDTnHnMnS`, kept by component so it is written back
/// as it was meant (`PT36H` stays `PT36H`) and compared as XML Schema says.
#[derive(Debug, Clone, PartialEq)]
pub struct Duration {
    /// Written with a leading `-`.
    pub negative: bool,
    /// Years, months, days, hours, minutes.
    pub parts: [u64; 5],
    /// Seconds, possibly fractional.
    pub seconds: f64,
}

impl Duration {
    /// The duration as `(months, seconds)`, signed: its value in XML
    /// Schema's value space.
    pub fn months_seconds(&self) -> (f64, f64) {
        let [years, months, days, hours, minutes] = self.parts.map(|n| n as f64);
        let sign = if self.negative { -1.0 } else { 1.0 };
        (
            sign * (years * 12.0 + months),
            sign * (days * 86_400.0 + hours * 3_600.0 + minutes * 60.0 + self.seconds),
        )
    }

    /// XML Schema's order of durations: compared by adding each to four
    /// reference date-times; `None` when they disagree (`P1M` and `P30D`).
    pub fn compare(&self, other: &Duration) -> Option<Ordering> {
        const REFERENCES: [(i32, u32); 4] = [(1696, 9), (1697, 2), (1903, 3), (1903, 7)];
        let mut order = None;
        for (year, month) in REFERENCES {
            let start = NaiveDate::from_ymd_opt(year, month, 1)?.and_hms_opt(0, 0, 0)?;
            let a = self.added_to(start)?;
            let b = other.added_to(start)?;
            let this = a.partial_cmp(&b)?;
            if order.is_some_and(|o| o != this) {
                return None;
            }
            order = Some(this);
        }
        order
    }

    /// `start` plus this duration, in seconds since `start`'s year 0 (as f64).
    fn added_to(&self, start: NaiveDateTime) -> Option<f64> {
        let (months, seconds) = self.months_seconds();
        let total = i64::from(start.year()) * 12 + i64::from(start.month0()) + months as i64;
        let shifted = NaiveDate::from_ymd_opt(
            i32::try_from(total.div_euclid(12)).ok()?,
            u32::try_from(total.rem_euclid(12)).ok()? + 1,
            1,
        )?;
        Some(f64::from(shifted.num_days_from_ce()) * 86_400.0 + seconds)
    }
}

impl Value<'_> {
    /// A copy of the value with nothing borrowed (one pass: no clone to
    /// take apart again).
    pub fn to_static(&self) -> Value<'static> {
        match self {
            Value::Text(t) => Value::Text(Cow::Owned(t.as_ref().to_owned())),
            Value::Json(t) => Value::Json(Cow::Owned(t.as_ref().to_owned())),
            Value::List(items) => Value::List(items.iter().map(Value::to_static).collect()),
            Value::Missing => Value::Missing,
            Value::Integer(n) => Value::Integer(*n),
            Value::Number(x) => Value::Number(*x),
            Value::Boolean(b) => Value::Boolean(*b),
            Value::Date(d) => Value::Date(*d),
            other => other.clone().into_owned(),
        }
    }

    /// The value with nothing borrowed.
    pub fn into_owned(self) -> Value<'static> {
        match self {
            Value::Missing => Value::Missing,
            Value::Text(t) => Value::Text(Cow::Owned(t.into_owned())),
            Value::Json(t) => Value::Json(Cow::Owned(t.into_owned())),
            Value::List(items) => Value::List(items.into_iter().map(Value::into_owned).collect()),
            Value::Integer(n) => Value::Integer(n),
            Value::Number(x) => Value::Number(x),
            Value::Boolean(b) => Value::Boolean(b),
            Value::Date(d) => Value::Date(d),
            Value::Time { time, offset } => Value::Time { time, offset },
            Value::DateTime { datetime, offset } => Value::DateTime { datetime, offset },
            Value::Year(y) => Value::Year(y),
            Value::YearMonth { year, month } => Value::YearMonth { year, month },
            Value::Duration(d) => Value::Duration(d),
            Value::GeoPoint { lon, lat } => Value::GeoPoint { lon, lat },
            Value::BloodPressure {
                systolic,
                diastolic,
            } => Value::BloodPressure {
                systolic,
                diastolic,
            },
        }
    }

    /// Appends the canonical text of the value (what messages and error
    /// logs show): `51`, `2024-05-29`, `120/80`; nothing for a missing value.
    pub fn write_canonical(&self, out: &mut String) {
        match self {
            Value::Missing => {}
            Value::Text(t) | Value::Json(t) => out.push_str(t),
            Value::Integer(n) => push_integer(out, *n),
            Value::Number(x) => out.push_str(&number_text(*x)),
            Value::Boolean(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Date(d) => push_date(out, *d),
            Value::Time { time, offset } => {
                push_time(out, *time);
                push_offset(out, *offset);
            }
            Value::DateTime { datetime, offset } => {
                push_date(out, datetime.date());
                out.push('T');
                push_time(out, datetime.time());
                push_offset(out, *offset);
            }
            Value::Year(y) => push_padded(out, i64::from(*y), 4),
            Value::YearMonth { year, month } => {
                push_padded(out, i64::from(*year), 4);
                out.push('-');
                push_padded(out, i64::from(*month), 2);
            }
            Value::Duration(d) => push_duration(out, d),
            Value::GeoPoint { lon, lat } => {
                out.push_str(&number_text(*lon));
                out.push(',');
                out.push_str(&number_text(*lat));
            }
            Value::List(items) => {
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write_canonical(out);
                }
            }
            Value::BloodPressure {
                systolic,
                diastolic,
            } => {
                push_integer(out, i64::from(*systolic));
                out.push('/');
                push_integer(out, i64::from(*diastolic));
            }
        }
    }

    /// The canonical text as a new string.
    pub fn canonical(&self) -> String {
        let mut out = String::new();
        self.write_canonical(&mut out);
        out
    }

    /// Orders two values of one type; `None` for different types, types
    /// without an order, and incomparable values (`NaN`, `P1M` vs `P30D`).
    pub fn compare(&self, other: &Value<'_>) -> Option<Ordering> {
        match (self, other) {
            (Value::Text(a), Value::Text(b)) => Some(a.as_ref().cmp(b.as_ref())),
            (Value::Integer(a), Value::Integer(b)) => Some(a.cmp(b)),
            (Value::Number(a), Value::Number(b)) => a.partial_cmp(b),
            (Value::Integer(a), Value::Number(b)) => (*a as f64).partial_cmp(b),
            (Value::Number(a), Value::Integer(b)) => a.partial_cmp(&(*b as f64)),
            (Value::Date(a), Value::Date(b)) => Some(a.cmp(b)),
            (Value::Time { time: a, offset: x }, Value::Time { time: b, offset: y }) => {
                let at = |t: &NaiveTime, o: &Option<i32>| {
                    i64::from(t.num_seconds_from_midnight()) - i64::from(o.unwrap_or(0))
                };
                Some(
                    at(a, x)
                        .cmp(&at(b, y))
                        .then(a.nanosecond().cmp(&b.nanosecond())),
                )
            }
            (
                Value::DateTime {
                    datetime: a,
                    offset: x,
                },
                Value::DateTime {
                    datetime: b,
                    offset: y,
                },
            ) => {
                let utc = |d: &NaiveDateTime, o: &Option<i32>| {
                    *d - chrono::TimeDelta::seconds(i64::from(o.unwrap_or(0)))
                };
                Some(utc(a, x).cmp(&utc(b, y)))
            }
            (Value::Year(a), Value::Year(b)) => Some(a.cmp(b)),
            (
                Value::YearMonth { year, month },
                Value::YearMonth {
                    year: y2,
                    month: m2,
                },
            ) => Some((year, month).cmp(&(y2, m2))),
            (Value::Duration(a), Value::Duration(b)) => a.compare(b),
            _ => None,
        }
    }

    /// Whether two values are the same logical value (`enum` membership):
    /// equal in their order where they have one (`1.0` and `1`, `P1D` and
    /// `PT24H`), else equal as they are.
    pub fn same_as(&self, other: &Value<'_>) -> bool {
        match self.compare(other) {
            Some(order) => order.is_eq(),
            None => self == other,
        }
    }

    /// Whether dropping the value frees memory (owned text, a list, a
    /// duration); the others can be forgotten. Exhaustive, so that a new
    /// variant is decided here.
    pub fn owns_memory(&self) -> bool {
        match self {
            Value::Text(text) | Value::Json(text) => matches!(text, Cow::Owned(_)),
            Value::List(_) | Value::Duration(_) => true,
            Value::Missing
            | Value::Integer(_)
            | Value::Number(_)
            | Value::Boolean(_)
            | Value::Date(_)
            | Value::Time { .. }
            | Value::DateTime { .. }
            | Value::Year(_)
            | Value::YearMonth { .. }
            | Value::GeoPoint { .. }
            | Value::BloodPressure { .. } => false,
        }
    }

    /// The value's size for `minLength`/`maxLength`: characters of a text,
    /// items of a list, array or object; `None` for other types.
    pub fn length(&self) -> Option<usize> {
        match self {
            Value::Text(t) => Some(t.chars().count()),
            Value::List(items) => Some(items.len()),
            Value::Json(json) => crate::raw_json::children(json.as_bytes()),
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
            Value::Number(x) if !x.is_finite() => s.serialize_str(&number_text(*x)),
            Value::Number(x) => match whole(*x) {
                Some(n) => s.serialize_i64(n),
                None => s.serialize_f64(*x),
            },
            Value::Boolean(b) => s.serialize_bool(*b),
            Value::Year(y) => s.serialize_i64(i64::from(*y)),
            Value::GeoPoint { lon, lat } => {
                let mut seq = s.serialize_seq(Some(2))?;
                seq.serialize_element(&Value::Number(*lon))?;
                seq.serialize_element(&Value::Number(*lat))?;
                seq.end()
            }
            Value::Json(json) => match serde_json::from_str::<&serde_json::value::RawValue>(json) {
                Ok(raw) => raw.serialize(s),
                Err(_) => s.serialize_str(json),
            },
            Value::List(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            other => s.serialize_str(&other.canonical()),
        }
    }
}

/// `x` as a whole number, when it is one (and exactly representable).
fn whole(x: f64) -> Option<i64> {
    (x.fract() == 0.0 && x.abs() < 9.0e15).then_some(x as i64)
}

/// The canonical text of a number: `30` for a whole number, `NaN`, `INF`,
/// `-INF`, else the shortest text that reads back as the same `f64` (as
/// JSON output shows it). serde_json's formatter is used rather than `{}`:
/// one float formatter in the wasm module, not two.
pub fn number_text(x: f64) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "INF" } else { "-INF" }.into();
    }
    match whole(x) {
        Some(n) => {
            let mut out = String::new();
            push_integer(&mut out, n);
            out
        }
        None => serde_json::Number::from_f64(x).map_or_else(String::new, |n| n.to_string()),
    }
}

/// Appends `n` in decimal, without the formatting machinery (this runs for
/// every value written out).
fn push_integer(out: &mut String, n: i64) {
    push_padded(out, n, 1);
}

/// Appends `n` with at least `width` digits (zero-padded), sign first.
fn push_padded(out: &mut String, n: i64, width: usize) {
    if n < 0 {
        out.push('-');
    }
    let mut digits = [0u8; 20];
    let mut count = 0;
    let mut rest = n.unsigned_abs();
    while rest > 0 || count < width {
        digits[count] = b'0' + (rest % 10) as u8;
        count += 1;
        rest /= 10;
    }
    for &digit in digits[..count].iter().rev() {
        out.push(char::from(digit));
    }
}

/// `YYYY-MM-DD`.
fn push_date(out: &mut String, date: NaiveDate) {
    push_padded(out, i64::from(date.year()), 4);
    out.push('-');
    push_padded(out, i64::from(date.month()), 2);
    out.push('-');
    push_padded(out, i64::from(date.day()), 2);
}

/// `HH:MM:SS` and the fraction of a second, if any (trailing zeros dropped).
fn push_time(out: &mut String, time: NaiveTime) {
    push_padded(out, i64::from(time.hour()), 2);
    out.push(':');
    push_padded(out, i64::from(time.minute()), 2);
    out.push(':');
    push_padded(out, i64::from(time.second()), 2);
    let nanos = time.nanosecond() % 1_000_000_000;
    if nanos > 0 {
        let mut fraction = String::new();
        push_padded(&mut fraction, i64::from(nanos), 9);
        out.push('.');
        out.push_str(fraction.trim_end_matches('0'));
    }
}

/// `Z`, `+05:30` or nothing.
fn push_offset(out: &mut String, offset: Option<i32>) {
    let Some(seconds) = offset else { return };
    if seconds == 0 {
        out.push('Z');
        return;
    }
    out.push(if seconds < 0 { '-' } else { '+' });
    let minutes = seconds.unsigned_abs() / 60;
    push_padded(out, i64::from(minutes / 60), 2);
    out.push(':');
    push_padded(out, i64::from(minutes % 60), 2);
}

/// `PnYnMnDTnHnMnS`, zero parts left out (`PT0S` when all are zero).
fn push_duration(out: &mut String, d: &Duration) {
    if d.negative {
        out.push('-');
    }
    out.push('P');
    let [years, months, days, hours, minutes] = d.parts;
    for (n, unit) in [(years, 'Y'), (months, 'M'), (days, 'D')] {
        if n > 0 {
            push_integer(out, n as i64);
            out.push(unit);
        }
    }
    if hours > 0 || minutes > 0 || d.seconds > 0.0 {
        out.push('T');
        for (n, unit) in [(hours, 'H'), (minutes, 'M')] {
            if n > 0 {
                push_integer(out, n as i64);
                out.push(unit);
            }
        }
        if d.seconds > 0.0 {
            out.push_str(&number_text(d.seconds));
            out.push('S');
        }
    } else if years == 0 && months == 0 && days == 0 {
        out.push_str("T0S");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn time(h: u32, m: u32, s: u32, nanos: u32) -> NaiveTime {
        NaiveTime::from_hms_nano_opt(h, m, s, nanos).unwrap()
    }

    #[test]
    fn a_static_copy_is_the_value() {
        let date = NaiveDate::from_ymd_opt(2024, 5, 9).unwrap();
        let values = [
            Value::Missing,
            Value::Text(Cow::Borrowed("P-001")),
            Value::Json(Cow::Borrowed("{\"a\":1}")),
            Value::List(vec![Value::Integer(1), Value::Text(Cow::Borrowed("b"))]),
            Value::Integer(-7),
            Value::Number(2.5),
            Value::Boolean(true),
            Value::Date(date),
            Value::YearMonth {
                year: 2024,
                month: 5,
            },
            Value::BloodPressure {
                systolic: 120,
                diastolic: 80,
            },
        ];
        for value in &values {
            let copy = value.to_static();
            assert_eq!(format!("{copy:?}"), format!("{value:?}"));
            assert!(!matches!(copy, Value::Text(Cow::Borrowed(_))));
        }
    }

    #[test]
    fn canonical_forms() {
        let date = Value::Date(NaiveDate::from_ymd_opt(2024, 5, 9).unwrap());
        assert_eq!(date.canonical(), "2024-05-09");
        let bp = Value::BloodPressure {
            systolic: 120,
            diastolic: 80,
        };
        assert_eq!(serde_json::to_string(&bp).unwrap(), "\"120/80\"");
        let early = Value::Date(NaiveDate::from_ymd_opt(900, 1, 2).unwrap());
        assert_eq!(serde_json::to_string(&early).unwrap(), "\"0900-01-02\"");
        assert_eq!(serde_json::to_string(&Value::Integer(-51)).unwrap(), "-51");
        assert_eq!(serde_json::to_string(&Value::Number(30.0)).unwrap(), "30");
        assert_eq!(Value::Number(0.1).canonical(), "0.1");
        assert_eq!(
            serde_json::to_string(&Value::Number(-2.5e-7)).unwrap(),
            Value::Number(-2.5e-7).canonical()
        );
        assert_eq!(
            serde_json::to_string(&Value::Number(f64::NAN)).unwrap(),
            "\"NaN\""
        );
        assert_eq!(Value::Number(f64::NEG_INFINITY).canonical(), "-INF");
        assert_eq!(serde_json::to_string(&Value::Missing).unwrap(), "null");
        let t = Value::Time {
            time: time(9, 5, 0, 300_000_000),
            offset: Some(-5 * 3600),
        };
        assert_eq!(t.canonical(), "09:05:00.3-05:00");
        let dt = Value::DateTime {
            datetime: NaiveDate::from_ymd_opt(2024, 1, 26)
                .unwrap()
                .and_time(time(15, 0, 0, 0)),
            offset: Some(0),
        };
        assert_eq!(
            serde_json::to_string(&dt).unwrap(),
            "\"2024-01-26T15:00:00Z\""
        );
        assert_eq!(Value::Year(33).canonical(), "0033");
        assert_eq!(serde_json::to_string(&Value::Year(2024)).unwrap(), "2024");
        let ym = Value::YearMonth {
            year: 2024,
            month: 3,
        };
        assert_eq!(ym.canonical(), "2024-03");
        let point = Value::GeoPoint {
            lon: 90.5,
            lat: -45.0,
        };
        assert_eq!(serde_json::to_string(&point).unwrap(), "[90.5,-45]");
        let json = Value::Json(Cow::Borrowed(r#"{"a":[1,2]}"#));
        assert_eq!(serde_json::to_string(&json).unwrap(), r#"{"a":[1,2]}"#);
        let list = Value::List(vec![Value::Integer(1), Value::Integer(2)]);
        assert_eq!(serde_json::to_string(&list).unwrap(), "[1,2]");
        assert_eq!(list.canonical(), "1,2");
    }

    fn duration(negative: bool, parts: [u64; 5], seconds: f64) -> Duration {
        Duration {
            negative,
            parts,
            seconds,
        }
    }

    #[test]
    fn durations_are_written_back_and_ordered_as_xml_schema_says() {
        let text = |d: Duration| Value::Duration(Box::new(d)).canonical();
        assert_eq!(
            text(duration(false, [1, 2, 10, 2, 30], 0.0)),
            "P1Y2M10DT2H30M"
        );
        assert_eq!(text(duration(false, [0, 0, 0, 36, 0], 0.0)), "PT36H");
        assert_eq!(text(duration(true, [0, 0, 1, 0, 0], 0.0)), "-P1D");
        assert_eq!(text(duration(false, [0; 5], 0.5)), "PT0.5S");
        assert_eq!(text(duration(false, [0; 5], 0.0)), "PT0S");
        let month = duration(false, [0, 1, 0, 0, 0], 0.0);
        let days = |n| duration(false, [0, 0, n, 0, 0], 0.0);
        assert_eq!(
            month.compare(&days(30)),
            None,
            "P1M vs P30D is indeterminate"
        );
        assert_eq!(month.compare(&days(27)), Some(Ordering::Greater));
        assert_eq!(month.compare(&days(32)), Some(Ordering::Less));
        let hours = duration(false, [0, 0, 0, 24, 0], 0.0);
        assert_eq!(days(1).compare(&hours), Some(Ordering::Equal));
    }

    #[test]
    fn comparisons_only_within_a_type() {
        assert_eq!(
            Value::Integer(1).compare(&Value::Integer(2)),
            Some(Ordering::Less)
        );
        assert_eq!(Value::Integer(1).compare(&Value::Text("1".into())), None);
        assert_eq!(Value::Number(f64::NAN).compare(&Value::Number(1.0)), None);
        let at = |h, offset| Value::Time {
            time: time(h, 0, 0, 0),
            offset,
        };
        assert_eq!(
            at(12, Some(3600)).compare(&at(11, Some(0))),
            Some(Ordering::Equal),
            "12:00+01:00 is 11:00Z"
        );
    }
}
