//! Field types and their value parsers: Table Schema's vocabulary (every
//! type and format of v1, and v2's `list`) plus clinval's `bloodPressure`
//! and date forms.
//!
//! One module reads values for everyone: the protocol compiler reads a
//! field's bounds and `enum` entries with it (a date field's `minimum` is
//! written as a date of the field's own format), and the checker reads
//! every cell with it. So a bound and a cell always mean the same thing,
//! and neither side imports the other.

pub mod dates;
mod json;
pub(crate) mod number;
pub mod redcap;
#[cfg(feature = "full")]
mod strptime;
mod temporal;
mod text;

use std::borrow::Cow;

use crate::pattern::Pattern;
use crate::value::Value;

pub use dates::{DateError, DateForm, DateSyntax, DayMonthOrder};
pub use json::{GeoJsonFormat, GeoPointFormat};
pub use number::NumberSyntax;
#[cfg(feature = "full")]
pub use strptime::Strptime;
pub use temporal::parse_date as parse_iso_date;

/// Marks the types and formats only the full build reads (the `full`
/// feature): a unit in the full build, uninhabited in the compact wasm
/// module. There no value of such a type can exist, so the compiler drops
/// the code that reads them (match arms on uninhabited variants), and the
/// protocol compiler refuses them ([`Full::get`]).
#[cfg(feature = "full")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Full;

/// See the full build's `Full`: here, in the compact build, uninhabited.
#[cfg(not(feature = "full"))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Full {}

impl Full {
    /// `Full` in the full build; `None` in the compact one.
    pub fn get() -> Option<Full> {
        #[cfg(feature = "full")]
        return Some(Full);
        #[cfg(not(feature = "full"))]
        None
    }
}

/// A strptime pattern: the compact build has no strptime engine (it needs
/// a regex engine), so no pattern format can be compiled and there is no
/// value of this type.
#[cfg(not(feature = "full"))]
#[derive(Debug, Clone)]
pub enum Strptime {}

#[cfg(not(feature = "full"))]
impl Strptime {
    /// The pattern as written.
    pub fn source(&self) -> &str {
        match *self {}
    }

    /// Reads `text` (never called: no value exists).
    pub fn parse(&self, _text: &str) -> Option<(chrono::NaiveDateTime, Option<i32>)> {
        match *self {}
    }

    /// Whether the pattern reads a time of day.
    pub fn has_time(&self) -> bool {
        match *self {}
    }
}

/// A date, a time or both, as a spreadsheet cell holds it (a typed value,
/// not a text: a workbook's date cell is a date whatever a field's format
/// says dates are written as).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Moment {
    /// A day (a serial with no time of day).
    Date(chrono::NaiveDate),
    /// A day and a time of day.
    DateTime(chrono::NaiveDateTime),
    /// A time of day (a serial below one day).
    Time(chrono::NaiveTime),
}

impl Moment {
    /// ISO 8601 text: `2024-05-01`, `2024-05-01T08:30:00`, `08:30:00`
    /// (fractions of a second only where there are some).
    #[cold]
    #[inline(never)]
    pub fn iso(&self) -> String {
        let value = match *self {
            Moment::Date(date) => Value::Date(date),
            Moment::DateTime(datetime) => Value::DateTime {
                datetime,
                offset: None,
            },
            Moment::Time(time) => Value::Time { time, offset: None },
        };
        value.canonical()
    }
}

/// A field value as written, before it is typed: a text (a CSV cell, a
/// JSON string), a native JSON number, boolean, object or array, or a
/// spreadsheet's date cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scalar<'a> {
    /// Text.
    Text(Cow<'a, str>),
    /// A JSON number, as written.
    Number(&'a str),
    /// A JSON boolean.
    Bool(bool),
    /// A JSON object or array, as written.
    Json(&'a str),
    /// A spreadsheet's date, time or date-time cell (only workbooks
    /// have them, so only builds that read workbooks).
    #[cfg(feature = "workbook")]
    Moment(Moment),
}

impl<'a> Scalar<'a> {
    /// A JSON value as written (`None` for `null`).
    pub fn of_json(raw: &'a serde_json::value::RawValue) -> Option<Scalar<'a>> {
        let text = raw.get();
        Some(match text.as_bytes().first()? {
            // A JSON text already parsed once: a string without escapes is
            // borrowed as it is; only escaped ones are parsed again.
            b'"' if !text.contains('\\') => Scalar::Text(Cow::Borrowed(&text[1..text.len() - 1])),
            b'"' => Scalar::Text(crate::raw_json::string(text.as_bytes())?),
            b't' => Scalar::Bool(true),
            b'f' => Scalar::Bool(false),
            b'n' => return None,
            b'{' | b'[' => Scalar::Json(text),
            _ => Scalar::Number(text),
        })
    }

    /// The value as text: the text itself, or the JSON as written.
    #[inline]
    pub fn text(&self) -> Cow<'_, str> {
        match self {
            Scalar::Text(t) => Cow::Borrowed(t.as_ref()),
            Scalar::Number(t) | Scalar::Json(t) => Cow::Borrowed(t),
            Scalar::Bool(b) => Cow::Borrowed(if *b { "true" } else { "false" }),
            // Out of line, so that `text` stays small enough to inline
            // on the CSV path (which never has a date cell).
            #[cfg(feature = "workbook")]
            Scalar::Moment(m) => Cow::Owned(m.iso()),
        }
    }
}

/// `string`'s formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StringFormat {
    /// Any text.
    Default,
    /// An e-mail address.
    Email,
    /// An absolute URI.
    Uri,
    /// A UUID.
    Uuid,
    /// Base64-encoded bytes.
    Binary,
    /// Well-known text geometry (frictionless-py's format, not Table Schema's).
    Wkt(Full),
    /// REDCap's `email` (`redcap-email`).
    RedcapEmail(Full),
    /// REDCap's `phone`: a North American number (`redcap-phone`).
    RedcapPhone(Full),
    /// REDCap's `zipcode` (`redcap-zipcode`).
    RedcapZipcode(Full),
}

/// How a `date` is written.
#[derive(Debug, Clone)]
pub enum DateFormat {
    /// `yyyy-mm-dd`.
    Default,
    /// clinval's date forms (`any` is all of them).
    Forms(DateSyntax),
    /// A strptime pattern.
    Pattern(Strptime),
    /// REDCap's `date_ymd`, `date_mdy`, `date_dmy` (`redcap-ymd`, ...).
    Redcap(redcap::DateOrder, Full),
}

/// How a `time` or `datetime` is written.
#[derive(Debug, Clone)]
pub enum TimeFormat {
    /// XML Schema's form.
    Default,
    /// Any common form (see docs/protocol.md).
    Any,
    /// A strptime pattern.
    Pattern(Strptime),
    /// REDCap's `time`, `time_hh_mm_ss`, `time_mm_ss` (time fields).
    RedcapClock(redcap::Clock, Full),
    /// REDCap's `datetime_*` and `datetime_seconds_*` (datetime fields).
    RedcapDateTime {
        /// The date's order.
        order: redcap::DateOrder,
        /// Whether seconds are written.
        seconds: bool,
        /// Only in the full build.
        full: Full,
    },
}

/// A field's type with everything needed to read its values.
#[derive(Debug, Clone)]
pub enum Type {
    /// Text, in a format.
    String(StringFormat),
    /// A whole number.
    Integer {
        /// Grouping and bare-number rules.
        syntax: NumberSyntax,
        /// clinval's `typePattern`: the text must also match this.
        lexical: Option<Pattern>,
    },
    /// A number.
    Number {
        /// Decimal, grouping and bare-number rules.
        syntax: NumberSyntax,
        /// clinval's `typePattern`.
        lexical: Option<Pattern>,
    },
    /// `true`/`false` by the field's texts.
    Boolean {
        /// Texts read as true.
        true_values: Vec<String>,
        /// Texts read as false.
        false_values: Vec<String>,
    },
    /// A calendar date.
    Date(DateFormat),
    /// A time of day.
    Time(TimeFormat),
    /// A date and time.
    DateTime(TimeFormat),
    /// `yyyy`.
    Year,
    /// `yyyy-mm`.
    YearMonth,
    /// An ISO 8601 duration.
    Duration,
    /// A point.
    GeoPoint(GeoPointFormat, Full),
    /// A GeoJSON or TopoJSON object.
    GeoJson(GeoJsonFormat, Full),
    /// A JSON object.
    Object(Full),
    /// A JSON array.
    Array(Full),
    /// Delimited items of one type.
    List {
        /// What separates items.
        delimiter: String,
        /// The items' type (a primitive type, default formats).
        item: Box<Type>,
        /// Only in the full build.
        full: Full,
    },
    /// Anything, kept as it is.
    Any,
    /// clinval's multi-select: any of a list of choices (a symptom checklist,
    /// REDCap's checkbox).
    MultiSelect(Box<MultiSelect>),
    /// clinval's `systolic/diastolic`.
    BloodPressure {
        /// Plausible systolic range (inclusive).
        systolic: (u16, u16),
        /// Plausible diastolic range (inclusive).
        diastolic: (u16, u16),
    },
}

/// A multi-select field's choices and how a CSV writes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MultiSelect {
    /// The choice codes, in order.
    pub choices: Vec<String>,
    /// One `0`/`1` column per choice, `field___code` (REDCap's export),
    /// instead of one cell with the chosen codes.
    pub columns: bool,
    /// What separates chosen codes in one cell (default `|`).
    pub delimiter: String,
}

impl MultiSelect {
    /// The column of choice `code` in REDCap's export: `field___` and the
    /// code lower-cased, each character outside `[a-z0-9_]` as `_`.
    pub fn column(field: &str, code: &str) -> String {
        let code: String = code
            .chars()
            .map(|c| c.to_ascii_lowercase())
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        format!("{field}___{code}")
    }

    /// The chosen codes of one cell (`1|3`) or JSON array, in choice
    /// order; `None` if one is not a choice.
    fn read(&self, codes: impl Iterator<Item = String>) -> Option<Vec<Value<'static>>> {
        let mut chosen = vec![false; self.choices.len()];
        for code in codes {
            let at = self.choices.iter().position(|c| *c == code)?;
            chosen[at] = true;
        }
        Some(
            self.choices
                .iter()
                .zip(chosen)
                .filter(|(_, on)| *on)
                .map(|(code, _)| Value::Text(Cow::Owned(code.clone())))
                .collect(),
        )
    }
}

/// Why a value is not of its type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TypeError {
    /// Not a value of the type (in the field's format).
    Invalid,
    /// A date whose day and month cannot be told apart.
    Ambiguous,
}

type Typed<'a> = Result<Value<'a>, TypeError>;

impl Type {
    /// The type's name in protocol documents.
    pub fn name(&self) -> &'static str {
        match self {
            Type::String(_) => "string",
            Type::Integer { .. } => "integer",
            Type::Number { .. } => "number",
            Type::Boolean { .. } => "boolean",
            Type::Date(_) => "date",
            Type::Time(_) => "time",
            Type::DateTime(_) => "datetime",
            Type::Year => "year",
            Type::YearMonth => "yearmonth",
            Type::Duration => "duration",
            Type::GeoPoint(..) => "geopoint",
            Type::GeoJson(..) => "geojson",
            Type::Object(_) => "object",
            Type::Array(_) => "array",
            Type::List { .. } => "list",
            Type::Any => "any",
            Type::MultiSelect(_) => "multiselect",
            Type::BloodPressure { .. } => "bloodPressure",
        }
    }

    /// Whether values of the type are ordered (so bounds apply).
    pub fn is_ordered(&self) -> bool {
        matches!(
            self,
            Type::Integer { .. }
                | Type::Number { .. }
                | Type::Date(_)
                | Type::Time(_)
                | Type::DateTime(_)
                | Type::Year
                | Type::YearMonth
                | Type::Duration
        )
    }

    /// Whether the type takes native JSON numbers (so a JSON number is not
    /// read as text when the protocol reads JSON scalars as text).
    pub fn takes_numbers(&self) -> bool {
        matches!(
            self,
            Type::Integer { .. } | Type::Number { .. } | Type::Year | Type::Any
        )
    }

    /// Reads one value, in place: the checks after it still read the
    /// scalar. An inlining hint natively (LLVM weighs it; where taken,
    /// the caller keeps the result in registers), not in the size-bound
    /// module.
    #[cfg_attr(not(target_arch = "wasm32"), inline)]
    pub fn parse<'a>(&self, value: &Scalar<'a>) -> Typed<'a> {
        let invalid = Err(TypeError::Invalid);
        match (self, value) {
            (Type::Any, Scalar::Text(text)) => Ok(Value::Text(borrow_or_clone(text))),
            (Type::Any, Scalar::Json(json) | Scalar::Number(json)) => {
                Ok(Value::Json(Cow::Borrowed(json)))
            }
            (Type::Any, Scalar::Bool(b)) => Ok(Value::Boolean(*b)),
            (Type::Integer { syntax, lexical }, Scalar::Text(text)) => {
                lexical_ok(lexical, text)?;
                syntax
                    .integer(text)
                    .map(Value::Integer)
                    .ok_or(TypeError::Invalid)
            }
            (Type::Integer { lexical, .. }, Scalar::Number(raw)) => {
                lexical_ok(lexical, raw)?;
                number::parse_integer(raw)
                    .map(Value::Integer)
                    .ok_or(TypeError::Invalid)
            }
            (Type::Number { syntax, lexical }, Scalar::Text(text)) => {
                lexical_ok(lexical, text)?;
                syntax
                    .number(text)
                    .map(Value::Number)
                    .ok_or(TypeError::Invalid)
            }
            (Type::Number { lexical, .. }, Scalar::Number(raw)) => {
                lexical_ok(lexical, raw)?;
                number::parse_decimal(raw)
                    .map(Value::Number)
                    .ok_or(TypeError::Invalid)
            }
            (Type::Boolean { .. }, Scalar::Bool(b)) => Ok(Value::Boolean(*b)),
            (
                Type::Boolean {
                    true_values,
                    false_values,
                },
                Scalar::Text(text),
            ) => {
                if true_values.iter().any(|t| **t == **text) {
                    Ok(Value::Boolean(true))
                } else if false_values.iter().any(|f| **f == **text) {
                    Ok(Value::Boolean(false))
                } else {
                    invalid
                }
            }
            (Type::Year, Scalar::Number(raw)) => match number::parse_integer(raw) {
                Some(year @ 0..=9999) => Ok(Value::Year(year as i32)),
                _ => invalid,
            },
            (
                Type::GeoPoint(format @ (GeoPointFormat::Array | GeoPointFormat::Object), _),
                Scalar::Json(raw),
            ) => geo_point(json::geopoint(raw, *format)),
            (Type::GeoJson(format, _), Scalar::Json(raw)) => geo_json(raw, *format),
            (Type::Object(_), Scalar::Json(raw)) => compound(raw, true),
            (Type::Array(_), Scalar::Json(raw)) => compound(raw, false),
            (Type::MultiSelect(select), Scalar::Json(raw)) => {
                let Ok(crate::raw_json::Shape::Array(items)) =
                    crate::raw_json::shape(raw.as_bytes())
                else {
                    return invalid;
                };
                let codes = items.iter().map(|item| match Scalar::of_json(item) {
                    Some(Scalar::Text(t)) => t.into_owned(),
                    Some(Scalar::Number(n)) => n.to_owned(),
                    _ => String::from("\u{0}"), // never a choice
                });
                select
                    .read(codes)
                    .map(Value::List)
                    .ok_or(TypeError::Invalid)
            }
            (Type::List { item, .. }, Scalar::Json(raw)) => list_of_json(item, raw),
            (_, Scalar::Text(text)) => self.parse_text(text),
            #[cfg(feature = "workbook")]
            (_, Scalar::Moment(moment)) => self.parse_moment(*moment),
            _ => invalid,
        }
    }

    /// Reads a spreadsheet's date cell: a date, time or date-time field
    /// takes it as it is (a date cell's day at midnight for a date-time),
    /// whatever format the field writes dates in; other types read its
    /// ISO 8601 text, as they would the cell's CSV export.
    #[cfg(feature = "workbook")]
    fn parse_moment<'a>(&self, moment: Moment) -> Typed<'a> {
        match (self, moment) {
            (Type::Date(_), Moment::Date(date)) => Ok(Value::Date(date)),
            (Type::DateTime(_), Moment::Date(date)) => Ok(Value::DateTime {
                datetime: date.and_time(chrono::NaiveTime::MIN),
                offset: None,
            }),
            (Type::DateTime(_), Moment::DateTime(datetime)) => Ok(Value::DateTime {
                datetime,
                offset: None,
            }),
            (Type::Time(_), Moment::Time(time)) => Ok(Value::Time { time, offset: None }),
            (Type::Date(_) | Type::DateTime(_) | Type::Time(_), _) => Err(TypeError::Invalid),
            (Type::Any, _) => Ok(Value::Text(Cow::Owned(moment.iso()))),
            _ => self.parse_text(&Cow::Owned(moment.iso())),
        }
    }

    /// Reads a text for the types that are only ever written as text.
    /// Inlined into `parse` natively, so that its value is written once
    /// where `parse` returns it, not built and moved (2% of a plain
    /// schema's time); not in the size-bound module.
    #[cfg_attr(not(target_arch = "wasm32"), inline(always))]
    fn parse_text<'a>(&self, text: &Cow<'a, str>) -> Typed<'a> {
        let invalid = Err(TypeError::Invalid);
        match self {
            Type::String(format) => {
                let ok = match format {
                    StringFormat::Default => true,
                    StringFormat::Email => text::is_email(text),
                    StringFormat::Uri => text::is_uri(text),
                    StringFormat::Uuid => text::is_uuid(text),
                    StringFormat::Binary => text::is_base64(text),
                    StringFormat::Wkt(_) => text::is_wkt(text),
                    StringFormat::RedcapEmail(_) => redcap::is_email(text),
                    StringFormat::RedcapPhone(_) => redcap::is_phone(text),
                    StringFormat::RedcapZipcode(_) => redcap::is_zipcode(text),
                };
                if ok {
                    Ok(Value::Text(borrow_or_clone(text)))
                } else {
                    invalid
                }
            }
            Type::Date(format) => match format {
                DateFormat::Default => temporal::parse_date(text)
                    .map(Value::Date)
                    .ok_or(TypeError::Invalid),
                DateFormat::Forms(syntax) => match dates::parse_date(text, syntax) {
                    Ok(date) => Ok(Value::Date(date)),
                    Err(DateError::Invalid) => invalid,
                    Err(DateError::Ambiguous) => Err(TypeError::Ambiguous),
                },
                DateFormat::Pattern(pattern) => match pattern.parse(text) {
                    Some((at, _)) => Ok(Value::Date(at.date())),
                    None => invalid,
                },
                DateFormat::Redcap(order, _) => redcap::date(text, *order)
                    .map(Value::Date)
                    .ok_or(TypeError::Invalid),
            },
            Type::Time(format) => {
                let parsed = match format {
                    TimeFormat::Default => temporal::parse_time(text),
                    TimeFormat::Any => dates::parse_any_time(text),
                    TimeFormat::Pattern(pattern) => {
                        pattern.parse(text).map(|(at, zone)| (at.time(), zone))
                    }
                    TimeFormat::RedcapClock(clock, _) => {
                        redcap::time(text, *clock).map(|t| (t, None))
                    }
                    TimeFormat::RedcapDateTime { .. } => None,
                };
                parsed
                    .map(|(time, offset)| Value::Time { time, offset })
                    .ok_or(TypeError::Invalid)
            }
            Type::DateTime(format) => {
                let parsed = match format {
                    TimeFormat::Default => temporal::parse_datetime(text),
                    TimeFormat::Any => dates::parse_any_datetime(text),
                    TimeFormat::Pattern(pattern) => pattern.parse(text),
                    TimeFormat::RedcapDateTime { order, seconds, .. } => {
                        redcap::date_time(text, *order, *seconds).map(|at| (at, None))
                    }
                    TimeFormat::RedcapClock(..) => None,
                };
                parsed
                    .map(|(datetime, offset)| Value::DateTime { datetime, offset })
                    .ok_or(TypeError::Invalid)
            }
            Type::Year => temporal::parse_year(text)
                .map(Value::Year)
                .ok_or(TypeError::Invalid),
            Type::YearMonth => temporal::parse_yearmonth(text)
                .map(|(year, month)| Value::YearMonth { year, month })
                .ok_or(TypeError::Invalid),
            Type::Duration => temporal::parse_duration(text)
                .map(|d| Value::Duration(Box::new(d)))
                .ok_or(TypeError::Invalid),
            Type::GeoPoint(format, _) => geo_point(json::geopoint(text, *format)),
            Type::GeoJson(format, _) => geo_json(text, *format),
            Type::Object(_) => compound(text, true),
            Type::Array(_) => compound(text, false),
            Type::List {
                delimiter, item, ..
            } => {
                let mut items = Vec::new();
                for part in text.split(delimiter.as_str()) {
                    items.push(item.parse(&Scalar::Text(Cow::Borrowed(part)))?.into_owned());
                }
                Ok(Value::List(items))
            }
            Type::MultiSelect(select) => {
                let codes = text
                    .split(select.delimiter.as_str())
                    .map(str::trim)
                    .filter(|c| !c.is_empty())
                    .map(str::to_owned);
                select
                    .read(codes)
                    .map(Value::List)
                    .ok_or(TypeError::Invalid)
            }
            Type::BloodPressure { .. } => parse_blood_pressure(text)
                .map(|(systolic, diastolic)| Value::BloodPressure {
                    systolic,
                    diastolic,
                })
                .ok_or(TypeError::Invalid),
            // Read natively by `parse`.
            Type::Integer { .. } | Type::Number { .. } | Type::Boolean { .. } | Type::Any => {
                invalid
            }
        }
    }
}

/// A value's copy of a text: borrowed where the text is, else cloned
/// (parsing reads a scalar in place; the checks after it still read it).
fn borrow_or_clone<'a>(text: &Cow<'a, str>) -> Cow<'a, str> {
    match text {
        Cow::Borrowed(t) => Cow::Borrowed(t),
        Cow::Owned(t) => Cow::Owned(t.clone()),
    }
}

fn lexical_ok(lexical: &Option<Pattern>, text: &str) -> Result<(), TypeError> {
    match lexical {
        Some(p) if !p.is_match(text) => Err(TypeError::Invalid),
        _ => Ok(()),
    }
}

fn geo_point<'a>(point: Option<(f64, f64)>) -> Typed<'a> {
    point
        .map(|(lon, lat)| Value::GeoPoint { lon, lat })
        .ok_or(TypeError::Invalid)
}

fn geo_json<'a>(text: &str, format: GeoJsonFormat) -> Typed<'a> {
    match json::is_geojson(text, format) {
        true => compound(text, true),
        false => Err(TypeError::Invalid),
    }
}

fn compound<'a>(text: &str, object: bool) -> Typed<'a> {
    json::compound(text, object)
        .map(|json| Value::Json(Cow::Owned(json)))
        .ok_or(TypeError::Invalid)
}

/// A JSON array given for a `list` field: each item read as the item type
/// reads a native JSON value.
fn list_of_json<'a>(item: &Type, raw: &str) -> Typed<'a> {
    let Ok(crate::raw_json::Shape::Array(items)) = crate::raw_json::shape(raw.as_bytes()) else {
        return Err(TypeError::Invalid);
    };
    let mut values = Vec::with_capacity(items.len());
    for raw in items {
        let Some(scalar) = Scalar::of_json(raw) else {
            return Err(TypeError::Invalid);
        };
        values.push(item.parse(&scalar)?.into_owned());
    }
    Ok(Value::List(values))
}

/// `S/D` with 2–3 digits each; white space around `/` is allowed.
fn parse_blood_pressure(text: &str) -> Option<(u16, u16)> {
    let (s, d) = text.split_once('/')?;
    let number = |t: &str| match t.as_bytes() {
        digits @ ([_, _] | [_, _, _]) if digits.iter().all(u8::is_ascii_digit) => Some(
            digits
                .iter()
                .fold(0u16, |n, b| n * 10 + u16::from(b - b'0')),
        ),
        _ => None,
    };
    // `120/80` (the common case) has no white space to trim.
    let digit_ends = |t: &str, last: bool| {
        let end = if last {
            t.as_bytes().last()
        } else {
            t.as_bytes().first()
        };
        end.is_some_and(u8::is_ascii_digit)
    };
    let s = if digit_ends(s, true) { s } else { s.trim_end() };
    let d = if digit_ends(d, false) {
        d
    } else {
        d.trim_start()
    };
    Some((number(s)?, number(d)?))
}

#[cfg(test)]
mod tests;
