//! Checking a protocol document and compiling it into a [`Protocol`].
//!
//! Read straight from the JSON tree ([`super::tree`]): every refusal names
//! the key (`fields[2].constraints.pattern`) and says what is wrong, so a
//! data manager can fix a protocol without reading code. Bounds, `enum`
//! entries and categories are read with the field's own type parser
//! ([`crate::types`]), so they mean what a cell of the field means.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde_json::value::RawValue;

use super::field::compile_field;
use super::score::compile_score;
use super::tree::{Notes, Obj, Result, Unknown, items, key_error, text};
use super::{
    Cleaning, Code, CompareOp, CompareRule, Diary, Field, FieldsMatch, ForeignKey, Logic, Protocol,
    ProtocolError, UniqueKey,
};
use crate::types::{Full, Type};

/// The value of `maximum`/`minimum` that stands for the run's as-of date.
pub(crate) const AS_OF: &str = "$asOf";

/// The document's keys; `$schema` is informative.
const DOCUMENT_KEYS: &[&str] = &[
    "$schema",
    "name",
    "title",
    "description",
    "version",
    "fields",
    "fieldsMatch",
    "missingValues",
    "primaryKey",
    "uniqueKeys",
    "foreignKeys",
    "cleaning",
    "rules",
    "scores",
    "codes",
    "absentColumns",
    "systemColumns",
    "repeat",
    "encoding",
    "diary",
];

/// Keys of `diary`.
const DIARY_KEYS: &[&str] = &["completionField", "onePerDay"];

const CLEANING_KEYS: &[&str] = &[
    "trim",
    "fullWidth",
    "headers",
    "blankRows",
    "headerErrors",
    "badRows",
    "jsonScalars",
];

const RULE_KEYS: &[&str] = &["field", "op", "other", "assert", "code", "description"];

/// Table-level keys of `codes`.
const TABLE_CODE_KEYS: &[&str] = &["primaryKey", "uniqueKeys", "foreignKeys", "malformedRow"];

pub(super) fn compile(text: &str) -> std::result::Result<Protocol, ProtocolError> {
    compile_boxed(text).map_err(|e| *e)
}

fn compile_boxed(source: &str) -> Result<Protocol> {
    let mut notes = Notes::default();
    let doc = Obj::document(source, DOCUMENT_KEYS, &mut notes)?;
    doc.text("$schema")?;
    let codes = doc.texts_by_key("codes", &mut notes)?;
    check_code_keys("codes", &codes, TABLE_CODE_KEYS)?;
    let cleaning = compile_cleaning(&doc, &mut notes)?;
    let fields_match = match doc.text("fieldsMatch")?.as_deref() {
        None | Some("exact") => FieldsMatch::Exact,
        Some("equal") => FieldsMatch::Equal,
        Some("subset") => FieldsMatch::Subset,
        Some("superset") => FieldsMatch::Superset,
        Some("partial") => FieldsMatch::Partial,
        Some(other) => {
            return Err(key_error(
                "fieldsMatch",
                format!("`{other}` is not one of exact, equal, subset, superset, partial"),
            ));
        }
    };
    let encoding = match doc.text("encoding")?.as_deref() {
        None => None,
        Some(name) => crate::TextEncoding::from_setting(name)
            .map_err(|e| key_error("encoding", e.to_string()))?,
    };
    if !doc.has("fields") {
        return Err(key_error("fields", "this key is required"));
    }
    let field_items = doc.list("fields")?;
    if field_items.is_empty() {
        notes.warn("fields", "no fields: every column is extra");
    }
    let table_missing = match doc.raw("missingValues") {
        Some(raw) => missing_values("missingValues", raw)?,
        None => vec![String::new()],
    };
    let primary = doc.names("primaryKey")?;
    let mut fields = Vec::with_capacity(field_items.len());
    let mut sources = Vec::with_capacity(field_items.len());
    for (at, raw) in &field_items {
        let (field, source) =
            compile_field(at, raw, &table_missing, primary.as_deref(), &mut notes)?;
        fields.push(field);
        sources.push(source);
    }
    let paths: Vec<&str> = field_items.iter().map(|(at, _)| at.as_str()).collect();
    let columns = index_columns(&fields, &paths, &cleaning)?;
    let by_name = |path: &str, name: &str| {
        fields
            .iter()
            .position(|f| f.name == name)
            .ok_or_else(|| key_error(path, format!("no field is named `{name}`")))
    };
    let table_code = |key: &str, default: &str| -> Code {
        Arc::from(codes.get(key).map_or(default, String::as_str))
    };

    let mut keys = Vec::new();
    if let Some(names) = &primary {
        keys.push(UniqueKey {
            fields: compile_key("primaryKey", names, &by_name)?,
            code: table_code("primaryKey", "duplicate"),
        });
    }
    for (at, raw) in doc.list("uniqueKeys")? {
        let names: Vec<String> = items(&at, raw)?
            .iter()
            .map(|(a, v)| text(a, v))
            .collect::<Result<_>>()?;
        keys.push(UniqueKey {
            fields: compile_key(&at, &names, &by_name)?,
            code: table_code("uniqueKeys", "duplicate"),
        });
    }
    let mut foreign_keys = Vec::new();
    for (at, raw) in doc.list("foreignKeys")? {
        let code = table_code("foreignKeys", "foreign_key");
        foreign_keys.push(compile_foreign_key(at, raw, code, &by_name, &mut notes)?);
    }
    // Logic is the full build's: the compact one refuses it before any of
    // it is compiled (so its code is left out there).
    let logic_full = |path: &str| {
        Full::get().ok_or_else(|| {
            Box::new(ProtocolError::NeedsFullModule {
                path: path.to_owned(),
                feature: "branching, requiredIf, calculated fields, assertions and repeating forms"
                    .to_owned(),
            })
        })
    };
    let mut logic = match sources.iter().position(super::logic::Sources::any) {
        Some(first) => {
            logic_full(paths[first])?;
            Some(Logic::compile(&fields, sources)?)
        }
        None => None,
    };
    let mut rules = Vec::new();
    for (at, raw) in doc.list("rules")? {
        let rule = Obj::open(at, raw, RULE_KEYS, Unknown::Refuse, &mut notes)?;
        if rule.has("assert") {
            logic_full(&rule.at("assert"))?;
            let assert = compile_assert(&rule, &fields, &by_name)?;
            logic
                .get_or_insert_with(Logic::default)
                .asserts
                .push(assert);
        } else {
            rules.push(compile_rule(&rule, &fields, &by_name)?);
        }
    }
    if let Some(raw) = doc.raw("repeat") {
        logic_full("repeat")?;
        let repeat = Obj::open(
            "repeat".into(),
            raw,
            &["column"],
            Unknown::Refuse,
            &mut notes,
        )?;
        let column = repeat
            .text("column")?
            .ok_or_else(|| key_error("repeat.column", "this key is required in `repeat`"))?;
        logic.get_or_insert_with(Logic::default).repeat = Some(super::Repeat {
            column: cleaning.header_key(&column).into_owned(),
            forms: fields.iter().map(|f| f.form.clone()).collect(),
        });
    }
    let absent_columns_empty = match doc.text("absentColumns")?.as_deref() {
        None | Some("unchecked") => false,
        Some("empty") => true,
        Some(other) => {
            return Err(key_error(
                "absentColumns",
                format!("`{other}` is not one of unchecked, empty"),
            ));
        }
    };
    let system_columns = doc
        .texts("systemColumns")?
        .iter()
        .map(|c| cleaning.header_key(c).into_owned())
        .collect();
    let choice_columns = index_choice_columns(&fields, &cleaning);
    let diary = compile_diary(&doc, &fields, &by_name, &mut notes)?;
    let mut scores: Vec<super::Score> = Vec::new();
    for (at, raw) in doc.list("scores")? {
        let score = compile_score(&at, raw, &fields, &by_name, &mut notes)?;
        if scores.iter().any(|earlier| earlier.name == score.name) {
            return Err(key_error(
                format!("{at}.name"),
                format!("two scores are named `{}`", score.name),
            ));
        }
        scores.push(score);
    }

    Ok(Protocol {
        name: doc.text("name")?.unwrap_or_else(|| "custom".to_owned()),
        title: doc.text("title")?,
        description: doc.text("description")?,
        version: doc.text("version")?,
        malformed_code: table_code("malformedRow", "malformed_row"),
        fields,
        fields_match,
        encoding,
        cleaning,
        keys,
        foreign_keys,
        rules,
        scores,
        diary,
        warnings: notes.warnings,
        absent_columns_empty,
        system_columns,
        logic: logic
            .map(|logic| logic_full("rules").map(|full| super::Logics::new(logic, full)))
            .transpose()?,
        columns,
        choice_columns,
        source: Arc::from(source),
    })
}

/// `diary`: `{"completionField": a date field, "onePerDay": bool}`.
fn compile_diary(
    doc: &Obj<'_>,
    fields: &[Field],
    by_name: &impl Fn(&str, &str) -> Result<usize>,
    notes: &mut Notes,
) -> Result<Option<Diary>> {
    if !doc.has("diary") {
        return Ok(None);
    }
    let full = Full::get().ok_or_else(|| {
        Box::new(ProtocolError::NeedsFullModule {
            path: "diary".to_owned(),
            feature: "diary submission rules".to_owned(),
        })
    })?;
    let diary = doc.object("diary", DIARY_KEYS, Unknown::Refuse, notes)?;
    let completion_field = match diary.text("completionField")? {
        Some(name) => {
            let at = diary.at("completionField");
            let field = by_name(&at, &name)?;
            if !matches!(fields[field].ty, Type::Date(_)) {
                return Err(key_error(at, format!("`{name}` is not a date field")));
            }
            Some(field)
        }
        None => None,
    };
    Ok(Some(Diary {
        completion_field,
        one_per_day: diary.flag("onePerDay")?.unwrap_or(false),
        full,
    }))
}

/// A rule `{"assert": "...", "code", "field"?, "description"?}`.
fn compile_assert(
    rule: &Obj<'_>,
    fields: &[Field],
    by_name: &impl Fn(&str, &str) -> Result<usize>,
) -> Result<super::Assert> {
    for key in ["op", "other"] {
        if rule.has(key) {
            return Err(key_error(
                rule.at(key),
                "a rule has either `assert` or `op` and `other`",
            ));
        }
    }
    let source = rule.text("assert")?.unwrap_or_default();
    let condition = crate::expr::Expr::condition(&source, &super::logic::Names(fields))
        .map_err(|e| super::logic::refusal(&rule.at("assert"), &e))?;
    let code = rule.text("code")?.ok_or_else(|| {
        key_error(
            rule.at("code"),
            format!("this key is required in `{}`", rule.path),
        )
    })?;
    check_code(&rule.at("code"), &code)?;
    let field = match rule.text("field")? {
        Some(name) => Some(by_name(&rule.at("field"), &name)?),
        None => None,
    };
    Ok(super::Assert {
        condition,
        code: Arc::from(code.as_str()),
        field,
        description: rule.text("description")?,
    })
}

/// Header key of each `field___code` column of a multi-select written in
/// columns → (field, choice).
fn index_choice_columns(fields: &[Field], cleaning: &Cleaning) -> HashMap<String, (usize, usize)> {
    let mut columns = HashMap::new();
    for (f, field) in fields.iter().enumerate() {
        if let Type::MultiSelect(select) = &field.ty
            && select.columns
        {
            for (c, code) in select.choices.iter().enumerate() {
                let name = crate::types::MultiSelect::column(&field.name, code);
                columns.insert(cleaning.header_key(&name).into_owned(), (f, c));
            }
        }
    }
    columns
}

/// `cleaning`: `true` (all of clinval's cleaning), or each choice.
fn compile_cleaning(doc: &Obj<'_>, notes: &mut Notes) -> Result<Cleaning> {
    if let Some(raw) = doc.raw("cleaning")
        && matches!(raw.get(), "true" | "false")
    {
        let all = raw.get() == "true";
        return Ok(Cleaning {
            trim: all,
            full_width: all,
            loose_headers: all,
            caseless_headers: false,
            skip_blank_rows: all,
            skip_empty_rows: false,
            reject_header_errors: all,
            malformed_rows: all,
            json_scalars_as_text: all,
        });
    }
    let c = doc.object("cleaning", CLEANING_KEYS, Unknown::Refuse, notes)?;
    let choice = |key: &str, off: &str, on: &str| -> Result<bool> {
        match c.text(key)?.as_deref() {
            None => Ok(false),
            Some(v) if v == off => Ok(false),
            Some(v) if v == on => Ok(true),
            Some(other) => Err(key_error(
                c.at(key),
                format!("`{other}` is not one of {off}, {on}"),
            )),
        }
    };
    // Which of three values a key has (the first when absent).
    let choice3 = |key: &str, values: [&str; 3]| -> Result<usize> {
        match c.text(key)? {
            None => Ok(0),
            Some(v) => values.iter().position(|x| *x == v).ok_or_else(|| {
                key_error(
                    c.at(key),
                    format!("`{v}` is not one of {}", values.join(", ")),
                )
            }),
        }
    };
    Ok(Cleaning {
        trim: c.flag("trim")?.unwrap_or(false),
        full_width: c.flag("fullWidth")?.unwrap_or(false),
        loose_headers: choice3("headers", ["exact", "loose", "caseless"])? == 1,
        caseless_headers: choice3("headers", ["exact", "loose", "caseless"])? == 2,
        skip_blank_rows: choice3("blankRows", ["report", "skip", "ignore"])? == 1,
        skip_empty_rows: choice3("blankRows", ["report", "skip", "ignore"])? == 2,
        reject_header_errors: choice("headerErrors", "report", "reject")?,
        malformed_rows: choice("badRows", "cells", "malformed")?,
        json_scalars_as_text: choice("jsonScalars", "typed", "text")?,
    })
}

/// `missingValues`: strings, or (v2) objects `{"value", "label"?}`.
pub(super) fn missing_values(path: &str, raw: &RawValue) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for (at, item) in items(path, raw)? {
        out.push(match item.get().as_bytes().first() {
            Some(b'{') => {
                let (value, _) = labelled(&at, item)?;
                text(&format!("{at}.value"), value)?
            }
            _ => text(&at, item)?,
        });
    }
    Ok(out)
}

/// `{"value": any, "label"?: "..."}` (missing values, categories).
pub(super) fn labelled<'a>(
    path: &str,
    raw: &'a RawValue,
) -> Result<(&'a RawValue, Option<String>)> {
    let obj = Obj::open(
        path.to_owned(),
        raw,
        &["value", "label"],
        Unknown::Refuse,
        &mut Notes::default(),
    )?;
    let value = obj
        .raw("value")
        .ok_or_else(|| key_error(obj.at("value"), format!("this key is required in `{path}`")))?;
    Ok((value, obj.text("label")?))
}

pub(super) fn check_code_keys(
    path: &str,
    codes: &BTreeMap<String, String>,
    known: &[&str],
) -> Result<()> {
    for (key, code) in codes {
        if !known.contains(&key.as_str()) {
            return Err(key_error(
                format!("{path}.{key}"),
                format!("unknown check; codes can be set for: {}", known.join(", ")),
            ));
        }
        check_code(&format!("{path}.{key}"), code)?;
    }
    Ok(())
}

fn check_code(path: &str, code: &str) -> Result<()> {
    if code.is_empty() || code.chars().any(char::is_whitespace) {
        return Err(key_error(
            path,
            "an issue code must be non-empty and without white space",
        ));
    }
    Ok(())
}

/// Maps every field name and alias (as headers are matched) to its
/// field, refusing clashes.
fn index_columns(
    fields: &[Field],
    paths: &[&str],
    cleaning: &Cleaning,
) -> Result<HashMap<String, usize>> {
    let mut columns: HashMap<String, usize> = HashMap::new();
    for (i, field) in fields.iter().enumerate() {
        let names = std::iter::once((format!("{}.name", paths[i]), &field.name, true)).chain(
            field
                .aliases
                .iter()
                .enumerate()
                .map(|(a, alias)| (format!("{}.aliases[{a}]", paths[i]), alias, false)),
        );
        for (path, name, is_name) in names {
            let key = cleaning.header_key(name).into_owned();
            match columns.get(&key) {
                Some(&other) if other != i => {
                    let what = if is_name && fields[other].name == *name {
                        "two fields have this name".to_owned()
                    } else {
                        format!("`{name}` also names field `{}`", fields[other].name)
                    };
                    return Err(key_error(path, what));
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
    by_name: &impl Fn(&str, &str) -> Result<usize>,
) -> Result<Vec<usize>> {
    if names.is_empty() {
        return Err(key_error(path, "a key needs at least one field"));
    }
    let mut fields = Vec::with_capacity(names.len());
    for (k, name) in names.iter().enumerate() {
        fields.push(by_name(&format!("{path}[{k}]"), name)?);
    }
    Ok(fields)
}

fn compile_foreign_key(
    path: String,
    raw: &RawValue,
    code: Code,
    by_name: &impl Fn(&str, &str) -> Result<usize>,
    notes: &mut Notes,
) -> Result<ForeignKey> {
    let fk = Obj::open(path, raw, &["fields", "reference"], Unknown::Refuse, notes)?;
    let names = fk.names("fields")?.ok_or_else(|| {
        key_error(
            fk.at("fields"),
            format!("this key is required in `{}`", fk.path),
        )
    })?;
    if !fk.has("reference") {
        return Err(key_error(
            fk.at("reference"),
            format!("this key is required in `{}`", fk.path),
        ));
    }
    let reference = fk.object("reference", &["resource", "fields"], Unknown::Refuse, notes)?;
    let fields = compile_key(&fk.at("fields"), &names, by_name)?;
    let referenced = reference.names("fields")?.ok_or_else(|| {
        key_error(
            reference.at("fields"),
            format!("this key is required in `{}`", reference.path),
        )
    })?;
    if referenced.len() != fields.len() {
        return Err(key_error(
            reference.at("fields"),
            format!(
                "{} field(s) refer to {} field(s): give as many on both sides",
                fields.len(),
                referenced.len()
            ),
        ));
    }
    // v1 wrote `""` for this table.
    let resource = reference.text("resource")?.filter(|r| !r.is_empty());
    if resource.is_none() {
        compile_key(&reference.at("fields"), &referenced, by_name)?;
    }
    Ok(ForeignKey {
        fields,
        resource,
        reference_fields: referenced,
        code,
    })
}

fn compile_rule(
    rule: &Obj<'_>,
    fields: &[Field],
    by_name: &impl Fn(&str, &str) -> Result<usize>,
) -> Result<CompareRule> {
    let required = |key: &str| -> Result<String> {
        rule.text(key)?.ok_or_else(|| {
            key_error(
                rule.at(key),
                format!("this key is required in `{}`", rule.path),
            )
        })
    };
    let (field_name, op_text, other_name, code) = (
        required("field")?,
        required("op")?,
        required("other")?,
        required("code")?,
    );
    let field = by_name(&rule.at("field"), &field_name)?;
    let other = by_name(&rule.at("other"), &other_name)?;
    let op = match op_text.as_str() {
        "<" => CompareOp::Less,
        "<=" => CompareOp::LessOrEqual,
        ">" => CompareOp::Greater,
        ">=" => CompareOp::GreaterOrEqual,
        "==" => CompareOp::Equal,
        "!=" => CompareOp::NotEqual,
        other => {
            return Err(key_error(
                rule.at("op"),
                format!("`{other}` is not one of <, <=, >, >=, ==, !="),
            ));
        }
    };
    let (a, b) = (&fields[field].ty, &fields[other].ty);
    let text = |t: &Type| matches!(t, Type::String(_) | Type::Any);
    let comparable = a.name() == b.name() && (a.is_ordered() || text(a)) || text(a) && text(b);
    if !comparable {
        return Err(key_error(
            rule.path.clone(),
            format!(
                "cannot compare {} field with {} field",
                with_article(a.name()),
                with_article(b.name())
            ),
        ));
    }
    check_code(&rule.at("code"), &code)?;
    Ok(CompareRule {
        field,
        op,
        other,
        code: Arc::from(code.as_str()),
        description: rule.text("description")?,
    })
}

/// `a string`, `an integer`.
pub(super) fn with_article(type_name: &str) -> String {
    let article = if type_name.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {type_name}")
}

/// Checks a map of texts by language tag (or value): none empty.
pub(super) fn check_titles(path: &str, titles: &BTreeMap<String, String>) -> Result<()> {
    match titles
        .iter()
        .find(|(key, text)| key.trim().is_empty() || text.trim().is_empty())
    {
        Some((key, _)) => Err(key_error(format!("{path}.{key}"), "an empty key or text")),
        None => Ok(()),
    }
}
