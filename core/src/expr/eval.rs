//! Evaluating a compiled expression over one record (REDCap's value rules:
//! see the module comment of [`super`]).

use std::borrow::Cow;

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};

use super::{Arithmetic, Comparison, Function, Node};
use crate::types::number::parse_decimal;
use crate::types::redcap::{self, DateOrder};

/// What an expression reads from a record.
pub trait Record {
    /// Field `field`'s cleaned text (`""` when it has none).
    fn text(&self, field: usize) -> &str;
    /// Whether multi-select field `field` has choice `code` chosen.
    fn chosen(&self, field: usize, code: &str) -> bool;
}

/// A value during evaluation.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Val<'a> {
    Empty,
    Text(Cow<'a, str>),
    Number(f64),
    Bool(bool),
}

/// The value of `node` for `record`.
pub(super) fn eval<'a>(node: &'a Node, record: &'a dyn Record, as_of: NaiveDate) -> Val<'a> {
    let go = |n: &'a Node| eval(n, record, as_of);
    match node {
        Node::Text(t) => text_value(t),
        Node::Number(n) => Val::Number(*n),
        Node::Field(f) => text_value(record.text(*f).trim()),
        Node::Choice(f, code) => Val::Text(Cow::Borrowed(if record.chosen(*f, code) {
            "1"
        } else {
            "0"
        })),
        Node::Not(a) => Val::Bool(!truth(&go(a))),
        Node::Negate(a) => number(&go(a)).map_or(Val::Empty, |n| Val::Number(-n)),
        Node::And(a, b) => Val::Bool(truth(&go(a)) && truth(&go(b))),
        Node::Or(a, b) => Val::Bool(truth(&go(a)) || truth(&go(b))),
        Node::Compare(op, a, b) => Val::Bool(compare(*op, &go(a), &go(b))),
        Node::Arithmetic(op, a, b) => match (number(&go(a)), number(&go(b))) {
            (Some(x), Some(y)) => finite(match op {
                Arithmetic::Add => x + y,
                Arithmetic::Subtract => x - y,
                Arithmetic::Multiply => x * y,
                Arithmetic::Divide => x / y,
                // Whole exponents ([height] ^ 2); sqrt() for roots.
                Arithmetic::Power if y.fract() == 0.0 && y.abs() <= 1024.0 => x.powi(y as i32),
                Arithmetic::Power => f64::NAN,
            }),
            _ => Val::Empty,
        },
        Node::Call(function, args) => call(*function, args, record, as_of),
    }
}

fn text_value(text: &str) -> Val<'_> {
    if text.is_empty() {
        Val::Empty
    } else {
        Val::Text(Cow::Borrowed(text))
    }
}

/// A number, or empty for NaN and the infinities (REDCap shows them blank).
fn finite(x: f64) -> Val<'static> {
    if x.is_finite() {
        Val::Number(x)
    } else {
        Val::Empty
    }
}

/// Whether a value counts as true.
pub(super) fn truth(value: &Val<'_>) -> bool {
    match value {
        Val::Bool(b) => *b,
        Val::Number(n) => *n != 0.0,
        Val::Text(t) => parse_decimal(t).map_or(!t.is_empty(), |n| n != 0.0),
        Val::Empty => false,
    }
}

/// A value as a number, if it is one.
pub(super) fn number(value: &Val<'_>) -> Option<f64> {
    match value {
        Val::Number(n) => Some(*n),
        Val::Bool(b) => Some(f64::from(u8::from(*b))),
        Val::Text(t) => parse_decimal(t.trim()),
        Val::Empty => None,
    }
}

fn text<'v>(value: &'v Val<'_>) -> Cow<'v, str> {
    match value {
        Val::Text(t) => Cow::Borrowed(t),
        Val::Number(n) => Cow::Owned(crate::value::number_text(*n)),
        Val::Bool(b) => Cow::Borrowed(if *b { "1" } else { "0" }),
        Val::Empty => Cow::Borrowed(""),
    }
}

fn compare(op: Comparison, a: &Val<'_>, b: &Val<'_>) -> bool {
    let numbers = number(a).zip(number(b));
    let equal = || match numbers {
        Some((x, y)) => x == y,
        None => text(a) == text(b),
    };
    match op {
        Comparison::Equal => equal(),
        Comparison::NotEqual => !equal(),
        _ if matches!(a, Val::Empty) || matches!(b, Val::Empty) => false,
        _ => {
            let order = match numbers {
                Some((x, y)) => x.partial_cmp(&y),
                None => Some(text(a).cmp(&text(b))),
            };
            order.is_some_and(|o| match op {
                Comparison::Greater => o.is_gt(),
                Comparison::GreaterOrEqual => o.is_ge(),
                Comparison::Less => o.is_lt(),
                _ => o.is_le(),
            })
        }
    }
}

fn call<'a>(
    function: Function,
    args: &'a [Node],
    record: &'a dyn Record,
    as_of: NaiveDate,
) -> Val<'a> {
    let value = |i: usize| eval(&args[i], record, as_of);
    let numbers = || args.iter().filter_map(|a| number(&eval(a, record, as_of)));
    match function {
        Function::If => {
            if truth(&value(0)) {
                value(1)
            } else {
                value(2)
            }
        }
        // Blanks are left out, as REDCap leaves them out.
        Function::Sum => numbers().reduce(|a, b| a + b).map_or(Val::Empty, finite),
        Function::Mean => {
            let (sum, count) = numbers().fold((0.0, 0u32), |(s, c), x| (s + x, c + 1));
            if count == 0 {
                Val::Empty
            } else {
                finite(sum / f64::from(count))
            }
        }
        Function::Min => numbers().reduce(f64::min).map_or(Val::Empty, finite),
        Function::Max => numbers().reduce(f64::max).map_or(Val::Empty, finite),
        Function::Round | Function::RoundUp | Function::RoundDown => {
            let Some(x) = number(&value(0)) else {
                return Val::Empty;
            };
            let places = if args.len() > 1 {
                number(&value(1)).unwrap_or(0.0)
            } else {
                0.0
            };
            let scale = 10f64.powi(places.clamp(-15.0, 15.0) as i32);
            let scaled = x * scale;
            finite(
                match function {
                    Function::Round => scaled.round(),
                    Function::RoundUp => scaled.signum() * scaled.abs().ceil(),
                    _ => scaled.signum() * scaled.abs().floor(),
                } / scale,
            )
        }
        Function::Abs => number(&value(0)).map_or(Val::Empty, |x| finite(x.abs())),
        Function::Sqrt => number(&value(0))
            .filter(|x| *x >= 0.0)
            .map_or(Val::Empty, |x| finite(x.sqrt())),
        Function::DateDiff => date_diff(args, record, as_of),
        Function::IsBlankOrMissingCode => Val::Bool(matches!(value(0), Val::Empty)),
        Function::IsNumber => Val::Bool(number(&value(0)).is_some()),
        Function::IsInteger => Val::Bool(match value(0) {
            Val::Number(n) => n.fract() == 0.0,
            Val::Text(t) => crate::types::number::parse_integer(t.trim()).is_some(),
            _ => false,
        }),
        Function::Contains | Function::NotContains | Function::StartsWith | Function::EndsWith => {
            let (haystack, needle) = (value(0), value(1));
            // REDCap's text functions ignore case (ASCII letters).
            let haystack = text(&haystack).to_ascii_lowercase();
            let needle = text(&needle).to_ascii_lowercase();
            Val::Bool(match function {
                Function::Contains => haystack.contains(&needle),
                Function::NotContains => !haystack.contains(&needle),
                Function::StartsWith => haystack.starts_with(&needle),
                _ => haystack.ends_with(&needle),
            })
        }
        Function::Length => Val::Number(text(&value(0)).chars().count() as f64),
        Function::Concat => {
            let mut out = String::new();
            for arg in args {
                out.push_str(&text(&eval(arg, record, as_of)));
            }
            text_value(&out).into_owned()
        }
    }
}

impl Val<'_> {
    fn into_owned(self) -> Val<'static> {
        match self {
            Val::Text(t) => Val::Text(Cow::Owned(t.into_owned())),
            Val::Number(n) => Val::Number(n),
            Val::Bool(b) => Val::Bool(b),
            Val::Empty => Val::Empty,
        }
    }
}

/// `datediff(a, b, unit[, format][, signed])`: `b − a` in `unit`s (`y` is
/// 365.2425 days, `M` 30.44), absolute unless `signed`; `'today'` and
/// `'now'` are the as-of date; `format` (`ymd`, `mdy`, `dmy`) says how
/// non-ISO dates are written.
fn date_diff<'a>(args: &'a [Node], record: &'a dyn Record, as_of: NaiveDate) -> Val<'a> {
    let value = |i: usize| eval(&args[i], record, as_of);
    let unit = value(2);
    let (format, signed) = match args.len() {
        3 => (None, false),
        4 => match value(3) {
            Val::Text(t) if ["ymd", "mdy", "dmy"].contains(&t.as_ref()) => (Some(t), false),
            other => (None, truth(&other)),
        },
        _ => match value(3) {
            Val::Text(t) => (Some(t), truth(&value(4))),
            _ => (None, truth(&value(4))),
        },
    };
    let when = |v: Val<'_>| -> Option<NaiveDateTime> {
        let t = text(&v).trim().to_owned();
        if t.eq_ignore_ascii_case("today") || t.eq_ignore_ascii_case("now") {
            return Some(as_of.and_time(NaiveTime::MIN));
        }
        date_time(&t, format.as_deref())
    };
    let (Some(a), Some(b)) = (when(value(0)), when(value(1))) else {
        return Val::Empty;
    };
    let seconds = (b - a).num_seconds() as f64;
    let per = match text(&unit).as_ref() {
        "y" => 365.2425 * 86_400.0,
        "M" => 30.44 * 86_400.0,
        "d" => 86_400.0,
        "h" => 3_600.0,
        "m" => 60.0,
        _ => 1.0,
    };
    let diff = seconds / per;
    finite(if signed { diff } else { diff.abs() })
}

/// A date or date-time as REDCap writes them: the date (ISO, or with
/// `format` `mdy` / `dmy` day and month in that order), optionally a space
/// and `H:MM[:SS]`.
fn date_time(text: &str, format: Option<&str>) -> Option<NaiveDateTime> {
    let order = match format {
        Some("mdy") => DateOrder::Mdy,
        Some("dmy") => DateOrder::Dmy,
        _ => DateOrder::Ymd,
    };
    redcap::date(text, order)
        .map(|d| d.and_time(NaiveTime::MIN))
        .or_else(|| redcap::date_time(text, order, false))
        .or_else(|| redcap::date_time(text, order, true))
}
