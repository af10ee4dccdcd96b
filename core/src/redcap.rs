//! REDCap data dictionaries read as protocols, as
//! `shared/spec/redcap-dictionary.md` says: the dictionary becomes a
//! protocol document (JSON, the same format as any protocol), so REDCap
//! instruments and hand-written protocols are one engine's business and
//! `clinval protocol import` can show exactly what a dictionary means.
//!
//! A field of any type is a field of the protocol, so branching logic may
//! name any of them; `calc`, `file`, `sql` and `descriptive` fields get no
//! checks (their columns are allowed, never expected); a `calc` field's
//! calculation becomes its `calc`, so verdicts carry its value. REDCap's export
//! conventions are protocol keys: columns in any order and case, absent
//! columns read as empty, system columns allowed, repeating instruments,
//! empty rows not records.

use std::collections::HashMap;

use serde_json::{Map, Value as Json, json};

use crate::expr::{Expr, ExprErrorKind, Fields};
use crate::types::MultiSelect;
use crate::types::redcap::{self, Clock, DateOrder};

/// A dictionary that cannot be read as a protocol.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DictionaryError {
    /// Not CSV.
    #[error("line {line}: {message}")]
    Csv {
        /// 1-based line.
        line: u64,
        /// What is wrong.
        message: String,
    },
    /// The header is not a REDCap dictionary's.
    #[error("not a REDCap data dictionary: the header has no {missing} column")]
    Header {
        /// The column it lacks.
        missing: &'static str,
    },
    /// The protocol the dictionary reads as is refused, not for one field.
    #[error("the protocol this dictionary reads as is refused: {0}")]
    Protocol(crate::ProtocolError),
    /// A field cannot be read.
    #[error("line {line}, field `{field}`: {message}")]
    Field {
        /// 1-based line of the field's row.
        line: u64,
        /// The field's name.
        field: String,
        /// What is wrong.
        message: String,
    },
}

/// Something the import left out or kept unevaluated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportNote {
    /// The field concerned.
    pub field: String,
    /// What happened.
    pub message: String,
}

/// A dictionary, as a protocol.
#[derive(Debug, Clone)]
pub struct Import {
    /// The protocol document (JSON).
    pub protocol: String,
    /// What the import noticed.
    pub notes: Vec<ImportNote>,
}

/// The dictionary's columns this reads, by either header style.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Column {
    Name,
    Form,
    Section,
    Type,
    Label,
    Choices,
    Note,
    Validation,
    Min,
    Max,
    Identifier,
    Branching,
    Required,
}

/// `(normalised header, column)`: the download's and the API's names.
const HEADERS: &[(&str, Column)] = &[
    ("variable/fieldname", Column::Name),
    ("field_name", Column::Name),
    ("formname", Column::Form),
    ("form_name", Column::Form),
    ("sectionheader", Column::Section),
    ("section_header", Column::Section),
    ("fieldtype", Column::Type),
    ("field_type", Column::Type),
    ("fieldlabel", Column::Label),
    ("field_label", Column::Label),
    ("choices,calculations,orsliderlabels", Column::Choices),
    ("select_choices_or_calculations", Column::Choices),
    ("fieldnote", Column::Note),
    ("field_note", Column::Note),
    ("textvalidationtypeorshowslidernumber", Column::Validation),
    (
        "text_validation_type_or_show_slider_number",
        Column::Validation,
    ),
    ("textvalidationmin", Column::Min),
    ("text_validation_min", Column::Min),
    ("textvalidationmax", Column::Max),
    ("text_validation_max", Column::Max),
    ("identifier?", Column::Identifier),
    ("identifier", Column::Identifier),
    ("branchinglogic(showfieldonlyif...)", Column::Branching),
    ("branching_logic", Column::Branching),
    ("requiredfield?", Column::Required),
    ("required_field", Column::Required),
];

/// REDCap's system columns of an export (besides `<form>_complete` and
/// `<form>_timestamp`).
const SYSTEM_COLUMNS: &[&str] = &[
    "redcap_event_name",
    "redcap_repeat_instrument",
    "redcap_repeat_instance",
    "redcap_data_access_group",
    "redcap_survey_identifier",
];

fn normalise(header: &str) -> String {
    header
        .chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Whether `bytes` (a file) is a REDCap data dictionary: CSV whose header
/// is a dictionary's.
pub fn is_dictionary(bytes: &[u8]) -> bool {
    let text = decode(&bytes[..bytes.len().min(64 * 1024)]);
    let first = text
        .split_inclusive(['\n', '\r'])
        .next()
        .unwrap_or_default();
    match records(first) {
        Ok(rows) => rows.first().is_some_and(|(_, cells)| {
            is_dictionary_header(&cells.iter().map(String::as_str).collect::<Vec<_>>())
        }),
        Err(_) => false,
    }
}

/// Whether a CSV header row is a REDCap dictionary's (either style).
pub fn is_dictionary_header(cells: &[&str]) -> bool {
    let columns: Vec<Option<Column>> = cells.iter().map(|c| column(c)).collect();
    columns.contains(&Some(Column::Name)) && columns.contains(&Some(Column::Type))
}

fn column(header: &str) -> Option<Column> {
    let key = normalise(header.trim_start_matches('\u{feff}'));
    HEADERS.iter().find(|(h, _)| *h == key).map(|(_, c)| *c)
}

/// The dictionary's text: UTF-8 (a BOM dropped), else Windows-1252.
pub fn decode(bytes: &[u8]) -> String {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_owned(),
        Err(_) => bytes.iter().map(|&b| windows_1252(b)).collect(),
    }
}

/// One Windows-1252 byte: Latin-1 but for 0x80–0x9F. By hand: 32 code
/// points, where a decoding crate would bring every encoding's tables.
fn windows_1252(byte: u8) -> char {
    const HIGH: [char; 32] = [
        '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8d}', 'Ž',
        '\u{8f}', '\u{90}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9d}',
        'ž', 'Ÿ',
    ];
    match byte {
        0x80..=0x9F => HIGH[usize::from(byte - 0x80)],
        _ => char::from(byte),
    }
}

/// The CSV records of `text` with their 1-based starting lines (RFC 4180;
/// LF, CRLF or CR).
fn records(text: &str) -> Result<Vec<(u64, Vec<String>)>, DictionaryError> {
    let mut reader = csv_core::Reader::new();
    let mut input = text.as_bytes();
    let mut out = vec![0u8; text.len().max(1)];
    let mut ends = vec![0usize; 256];
    let (mut out_len, mut ends_len) = (0, 0);
    let mut rows = Vec::new();
    let mut line = 1;
    let mut start_line = 1;
    loop {
        let (result, read, written, ended) =
            reader.read_record(input, &mut out[out_len..], &mut ends[ends_len..]);
        line += input[..read].iter().filter(|&&b| b == b'\n').count() as u64;
        input = &input[read..];
        out_len += written;
        ends_len += ended;
        match result {
            csv_core::ReadRecordResult::OutputEndsFull => ends.resize(ends.len() * 2, 0),
            csv_core::ReadRecordResult::OutputFull => out.resize(out.len() * 2, 0),
            csv_core::ReadRecordResult::Record => {
                let data =
                    std::str::from_utf8(&out[..out_len]).map_err(|_| DictionaryError::Csv {
                        line: start_line,
                        message: "not text".into(),
                    })?;
                let mut cells = Vec::with_capacity(ends_len);
                let mut from = 0;
                for &end in &ends[..ends_len] {
                    cells.push(data.get(from..end).unwrap_or_default().to_owned());
                    from = end;
                }
                rows.push((start_line, cells));
                out_len = 0;
                ends_len = 0;
                start_line = line;
            }
            csv_core::ReadRecordResult::InputEmpty => {}
            csv_core::ReadRecordResult::End => return Ok(rows),
        }
    }
}

/// One row of the dictionary, its cells by column.
struct Row {
    line: u64,
    cells: HashMap<Column, String>,
}

impl Row {
    fn get(&self, column: Column) -> &str {
        self.cells.get(&column).map_or("", String::as_str)
    }

    fn trimmed(&self, column: Column) -> &str {
        self.get(column).trim()
    }
}

/// Reads a dictionary (its bytes) as a protocol named `name`.
pub fn import(bytes: &[u8], name: &str) -> Result<Import, DictionaryError> {
    let text = decode(bytes);
    let mut rows = records(&text)?.into_iter();
    let Some((_, header)) = rows.next() else {
        return Err(DictionaryError::Header {
            missing: "Variable / Field Name",
        });
    };
    let columns: Vec<Option<Column>> = header.iter().map(|h| column(h)).collect();
    for (wanted, label) in [
        (Column::Name, "Variable / Field Name"),
        (Column::Type, "Field Type"),
    ] {
        if !columns.contains(&Some(wanted)) {
            return Err(DictionaryError::Header { missing: label });
        }
    }
    let rows: Vec<Row> = rows
        .map(|(line, cells)| Row {
            line,
            cells: columns
                .iter()
                .zip(cells)
                .filter_map(|(c, v)| c.map(|c| (c, v)))
                .collect(),
        })
        .filter(|row| !row.trimmed(Column::Name).is_empty())
        .collect();

    // Names and checkbox choices first: branching logic may name any field.
    // By lowercase name: REDCap's names are lowercase, and the protocol
    // matches columns without regard to case, so `Arm` and `arm` are one.
    let mut seen: HashMap<String, (u64, &str)> = HashMap::new();
    let mut choices: Vec<Option<Vec<(String, String)>>> = Vec::with_capacity(rows.len());
    for row in &rows {
        let name = row.trimmed(Column::Name);
        if let Some((first, as_written)) = seen.insert(name.to_lowercase(), (row.line, name)) {
            return Err(field_error(
                row,
                format!("defined twice (first on line {first}, as `{as_written}`)"),
            ));
        }
        let kind = row.trimmed(Column::Type).to_ascii_lowercase();
        choices.push(match kind.as_str() {
            "radio" | "dropdown" | "checkbox" => {
                Some(parse_choices(row.get(Column::Choices)).map_err(|m| field_error(row, m))?)
            }
            _ => None,
        });
    }
    let names = DictionaryNames {
        names: rows.iter().map(|r| r.trimmed(Column::Name)).collect(),
        checkboxes: rows
            .iter()
            .zip(&choices)
            .map(
                |(row, c)| match (row.trimmed(Column::Type).to_ascii_lowercase().as_str(), c) {
                    ("checkbox", Some(c)) => c.iter().map(|(code, _)| code.clone()).collect(),
                    _ => Vec::new(),
                },
            )
            .collect(),
    };

    let mut notes = Vec::new();
    let mut forms: Vec<String> = Vec::new();
    let mut fields = Vec::with_capacity(rows.len());
    for (index, (row, choices)) in rows.iter().zip(choices).enumerate() {
        let form = row.trimmed(Column::Form).to_owned();
        if !form.is_empty() && !forms.contains(&form) {
            forms.push(form.clone());
        }
        fields.push(field(row, index, choices, &names, &mut notes));
    }

    let mut system: Vec<Json> = SYSTEM_COLUMNS.iter().map(|c| json!(c)).collect();
    for form in &forms {
        system.push(json!(format!("{form}_complete")));
        system.push(json!(format!("{form}_timestamp")));
    }
    let protocol = json!({
        "name": name,
        "title": format!("{name} (a REDCap data dictionary)"),
        "fieldsMatch": "partial",
        "absentColumns": "empty",
        "systemColumns": system,
        "repeat": {"column": "redcap_repeat_instrument"},
        "cleaning": {"trim": true, "headers": "caseless", "blankRows": "ignore"},
        "fields": fields,
    });
    let protocol = serde_json::to_string_pretty(&protocol).unwrap_or_default();
    // What the protocol loader refuses (a calculation that reads itself, a
    // bound of the wrong kind) is refused here, on the field's own line:
    // an import is a protocol that loads. The fields are the rows, in order.
    match crate::Protocol::from_json(&protocol) {
        Err(crate::ProtocolError::Key { path, message }) => {
            let row = path
                .strip_prefix("fields[")
                .and_then(|rest| rest.split(']').next())
                .and_then(|index| index.parse::<usize>().ok())
                .and_then(|index| rows.get(index));
            return Err(match row {
                Some(row) => field_error(row, message),
                None => DictionaryError::Protocol(crate::ProtocolError::Key { path, message }),
            });
        }
        Err(error @ crate::ProtocolError::Syntax { .. }) => {
            return Err(DictionaryError::Protocol(error));
        }
        // A build without logic says so when the protocol is loaded.
        Ok(_) | Err(_) => {}
    }
    Ok(Import { protocol, notes })
}

fn field_error(row: &Row, message: impl Into<String>) -> DictionaryError {
    DictionaryError::Field {
        line: row.line,
        field: row.trimmed(Column::Name).to_owned(),
        message: message.into(),
    }
}

/// `code, label | code, label` (or one per line when there is no `|`).
fn parse_choices(text: &str) -> Result<Vec<(String, String)>, String> {
    let items: Vec<&str> = if text.contains('|') {
        text.split('|').collect()
    } else {
        text.lines().collect()
    };
    let mut out: Vec<(String, String)> = Vec::new();
    for item in items.iter().map(|i| i.trim()).filter(|i| !i.is_empty()) {
        let (code, label) = match item.split_once(',') {
            Some((code, label)) => (code.trim(), strip_markup(label)),
            None => (item, item.to_owned()),
        };
        if code.is_empty() {
            return Err(format!("the choice `{item}` has no code before its comma"));
        }
        if out.iter().any(|(c, _)| c == code) {
            return Err(format!("the choice code `{code}` is listed twice"));
        }
        out.push((code.to_owned(), label));
    }
    Ok(out)
}

/// Text for people: HTML tags dropped, common entities read, white space
/// collapsed.
fn strip_markup(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_tag = false;
    for c in text.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    let out = out
        .replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The dictionary's names, for compiling branching logic.
struct DictionaryNames<'d> {
    names: Vec<&'d str>,
    checkboxes: Vec<Vec<String>>,
}

impl Fields for DictionaryNames<'_> {
    fn field(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n.eq_ignore_ascii_case(name))
    }

    fn has_choice(&self, field: usize, code: &str) -> bool {
        self.checkboxes[field]
            .iter()
            .any(|c| c.eq_ignore_ascii_case(code))
    }
}

/// One dictionary row as a protocol field.
fn field(
    row: &Row,
    index: usize,
    choices: Option<Vec<(String, String)>>,
    names: &DictionaryNames<'_>,
    notes: &mut Vec<ImportNote>,
) -> Json {
    let name = row.trimmed(Column::Name);
    let kind = row.trimmed(Column::Type).to_ascii_lowercase();
    let mut f = Map::new();
    f.insert("name".into(), json!(name));
    let label = strip_markup(row.get(Column::Label));
    if !label.is_empty() {
        f.insert("title".into(), json!(label));
    }
    let note = strip_markup(row.get(Column::Note));
    if !note.is_empty() {
        f.insert("description".into(), json!(note));
    }
    let form = row.trimmed(Column::Form);
    if !form.is_empty() {
        f.insert("form".into(), json!(form));
    }
    let section = strip_markup(row.get(Column::Section));
    if !section.is_empty() {
        f.insert("section".into(), json!(section));
    }
    if row.trimmed(Column::Identifier).eq_ignore_ascii_case("y") {
        f.insert("identifier".into(), json!(true));
    }
    let mut constraints = Map::new();
    // The record id is always required; its logic is ignored.
    if index == 0 || row.trimmed(Column::Required).eq_ignore_ascii_case("y") {
        constraints.insert("required".into(), json!(true));
    }
    let mut codes = Map::new();
    let choice_list = |choices: &[(String, String)]| -> Json {
        choices
            .iter()
            .map(|(code, label)| json!({"value": code, "label": label}))
            .collect()
    };
    match (kind.as_str(), choices) {
        ("text", _) => text_field(row, &mut f, &mut constraints, &mut codes, notes),
        ("radio" | "dropdown", Some(choices)) if !choices.is_empty() => {
            f.insert("type".into(), json!("string"));
            constraints.insert(
                "enum".into(),
                choices.iter().map(|(code, _)| json!(code)).collect(),
            );
            f.insert("categories".into(), choice_list(&choices));
        }
        ("checkbox", Some(choices)) if !choices.is_empty() => {
            f.insert("type".into(), json!("multiselect"));
            f.insert("choiceColumns".into(), json!(true));
            f.insert("categories".into(), choice_list(&choices));
            for (code, _) in &choices {
                debug_assert!(!MultiSelect::column(name, code).is_empty());
            }
        }
        ("yesno" | "truefalse", _) => {
            let (yes, no) = if kind == "yesno" {
                ("Yes", "No")
            } else {
                ("True", "False")
            };
            f.insert("type".into(), json!("string"));
            constraints.insert("enum".into(), json!(["1", "0"]));
            f.insert(
                "categories".into(),
                json!([{"value": "1", "label": yes}, {"value": "0", "label": no}]),
            );
        }
        ("slider", _) => {
            f.insert("type".into(), json!("integer"));
            f.insert("typePattern".into(), json!("-?[0-9]+"));
            for (column, key, default) in [
                (Column::Min, "minimum", 0.0),
                (Column::Max, "maximum", 100.0),
            ] {
                let bound = number_bound(row.trimmed(column)).unwrap_or(default);
                constraints.insert(key.into(), json!(bound));
            }
        }
        ("calc", _) => {
            // Not checked (the column is allowed, never expected), but
            // computed, so a form can show it and logic can read it.
            f.insert("type".into(), json!("any"));
            constraints.clear();
            let calculation = row.trimmed(Column::Choices);
            match Expr::compile(calculation, names) {
                Ok(_) => {
                    f.insert("calc".into(), json!(calculation));
                }
                Err(error) => notes.push(ImportNote {
                    field: name.to_owned(),
                    message: format!(
                        "calculation {} ({error}): not computed",
                        why_not(error.kind)
                    ),
                }),
            }
        }
        ("file" | "sql" | "descriptive", _) => {
            // Not checked: the column is allowed, never expected.
            f.insert("type".into(), json!("any"));
            constraints.clear();
        }
        _ => {
            f.insert("type".into(), json!("string"));
        }
    }
    let logic = row.trimmed(Column::Branching);
    if index > 0 && !logic.is_empty() {
        match Expr::condition(logic, names) {
            Ok(_) => {
                f.insert("showIf".into(), json!(logic));
            }
            Err(error) => {
                notes.push(ImportNote {
                    field: name.to_owned(),
                    message: format!(
                        "branching logic {} ({error}): not branch-checked",
                        why_not(error.kind)
                    ),
                });
                f.insert("unsupportedLogic".into(), json!(logic));
            }
        }
    }
    if !constraints.is_empty() {
        f.insert("constraints".into(), Json::Object(constraints));
    }
    if !codes.is_empty() {
        f.insert("codes".into(), Json::Object(codes));
    }
    Json::Object(f)
}

/// Why an expression of the dictionary is not evaluated, for a note.
fn why_not(kind: ExprErrorKind) -> &'static str {
    match kind {
        ExprErrorKind::Unsupported => "uses REDCap syntax clinval does not evaluate",
        ExprErrorKind::UnknownField => "names a field the dictionary lacks",
        _ => "does not parse",
    }
}

/// Reads a `Text Validation Min`/`Max` as the protocol's bound (JSON).
type BoundReader = Box<dyn Fn(&str) -> Option<Json>>;

/// A `text` field by its validation type.
fn text_field(
    row: &Row,
    f: &mut Map<String, Json>,
    constraints: &mut Map<String, Json>,
    codes: &mut Map<String, Json>,
    notes: &mut Vec<ImportNote>,
) {
    let validation = row.trimmed(Column::Validation).to_ascii_lowercase();
    let validation = match validation.as_str() {
        "int" => "integer",
        "float" => "number",
        "date" => "date_ymd",
        "datetime" => "datetime_ymd",
        "datetime_seconds" => "datetime_seconds_ymd",
        other => other,
    };
    let mut set = |ty: &str, format: Option<&str>| {
        f.insert("type".into(), json!(ty));
        if let Some(format) = format {
            f.insert("format".into(), json!(format));
        }
    };
    // How min/max are read: as numbers, or by a value parser (to ISO).
    let bound: Option<BoundReader> = match validation {
        "integer" => {
            set("integer", None);
            Some(Box::new(|t| number_bound(t).map(|n| json!(n))))
        }
        "number" => {
            set("number", Some("redcap"));
            Some(Box::new(|t| number_bound(t).map(|n| json!(n))))
        }
        "number_1dp" | "number_2dp" | "number_3dp" | "number_4dp" => {
            let places = &validation[7..8];
            set("number", None);
            f.insert(
                "typePattern".into(),
                json!(format!("-?[0-9]+\\.[0-9]{{{places}}}")),
            );
            Some(Box::new(|t| number_bound(t).map(|n| json!(n))))
        }
        "date_ymd" | "date_mdy" | "date_dmy" => {
            let order = date_order(&validation[5..]);
            set("date", Some(&format!("redcap-{}", &validation[5..])));
            codes.insert("type".into(), json!("type"));
            Some(Box::new(move |t| {
                redcap::date(t, order).map(|d| json!(d.format("%Y-%m-%d").to_string()))
            }))
        }
        v if v.starts_with("datetime_") => {
            let seconds = v.starts_with("datetime_seconds_");
            let order_name = v.rsplit('_').next().unwrap_or("ymd");
            if !["ymd", "mdy", "dmy"].contains(&order_name) {
                set("string", None);
                None
            } else {
                let order = date_order(order_name);
                let clock = if seconds { "hms" } else { "hm" };
                set("datetime", Some(&format!("redcap-{order_name}-{clock}")));
                Some(Box::new(move |t| {
                    redcap::date_time(t, order, seconds)
                        .or_else(|| {
                            redcap::date(t, order).map(|d| d.and_time(chrono::NaiveTime::MIN))
                        })
                        .map(|at| json!(at.format("%Y-%m-%dT%H:%M:%S").to_string()))
                }))
            }
        }
        "time" | "time_hh_mm_ss" | "time_mm_ss" => {
            let (format, clock) = match validation {
                "time" => ("redcap-hm", Clock::HoursMinutes),
                "time_hh_mm_ss" => ("redcap-hms", Clock::HoursMinutesSeconds),
                _ => ("redcap-ms", Clock::MinutesSeconds),
            };
            set("time", Some(format));
            Some(Box::new(move |t| {
                redcap::time(t, clock).map(|t| json!(t.format("%H:%M:%S").to_string()))
            }))
        }
        "email" => {
            set("string", Some("redcap-email"));
            None
        }
        "phone" => {
            set("string", Some("redcap-phone"));
            None
        }
        "zipcode" => {
            set("string", Some("redcap-zipcode"));
            None
        }
        "alpha_only" => {
            set("string", None);
            constraints.insert("pattern".into(), json!("[A-Za-z]+"));
            codes.insert("pattern".into(), json!("type"));
            None
        }
        // ssn, mrn_*, postalcode_*, phone_australia, signature, ...: the
        // contract does not fix their rules yet; any text.
        _ => {
            set("string", None);
            None
        }
    };
    let Some(bound) = bound else { return };
    let temporal = f
        .get("type")
        .is_some_and(|t| t == "date" || t == "datetime");
    for (column, key) in [(Column::Min, "minimum"), (Column::Max, "maximum")] {
        let text = row.trimmed(column);
        if text.is_empty() {
            continue;
        }
        let value = if temporal
            && (text.eq_ignore_ascii_case("today") || text.eq_ignore_ascii_case("now"))
        {
            Some(json!("$asOf"))
        } else {
            bound(text)
        };
        match value {
            Some(value) => {
                constraints.insert(key.into(), value);
            }
            None => notes.push(ImportNote {
                field: row.trimmed(Column::Name).to_owned(),
                message: format!("the bound `{text}` does not parse: ignored"),
            }),
        }
    }
}

fn date_order(name: &str) -> DateOrder {
    match name {
        "mdy" => DateOrder::Mdy,
        "dmy" => DateOrder::Dmy,
        _ => DateOrder::Ymd,
    }
}

/// A numeric bound, by REDCap's number rule.
fn number_bound(text: &str) -> Option<f64> {
    redcap::is_number(text)
        .then(|| text.parse::<f64>().ok())
        .flatten()
}

// Imported dictionaries use repeating forms: the full build's.
#[cfg(all(test, feature = "full"))]
mod tests;
