//! Compiling one entry of `fields`: its type with its format and
//! type-specific keys, its constraints (bounds, `enum` and categories read
//! as the field's own values), its codes and labels.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::value::RawValue;

use super::compile::{
    AS_OF, check_code_keys, check_titles, labelled, missing_values, with_article,
};
use super::logic::Sources;
use super::tree::{Notes, Obj, Result, Unknown, expected, items, key_error, text};
use super::{Bound, BoundValue, Code, Field, FieldCodes, Pattern, ProtocolError, Titles};
use crate::pattern::PatternError;
use crate::types::redcap::{Clock, DateOrder};
use crate::types::{
    DateForm, DateFormat, DateSyntax, DayMonthOrder, Full, GeoJsonFormat, GeoPointFormat,
    MultiSelect, NumberSyntax, Scalar, StringFormat, Strptime, TimeFormat, Type,
};
use crate::value::Value;

/// A field's keys. `rdfType` is informative; `floatNumber` and
/// `arrayItem` are frictionless-py's (kept, see the warnings they get).
const FIELD_KEYS: &[&str] = &[
    "name",
    "title",
    "description",
    "example",
    "type",
    "format",
    "constraints",
    "missingValues",
    "trueValues",
    "falseValues",
    "decimalChar",
    "groupChar",
    "bareNumber",
    "floatNumber",
    "delimiter",
    "itemType",
    "categories",
    "categoriesOrdered",
    "arrayItem",
    "rdfType",
    "titles",
    "enumTitles",
    "aliases",
    "collapseWhitespace",
    "typePattern",
    "dateForms",
    "dayMonthOrder",
    "allowTime",
    "codes",
    "choiceColumns",
    "showIf",
    "requiredIf",
    "unsupportedLogic",
    "identifier",
    "form",
    "section",
    "calc",
];

const CONSTRAINT_KEYS: &[&str] = &[
    "required",
    "unique",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "pattern",
    "enum",
    "jsonSchema",
    "systolic",
    "diastolic",
];

/// Field-level keys of `codes`.
const FIELD_CODE_KEYS: &[&str] = &[
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
    "hidden",
];

/// Keys only some types use: `(key, the types)`.
const TYPED_KEYS: &[(&str, &[&str])] = &[
    ("trueValues", &["boolean"]),
    ("falseValues", &["boolean"]),
    ("decimalChar", &["number"]),
    ("groupChar", &["number", "integer"]),
    ("bareNumber", &["number", "integer"]),
    ("delimiter", &["list", "multiselect"]),
    ("itemType", &["list"]),
    ("categories", &["string", "integer", "multiselect"]),
    ("choiceColumns", &["multiselect"]),
];

/// Every type a protocol may name.
const TYPES: &str = "string, integer, number, boolean, date, time, datetime, year, yearmonth, duration, geopoint, geojson, object, array, list, any, multiselect, bloodPressure";

/// Default plausible blood pressure ranges (mmHg), inclusive.
const SYSTOLIC: (u16, u16) = (50, 300);
const DIASTOLIC: (u16, u16) = (20, 200);

/// Compiles the field at `path`; `table_missing` is the document's
/// `missingValues`, `primary` its primary key (whose fields are required).
pub(super) fn compile_field(
    path: &str,
    raw: &RawValue,
    table_missing: &[String],
    primary: Option<&[String]>,
    notes: &mut Notes,
) -> Result<(Field, Sources)> {
    if let Ok(crate::raw_json::Shape::Object(entries)) =
        crate::raw_json::shape(raw.get().as_bytes())
        && let Some((key, _)) = entries
            .iter()
            .find(|(k, _)| CONSTRAINT_KEYS.contains(&k.as_ref()))
    {
        return Err(key_error(
            super::tree::join(path, key),
            format!("`{key}` is a constraint: write it inside `constraints`"),
        ));
    }
    let f = Obj::open(path.to_owned(), raw, FIELD_KEYS, Unknown::Warn, notes)?;
    let name = f
        .text("name")?
        .ok_or_else(|| key_error(f.at("name"), format!("this key is required in `{path}`")))?;
    if f.has("floatNumber") {
        f.flag("floatNumber")?;
        notes.warn(
            f.at("floatNumber"),
            "frictionless-py's own key: numbers are read the same either way",
        );
    }
    if f.has("arrayItem") {
        f.object("arrayItem", &[], Unknown::Any, notes)?;
        notes.warn(
            f.at("arrayItem"),
            "frictionless-py's own key, not Table Schema: the items are not checked",
        );
    }
    f.text("rdfType")?;
    f.flag("categoriesOrdered")?;
    let c = f.object("constraints", CONSTRAINT_KEYS, Unknown::Refuse, notes)?;
    let ty = compile_type(&f, &c, notes)?;
    let type_name = ty.name();
    let bounded = ["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"]
        .iter()
        .any(|k| c.has(k));
    if bounded && !ty.is_ordered() {
        return Err(key_error(
            c.path.clone(),
            format!(
                "only integer, number, date, time, datetime, year, yearmonth and duration fields take bounds, not {type_name}"
            ),
        ));
    }
    if !matches!(ty, Type::BloodPressure { .. }) && (c.has("systolic") || c.has("diastolic")) {
        return Err(key_error(
            c.path.clone(),
            format!("only bloodPressure fields take systolic and diastolic, not {type_name}"),
        ));
    }
    if c.has("jsonSchema") {
        return Err(key_error(
            c.at("jsonSchema"),
            "jsonSchema is not supported yet; check the JSON value's shape with type object or array",
        ));
    }
    let (min_length, max_length) = (c.count("minLength")?, c.count("maxLength")?);
    if let (Some(min), Some(max)) = (min_length, max_length)
        && min > max
    {
        return Err(key_error(
            c.at("minLength"),
            format!("minLength {min} is greater than maxLength {max}"),
        ));
    }
    let codes = f.texts_by_key("codes", notes)?;
    check_code_keys(&f.at("codes"), &codes, FIELD_CODE_KEYS)?;
    let code = |key: &str, default: &str| -> Code {
        Arc::from(codes.get(key).map_or(default, String::as_str))
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
        hidden: code("hidden", "hidden_has_value"),
    };
    let bounds = |key: &str, exclusive_key: &str| -> Result<Vec<Bound>> {
        let mut out = Vec::new();
        for (key, exclusive) in [(key, false), (exclusive_key, true)] {
            if let Some(raw) = c.raw(key) {
                out.push(Bound {
                    value: bound(&c.at(key), &ty, raw)?,
                    exclusive,
                });
            }
        }
        Ok(out)
    };
    let minimum = bounds("minimum", "exclusiveMinimum")?;
    let maximum = bounds("maximum", "exclusiveMaximum")?;
    let (allowed, labels) = allowed(&f, &c, &ty, notes)?;
    let titles = f.texts_by_key("titles", notes)?;
    check_titles(&f.at("titles"), &titles)?;
    let pattern = match c.text("pattern")? {
        Some(p) => Some(compile_pattern(&c.at("pattern"), &p)?),
        None => None,
    };
    let mut field = Field {
        required: c.flag("required")?.unwrap_or(false)
            || primary.is_some_and(|p| p.contains(&name)),
        name,
        title: f.text("title")?,
        titles,
        enum_titles: BTreeMap::new(),
        labels,
        description: f.text("description")?,
        example: f.raw("example").map(RawValue::to_owned),
        aliases: f.texts("aliases")?,
        format: f.text("format")?.filter(|format| format != "default"),
        ty,
        missing_values: match f.raw("missingValues") {
            Some(raw) => missing_values(&f.at("missingValues"), raw)?,
            None => table_missing.to_vec(),
        },
        collapse_whitespace: f.flag("collapseWhitespace")?.unwrap_or(false),
        min_length,
        max_length,
        pattern,
        minimum,
        maximum,
        allowed,
        unique: c.flag("unique")?.unwrap_or(false),
        identifier: f.flag("identifier")?.unwrap_or(false),
        form: f.text("form")?,
        section: f.text("section")?,
        codes,
    };
    let expression = |key: &str| -> Result<Option<(String, String)>> {
        Ok(f.text(key)?.map(|text| (f.at(key), text)))
    };
    let sources = Sources {
        show_if: expression("showIf")?,
        required_if: expression("requiredIf")?,
        unsupported: f.text("unsupportedLogic")?,
        calc: expression("calc")?,
    };
    let allowed_text = field.allowed_text().unwrap_or_default();
    let by_language = f.object("enumTitles", &[], Unknown::Any, notes)?;
    for (lang, _) in by_language.entries() {
        let labels = by_language.texts_by_key(lang, notes)?;
        let at = by_language.at(lang);
        check_titles(&at, &labels)?;
        if let Some(stray) = labels.keys().find(|value| !allowed_text.contains(value)) {
            return Err(key_error(
                format!("{at}.{stray}"),
                "not one of the field's `enum` values",
            ));
        }
        field.enum_titles.insert(lang.to_string(), labels);
    }
    Ok((field, sources))
}

/// The field's type with its format and type-specific keys.
fn compile_type(f: &Obj<'_>, c: &Obj<'_>, notes: &mut Notes) -> Result<Type> {
    let type_name = f.text("type")?.unwrap_or_else(|| "any".to_owned());
    let type_name = type_name.as_str();
    let format = f.text("format")?;
    // v0 wrote temporal patterns as `fmt:%d/%m/%Y`.
    let format = format
        .as_deref()
        .map(|f| f.strip_prefix("fmt:").unwrap_or(f));
    let format_path = f.at("format");
    for (key, types) in TYPED_KEYS {
        if f.has(key) && !types.contains(&type_name) {
            notes.warn(
                f.at(key),
                format!(
                    "{} field does not use this key; ignored",
                    with_article(type_name)
                ),
            );
        }
    }
    let clinval_date_keys = f.has("dateForms") || f.has("dayMonthOrder") || f.has("allowTime");
    if clinval_date_keys && type_name != "date" {
        return Err(key_error(
            f.path.clone(),
            format!("dateForms, dayMonthOrder and allowTime are for date fields, not {type_name}"),
        ));
    }
    if f.has("typePattern") && !matches!(type_name, "integer" | "number") {
        return Err(key_error(
            f.at("typePattern"),
            format!("typePattern is for integer and number fields, not {type_name}"),
        ));
    }
    // A format these types do not have: frictionless-py loads such a
    // schema (and ignores it), so a warning, not a refusal.
    let plain_format = |notes: &mut Notes| {
        if let Some(other) = format.filter(|f| *f != "default") {
            notes.warn(
                format_path.clone(),
                format!(
                    "{} field has no format `{other}`; ignored",
                    with_article(type_name)
                ),
            );
        }
    };
    let lexical = || -> Result<Option<Pattern>> {
        match f.text("typePattern")? {
            Some(p) => compile_pattern(&f.at("typePattern"), &p).map(Some),
            None => Ok(None),
        }
    };
    let one_char = |key: &str| -> Result<Option<char>> {
        match f.text(key)? {
            None => Ok(None),
            Some(t) => {
                let mut chars = t.chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) => Ok(Some(c)),
                    _ => Err(key_error(f.at(key), "expected one character")),
                }
            }
        }
    };
    let syntax = NumberSyntax {
        decimal_char: if type_name == "number" {
            one_char("decimalChar")?.unwrap_or('.')
        } else {
            '.'
        },
        group_char: one_char("groupChar")?,
        bare: f.flag("bareNumber")?.unwrap_or(true),
        redcap: if type_name == "number" && format == Some("redcap") {
            Some(full(&format_path, "the redcap number format")?)
        } else {
            None
        },
    };
    if syntax.group_char == Some(syntax.decimal_char) {
        return Err(key_error(
            f.at("groupChar"),
            "the group and decimal characters are the same",
        ));
    }
    let wrong_format = |allowed: &str| {
        key_error(
            format_path.clone(),
            format!(
                "{} field's format is {allowed}, not `{}`",
                with_article(type_name),
                format.unwrap_or_default()
            ),
        )
    };
    Ok(match type_name {
        "string" => Type::String(match format {
            None | Some("default") => StringFormat::Default,
            Some("email") => StringFormat::Email,
            Some("uri") => StringFormat::Uri,
            Some("uuid") => StringFormat::Uuid,
            Some("binary") => StringFormat::Binary,
            Some("wkt") => StringFormat::Wkt(full(&format_path, "the wkt format")?),
            Some("redcap-email") => {
                StringFormat::RedcapEmail(full(&format_path, "REDCap formats")?)
            }
            Some("redcap-phone") => {
                StringFormat::RedcapPhone(full(&format_path, "REDCap formats")?)
            }
            Some("redcap-zipcode") => {
                StringFormat::RedcapZipcode(full(&format_path, "REDCap formats")?)
            }
            Some(_) => {
                return Err(wrong_format(
                    "one of default, email, uri, uuid, binary, wkt, redcap-email, redcap-phone, redcap-zipcode",
                ));
            }
        }),
        "integer" | "number" => {
            if !(type_name == "number" && format == Some("redcap")) {
                plain_format(notes);
            }
            let lexical = lexical()?;
            if type_name == "integer" {
                Type::Integer { syntax, lexical }
            } else {
                Type::Number { syntax, lexical }
            }
        }
        "boolean" => {
            plain_format(notes);
            let texts = |key: &str, default: [&str; 4]| -> Result<Vec<String>> {
                if f.has(key) {
                    f.texts(key)
                } else {
                    Ok(default.map(String::from).to_vec())
                }
            };
            Type::Boolean {
                true_values: texts("trueValues", ["true", "True", "TRUE", "1"])?,
                false_values: texts("falseValues", ["false", "False", "FALSE", "0"])?,
            }
        }
        "date" => Type::Date(date_format(f, format, clinval_date_keys)?),
        "time" => Type::Time(match format.and_then(redcap_clock) {
            Some(clock) => TimeFormat::RedcapClock(clock, full(&format_path, "REDCap formats")?),
            None => time_format(&format_path, format)?,
        }),
        "datetime" => Type::DateTime(match format.and_then(redcap_date_time) {
            Some((order, seconds)) => TimeFormat::RedcapDateTime {
                order,
                seconds,
                full: full(&format_path, "REDCap formats")?,
            },
            None => time_format(&format_path, format)?,
        }),
        "year" | "yearmonth" | "duration" | "object" | "array" | "any" => {
            plain_format(notes);
            match type_name {
                "year" => Type::Year,
                "yearmonth" => Type::YearMonth,
                "duration" => Type::Duration,
                "object" => Type::Object(full(&f.at("type"), "the object type")?),
                "array" => Type::Array(full(&f.at("type"), "the array type")?),
                _ => Type::Any,
            }
        }
        "geopoint" => Type::GeoPoint(
            match format {
                None | Some("default") => GeoPointFormat::Default,
                Some("array") => GeoPointFormat::Array,
                Some("object") => GeoPointFormat::Object,
                Some(_) => return Err(wrong_format("default, array or object")),
            },
            full(&f.at("type"), "the geopoint type")?,
        ),
        "geojson" => Type::GeoJson(
            match format {
                None | Some("default") => GeoJsonFormat::Default,
                Some("topojson") => GeoJsonFormat::TopoJson,
                Some(_) => return Err(wrong_format("default or topojson")),
            },
            full(&f.at("type"), "the geojson type")?,
        ),
        "list" => {
            let full = full(&f.at("type"), "the list type")?;
            plain_format(notes);
            let delimiter = f.text("delimiter")?.unwrap_or_else(|| ",".to_owned());
            if delimiter.is_empty() {
                return Err(key_error(
                    f.at("delimiter"),
                    "a list's delimiter cannot be empty",
                ));
            }
            let item = match f.text("itemType")?.as_deref().unwrap_or("string") {
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
                        f.at("itemType"),
                        format!(
                            "a list's items are string, integer, number, boolean, date, time or datetime, not `{other}`"
                        ),
                    ));
                }
            };
            Type::List {
                delimiter,
                item: Box::new(item),
                full,
            }
        }
        "multiselect" => {
            plain_format(notes);
            let choices = choice_codes(f, c)?;
            if choices.is_empty() {
                return Err(key_error(
                    f.at("categories"),
                    "a multiselect field lists its choices in `categories` (or `constraints.enum`)",
                ));
            }
            let delimiter = f.text("delimiter")?.unwrap_or_else(|| "|".to_owned());
            if delimiter.is_empty() {
                return Err(key_error(
                    f.at("delimiter"),
                    "the delimiter cannot be empty",
                ));
            }
            Type::MultiSelect(Box::new(MultiSelect {
                choices,
                columns: f.flag("choiceColumns")?.unwrap_or(false),
                delimiter,
            }))
        }
        "bloodPressure" => Type::BloodPressure {
            systolic: range(c, "systolic", SYSTOLIC, notes)?,
            diastolic: range(c, "diastolic", DIASTOLIC, notes)?,
        },
        other => {
            let names: Vec<&str> = TYPES.split(", ").collect();
            let hint = match super::tree::closest(other, &names) {
                Some(near) => format!("did you mean `{near}`?"),
                None => format!("the types are {TYPES}"),
            };
            return Err(key_error(
                f.at("type"),
                format!("type `{other}` is not a type; {hint}"),
            ));
        }
    })
}

/// A date field's format: `default`, clinval's forms (`any`, `dateForms`,
/// `dayMonthOrder`, `allowTime`), or a strptime pattern.
fn date_format(f: &Obj<'_>, format: Option<&str>, clinval_keys: bool) -> Result<DateFormat> {
    let format_path = f.at("format");
    let forms = match f.raw("dateForms") {
        None => None,
        Some(raw) => {
            let mut forms = Vec::new();
            for (at, item) in items(&f.at("dateForms"), raw)? {
                let name = text(&at, item)?;
                let form = DateForm::ALL
                    .into_iter()
                    .find(|form| form.name() == name)
                    .ok_or_else(|| {
                        let names: Vec<_> = DateForm::ALL.iter().map(|f| f.name()).collect();
                        key_error(
                            at,
                            format!("`{name}` is not a date form ({})", names.join(", ")),
                        )
                    })?;
                forms.push(form);
            }
            if forms.is_empty() {
                return Err(key_error(f.at("dateForms"), "list at least one date form"));
            }
            Some(forms)
        }
    };
    let order = match f.text("dayMonthOrder")?.as_deref() {
        None | Some("infer") => DayMonthOrder::Infer,
        Some("dayFirst") => DayMonthOrder::DayFirst,
        Some("monthFirst") => DayMonthOrder::MonthFirst,
        Some(other) => {
            return Err(key_error(
                f.at("dayMonthOrder"),
                format!("`{other}` is not one of infer, dayFirst, monthFirst"),
            ));
        }
    };
    if let Some(order) = format.and_then(DateOrder::of_format) {
        return Ok(DateFormat::Redcap(
            order,
            full(&format_path, "REDCap formats")?,
        ));
    }
    Ok(match format {
        None | Some("default") if !clinval_keys => DateFormat::Default,
        None | Some("default" | "any") => DateFormat::Forms(DateSyntax {
            forms: forms.unwrap_or_else(|| match format {
                Some("any") => DateForm::ALL.to_vec(),
                _ => DateSyntax::iso().forms,
            }),
            order,
            allow_time: f.flag("allowTime")?.unwrap_or(false),
        }),
        Some(_) if clinval_keys => {
            return Err(key_error(
                format_path,
                "dateForms, dayMonthOrder and allowTime go with the default or any format, not a pattern",
            ));
        }
        Some(pattern) => DateFormat::Pattern(strptime(&format_path, pattern)?),
    })
}

/// A `time` format of REDCap's: `redcap-hm`, `redcap-hms`, `redcap-ms`.
fn redcap_clock(format: &str) -> Option<Clock> {
    Some(match format {
        "redcap-hm" => Clock::HoursMinutes,
        "redcap-hms" => Clock::HoursMinutesSeconds,
        "redcap-ms" => Clock::MinutesSeconds,
        _ => return None,
    })
}

/// A `datetime` format of REDCap's: `redcap-ymd-hm`, `redcap-mdy-hms`, ...
fn redcap_date_time(format: &str) -> Option<(DateOrder, bool)> {
    let (date, clock) = format.rsplit_once('-')?;
    let seconds = match clock {
        "hm" => false,
        "hms" => true,
        _ => return None,
    };
    Some((DateOrder::of_format(date)?, seconds))
}

fn time_format(path: &str, format: Option<&str>) -> Result<TimeFormat> {
    Ok(match format {
        None | Some("default") => TimeFormat::Default,
        Some("any") => TimeFormat::Any,
        Some(pattern) => TimeFormat::Pattern(strptime(path, pattern)?),
    })
}

/// A strptime `format` (with a `%` directive); the compact module has no
/// strptime engine.
fn strptime(path: &str, pattern: &str) -> Result<Strptime> {
    if !pattern.contains('%') {
        return Err(key_error(
            path,
            format!(
                "`{pattern}` is not a strptime pattern (it has no % directive; e.g. %d/%m/%Y), nor default or any"
            ),
        ));
    }
    #[cfg(feature = "full")]
    return Strptime::new(pattern).map_err(|e| key_error(path, format!("`{pattern}`: {e}")));
    #[cfg(not(feature = "full"))]
    Err(needs_full_module(
        path,
        format!("strptime format `{pattern}`"),
    ))
}

/// `systolic`/`diastolic`: `{"minimum", "maximum"}`, whole numbers.
fn range(c: &Obj<'_>, key: &str, default: (u16, u16), notes: &mut Notes) -> Result<(u16, u16)> {
    if !c.has(key) {
        return Ok(default);
    }
    let r = c.object(key, &["minimum", "maximum"], Unknown::Refuse, notes)?;
    let bound = |end: &str| -> Result<u16> {
        let raw = r
            .raw(end)
            .ok_or_else(|| key_error(r.at(end), format!("this key is required in `{}`", r.path)))?;
        raw.get()
            .parse::<u16>()
            .map_err(|_| expected(&r.at(end), "a whole number from 0 to 65535", raw))
    };
    let (minimum, maximum) = (bound("minimum")?, bound("maximum")?);
    if minimum > maximum {
        return Err(key_error(
            r.path.clone(),
            format!("minimum {minimum} is greater than maximum {maximum}"),
        ));
    }
    Ok((minimum, maximum))
}

/// A bound, read as the field reads its values (see [`read_as`]);
/// `$asOf` for dates and date-times.
fn bound(path: &str, ty: &Type, raw: &RawValue) -> Result<BoundValue> {
    let scalar = Scalar::of_json(raw);
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
    scalar
        .and_then(|s| read_as(ty, s))
        .map(BoundValue::Fixed)
        .ok_or_else(|| {
            key_error(
                path,
                format!("expected {}, found {}", expected_value(ty), raw.get()),
            )
        })
}

/// The allowed values (`enum`, else `categories`) as logical values,
/// and the categories' labels.
fn allowed(
    f: &Obj<'_>,
    c: &Obj<'_>,
    ty: &Type,
    notes: &mut Notes,
) -> Result<(Option<Vec<Value<'static>>>, Titles)> {
    let mut labels = Titles::new();
    if matches!(ty, Type::MultiSelect(_)) {
        // The choices are the type's; the categories give their labels.
        for (at, item) in f.list("categories")? {
            if item.get().starts_with('{') {
                let (raw, label) = labelled(&at, item)?;
                if let Some(label) = label {
                    labels.insert(choice_code(&at, raw)?, label);
                }
            }
        }
        return Ok((None, labels));
    }
    let mut categories = None;
    if f.has("categories") {
        let mut values = Vec::new();
        for (at, item) in f.list("categories")? {
            let (raw, label) = match item.get().as_bytes().first() {
                Some(b'{') => labelled(&at, item)?,
                _ => (item, None),
            };
            match Scalar::of_json(raw).and_then(|s| read_as(ty, s)) {
                Some(value) => {
                    if let Some(label) = label {
                        labels.insert(value.canonical(), label);
                    }
                    values.push(value);
                }
                None => notes.warn(
                    at,
                    format!("not {}: no value can match it", expected_value(ty)),
                ),
            }
        }
        categories = Some(values);
    }
    if !c.has("enum") {
        return Ok((categories, labels));
    }
    let mut values = Vec::new();
    for (at, raw) in c.list("enum")? {
        match Scalar::of_json(raw).and_then(|s| read_as(ty, s)) {
            Some(value) => {
                if let Some(categories) = &categories
                    && !categories.iter().any(|c| c.same_as(&value))
                {
                    notes.warn(at, "not one of the field's categories");
                }
                values.push(value);
            }
            None => notes.warn(
                at,
                format!("not {}: no value can match it", expected_value(ty)),
            ),
        }
    }
    Ok((Some(values), labels))
}

/// A multiselect field's choice codes: its `categories` (texts, numbers or
/// `{"value", "label"}`), else its `constraints.enum`.
fn choice_codes(f: &Obj<'_>, c: &Obj<'_>) -> Result<Vec<String>> {
    let (items, from_enum) = if f.has("categories") {
        (f.list("categories")?, false)
    } else {
        (c.list("enum")?, true)
    };
    let mut codes: Vec<String> = Vec::with_capacity(items.len());
    for (at, item) in items {
        let raw = match item.get().as_bytes().first() {
            Some(b'{') if !from_enum => labelled(&at, item)?.0,
            _ => item,
        };
        let code = choice_code(&at, raw)?;
        if codes.contains(&code) {
            return Err(key_error(
                at,
                format!("the choice `{code}` is listed twice"),
            ));
        }
        codes.push(code);
    }
    Ok(codes)
}

/// A choice code: a text, or a number as written.
fn choice_code(path: &str, raw: &RawValue) -> Result<String> {
    match Scalar::of_json(raw) {
        Some(Scalar::Text(t)) if !t.is_empty() => Ok(t.into_owned()),
        Some(Scalar::Number(n)) => Ok(n.to_owned()),
        _ => Err(expected(path, "a choice code (a text or a number)", raw)),
    }
}

/// Reads a protocol value of a field's type: in the field's format, else
/// (for temporal types) in the type's default form, else (an integer
/// field's bound) as a number.
fn read_as(ty: &Type, scalar: Scalar<'_>) -> Option<Value<'static>> {
    if let Ok(value) = ty.parse(&scalar) {
        return Some(value.into_owned());
    }
    let default = match ty {
        Type::Date(DateFormat::Forms(_) | DateFormat::Pattern(_) | DateFormat::Redcap(..)) => {
            Type::Date(DateFormat::Default)
        }
        Type::Time(TimeFormat::Default) | Type::DateTime(TimeFormat::Default) => return None,
        Type::Time(_) => Type::Time(TimeFormat::Default),
        Type::DateTime(_) => Type::DateTime(TimeFormat::Default),
        Type::Integer { .. } => Type::Number {
            syntax: NumberSyntax::default(),
            lexical: None,
        },
        // `typePattern` is the data's lexical form, not a bound's.
        Type::Number {
            syntax,
            lexical: Some(_),
        } => Type::Number {
            syntax: syntax.clone(),
            lexical: None,
        },
        _ => return None,
    };
    default.parse(&scalar).ok().map(Value::into_owned)
}

/// What a value of the type looks like, for messages.
fn expected_value(ty: &Type) -> String {
    match ty {
        Type::Date(DateFormat::Pattern(p)) => {
            format!("a date in the format {} or YYYY-MM-DD", p.source())
        }
        Type::Date(_) => "a date \"YYYY-MM-DD\"".into(),
        Type::DateTime(_) => "a date-time \"YYYY-MM-DDThh:mm:ss\"".into(),
        Type::Time(_) => "a time \"hh:mm:ss\"".into(),
        Type::Integer { .. } | Type::Number { .. } => "a number".into(),
        Type::Year => "a year \"YYYY\"".into(),
        Type::YearMonth => "a month \"YYYY-MM\"".into(),
        Type::Duration => "a duration such as \"P1Y2M\"".into(),
        other => format!("{} value", with_article(other.name())),
    }
}

/// Compiles a protocol pattern, anchored at both ends as Table Schema says.
fn compile_pattern(path: &str, source: &str) -> Result<Pattern> {
    Pattern::new(source).map_err(|e| match e {
        PatternError::Invalid(_) => key_error(path, e.to_string()),
        PatternError::NeedsFullModule => needs_full_module(
            path,
            format!("pattern `{source}` (beyond quantified ASCII classes)"),
        ),
    })
}

/// [`Full`], or the refusal of `feature` in the compact build.
fn full(path: &str, feature: &str) -> Result<Full> {
    Full::get().ok_or_else(|| needs_full_module(path, feature))
}

/// The refusal of something only the full module has (see
/// [`ProtocolError::NeedsFullModule`]).
fn needs_full_module(path: &str, feature: impl Into<String>) -> Box<ProtocolError> {
    Box::new(ProtocolError::NeedsFullModule {
        path: path.to_owned(),
        feature: feature.into(),
    })
}
