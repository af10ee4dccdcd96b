//! Issues found in records, and their messages in each supported language.
//!
//! An issue carries a stable `code` (the contract, set by the protocol) and
//! a [`Detail`] from which a message for people is rendered on demand, in
//! English or Simplified Chinese. Rendering is lazy: most records have no
//! issue, and the ones that do may never be shown.

use std::str::FromStr;

use crate::protocol::{Code, CompareOp, Protocol};

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
    /// The value is not of the field's type.
    Type {
        /// The field's type name.
        expected: &'static str,
    },
    /// A JSON value of a kind no field type takes (object, array).
    NotScalar {
        /// `object` or `array`.
        found: &'static str,
    },
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
    /// A number outside its bounds.
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

    /// The message for people, in `lang`.
    pub fn message(&self, protocol: &Protocol, lang: Lang) -> String {
        let name = |f: usize| protocol.fields[f].name.as_str();
        let field = self.field.map_or("", name);
        let value = self.value.as_deref().unwrap_or("");
        let zh = lang == Lang::ZhCn;
        match &self.detail {
            Detail::Required if zh => format!("{field} 缺失（必填）"),
            Detail::Required => format!("{field} is required but missing"),
            Detail::Type { expected } if zh => {
                format!("{field} 的值 “{value}” 不是有效的{}", type_zh(expected))
            }
            Detail::Type { expected } => format!("{field} “{value}” is not {}", type_en(expected)),
            Detail::NotScalar { found } if zh => format!("{field} 不能是 JSON {found}"),
            Detail::NotScalar { found } => format!("{field} cannot be a JSON {found}"),
            Detail::Pattern { pattern } if zh => {
                format!("{field} 的值 “{value}” 不符合格式 {pattern}")
            }
            Detail::Pattern { pattern } => {
                format!("{field} “{value}” does not match the pattern {pattern}")
            }
            Detail::AmbiguousDate if zh => {
                format!("{field} “{value}” 无法区分日和月，请写成 YYYY-MM-DD")
            }
            Detail::AmbiguousDate => format!(
                "{field} “{value}” is ambiguous: day and month cannot be told apart (write YYYY-MM-DD)"
            ),
            Detail::TooShort { min, length } if zh => {
                format!("{field} 只有 {length} 个字符，至少需要 {min} 个")
            }
            Detail::TooShort { min, length } => {
                format!("{field} has {length} characters, fewer than the minimum {min}")
            }
            Detail::TooLong { max, length } if zh => {
                format!("{field} 有 {length} 个字符，超过上限 {max}")
            }
            Detail::TooLong { max, length } => {
                format!("{field} has {length} characters, more than the maximum {max}")
            }
            Detail::OutOfRange { low, high } => out_of_range(field, value, low, high, zh),
            Detail::TooEarly(bound) => date_bound(field, value, bound, true, zh),
            Detail::TooLate(bound) => date_bound(field, value, bound, false, zh),
            Detail::NotAllowed => {
                let allowed = self
                    .field
                    .and_then(|f| protocol.fields[f].allowed.as_ref())
                    .map(|list| list.join(", "))
                    .unwrap_or_default();
                if zh {
                    format!("{field} 的值 “{value}” 不在允许的取值中（{allowed}）")
                } else {
                    format!("{field} “{value}” is not one of the allowed values ({allowed})")
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
            Detail::BadJson { message } if zh => format!("记录不是有效的 JSON：{message}"),
            Detail::BadJson { message } => format!("record is not valid JSON: {message}"),
            Detail::RepeatedField { field } if zh => {
                format!("对象中有多个键都表示字段 {}", name(*field))
            }
            Detail::RepeatedField { field } => {
                format!("several keys of the object name field {}", name(*field))
            }
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

fn type_en(type_name: &str) -> &'static str {
    match type_name {
        "integer" => "a whole number",
        "number" => "a number",
        "boolean" => "true or false",
        "date" => "a real date in an accepted form (e.g. 2024-05-29)",
        "bloodPressure" => "a blood pressure written systolic/diastolic (e.g. 120/80)",
        _ => "a valid value",
    }
}

fn type_zh(type_name: &str) -> &'static str {
    match type_name {
        "integer" => "整数",
        "number" => "数字",
        "boolean" => "布尔值",
        "date" => "日期",
        "bloodPressure" => "血压（收缩压/舒张压，如 120/80）",
        _ => "值",
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
