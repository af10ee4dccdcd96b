//! Checking a protocol document and compiling it into a [`Protocol`].
//!
//! Every refusal names the key (`fields[2].constraints.pattern`) and says
//! what is wrong, so a data manager can fix a protocol without reading code.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use super::document::{FieldDoc, Json, RangeDoc, RuleDoc, read};
use super::score::compile_score;
use super::{
    Code, CompareOp, CompareRule, DateLimit, Field, FieldCodes, FieldKind, Limit, Pattern,
    Protocol, ProtocolError, UniqueKey,
};
use crate::clean::header_key;
use crate::date::{DateForm, DateSyntax};

/// The value of `maximum`/`minimum` that stands for the run's as-of date.
pub(crate) const AS_OF: &str = "$asOf";

/// Default plausible blood pressure ranges (mmHg), inclusive.
const SYSTOLIC: (u16, u16) = (50, 300);
const DIASTOLIC: (u16, u16) = (20, 200);

/// Table-level keys of `codes`.
const TABLE_CODE_KEYS: [&str; 3] = ["primaryKey", "uniqueKeys", "malformedRow"];
/// Field-level keys of `codes`.
const FIELD_CODE_KEYS: [&str; 11] = [
    "required",
    "type",
    "ambiguous",
    "pattern",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "enum",
    "unique",
    "implausible",
];

/// `read` of each item with its index, up to the first refusal. A loop,
/// where `collect::<Result<Vec<_>, _>>()` made an iterator adapter per call
/// site that LLVM copied whole: 40 KB of the wasm module.
pub(super) fn each<I, T>(
    items: impl IntoIterator<Item = I>,
    mut read: impl FnMut(usize, I) -> Result<T, ProtocolError>,
) -> Result<Vec<T>, ProtocolError> {
    let mut read_all = Vec::new();
    for (i, item) in items.into_iter().enumerate() {
        read_all.push(read(i, item)?);
    }
    Ok(read_all)
}

pub(super) fn key_error(path: impl Into<String>, message: impl Into<String>) -> ProtocolError {
    ProtocolError::Key {
        path: path.into(),
        message: message.into(),
    }
}

pub(super) fn compile(text: &str) -> Result<Protocol, ProtocolError> {
    let doc = read(text)?;
    if doc.fields.is_empty() {
        return Err(key_error("fields", "a protocol needs at least one field"));
    }
    check_code_keys("codes", &doc.codes, &TABLE_CODE_KEYS)?;
    let table_missing = doc.missing_values.clone().unwrap_or_default();
    let fields = each(&doc.fields, |i, f| {
        compile_field(&format!("fields[{i}]"), f, &table_missing)
    })?;
    let columns = index_columns(&doc.fields)?;
    let by_name = |path: &str, name: &str| {
        fields
            .iter()
            .position(|f| f.name == name)
            .ok_or_else(|| key_error(path, format!("no field is named `{name}`")))
    };
    let table_code = |key: &str, default: &str| -> Code {
        Arc::from(doc.codes.get(key).map_or(default, String::as_str))
    };

    let mut keys = Vec::new();
    if let Some(names) = &doc.primary_key {
        keys.push(UniqueKey {
            fields: compile_key("primaryKey", names, &by_name)?,
            code: table_code("primaryKey", "duplicate"),
        });
    }
    for (k, names) in doc.unique_keys.iter().enumerate() {
        keys.push(UniqueKey {
            fields: compile_key(&format!("uniqueKeys[{k}]"), names, &by_name)?,
            code: table_code("uniqueKeys", "duplicate"),
        });
    }
    let rules = each(&doc.rules, |r, rule| {
        compile_rule(&format!("rules[{r}]"), rule, &fields, &by_name)
    })?;
    let scores = each(&doc.scores, |s, score| {
        compile_score(&format!("scores[{s}]"), score, &fields, &by_name)
    })?;
    if let Some(twice) = scores.iter().enumerate().find(|(s, score)| {
        scores[..*s]
            .iter()
            .any(|earlier| earlier.name == score.name)
    }) {
        return Err(key_error(
            format!("scores[{}].name", twice.0),
            format!("two scores are named `{}`", twice.1.name),
        ));
    }

    Ok(Protocol {
        name: doc.name.clone().unwrap_or_else(|| "custom".to_owned()),
        title: doc.title.clone(),
        description: doc.description.clone(),
        version: doc.version.clone(),
        malformed_code: table_code("malformedRow", "malformed_row"),
        fields,
        keys,
        rules,
        scores,
        columns,
        source: Arc::from(text),
    })
}

fn check_code_keys(
    path: &str,
    codes: &BTreeMap<String, String>,
    known: &[&str],
) -> Result<(), ProtocolError> {
    for (key, code) in codes {
        if !known.contains(&key.as_str()) {
            return Err(key_error(
                format!("{path}.{key}"),
                format!("unknown check; codes can be set for: {}", known.join(", ")),
            ));
        }
        if code.is_empty() || code.chars().any(char::is_whitespace) {
            return Err(key_error(
                format!("{path}.{key}"),
                "an issue code must be non-empty and without white space",
            ));
        }
    }
    Ok(())
}

/// Maps every field name and alias (normalised) to its field, refusing clashes.
fn index_columns(fields: &[FieldDoc]) -> Result<HashMap<String, usize>, ProtocolError> {
    let mut columns: HashMap<String, usize> = HashMap::new();
    for (i, field) in fields.iter().enumerate() {
        let names = std::iter::once((format!("fields[{i}].name"), &field.name)).chain(
            field
                .aliases
                .iter()
                .enumerate()
                .map(|(a, alias)| (format!("fields[{i}].aliases[{a}]"), alias)),
        );
        for (path, name) in names {
            let key = header_key(name);
            if key.is_empty() {
                return Err(key_error(path, "a name must have a letter or digit"));
            }
            match columns.get(&key) {
                Some(&other) if other != i => {
                    return Err(key_error(
                        path,
                        format!("`{name}` also names field `{}`", fields[other].name),
                    ));
                }
                _ => {
                    columns.insert(key, i);
                }
            }
        }
    }
    Ok(columns)
}

fn compile_key(
    path: &str,
    names: &[String],
    by_name: &impl Fn(&str, &str) -> Result<usize, ProtocolError>,
) -> Result<Vec<usize>, ProtocolError> {
    if names.is_empty() {
        return Err(key_error(path, "a key needs at least one field"));
    }
    each(names, |k, name| by_name(&format!("{path}[{k}]"), name))
}

fn compile_rule(
    path: &str,
    rule: &RuleDoc,
    fields: &[Field],
    by_name: &impl Fn(&str, &str) -> Result<usize, ProtocolError>,
) -> Result<CompareRule, ProtocolError> {
    let field = by_name(&format!("{path}.field"), &rule.field)?;
    let other = by_name(&format!("{path}.other"), &rule.other)?;
    let op = match rule.op.as_str() {
        "<" => CompareOp::Less,
        "<=" => CompareOp::LessOrEqual,
        ">" => CompareOp::Greater,
        ">=" => CompareOp::GreaterOrEqual,
        "==" => CompareOp::Equal,
        "!=" => CompareOp::NotEqual,
        other => {
            return Err(key_error(
                format!("{path}.op"),
                format!("`{other}` is not one of <, <=, >, >=, ==, !="),
            ));
        }
    };
    let (a, b) = (&fields[field].kind, &fields[other].kind);
    let comparable = std::mem::discriminant(a) == std::mem::discriminant(b)
        && !matches!(
            a,
            FieldKind::BloodPressure { .. } | FieldKind::Boolean { .. }
        );
    if !comparable {
        return Err(key_error(
            path,
            format!(
                "cannot compare a {} field with a {} field",
                a.type_name(),
                b.type_name()
            ),
        ));
    }
    let code_path = format!("{path}.code");
    check_code_keys(
        path,
        &BTreeMap::from([("code".to_owned(), rule.code.clone())]),
        &["code"],
    )
    .map_err(|_| {
        key_error(
            code_path,
            "an issue code must be non-empty and without white space",
        )
    })?;
    Ok(CompareRule {
        field,
        op,
        other,
        code: Arc::from(rule.code.as_str()),
        description: rule.description.clone(),
    })
}

fn compile_field(
    path: &str,
    doc: &FieldDoc,
    table_missing: &[String],
) -> Result<Field, ProtocolError> {
    if doc.name.trim().is_empty() {
        return Err(key_error(format!("{path}.name"), "a field needs a name"));
    }
    let type_name = doc.kind.as_deref().unwrap_or("string");
    let c = &doc.constraints;
    let kind = compile_kind(path, type_name, doc)?;
    let only_for = |present: bool, key: &str, types: &str| {
        if present {
            Err(key_error(
                format!("{path}.{key}"),
                format!("only {types} fields take this key, not {type_name}"),
            ))
        } else {
            Ok(())
        }
    };
    let numeric_or_date = matches!(
        kind,
        FieldKind::Integer { .. } | FieldKind::Number { .. } | FieldKind::Date { .. }
    );
    if !numeric_or_date {
        let bounded = c.minimum.is_some()
            || c.maximum.is_some()
            || c.exclusive_minimum.is_some()
            || c.exclusive_maximum.is_some();
        only_for(bounded, "constraints", "integer, number and date")?;
    }
    if !matches!(kind, FieldKind::BloodPressure { .. }) {
        only_for(
            c.systolic.is_some() || c.diastolic.is_some(),
            "constraints",
            "bloodPressure",
        )?;
    }
    if let (Some(min), Some(max)) = (c.min_length, c.max_length)
        && min > max
    {
        return Err(key_error(
            format!("{path}.constraints.minLength"),
            format!("minLength {min} is greater than maxLength {max}"),
        ));
    }
    check_code_keys(&format!("{path}.codes"), &doc.codes, &FIELD_CODE_KEYS)?;
    let code = |key: &str, default: &str| -> Code {
        Arc::from(doc.codes.get(key).map_or(default, String::as_str))
    };
    let date_type_code = if matches!(kind, FieldKind::Date { .. }) {
        "invalid_date"
    } else {
        "type"
    };
    let codes = FieldCodes {
        required: code("required", "required"),
        kind: code("type", date_type_code),
        ambiguous: code("ambiguous", "ambiguous_date"),
        pattern: code("pattern", "pattern"),
        min_length: code("minLength", "too_short"),
        max_length: code("maxLength", "too_long"),
        minimum: code("minimum", "out_of_range"),
        maximum: code("maximum", "out_of_range"),
        allowed: code("enum", "not_allowed"),
        unique: code("unique", "duplicate"),
        implausible: code("implausible", "implausible"),
    };
    let mut field = Field {
        name: doc.name.clone(),
        title: doc.title.clone(),
        titles: compile_titles(&format!("{path}.titles"), &doc.titles)?,
        enum_titles: BTreeMap::new(),
        description: doc.description.clone(),
        example: doc.example.clone(),
        aliases: doc.aliases.clone(),
        kind,
        required: c.required,
        missing_values: doc
            .missing_values
            .clone()
            .unwrap_or_else(|| table_missing.to_vec()),
        collapse_whitespace: doc.collapse_whitespace,
        min_length: c.min_length,
        max_length: c.max_length,
        pattern: c
            .pattern
            .as_deref()
            .map(|p| compile_pattern(&format!("{path}.constraints.pattern"), p))
            .transpose()?,
        allowed: None,
        unique: c.unique,
        codes,
    };
    if let Some(values) = &c.allowed {
        field.allowed = Some(compile_enum(
            &format!("{path}.constraints.enum"),
            values,
            &field,
        )?);
    }
    for (lang, labels) in &doc.enum_titles {
        let at = format!("{path}.enumTitles.{lang}");
        let labels = compile_titles(&at, labels)?;
        let allowed = field.allowed.as_deref().unwrap_or_default();
        if let Some(stray) = labels.keys().find(|value| !allowed.contains(value)) {
            return Err(key_error(
                format!("{at}.{stray}"),
                "not one of the field's `enum` values",
            ));
        }
        field.enum_titles.insert(lang.clone(), labels);
    }
    Ok(field)
}

/// Checks a map of texts by language tag (or value): none empty.
pub(super) fn compile_titles(
    path: &str,
    titles: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>, ProtocolError> {
    if let Some((key, _)) = titles
        .iter()
        .find(|(key, text)| key.trim().is_empty() || text.trim().is_empty())
    {
        return Err(key_error(format!("{path}.{key}"), "an empty key or text"));
    }
    Ok(titles.clone())
}

fn compile_kind(path: &str, type_name: &str, doc: &FieldDoc) -> Result<FieldKind, ProtocolError> {
    let c = &doc.constraints;
    let format = doc.format.as_deref();
    let refuse = |present: bool, key: &str| -> Result<(), ProtocolError> {
        if present {
            Err(key_error(
                format!("{path}.{key}"),
                format!("a {type_name} field does not take this key"),
            ))
        } else {
            Ok(())
        }
    };
    if type_name != "date" {
        refuse(doc.date_forms.is_some(), "dateForms")?;
        refuse(doc.day_month_order.is_some(), "dayMonthOrder")?;
        refuse(doc.allow_time.is_some(), "allowTime")?;
        if !matches!(format, None | Some("default")) {
            return Err(key_error(
                format!("{path}.format"),
                format!("a {type_name} field supports only the `default` format"),
            ));
        }
    }
    if type_name != "integer" && type_name != "number" {
        refuse(doc.type_pattern.is_some(), "typePattern")?;
    }
    if type_name != "boolean" {
        refuse(doc.true_values.is_some(), "trueValues")?;
        refuse(doc.false_values.is_some(), "falseValues")?;
    }
    let lexical = || {
        doc.type_pattern
            .as_deref()
            .map(|p| compile_pattern(&format!("{path}.typePattern"), p))
            .transpose()
    };
    Ok(match type_name {
        "string" | "any" => FieldKind::String,
        "integer" => FieldKind::Integer {
            lexical: lexical()?,
            minimum: integer_limit(path, "minimum", &c.minimum, &c.exclusive_minimum)?,
            maximum: integer_limit(path, "maximum", &c.maximum, &c.exclusive_maximum)?,
        },
        "number" => FieldKind::Number {
            lexical: lexical()?,
            minimum: number_limit(path, "minimum", &c.minimum, &c.exclusive_minimum)?,
            maximum: number_limit(path, "maximum", &c.maximum, &c.exclusive_maximum)?,
        },
        "boolean" => {
            let texts = |v: &Option<Vec<String>>, default: &[&str]| {
                v.clone()
                    .unwrap_or_else(|| default.iter().map(|s| (*s).to_owned()).collect())
            };
            FieldKind::Boolean {
                true_values: texts(&doc.true_values, &["true", "True", "TRUE", "1"]),
                false_values: texts(&doc.false_values, &["false", "False", "FALSE", "0"]),
            }
        }
        "date" => {
            let forms = match (format, &doc.date_forms) {
                (_, Some(forms)) if forms.is_empty() => {
                    return Err(key_error(
                        format!("{path}.dateForms"),
                        "list at least one date form",
                    ));
                }
                (None | Some("default") | Some("any"), Some(forms)) => forms.clone(),
                (None | Some("default"), None) => DateSyntax::iso().forms,
                (Some("any"), None) => DateForm::ALL.to_vec(),
                (Some(other), _) => {
                    return Err(key_error(
                        format!("{path}.format"),
                        format!(
                            "date format `{other}` is not supported: use `default`, `any` or dateForms"
                        ),
                    ));
                }
            };
            FieldKind::Date {
                syntax: DateSyntax {
                    forms,
                    order: doc.day_month_order.unwrap_or_default(),
                    allow_time: doc.allow_time.unwrap_or(false),
                },
                minimum: date_limit(path, "minimum", &c.minimum, &c.exclusive_minimum)?,
                maximum: date_limit(path, "maximum", &c.maximum, &c.exclusive_maximum)?,
            }
        }
        "bloodPressure" => FieldKind::BloodPressure {
            systolic: range(path, "systolic", c.systolic, SYSTOLIC)?,
            diastolic: range(path, "diastolic", c.diastolic, DIASTOLIC)?,
        },
        other => {
            return Err(key_error(
                format!("{path}.type"),
                format!(
                    "type `{other}` is not supported (string, integer, number, boolean, date, bloodPressure)"
                ),
            ));
        }
    })
}

fn range(
    path: &str,
    key: &str,
    doc: Option<RangeDoc>,
    default: (u16, u16),
) -> Result<(u16, u16), ProtocolError> {
    let Some(r) = doc else { return Ok(default) };
    if r.minimum > r.maximum {
        return Err(key_error(
            format!("{path}.constraints.{key}"),
            format!(
                "minimum {} is greater than maximum {}",
                r.minimum, r.maximum
            ),
        ));
    }
    Ok((r.minimum, r.maximum))
}

/// Picks `minimum` or `exclusiveMinimum` (not both) and converts it.
fn limit<T>(
    path: &str,
    key: &str,
    inclusive: &Option<Json>,
    exclusive: &Option<Json>,
    convert: impl Fn(&Json) -> Option<T>,
    expected: &str,
) -> Result<Option<Limit<T>>, ProtocolError> {
    let exclusive_key = match key {
        "minimum" => "exclusiveMinimum",
        _ => "exclusiveMaximum",
    };
    let (json, exclusive, key) = match (inclusive, exclusive) {
        (Some(_), Some(_)) => {
            return Err(key_error(
                format!("{path}.constraints"),
                format!("give {key} or {exclusive_key}, not both"),
            ));
        }
        (Some(j), None) => (j, false, key.to_owned()),
        (None, Some(j)) => (j, true, exclusive_key.to_owned()),
        (None, None) => return Ok(None),
    };
    let value = convert(json).ok_or_else(|| {
        key_error(
            format!("{path}.constraints.{key}"),
            format!("expected {expected}, found {json}"),
        )
    })?;
    Ok(Some(Limit { value, exclusive }))
}

fn integer_limit(
    path: &str,
    key: &str,
    inclusive: &Option<Json>,
    exclusive: &Option<Json>,
) -> Result<Option<Limit<i64>>, ProtocolError> {
    limit(
        path,
        key,
        inclusive,
        exclusive,
        |j: &Json| j.get().parse::<i64>().ok(),
        "a whole number",
    )
}

fn number_limit(
    path: &str,
    key: &str,
    inclusive: &Option<Json>,
    exclusive: &Option<Json>,
) -> Result<Option<Limit<f64>>, ProtocolError> {
    let number = |j: &Json| crate::check::parse_number(j.get());
    limit(path, key, inclusive, exclusive, number, "a number")
}

fn date_limit(
    path: &str,
    key: &str,
    inclusive: &Option<Json>,
    exclusive: &Option<Json>,
) -> Result<Option<Limit<DateLimit>>, ProtocolError> {
    let convert = |j: &Json| match json_string(j)?.as_str() {
        AS_OF => Some(DateLimit::AsOf),
        text => crate::date::parse_iso(text).map(DateLimit::Fixed),
    };
    limit(
        path,
        key,
        inclusive,
        exclusive,
        convert,
        "a date \"YYYY-MM-DD\" or \"$asOf\"",
    )
}

/// The string a JSON value holds, if it is a string.
fn json_string(json: &Json) -> Option<String> {
    crate::raw_json::string(json.get().as_bytes()).map(Cow::into_owned)
}

/// Compiles a protocol pattern, anchored at both ends as Table Schema says.
fn compile_pattern(path: &str, source: &str) -> Result<Pattern, ProtocolError> {
    Pattern::new(source)
        .map_err(|e| key_error(path, format!("not a valid regular expression: {e}")))
}

/// Converts `enum` entries to the canonical text the field outputs, so a
/// value matches an entry however it was written (`+5` matches `5`).
fn compile_enum(path: &str, values: &[Json], field: &Field) -> Result<Vec<String>, ProtocolError> {
    if values.is_empty() {
        return Err(key_error(path, "list at least one allowed value"));
    }
    each(values, |k, v| {
        let text = match v.get().as_bytes().first() {
            Some(b'"') => json_string(v).unwrap_or_default(),
            Some(b'{' | b'[' | b'n') | None => {
                return Err(key_error(
                    format!("{path}[{k}]"),
                    format!("expected a string, number or boolean, found {}", v.get()),
                ));
            }
            _ => v.get().to_owned(),
        };
        crate::check::canonical(field, &text).ok_or_else(|| {
            key_error(
                format!("{path}[{k}]"),
                format!("`{text}` is not a valid {}", field.kind.type_name()),
            )
        })
    })
}
