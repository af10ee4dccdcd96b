//! Checking one field's value: cleaning, missing values, type, then
//! constraints.
//!
//! A field gets at most one issue, the first check that fails, in the order
//! required → type → pattern → length → range → plausibility → enum. Typing
//! is [`crate::types`]' work, the same parsers the protocol's bounds were
//! read with.

use std::borrow::Cow;

use chrono::NaiveDate;

use crate::clean::collapse_whitespace;
use crate::issue::{BoundText, Detail, Issue, codes};
use crate::protocol::{Bound, BoundValue, Cleaning, Code, Field};
use crate::reader::Cell;
use crate::types::{Scalar, Type, TypeError};
use crate::value::Value;

/// Checks one cell against its field under the protocol's `cleaning`.
/// `as_of` is the run's as-of date; `required` whether an empty value is
/// an issue (the field's own `required`, or its logic's verdict).
pub fn check_field<'a>(
    field: &Field,
    index: usize,
    cell: Cell<'a>,
    cleaning: &Cleaning,
    as_of: NaiveDate,
    required: bool,
) -> Result<Value<'a>, Issue> {
    let mut value = Value::Missing;
    check_into(field, index, cell, cleaning, as_of, required, &mut value)?;
    Ok(value)
}

/// [`check_field`] writing the value into `slot`, which holds `Missing`
/// when called and keeps it when the value is missing or has an issue:
/// the value is moved once, from where typing wrote it, not again
/// through a result.
pub(crate) fn check_into<'a>(
    field: &Field,
    index: usize,
    cell: Cell<'a>,
    cleaning: &Cleaning,
    as_of: NaiveDate,
    required: bool,
    slot: &mut Value<'a>,
) -> Result<(), Issue> {
    let issue = |code: &Code, detail: Detail, value: Option<String>| Issue {
        field: Some(index),
        code: code.clone(),
        detail,
        value,
    };
    // An empty value: an issue if one is required.
    let missing = || {
        if required {
            Err(issue(&field.codes.required, Detail::Required, None))
        } else {
            Ok(())
        }
    };
    // Built once and then changed in place: moving a scalar or a value
    // from step to step costs more than the steps (each copy reads what
    // was just written, in halves, which the CPU cannot forward).
    let mut scalar = match cell {
        Cell::Absent => return Ok(()),
        Cell::Short => {
            return Err(issue(
                &Code::from(codes::MISSING_CELL),
                Detail::MissingCell,
                None,
            ));
        }
        #[cfg(feature = "workbook")]
        Cell::SheetError(error) => {
            return Err(issue(
                &Code::from(codes::CELL_ERROR),
                Detail::CellError {
                    error: error.to_owned(),
                },
                None,
            ));
        }
        Cell::Null => return missing(),
        Cell::Value(scalar) => scalar,
    };
    match &mut scalar {
        Scalar::Text(text) => cleaning.clean(text),
        other @ (Scalar::Number(_) | Scalar::Bool(_))
            if cleaning.json_scalars_as_text && reads_scalars_as_text(&field.ty, other) =>
        {
            *other = as_text(other);
        }
        _ => {}
    }
    if is_missing(field, &scalar) {
        return missing();
    }
    if let Scalar::Text(text) = &mut scalar
        && field.collapse_whitespace
    {
        *text = collapse_whitespace(std::mem::take(text));
    }
    let shown = || scalar.text().into_owned();
    let type_issue = |error: &TypeError| match error {
        TypeError::Ambiguous => issue(&field.codes.ambiguous, Detail::AmbiguousDate, Some(shown())),
        TypeError::Invalid => issue(&field.codes.kind, Detail::Type, Some(shown())),
    };
    // Typing reads the scalar in place; the checks after it read the value
    // where typing wrote it, and its text.
    let typed = field.ty.parse(&scalar);
    let value = match &typed {
        Ok(value) => value,
        Err(error) => return Err(type_issue(error)),
    };
    // A multi-select with nothing chosen (`[]`) is no answer.
    if matches!(field.ty, Type::MultiSelect(_))
        && matches!(value, Value::List(items) if items.is_empty())
    {
        return missing();
    }
    if let Some(p) = &field.pattern
        && !p.is_match(&scalar.text())
    {
        let detail = Detail::Pattern {
            pattern: p.source.clone(),
        };
        return Err(issue(&field.codes.pattern, detail, Some(shown())));
    }
    // A text has at most as many characters as bytes, and at least a
    // quarter as many: most texts are settled without counting.
    let settled = match value {
        Value::Text(text) => {
            field.max_length.is_none_or(|max| text.len() <= max)
                && field.min_length.is_none_or(|min| text.len() / 4 >= min)
        }
        _ => false,
    };
    if !settled && (field.min_length.is_some() || field.max_length.is_some()) {
        let length = value
            .length()
            .unwrap_or_else(|| scalar.text().chars().count());
        if let Some(min) = field.min_length
            && length < min
        {
            let detail = Detail::TooShort { min, length };
            return Err(issue(&field.codes.min_length, detail, Some(shown())));
        }
        if let Some(max) = field.max_length
            && length > max
        {
            let detail = Detail::TooLong { max, length };
            return Err(issue(&field.codes.max_length, detail, Some(shown())));
        }
    }
    if let Some((low, detail)) = range_failure(field, value, as_of) {
        let code = if low {
            &field.codes.minimum
        } else {
            &field.codes.maximum
        };
        return Err(issue(code, detail, Some(value.canonical())));
    }
    if let (
        Type::BloodPressure {
            systolic: s_range,
            diastolic: d_range,
        },
        Value::BloodPressure {
            systolic,
            diastolic,
        },
    ) = (&field.ty, value)
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
    if let Some(allowed) = &field.allowed
        && !allowed.iter().any(|a| a.same_as(value))
    {
        return Err(issue(
            &field.codes.allowed,
            Detail::NotAllowed,
            Some(value.canonical()),
        ));
    }
    match typed {
        Ok(value) => {
            *slot = value;
            Ok(())
        }
        Err(error) => Err(type_issue(&error)),
    }
}

/// A multi-select written one `0`/`1` column per choice: each cell empty,
/// `0` or `1`; the chosen codes (those whose cell is `1`) in choice order.
pub(crate) fn check_choices<'a>(
    field: &Field,
    index: usize,
    cells: &[Option<&'a str>],
    cleaning: &Cleaning,
    required: bool,
) -> Result<Value<'a>, Issue> {
    let issue = |code: &Code, detail: Detail, value: Option<String>| Issue {
        field: Some(index),
        code: code.clone(),
        detail,
        value,
    };
    let Type::MultiSelect(select) = &field.ty else {
        return Ok(Value::Missing);
    };
    let mut chosen = Vec::new();
    for (code, cell) in select.choices.iter().zip(cells) {
        let text = cell.map_or(Cow::Borrowed(""), |c| cleaning.cell(Cow::Borrowed(c)));
        match text.as_ref() {
            "" | "0" => {}
            "1" => chosen.push(Value::Text(Cow::Owned(code.clone()))),
            other => {
                let shown = format!(
                    "{}: {other}",
                    crate::types::MultiSelect::column(&field.name, code)
                );
                return Err(issue(&field.codes.allowed, Detail::NotAllowed, Some(shown)));
            }
        }
    }
    if chosen.is_empty() {
        return if required {
            Err(issue(&field.codes.required, Detail::Required, None))
        } else {
            Ok(Value::Missing)
        };
    }
    let length = chosen.len();
    if let Some(min) = field.min_length
        && length < min
    {
        return Err(issue(
            &field.codes.min_length,
            Detail::TooShort { min, length },
            None,
        ));
    }
    if let Some(max) = field.max_length
        && length > max
    {
        return Err(issue(
            &field.codes.max_length,
            Detail::TooLong { max, length },
            None,
        ));
    }
    Ok(Value::List(chosen))
}

/// Whether a JSON number or boolean is read as its text for this type
/// (with `cleaning.jsonScalars` `text`): where the type does not take it
/// natively.
fn reads_scalars_as_text(ty: &Type, scalar: &Scalar<'_>) -> bool {
    match scalar {
        Scalar::Number(_) => !ty.takes_numbers(),
        _ => !matches!(ty, Type::Boolean { .. } | Type::Any),
    }
}

fn as_text<'a>(scalar: &Scalar<'a>) -> Scalar<'a> {
    match scalar {
        Scalar::Number(text) => Scalar::Text(Cow::Borrowed(text)),
        Scalar::Bool(b) => Scalar::Text(Cow::Borrowed(if *b { "true" } else { "false" })),
        other => other.clone(),
    }
}

/// Whether the value is one of the field's missing values (compared with
/// the text as written; a JSON object or array never is).
fn is_missing(field: &Field, scalar: &Scalar<'_>) -> bool {
    if matches!(scalar, Scalar::Json(_)) {
        return false;
    }
    let text = scalar.text();
    field.missing_values.iter().any(|m| *m == *text)
}

/// Which bound `value` breaks, if any: `(is_lower_bound, detail)`.
fn range_failure(field: &Field, value: &Value<'_>, as_of: NaiveDate) -> Option<(bool, Detail)> {
    if field.minimum.is_empty() && field.maximum.is_empty() {
        return None;
    }
    // This runs per record: compare in place; the bounds' texts are made
    // only for a failure.
    let compared = |b: &Bound| match (&b.value, value) {
        (BoundValue::Fixed(bound), _) => value.compare(bound),
        (BoundValue::AsOf, Value::Date(date)) => Some(date.cmp(&as_of)),
        // A date-time is within an as-of bound while its day is.
        (BoundValue::AsOf, Value::DateTime { datetime, .. }) => Some(datetime.date().cmp(&as_of)),
        (BoundValue::AsOf, _) => None,
    };
    // An incomparable value (NaN, P1M against P30D) is outside its bounds.
    let below = field
        .minimum
        .iter()
        .find(|b| compared(b).is_none_or(|o| if b.exclusive { o.is_le() } else { o.is_lt() }));
    let above = field
        .maximum
        .iter()
        .find(|b| compared(b).is_none_or(|o| if b.exclusive { o.is_ge() } else { o.is_gt() }));
    if below.is_none() && above.is_none() {
        return None;
    }
    let text = |b: &Bound| BoundText {
        text: match &b.value {
            BoundValue::Fixed(v) => v.canonical(),
            BoundValue::AsOf => Value::Date(as_of).canonical(),
        },
        exclusive: b.exclusive,
        as_of: b.value == BoundValue::AsOf,
    };
    let temporal = matches!(value, Value::Date(_) | Value::DateTime { .. });
    let detail = match (temporal, below, above) {
        (true, Some(b), _) => Detail::TooEarly(text(b)),
        (true, None, Some(b)) => Detail::TooLate(text(b)),
        _ => Detail::OutOfRange {
            low: below.or(field.minimum.first()).map(text),
            high: above.or(field.maximum.first()).map(text),
        },
    };
    Some((below.is_some(), detail))
}

#[cfg(test)]
mod tests;
