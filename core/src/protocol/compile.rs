//! Checking a protocol document and compiling it into a [`Protocol`].
//!
//! Every refusal names the key (`fields[2].constraints.pattern`) and says
//! what is wrong, so a data manager can fix a protocol without reading code.
//! Bounds, `enum` entries and categories are read with the field's own type
//! parser ([`crate::types`]), so they mean what a cell of the field means.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use super::document::{
    CleaningDoc, FieldDoc, ForeignKeyDoc, Json, RangeDoc, Result, RuleDoc, closest, key_error, read,
};
use super::score::compile_score;
use super::{
    Bound, BoundValue, Cleaning, Code, CompareOp, CompareRule, Field, FieldCodes, FieldsMatch,
    ForeignKey, Pattern, Protocol, ProtocolError, ProtocolWarning, Titles, UniqueKey,
};
use crate::types::{
    DateForm, DateFormat, DateSyntax, GeoJsonFormat, GeoPointFormat, NumberSyntax, Scalar,
    StringFormat, Strptime, TimeFormat, Type,
};
use crate::value::Value;

/// The value of `maximum`/`minimum` that stands for the run's as-of date.
pub(crate) const AS_OF: &str = "$asOf";

/// Default plausible blood pressure ranges (mmHg), inclusive.
const SYSTOLIC: (u16, u16) = (50, 300);
const DIASTOLIC: (u16, u16) = (20, 200);

/// Table-level keys of `codes`.
const TABLE_CODE_KEYS: [&str; 4] = ["primaryKey", "uniqueKeys", "foreignKeys", "malformedRow"];
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

/// Every type a protocol may name.
const TYPES: &str = "string, integer, number, boolean, date, time, datetime, year, yearmonth, duration, geopoint, geojson, object, array, list, any, bloodPressure";

/// What compiling collects besides the protocol: warnings.
struct Compiler {
    warnings: Vec<ProtocolWarning>,
}

impl Compiler {
    fn warn(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.warnings.push(ProtocolWarning {
            path: path.into(),
            message: message.into(),
        });
    }
}

pub(super) fn compile(text: &str) -> std::result::Result<Protocol, ProtocolError> {
    compile_boxed(text).map_err(|e| *e)
}

fn compile_boxed(text: &str) -> Result<Protocol> {
    let (doc, warnings) = read(text)?;
    let mut compiler = Compiler { warnings };
    check_code_keys("codes", &doc.codes, &TABLE_CODE_KEYS)?;
    let cleaning = compile_cleaning(&doc.cleaning)?;
    let fields_match = match doc.fields_match.as_deref() {
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
    if doc.fields.is_empty() {
        compiler.warn("fields", "no fields: every column is extra");
    }
    let table_missing = doc
        .missing_values
        .clone()
        .unwrap_or_else(|| vec![String::new()]);
    let primary = doc.primary_key.clone().unwrap_or_default();
    let mut fields = Vec::with_capacity(doc.fields.len());
    for (i, f) in doc.fields.iter().enumerate() {
        let in_primary_key = primary.contains(&f.name);
        fields.push(compiler.field(&format!("fields[{i}]"), f, &table_missing, in_primary_key)?);
    }
    let columns = index_columns(&doc.fields, &cleaning)?;
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
    let mut foreign_keys = Vec::new();
    for (k, fk) in doc.foreign_keys.iter().enumerate() {
        let code = table_code("foreignKeys", "foreign_key");
        foreign_keys.push(compile_foreign_key(
            &format!("foreignKeys[{k}]"),
            fk,
            code,
            &by_name,
        )?);
    }
    let mut rules = Vec::new();
    for (r, rule) in doc.rules.iter().enumerate() {
        rules.push(compile_rule(
            &format!("rules[{r}]"),
            rule,
            &fields,
            &by_name,
        )?);
    }
    let mut scores = Vec::new();
    for (s, score) in doc.scores.iter().enumerate() {
        let path = format!("scores[{s}]");
        let score = compile_score(&path, score, &fields, &by_name)?;
        if scores
            .iter()
            .any(|earlier: &super::Score| earlier.name == score.name)
        {
            return Err(key_error(
                format!("{path}.name"),
                format!("two scores are named `{}`", score.name),
            ));
        }
        scores.push(score);
    }

    Ok(Protocol {
        name: doc.name.clone().unwrap_or_else(|| "custom".to_owned()),
        title: doc.title.clone(),
        description: doc.description.clone(),
        version: doc.version.clone(),
        malformed_code: table_code("malformedRow", "malformed_row"),
        fields,
        fields_match,
        cleaning,
        keys,
        foreign_keys,
        rules,
        scores,
        warnings: compiler.warnings,
        columns,
        source: Arc::from(text),
    })
}

fn compile_cleaning(doc: &CleaningDoc) -> Result<Cleaning> {
    let choice = |key: &str, value: &Option<String>, off: &str, on: &str| match value.as_deref() {
        None => Ok(false),
        Some(v) if v == off => Ok(false),
        Some(v) if v == on => Ok(true),
        Some(other) => Err(key_error(
            format!("cleaning.{key}"),
            format!("`{other}` is not one of {off}, {on}"),
        )),
    };
    Ok(Cleaning {
        trim: doc.trim,
        full_width: doc.full_width,
        loose_headers: choice("headers", &doc.headers, "exact", "loose")?,
        skip_blank_rows: choice("blankRows", &doc.blank_rows, "report", "skip")?,
        reject_header_errors: choice("headerErrors", &doc.header_errors, "report", "reject")?,
        malformed_rows: choice("badRows", &doc.bad_rows, "cells", "malformed")?,
        json_scalars_as_text: choice("jsonScalars", &doc.json_scalars, "typed", "text")?,
    })
}

fn check_code_keys(path: &str, codes: &BTreeMap<String, String>, known: &[&str]) -> Result<()> {
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
fn index_columns(fields: &[FieldDoc], cleaning: &Cleaning) -> Result<HashMap<String, usize>> {
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
            let key = cleaning.header_key(name).into_owned();
            match columns.get(&key) {
                Some(&other) if other != i => {
                    let what = if path.ends_with("name")
                        && !path.contains("aliases")
                        && fields[other].name == *name
                    {
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
    path: &str,
    doc: &ForeignKeyDoc,
    code: Code,
    by_name: &impl Fn(&str, &str) -> Result<usize>,
) -> Result<ForeignKey> {
    let fields = compile_key(&format!("{path}.fields"), &doc.fields, by_name)?;
    let referenced = format!("{path}.reference.fields");
    if doc.reference_fields.len() != fields.len() {
        return Err(key_error(
            referenced,
            format!(
                "{} field(s) refer to {} field(s): give as many on both sides",
                fields.len(),
                doc.reference_fields.len()
            ),
        ));
    }
    if doc.resource.is_none() {
        compile_key(&referenced, &doc.reference_fields, by_name)?;
    }
    Ok(ForeignKey {
        fields,
        resource: doc.resource.clone(),
        reference_fields: doc.reference_fields.clone(),
        code,
    })
}

fn compile_rule(
    path: &str,
    rule: &RuleDoc,
    fields: &[Field],
    by_name: &impl Fn(&str, &str) -> Result<usize>,
) -> Result<CompareRule> {
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
    let (a, b) = (&fields[field].ty, &fields[other].ty);
    let text = |t: &Type| matches!(t, Type::String(_) | Type::Any);
    let comparable = a.name() == b.name() && (a.is_ordered() || text(a)) || text(a) && text(b);
    if !comparable {
        return Err(key_error(
            path,
            format!(
                "cannot compare {} field with {} field",
                with_article(a.name()),
                with_article(b.name())
            ),
        ));
    }
    check_code(&format!("{path}.code"), &rule.code)?;
    Ok(CompareRule {
        field,
        op,
        other,
        code: Arc::from(rule.code.as_str()),
        description: rule.description.clone(),
    })
}

impl Compiler {
    fn field(
        &mut self,
        path: &str,
        doc: &FieldDoc,
        table_missing: &[String],
        in_primary_key: bool,
    ) -> Result<Field> {
        let ty = self.compile_type(path, doc)?;
        let c = &doc.constraints;
        let type_name = ty.name();
        let bounded = c.minimum.is_some()
            || c.maximum.is_some()
            || c.exclusive_minimum.is_some()
            || c.exclusive_maximum.is_some();
        if bounded && !ty.is_ordered() {
            return Err(key_error(
                format!("{path}.constraints"),
                format!(
                    "only integer, number, date, time, datetime, year, yearmonth and duration fields take bounds, not {type_name}"
                ),
            ));
        }
        if !matches!(ty, Type::BloodPressure { .. })
            && (c.systolic.is_some() || c.diastolic.is_some())
        {
            return Err(key_error(
                format!("{path}.constraints"),
                format!("only bloodPressure fields take systolic and diastolic, not {type_name}"),
            ));
        }
        if c.json_schema.is_some() {
            return Err(key_error(
                format!("{path}.constraints.jsonSchema"),
                "jsonSchema is not supported yet; check the JSON value's shape with type object or array",
            ));
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
        let type_code = if matches!(ty, Type::Date(_)) {
            "invalid_date"
        } else {
            "type"
        };
        let codes = FieldCodes {
            required: code("required", "required"),
            kind: code("type", type_code),
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
        let bounds = |this: &mut Self,
                      key: &str,
                      exclusive_key: &str,
                      inclusive: &Option<Json>,
                      exclusive: &Option<Json>|
         -> Result<Vec<Bound>> {
            let mut out = Vec::new();
            for (key, json, exclusive) in
                [(key, inclusive, false), (exclusive_key, exclusive, true)]
            {
                if let Some(json) = json {
                    let value = this.bound(&format!("{path}.constraints.{key}"), &ty, json)?;
                    out.push(Bound { value, exclusive });
                }
            }
            Ok(out)
        };
        let minimum = bounds(
            self,
            "minimum",
            "exclusiveMinimum",
            &c.minimum,
            &c.exclusive_minimum,
        )?;
        let maximum = bounds(
            self,
            "maximum",
            "exclusiveMaximum",
            &c.maximum,
            &c.exclusive_maximum,
        )?;
        let (allowed, labels) = self.allowed(path, doc, &ty)?;
        let field = Field {
            name: doc.name.clone(),
            title: doc.title.clone(),
            titles: compile_titles(&format!("{path}.titles"), &doc.titles)?,
            enum_titles: BTreeMap::new(),
            labels,
            description: doc.description.clone(),
            example: doc.example.clone(),
            aliases: doc.aliases.clone(),
            format: doc.format.clone().filter(|f| f != "default"),
            ty,
            required: c.required || in_primary_key,
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
            minimum,
            maximum,
            allowed,
            unique: c.unique,
            codes,
        };
        let mut field = field;
        let allowed_text = field.allowed_text().unwrap_or_default();
        for (lang, labels) in &doc.enum_titles {
            let at = format!("{path}.enumTitles.{lang}");
            let labels = compile_titles(&at, labels)?;
            if let Some(stray) = labels.keys().find(|value| !allowed_text.contains(value)) {
                return Err(key_error(
                    format!("{at}.{stray}"),
                    "not one of the field's `enum` values",
                ));
            }
            field.enum_titles.insert(lang.clone(), labels);
        }
        Ok(field)
    }

    /// The field's type with its format and type-specific keys.
    fn compile_type(&mut self, path: &str, doc: &FieldDoc) -> Result<Type> {
        let type_name = doc.kind.as_deref().unwrap_or("any");
        // v0 wrote temporal patterns as `fmt:%d/%m/%Y`.
        let format = doc
            .format
            .as_deref()
            .map(|f| f.strip_prefix("fmt:").unwrap_or(f));
        let format_path = format!("{path}.format");
        for (key, at) in &doc.typed_keys {
            let applies = match *key {
                "trueValues" | "falseValues" => type_name == "boolean",
                "decimalChar" => type_name == "number",
                "groupChar" | "bareNumber" => matches!(type_name, "number" | "integer"),
                "delimiter" | "itemType" => type_name == "list",
                _ => matches!(type_name, "string" | "integer"),
            };
            if !applies {
                self.warn(
                    at.clone(),
                    format!(
                        "{} field does not use this key; ignored",
                        with_article(type_name)
                    ),
                );
            }
        }
        let clinval_date_keys =
            doc.date_forms.is_some() || doc.day_month_order.is_some() || doc.allow_time.is_some();
        if clinval_date_keys && type_name != "date" {
            return Err(key_error(
                path,
                format!(
                    "dateForms, dayMonthOrder and allowTime are for date fields, not {type_name}"
                ),
            ));
        }
        if doc.type_pattern.is_some() && !matches!(type_name, "integer" | "number") {
            return Err(key_error(
                format!("{path}.typePattern"),
                format!("typePattern is for integer and number fields, not {type_name}"),
            ));
        }
        // A format these types do not have: frictionless-py loads such a
        // schema (and ignores it), so a warning, not a refusal.
        let plain_format = |this: &mut Self| {
            if let Some(f) = format.filter(|f| *f != "default") {
                this.warn(
                    format_path.clone(),
                    format!(
                        "{} field has no format `{f}`; ignored",
                        with_article(type_name)
                    ),
                );
            }
        };
        let lexical = || {
            doc.type_pattern
                .as_deref()
                .map(|p| compile_pattern(&format!("{path}.typePattern"), p))
                .transpose()
        };
        let one_char = |key: &str, text: &Option<String>| -> Result<Option<char>> {
            match text.as_deref() {
                None => Ok(None),
                Some(t) => {
                    let mut chars = t.chars();
                    match (chars.next(), chars.next()) {
                        (Some(c), None) => Ok(Some(c)),
                        _ => Err(key_error(format!("{path}.{key}"), "expected one character")),
                    }
                }
            }
        };
        let syntax = NumberSyntax {
            decimal_char: if type_name == "number" {
                one_char("decimalChar", &doc.decimal_char)?.unwrap_or('.')
            } else {
                '.'
            },
            group_char: one_char("groupChar", &doc.group_char)?,
            bare: doc.bare_number.unwrap_or(true),
        };
        if syntax.group_char == Some(syntax.decimal_char) {
            return Err(key_error(
                format!("{path}.groupChar"),
                "the group and decimal characters are the same",
            ));
        }
        Ok(match type_name {
            "string" => Type::String(match format {
                None | Some("default") => StringFormat::Default,
                Some("email") => StringFormat::Email,
                Some("uri") => StringFormat::Uri,
                Some("uuid") => StringFormat::Uuid,
                Some("binary") => StringFormat::Binary,
                Some("wkt") => StringFormat::Wkt,
                Some(other) => {
                    return Err(key_error(
                        format_path,
                        format!(
                            "a string field's format is one of default, email, uri, uuid, binary, wkt, not `{other}`"
                        ),
                    ));
                }
            }),
            "integer" => {
                plain_format(self);
                Type::Integer {
                    syntax,
                    lexical: lexical()?,
                }
            }
            "number" => {
                plain_format(self);
                Type::Number {
                    syntax,
                    lexical: lexical()?,
                }
            }
            "boolean" => {
                plain_format(self);
                let texts = |v: &Option<Vec<String>>, default: &[&str]| {
                    v.clone()
                        .unwrap_or_else(|| default.iter().map(|s| (*s).to_owned()).collect())
                };
                Type::Boolean {
                    true_values: texts(&doc.true_values, &["true", "True", "TRUE", "1"]),
                    false_values: texts(&doc.false_values, &["false", "False", "FALSE", "0"]),
                }
            }
            "date" => Type::Date(match (format, &doc.date_forms) {
                (_, Some(forms)) if forms.is_empty() => {
                    return Err(key_error(
                        format!("{path}.dateForms"),
                        "list at least one date form",
                    ));
                }
                (None | Some("default"), None)
                    if doc.day_month_order.is_none() && doc.allow_time.is_none() =>
                {
                    DateFormat::Default
                }
                (None | Some("default" | "any"), forms) => {
                    let forms = match (format, forms) {
                        (_, Some(forms)) => forms.clone(),
                        (Some("any"), None) => DateForm::ALL.to_vec(),
                        _ => DateSyntax::iso().forms,
                    };
                    DateFormat::Forms(DateSyntax {
                        forms,
                        order: doc.day_month_order.unwrap_or_default(),
                        allow_time: doc.allow_time.unwrap_or(false),
                    })
                }
                (Some(pattern), None) if !clinval_date_keys => {
                    DateFormat::Pattern(strptime(&format_path, pattern)?)
                }
                (Some(_), _) => {
                    return Err(key_error(
                        format_path,
                        "dateForms, dayMonthOrder and allowTime go with the default or any format, not a pattern",
                    ));
                }
            }),
            "time" => Type::Time(time_format(&format_path, format)?),
            "datetime" => Type::DateTime(time_format(&format_path, format)?),
            "year" => {
                plain_format(self);
                Type::Year
            }
            "yearmonth" => {
                plain_format(self);
                Type::YearMonth
            }
            "duration" => {
                plain_format(self);
                Type::Duration
            }
            "geopoint" => Type::GeoPoint(match format {
                None | Some("default") => GeoPointFormat::Default,
                Some("array") => GeoPointFormat::Array,
                Some("object") => GeoPointFormat::Object,
                Some(other) => {
                    return Err(key_error(
                        format_path,
                        format!("a geopoint's format is default, array or object, not `{other}`"),
                    ));
                }
            }),
            "geojson" => Type::GeoJson(match format {
                None | Some("default") => GeoJsonFormat::Default,
                Some("topojson") => GeoJsonFormat::TopoJson,
                Some(other) => {
                    return Err(key_error(
                        format_path,
                        format!("a geojson field's format is default or topojson, not `{other}`"),
                    ));
                }
            }),
            "object" => {
                plain_format(self);
                Type::Object
            }
            "array" => {
                plain_format(self);
                Type::Array
            }
            "list" => {
                plain_format(self);
                let delimiter = doc.delimiter.clone().unwrap_or_else(|| ",".to_owned());
                if delimiter.is_empty() {
                    return Err(key_error(
                        format!("{path}.delimiter"),
                        "a list's delimiter cannot be empty",
                    ));
                }
                let item = match doc.item_type.as_deref().unwrap_or("string") {
                    "string" => Type::String(StringFormat::Default),
                    "integer" => Type::Integer {
                        syntax: NumberSyntax::default(),
                        lexical: None,
                    },
                    "number" => Type::Number {
                        syntax: NumberSyntax::default(),
                        lexical: None,
                    },
                    "boolean" => Type::Boolean {
                        true_values: ["true", "True", "TRUE", "1"].map(String::from).to_vec(),
                        false_values: ["false", "False", "FALSE", "0"].map(String::from).to_vec(),
                    },
                    "date" => Type::Date(DateFormat::Default),
                    "time" => Type::Time(TimeFormat::Default),
                    "datetime" => Type::DateTime(TimeFormat::Default),
                    other => {
                        return Err(key_error(
                            format!("{path}.itemType"),
                            format!(
                                "a list's items are string, integer, number, boolean, date, time or datetime, not `{other}`"
                            ),
                        ));
                    }
                };
                Type::List {
                    delimiter,
                    item: Box::new(item),
                }
            }
            "any" => {
                plain_format(self);
                Type::Any
            }
            "bloodPressure" => Type::BloodPressure {
                systolic: range(path, "systolic", doc.constraints.systolic, SYSTOLIC)?,
                diastolic: range(path, "diastolic", doc.constraints.diastolic, DIASTOLIC)?,
            },
            other => {
                let names: Vec<&str> = TYPES.split(", ").collect();
                let hint = match closest(other, &names) {
                    Some(near) => format!("did you mean `{near}`?"),
                    None => format!("the types are {TYPES}"),
                };
                return Err(key_error(
                    format!("{path}.type"),
                    format!("type `{other}` is not a type; {hint}"),
                ));
            }
        })
    }

    /// A bound, read as the field reads its values: the field's own format
    /// first, then the type's default form, then (for an integer field) as
    /// a number; `$asOf` for dates and date-times.
    fn bound(&mut self, path: &str, ty: &Type, json: &Json) -> Result<BoundValue> {
        let scalar = Scalar::of_json(json);
        if let Some(Scalar::Text(text)) = &scalar
            && text == AS_OF
        {
            return match ty {
                Type::Date(_) | Type::DateTime(_) => Ok(BoundValue::AsOf),
                _ => Err(key_error(
                    path,
                    format!("{AS_OF} is a bound for date and datetime fields"),
                )),
            };
        }
        let read = scalar.and_then(|s| read_as(ty, s));
        read.map(BoundValue::Fixed).ok_or_else(|| {
            key_error(
                path,
                format!("expected {}, found {}", expected_value(ty), json.get()),
            )
        })
    }

    /// The allowed values (`enum`, else `categories`) as logical values,
    /// and the categories' labels.
    #[allow(clippy::type_complexity)]
    fn allowed(
        &mut self,
        path: &str,
        doc: &FieldDoc,
        ty: &Type,
    ) -> Result<(Option<Vec<Value<'static>>>, Titles)> {
        let mut labels = Titles::new();
        let mut categories = None;
        if let Some(entries) = &doc.categories {
            let mut values = Vec::new();
            for (k, (json, label)) in entries.iter().enumerate() {
                let at = format!("{path}.categories[{k}]");
                match Scalar::of_json(json).and_then(|s| read_as(ty, s)) {
                    Some(value) => {
                        if let Some(label) = label {
                            labels.insert(value.canonical(), label.clone());
                        }
                        values.push(value);
                    }
                    None => self.warn(
                        at,
                        format!("not {}: no value can match it", expected_value(ty)),
                    ),
                }
            }
            categories = Some(values);
        }
        let Some(entries) = &doc.constraints.allowed else {
            return Ok((categories, labels));
        };
        let at = format!("{path}.constraints.enum");
        let mut values = Vec::new();
        for (k, json) in entries.iter().enumerate() {
            let entry = format!("{at}[{k}]");
            match Scalar::of_json(json).and_then(|s| read_as(ty, s)) {
                Some(value) => {
                    if let Some(categories) = &categories
                        && !categories.iter().any(|c| c.same_as(&value))
                    {
                        self.warn(entry.clone(), "not one of the field's categories");
                    }
                    values.push(value);
                }
                None => self.warn(
                    entry,
                    format!("not {}: no value can match it", expected_value(ty)),
                ),
            }
        }
        Ok((Some(values), labels))
    }
}

/// Reads a protocol value of a field's type: in the field's format, else
/// (for temporal types) in the type's default form, else (an integer
/// field's bound) as a number.
fn read_as(ty: &Type, scalar: Scalar<'_>) -> Option<Value<'static>> {
    if let Ok(value) = ty.parse(scalar.clone()) {
        return Some(value.into_owned());
    }
    let default = match ty {
        Type::Date(DateFormat::Forms(_) | DateFormat::Pattern(_)) => {
            Type::Date(DateFormat::Default)
        }
        Type::Time(TimeFormat::Any | TimeFormat::Pattern(_)) => Type::Time(TimeFormat::Default),
        Type::DateTime(TimeFormat::Any | TimeFormat::Pattern(_)) => {
            Type::DateTime(TimeFormat::Default)
        }
        Type::Integer { .. } => Type::Number {
            syntax: NumberSyntax::default(),
            lexical: None,
        },
        _ => return None,
    };
    default.parse(scalar).ok().map(Value::into_owned)
}

/// What a value of the type looks like, for messages.
fn expected_value(ty: &Type) -> String {
    match ty {
        Type::Date(DateFormat::Pattern(p)) => {
            format!("a date in the format {} or YYYY-MM-DD", p.source)
        }
        Type::Date(_) => "a date \"YYYY-MM-DD\"".into(),
        Type::DateTime(_) => "a date-time \"YYYY-MM-DDThh:mm:ss\"".into(),
        Type::Time(_) => "a time \"hh:mm:ss\"".into(),
        Type::Integer { .. } | Type::Number { .. } => "a number".into(),
        Type::Year => "a year \"YYYY\"".into(),
        Type::YearMonth => "a month \"YYYY-MM\"".into(),
        Type::Duration => "a duration such as \"P1Y2M\"".into(),
        other => format!("a {} value", other.name()),
    }
}

/// `a string`, `an integer`.
fn with_article(type_name: &str) -> String {
    let article = if type_name.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {type_name}")
}

fn time_format(path: &str, format: Option<&str>) -> Result<TimeFormat> {
    Ok(match format {
        None | Some("default") => TimeFormat::Default,
        Some("any") => TimeFormat::Any,
        Some(pattern) => TimeFormat::Pattern(strptime(path, pattern)?),
    })
}

fn strptime(path: &str, pattern: &str) -> Result<Strptime> {
    if !pattern.contains('%') {
        return Err(key_error(
            path,
            format!(
                "`{pattern}` is not a strptime pattern (it has no % directive; e.g. %d/%m/%Y), nor default or any"
            ),
        ));
    }
    Strptime::new(pattern).map_err(|e| key_error(path, format!("`{pattern}`: {e}")))
}

/// Checks a map of texts by language tag (or value): none empty.
pub(super) fn compile_titles(
    path: &str,
    titles: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>> {
    if let Some((key, _)) = titles
        .iter()
        .find(|(key, text)| key.trim().is_empty() || text.trim().is_empty())
    {
        return Err(key_error(format!("{path}.{key}"), "an empty key or text"));
    }
    Ok(titles.clone())
}

fn range(path: &str, key: &str, doc: Option<RangeDoc>, default: (u16, u16)) -> Result<(u16, u16)> {
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

/// Compiles a protocol pattern, anchored at both ends as Table Schema says.
fn compile_pattern(path: &str, source: &str) -> Result<Pattern> {
    Pattern::new(source)
        .map_err(|e| key_error(path, format!("not a valid regular expression: {e}")))
}
