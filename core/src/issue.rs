//! Issues found in records, and their messages in each supported language.
//!
//! An issue carries a stable `code` (the contract, set by the protocol) and
//! a [`Detail`] from which a message for people is rendered on demand, in
//! English or Simplified Chinese. Rendering is lazy: most records have no
//! issue, and the ones that do may never be shown.

use std::str::FromStr;

use crate::protocol::{Code, CompareOp, Protocol};
use crate::types::Type;

/// The codes of issues no protocol sets: a table's shape and header.
pub mod codes {
    /// A record ends before a field's column.
    pub const MISSING_CELL: &str = "missing_cell";
    /// A record has more cells than the header.
    pub const EXTRA_CELL: &str = "extra_cell";
    /// A row with no value.
    pub const BLANK_ROW: &str = "blank_row";
    /// The header lacks a field.
    pub const MISSING_LABEL: &str = "missing_label";
    /// The header has a column it may not have.
    pub const EXTRA_LABEL: &str = "extra_label";
    /// A column at a field's position has another name.
    pub const INCORRECT_LABEL: &str = "incorrect_label";
    /// A header cell has no name.
    pub const BLANK_LABEL: &str = "blank_label";
    /// Two columns name one field.
    pub const DUPLICATE_LABEL: &str = "duplicate_label";
    /// No column names a field.
    pub const UNMATCHED_HEADER: &str = "unmatched_header";
    /// A value holds bytes not valid in the input's encoding (or a U+FFFD
    /// an earlier conversion left).
    pub const ENCODING: &str = "encoding";
    /// A spreadsheet cell holds an error value (`#N/A`, `#DIV/0!`, ...).
    pub const CELL_ERROR: &str = "cell_error";
}

/// A problem with one field of a record, or with the record as a whole.
#[derive(Debug, Clone, PartialEq)]
pub struct Issue {
    /// Index of the field in the protocol; `None` for a row issue.
    pub field: Option<usize>,
    /// Stable issue code (e.g. `out_of_range`).
    pub code: Code,
    /// What exactly is wrong, for the message.
    pub detail: Detail,
    /// The cleaned value concerned, if any.
    pub value: Option<String>,
}

/// A bound as shown in messages.
#[derive(Debug, Clone, PartialEq)]
pub struct BoundText {
    /// The bound in canonical form.
    pub text: String,
    /// The bound itself is outside the range.
    pub exclusive: bool,
    /// The bound is the run's as-of date.
    pub as_of: bool,
}

/// What exactly is wrong; each variant renders to a message.
#[derive(Debug, Clone, PartialEq)]
pub enum Detail {
    /// The value is missing.
    Required,
    /// The value is not of the field's type (in its format).
    Type,
    /// The value does not match the field's pattern.
    Pattern {
        /// The pattern as the protocol writes it.
        pattern: String,
    },
    /// Day and month cannot be told apart.
    AmbiguousDate,
    /// Fewer characters than `minLength`.
    TooShort {
        /// The limit.
        min: usize,
        /// The value's length in characters.
        length: usize,
    },
    /// More characters than `maxLength`.
    TooLong {
        /// The limit.
        max: usize,
        /// The value's length in characters.
        length: usize,
    },
    /// A value outside its bounds.
    OutOfRange {
        /// Lower bound, if any.
        low: Option<BoundText>,
        /// Upper bound, if any.
        high: Option<BoundText>,
    },
    /// A date before its lower bound.
    TooEarly(BoundText),
    /// A date after its upper bound.
    TooLate(BoundText),
    /// Not one of the allowed values.
    NotAllowed,
    /// A blood pressure outside physiological limits.
    Implausible {
        /// Systolic pressure.
        systolic: u16,
        /// Diastolic pressure.
        diastolic: u16,
        /// Plausible systolic range.
        systolic_range: (u16, u16),
        /// Plausible diastolic range.
        diastolic_range: (u16, u16),
    },
    /// An earlier record has the same value(s).
    Duplicate {
        /// Row of the earlier record.
        first_row: u64,
        /// Fields of the key.
        fields: Vec<usize>,
    },
    /// A cross-field rule does not hold.
    Compare {
        /// The operator that must hold.
        op: CompareOp,
        /// The other field.
        other: usize,
        /// The other field's value.
        other_value: String,
    },
    /// A CSV record with a different number of cells than the header.
    CellCount {
        /// Cells in the header.
        expected: usize,
        /// Cells in the record.
        found: usize,
    },
    /// A JSON record that is not an object.
    NotObject {
        /// What it is instead.
        found: &'static str,
    },
    /// Bytes of the value (or of the record's other cells, for a row
    /// issue) are not valid in the encoding the input is read with.
    Encoding {
        /// The encoding.
        encoding: crate::TextEncoding,
        /// Byte offset of the first bad bytes in the input; `None` for a
        /// U+FFFD the input itself holds.
        offset: Option<u64>,
    },
    /// A spreadsheet cell holds an error value: its formula failed.
    #[cfg(feature = "workbook")]
    CellError {
        /// The error as the spreadsheet writes it: `#N/A`, `#DIV/0!`,
        /// `#VALUE!`, ... (LibreOffice also `Err:502`, ...).
        error: String,
    },
    /// A JSON record that does not parse.
    BadJson {
        /// The parser's message.
        message: String,
    },
    /// Two keys of one JSON object name the same field.
    RepeatedField {
        /// The field they both name.
        field: usize,
    },
    /// A row with no value at all (`blank_row`).
    BlankRow,
    /// A record with more cells than the header (`extra_cell`).
    ExtraCells {
        /// Cells in the header.
        expected: usize,
        /// Cells in the record.
        found: usize,
    },
    /// The record ends before this field's column (`missing_cell`).
    MissingCell,
    /// The values of a foreign key are not a key of the referenced table.
    ForeignKey {
        /// The referenced resource (`None`: this table).
        resource: Option<String>,
        /// The referenced fields.
        reference: Vec<String>,
    },
    /// The header has no column for the field (`missing_label`).
    MissingLabel,
    /// A column the protocol does not allow here (`extra_label`).
    ExtraLabel {
        /// Its header name.
        name: String,
    },
    /// The column at the field's position has another name (`incorrect_label`).
    IncorrectLabel {
        /// The name the header has there.
        found: String,
    },
    /// A header cell with no name (`blank_label`).
    BlankLabel,
    /// A second column naming a field (`duplicate_label`).
    DuplicateLabel {
        /// The name the header has there.
        name: String,
        /// The first column naming it (1-based).
        first_column: usize,
    },
    /// No column of the header names a field (`unmatched_header`).
    UnmatchedHeader,
    /// A value in a field its `showIf` hides (`hidden_has_value`).
    Hidden,
    /// A rule's `assert` does not hold.
    Assert {
        /// The rule's description, if it has one.
        description: Option<String>,
    },
}

/// An issue of the whole input, not of one record: a header problem.
#[derive(Debug, Clone, PartialEq)]
pub struct TableIssue {
    /// Line of the header.
    pub line: u64,
    /// The column (1-based), when one is concerned.
    pub column: Option<usize>,
    /// In a workbook: the cell (`patients!C1`), or the header row
    /// (`patients!1:1`).
    pub cell: Option<String>,
    /// The issue (its field, when a field is concerned).
    pub issue: Issue,
}

/// Language of messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    /// English.
    #[default]
    En,
    /// Simplified Chinese.
    ZhCn,
}

impl Lang {
    /// The language tag (`en`, `zh-CN`).
    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::ZhCn => "zh-CN",
        }
    }
}

/// A language tag clinval has no messages for.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[error("unknown language `{0}` (supported: en, zh-CN)")]
pub struct UnknownLang(pub String);

impl FromStr for Lang {
    type Err = UnknownLang;
    fn from_str(tag: &str) -> Result<Lang, UnknownLang> {
        match tag.to_ascii_lowercase().as_str() {
            "en" | "en-us" | "en-gb" => Ok(Lang::En),
            "zh" | "zh-cn" | "zh-hans" | "zh-hans-cn" => Ok(Lang::ZhCn),
            _ => Err(UnknownLang(tag.to_owned())),
        }
    }
}

impl Issue {
    /// The field's output key, or `None` for a row issue.
    pub fn field_name<'p>(&self, protocol: &'p Protocol) -> Option<&'p str> {
        self.field.map(|f| protocol.fields[f].name.as_str())
    }

    /// What a length bound of the issue's field counts: choices of a
    /// multi-select, items of a list or array, else characters.
    fn length_unit(&self, protocol: &Protocol, zh: bool) -> &'static str {
        let ty = self.field.map(|f| &protocol.fields[f].ty);
        match (ty, zh) {
            (Some(Type::MultiSelect(_)), false) => "choices",
            (Some(Type::MultiSelect(_)), true) => "个选项",
            (Some(Type::List { .. } | Type::Array(_)), false) => "items",
            (Some(Type::List { .. } | Type::Array(_)), true) => "项",
            (_, false) => "characters",
            (_, true) => "个字符",
        }
    }

    /// The message for people, in `lang`.
    pub fn message(&self, protocol: &Protocol, lang: Lang) -> String {
        let name = |f: usize| protocol.fields[f].name.as_str();
        let field = self.field.map_or("", name);
        let zh = lang == Lang::ZhCn;
        // An identifier's value is withheld (see `Validator`): the message
        // says so instead of showing it.
        let value = match (&self.value, zh) {
            (Some(value), _) => value.as_str(),
            (None, false) => "(value withheld)",
            (None, true) => "（值已隐去）",
        };
        let quoted = Quoted(self.value.as_deref(), value);
        match &self.detail {
            Detail::Required if zh => format!("{field} 缺失（必填）"),
            Detail::Required => format!("{field} is required but missing"),
            Detail::Type => {
                let ty = self.field.map(|f| &protocol.fields[f].ty);
                let wanted = ty.map_or_else(String::new, |ty| describe_type(ty, zh));
                if zh {
                    format!("{field} 的值 {quoted} 不是{wanted}")
                } else {
                    format!("{field} {quoted} is not {wanted}")
                }
            }
            Detail::Pattern { pattern } if zh => {
                format!("{field} 的值 {quoted} 不符合格式 {pattern}")
            }
            Detail::Pattern { pattern } => {
                format!("{field} {quoted} does not match the pattern {pattern}")
            }
            Detail::AmbiguousDate if zh => {
                format!("{field} {quoted} 无法区分日和月，请写成 YYYY-MM-DD")
            }
            Detail::AmbiguousDate => format!(
                "{field} {quoted} is ambiguous: day and month cannot be told apart (write YYYY-MM-DD)"
            ),
            Detail::TooShort { min, length } if zh => {
                let unit = self.length_unit(protocol, zh);
                format!("{field} 只有 {length} {unit}，至少需要 {min} 个")
            }
            Detail::TooShort { min, length } => {
                let unit = self.length_unit(protocol, zh);
                format!("{field} has {length} {unit}, fewer than the minimum {min}")
            }
            Detail::TooLong { max, length } if zh => {
                let unit = self.length_unit(protocol, zh);
                format!("{field} 有 {length} {unit}，超过上限 {max}")
            }
            Detail::TooLong { max, length } => {
                let unit = self.length_unit(protocol, zh);
                format!("{field} has {length} {unit}, more than the maximum {max}")
            }
            Detail::OutOfRange { low, high } => out_of_range(field, value, low, high, zh),
            Detail::TooEarly(bound) => date_bound(field, value, bound, true, zh),
            Detail::TooLate(bound) => date_bound(field, value, bound, false, zh),
            Detail::NotAllowed => {
                let allowed = self
                    .field
                    .and_then(|f| protocol.fields[f].allowed_text())
                    .map(|list| list.join(", "))
                    .unwrap_or_default();
                if zh {
                    format!("{field} 的值 {quoted} 不在允许的取值中（{allowed}）")
                } else {
                    format!("{field} {quoted} is not one of the allowed values ({allowed})")
                }
            }
            Detail::Implausible {
                systolic,
                diastolic,
                systolic_range: (s_lo, s_hi),
                diastolic_range: (d_lo, d_hi),
            } => {
                if zh {
                    format!(
                        "{field} {systolic}/{diastolic} 不合理：收缩压应在 {s_lo}..={s_hi}，舒张压应在 {d_lo}..={d_hi}，且收缩压高于舒张压"
                    )
                } else {
                    format!(
                        "{field} {systolic}/{diastolic} is implausible: systolic must be {s_lo}..={s_hi}, diastolic {d_lo}..={d_hi}, and systolic above diastolic"
                    )
                }
            }
            Detail::Duplicate { first_row, fields } => {
                let names: Vec<&str> = fields.iter().map(|&f| name(f)).collect();
                if zh {
                    format!(
                        "与第 {first_row} 行的 {} 相同（重复记录）",
                        names.join("、")
                    )
                } else {
                    format!("same {} as row {first_row}", names.join(" and "))
                }
            }
            Detail::Compare {
                op,
                other,
                other_value,
            } => {
                let other = name(*other);
                let sym = op.symbol();
                if zh {
                    format!("{field} {value} 应 {sym} {other} {other_value}")
                } else {
                    format!("{field} {value} must be {sym} {other} {other_value}")
                }
            }
            Detail::CellCount { expected, found } if zh => {
                format!("该行有 {found} 个单元格，表头有 {expected} 个")
            }
            Detail::CellCount { expected, found } => {
                format!("record has {found} cells but the header has {expected}")
            }
            Detail::NotObject { found } if zh => format!("记录应为 JSON 对象，实际是 {found}"),
            Detail::NotObject { found } => {
                format!("record must be a JSON object, found {found}")
            }
            Detail::Encoding { encoding, offset } => {
                let what = if field.is_empty() {
                    if zh {
                        "该行另一列"
                    } else {
                        "a cell of the record"
                    }
                } else {
                    field
                };
                match (offset, zh) {
                    (Some(at), false) => format!(
                        "{what}: the bytes at byte {at} are not valid {encoding}, the encoding this input is read with, so the value cannot be read (re-export the file as UTF-8)"
                    ),
                    (Some(at), true) => format!(
                        "{what}：第 {at} 字节处的字节不是有效的 {encoding}（本文件按此编码读取），无法读取该值（请以 UTF-8 重新导出文件）"
                    ),
                    (None, false) => format!(
                        "{what} holds U+FFFD, the mark of a character lost in an earlier conversion of the file"
                    ),
                    (None, true) => format!("{what} 含有 U+FFFD：文件在先前的转换中丢失了字符"),
                }
            }
            Detail::BadJson { message } if zh => format!("记录不是有效的 JSON：{message}"),
            Detail::BadJson { message } => format!("record is not valid JSON: {message}"),
            Detail::RepeatedField { field } if zh => {
                format!("对象中有多个键都表示字段 {}", name(*field))
            }
            Detail::RepeatedField { field } => {
                format!("several keys of the object name field {}", name(*field))
            }
            Detail::Hidden if zh => format!("{field} 按分支逻辑应隐藏，却有值"),
            Detail::Hidden => format!("{field} has a value but its branching logic hides it"),
            Detail::Assert { description } => match (description, zh) {
                (Some(d), _) => d.clone(),
                (None, true) => format!("记录不满足协议的规则 {}", self.code),
                (None, false) => format!("the record breaks the protocol's rule {}", self.code),
            },
            Detail::BlankRow if zh => "该行是空的（没有任何值）".into(),
            Detail::BlankRow => "the row is blank: it has no value at all".into(),
            Detail::ExtraCells { expected, found } if zh => {
                format!("该行有 {found} 个单元格，表头只有 {expected} 个")
            }
            Detail::ExtraCells { expected, found } => {
                format!("record has {found} cells, more than the {expected} of the header")
            }
            #[cfg(feature = "workbook")]
            Detail::CellError { error } => {
                if zh {
                    format!("{field} 的单元格是错误值 {error}（其公式未能算出结果）")
                } else {
                    format!("{field} holds the spreadsheet error {error}: its formula has no value")
                }
            }
            Detail::MissingCell if zh => format!("该行在 {field} 所在的列之前就结束了"),
            Detail::MissingCell => format!("record ends before the column of {field}"),
            Detail::ForeignKey {
                resource,
                reference,
            } => {
                let table = resource
                    .as_deref()
                    .unwrap_or(if zh { "本表" } else { "this table" });
                let names = reference.join(", ");
                if zh {
                    format!("值 {quoted} 在 {table} 的 {names} 中不存在")
                } else {
                    format!("{quoted} is not a value of {names} in {table}")
                }
            }
            Detail::MissingLabel if zh => format!("表头中没有字段 {field} 的列"),
            Detail::MissingLabel => format!("the header has no column for field {field}"),
            Detail::ExtraLabel { name } if zh => format!("列 “{name}” 不是协议中的字段"),
            Detail::ExtraLabel { name } => {
                format!("column “{name}” is not a field of the protocol")
            }
            Detail::IncorrectLabel { found } if zh => {
                format!("此列应为字段 {field}，表头写的是 “{found}”")
            }
            Detail::IncorrectLabel { found } => {
                format!("the column of field {field} is named “{found}” in the header")
            }
            Detail::BlankLabel if zh => "表头中有一列没有名称".into(),
            Detail::BlankLabel => "a column of the header has no name".into(),
            Detail::DuplicateLabel { name, first_column } if zh => {
                format!("列 “{name}” 与第 {first_column} 列表示同一字段")
            }
            Detail::DuplicateLabel { name, first_column } => {
                format!("column “{name}” names the same field as column {first_column}")
            }
            Detail::UnmatchedHeader if zh => "表头中没有任何一列是协议中的字段".into(),
            Detail::UnmatchedHeader => "no column of the header is a field of the protocol".into(),
        }
    }
}

fn out_of_range(
    field: &str,
    value: &str,
    low: &Option<BoundText>,
    high: &Option<BoundText>,
    zh: bool,
) -> String {
    if let (Some(lo), Some(hi)) = (low, high)
        && !lo.exclusive
        && !hi.exclusive
    {
        let (lo, hi) = (&lo.text, &hi.text);
        return if zh {
            format!("{field} {value} 超出范围 {lo}..={hi}")
        } else {
            format!("{field} {value} is outside {lo}..={hi}")
        };
    }
    let mut conditions = Vec::new();
    if let Some(lo) = low {
        conditions.push(format!(
            "{} {}",
            if lo.exclusive { ">" } else { "≥" },
            lo.text
        ));
    }
    if let Some(hi) = high {
        conditions.push(format!(
            "{} {}",
            if hi.exclusive { "<" } else { "≤" },
            hi.text
        ));
    }
    if zh {
        format!("{field} {value} 超出范围：应 {}", conditions.join(" 且 "))
    } else {
        format!(
            "{field} {value} is out of range: must be {}",
            conditions.join(" and ")
        )
    }
}

/// "is before 1900-01-01", "is after the as-of date 2025-06-30", and the
/// exclusive forms "is not after" / "is not before".
fn date_bound(field: &str, value: &str, bound: &BoundText, early: bool, zh: bool) -> String {
    let text = &bound.text;
    if zh {
        let what = if bound.as_of {
            format!("截止日期 {text}")
        } else {
            text.clone()
        };
        let relation = match (early, bound.exclusive) {
            (true, false) => "早于",
            (true, true) => "不晚于",
            (false, false) => "晚于",
            (false, true) => "不早于",
        };
        return format!("{field} {value} {relation} {what}");
    }
    let what = if bound.as_of {
        format!("the as-of date {text}")
    } else {
        text.clone()
    };
    let relation = match (early, bound.exclusive) {
        (true, false) => "is before",
        (true, true) => "is not after",
        (false, false) => "is after",
        (false, true) => "is not before",
    };
    format!("{field} {value} {relation} {what}")
}

/// How a REDCap date order is written, for messages.
fn redcap_date(order: crate::types::redcap::DateOrder) -> &'static str {
    use crate::types::redcap::DateOrder;
    match order {
        DateOrder::Ymd => "YYYY-MM-DD",
        DateOrder::Mdy => "MM-DD-YYYY (or YYYY-MM-DD)",
        DateOrder::Dmy => "DD-MM-YYYY (or YYYY-MM-DD)",
    }
}

/// A value in quotes (`“7”`), or, withheld, the text saying so.
struct Quoted<'a>(Option<&'a str>, &'a str);

impl std::fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(value) => write!(f, "“{value}”"),
            None => f.write_str(self.1),
        }
    }
}

/// How a REDCap time is written.
fn redcap_clock(clock: crate::types::redcap::Clock) -> &'static str {
    use crate::types::redcap::Clock;
    match clock {
        Clock::HoursMinutes => "H:MM (0:00 to 23:59)",
        Clock::HoursMinutesSeconds => "H:MM:SS",
        Clock::MinutesSeconds => "MM:SS (00:00 to 59:59)",
    }
}

/// What a value of the type looks like, for "… is not …" messages.
fn describe_type(ty: &Type, zh: bool) -> String {
    use crate::types::{DateFormat, StringFormat, TimeFormat};
    let pattern = |p: &crate::types::Strptime| p.source().to_owned();
    match (ty, zh) {
        (Type::String(StringFormat::Email | StringFormat::RedcapEmail(_)), false) => {
            "an e-mail address".into()
        }
        (Type::String(StringFormat::Email | StringFormat::RedcapEmail(_)), true) => {
            "有效的电子邮件地址".into()
        }
        (Type::String(StringFormat::Uri), false) => "a URI (e.g. https://example.org/a)".into(),
        (Type::String(StringFormat::Uri), true) => "有效的 URI（如 https://example.org/a）".into(),
        (Type::String(StringFormat::Uuid), false) => {
            "a UUID (8-4-4-4-12 hexadecimal digits)".into()
        }
        (Type::String(StringFormat::Uuid), true) => "有效的 UUID（8-4-4-4-12 位十六进制）".into(),
        (Type::String(StringFormat::Binary), false) => "base64 data".into(),
        (Type::String(StringFormat::Binary), true) => "有效的 base64 数据".into(),
        (Type::String(StringFormat::Wkt(_)), false) => "a WKT geometry (e.g. POINT (30 10))".into(),
        (Type::String(StringFormat::Wkt(_)), true) => "有效的 WKT 几何（如 POINT (30 10)）".into(),
        (Type::String(StringFormat::RedcapPhone(_)), false) => {
            "a North American phone number (e.g. 336-481-2635)".into()
        }
        (Type::String(StringFormat::RedcapPhone(_)), true) => {
            "有效的北美电话号码（如 336-481-2635）".into()
        }
        (Type::String(StringFormat::RedcapZipcode(_)), false) => {
            "a ZIP code (12345 or 12345-6789)".into()
        }
        (Type::String(StringFormat::RedcapZipcode(_)), true) => {
            "有效的邮政编码（12345 或 12345-6789）".into()
        }
        (Type::String(_) | Type::Any, false) => "text".into(),
        (Type::String(_) | Type::Any, true) => "文本".into(),
        (Type::Integer { .. }, false) => "a whole number".into(),
        (Type::Integer { .. }, true) => "有效的整数".into(),
        (
            Type::Number {
                lexical: Some(p), ..
            },
            false,
        ) => format!("a number written {}", p.source),
        (
            Type::Number {
                lexical: Some(p), ..
            },
            true,
        ) => format!("写法为 {} 的数字", p.source),
        (Type::Number { .. }, false) => "a number".into(),
        (Type::Number { .. }, true) => "有效的数字".into(),
        (
            Type::Boolean {
                true_values,
                false_values,
            },
            false,
        ) => {
            format!(
                "true or false ({} / {})",
                true_values.join(", "),
                false_values.join(", ")
            )
        }
        (
            Type::Boolean {
                true_values,
                false_values,
            },
            true,
        ) => {
            format!(
                "有效的布尔值（{} / {}）",
                true_values.join("、"),
                false_values.join("、")
            )
        }
        (Type::Date(DateFormat::Pattern(p)), false) => format!("a date in the form {}", pattern(p)),
        (Type::Date(DateFormat::Pattern(p)), true) => format!("格式为 {} 的日期", pattern(p)),
        (Type::Date(DateFormat::Default), false) => "a real date written YYYY-MM-DD".into(),
        (Type::Date(DateFormat::Default), true) => "有效的日期（YYYY-MM-DD）".into(),
        (Type::Date(DateFormat::Forms(_)), false) => {
            "a real date in an accepted form (e.g. 2024-05-29)".into()
        }
        (Type::Date(DateFormat::Forms(_)), true) => "有效的日期".into(),
        (Type::Date(DateFormat::Redcap(order, _)), false) => {
            format!("a real date written {}", redcap_date(*order))
        }
        (Type::Date(DateFormat::Redcap(order, _)), true) => {
            format!("有效的日期（{}）", redcap_date(*order))
        }
        (Type::Time(TimeFormat::Pattern(p)), false) => format!("a time in the form {}", pattern(p)),
        (Type::Time(TimeFormat::Pattern(p)), true) => format!("格式为 {} 的时间", pattern(p)),
        (Type::Time(TimeFormat::RedcapClock(clock, _)), false) => {
            format!("a time written {}", redcap_clock(*clock))
        }
        (Type::Time(TimeFormat::RedcapClock(clock, _)), true) => {
            format!("有效的时间（{}）", redcap_clock(*clock))
        }
        (Type::Time(_), false) => "a time hh:mm:ss".into(),
        (Type::Time(_), true) => "有效的时间（hh:mm:ss）".into(),
        (Type::DateTime(TimeFormat::Pattern(p)), false) => {
            format!("a date and time in the form {}", pattern(p))
        }
        (Type::DateTime(TimeFormat::Pattern(p)), true) => {
            format!("格式为 {} 的日期时间", pattern(p))
        }
        (Type::DateTime(TimeFormat::RedcapDateTime { order, seconds, .. }), zh) => {
            let clock = if *seconds { "H:MM:SS" } else { "H:MM" };
            let date = redcap_date(*order);
            if zh {
                format!("有效的日期时间（{date}，空格，{clock}）")
            } else {
                format!("a date and time written {date}, a space and {clock}")
            }
        }
        (Type::DateTime(_), false) => "a date and time YYYY-MM-DDThh:mm:ss".into(),
        (Type::DateTime(_), true) => "有效的日期时间（YYYY-MM-DDThh:mm:ss）".into(),
        (Type::Year, false) => "a year YYYY".into(),
        (Type::Year, true) => "有效的年份（YYYY）".into(),
        (Type::YearMonth, false) => "a month YYYY-MM".into(),
        (Type::YearMonth, true) => "有效的年月（YYYY-MM）".into(),
        (Type::Duration, false) => "a duration such as P1Y2M10DT2H30M".into(),
        (Type::Duration, true) => "有效的时长（如 P1Y2M10DT2H30M）".into(),
        (Type::GeoPoint(..), false) => "a point (longitude, latitude)".into(),
        (Type::GeoPoint(..), true) => "有效的坐标点（经度, 纬度）".into(),
        (Type::GeoJson(..), false) => "a GeoJSON object".into(),
        (Type::GeoJson(..), true) => "有效的 GeoJSON 对象".into(),
        (Type::Object(_), false) => "a JSON object".into(),
        (Type::Object(_), true) => "JSON 对象".into(),
        (Type::Array(_), false) => "a JSON array".into(),
        (Type::Array(_), true) => "JSON 数组".into(),
        (
            Type::List {
                delimiter, item, ..
            },
            false,
        ) => {
            format!(
                "a list of {} separated by “{delimiter}”",
                describe_type(item, false)
            )
        }
        (
            Type::List {
                delimiter, item, ..
            },
            true,
        ) => {
            format!("以 “{delimiter}” 分隔的{}列表", describe_type(item, true))
        }
        (Type::MultiSelect(select), false) => {
            format!("some of {}", select.choices.join(", "))
        }
        (Type::MultiSelect(select), true) => format!("{} 中的若干项", select.choices.join("、")),
        (Type::BloodPressure { .. }, false) => {
            "a blood pressure written systolic/diastolic (e.g. 120/80)".into()
        }
        (Type::BloodPressure { .. }, true) => "有效的血压（收缩压/舒张压，如 120/80）".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_tags() {
        assert_eq!("zh-CN".parse::<Lang>(), Ok(Lang::ZhCn));
        assert_eq!("EN".parse::<Lang>(), Ok(Lang::En));
        assert!("fr".parse::<Lang>().is_err());
    }
}
