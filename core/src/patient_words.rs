//! Messages for patients: what a form shows under a question, in the
//! patient's language, with the question's own title and no field keys,
//! codes or ranges written as `0..=10`. The technical message
//! ([`Issue::message`]) stays beside it for data managers' error logs.
//!
//! Only issues a patient can meet while answering have one: a value's
//! checks and the protocol's rules, not a file's rows or header. The full
//! build's (see [`Full`]): the compact module has no room for the words.

use crate::issue::{BoundText, Detail, Issue, Lang};
use crate::protocol::{CompareOp, Field, Protocol};
use crate::types::{Full, Type};

/// The question as the patient reads it: its title in `lang`, else its
/// title, else its name.
fn title(field: &Field, lang: Lang) -> &str {
    field
        .titles
        .get(lang.tag())
        .or(field.title.as_ref())
        .map_or(field.name.as_str(), String::as_str)
}

/// A bound for people: the as-of date is "today".
fn bound(bound: &BoundText, zh: bool) -> String {
    match (bound.as_of, zh) {
        (true, false) => "today".into(),
        (true, true) => "今天".into(),
        (false, _) => bound.text.clone(),
    }
}

impl Issue {
    /// The message for the patient, in `lang`; `None` for an issue no
    /// patient meets in a form (or in the compact build).
    pub fn patient_message(&self, protocol: &Protocol, lang: Lang) -> Option<String> {
        Full::get()?;
        let zh = lang == Lang::ZhCn;
        let field = &protocol.fields[self.field?];
        let q = title(field, lang);
        let text = match &self.detail {
            Detail::Required if zh => format!("请回答“{q}”。"),
            Detail::Required => format!("Please answer “{q}”."),
            Detail::Type => type_hint(q, &field.ty, zh),
            Detail::Pattern { .. } if zh => format!("“{q}”的格式不对，请按提示填写。"),
            Detail::Pattern { .. } => {
                format!("“{q}” is not in the form asked for: check the hint.")
            }
            Detail::AmbiguousDate if zh => format!("“{q}”：请按 年-月-日 填写日期。"),
            Detail::AmbiguousDate => format!("For “{q}”, write the date as year-month-day."),
            Detail::TooShort { min, .. } if zh => format!("“{q}”至少需要 {min} 个字。"),
            Detail::TooShort { min, .. } => format!("“{q}” needs at least {min} characters."),
            Detail::TooLong { max, length } if zh => {
                format!("“{q}”最多 {max} 个字，现在是 {length} 个。")
            }
            Detail::TooLong { max, length } => {
                format!("“{q}” can be at most {max} characters; it has {length}.")
            }
            Detail::OutOfRange { low, high } => range(q, low.as_ref(), high.as_ref(), zh),
            Detail::TooEarly(b) if zh => format!("“{q}”不能早于{}。", bound(b, zh)),
            Detail::TooEarly(b) => format!("“{q}” cannot be before {}.", bound(b, zh)),
            Detail::TooLate(b) if zh => format!("“{q}”不能晚于{}。", bound(b, zh)),
            Detail::TooLate(b) => format!("“{q}” cannot be after {}.", bound(b, zh)),
            Detail::NotAllowed if zh => format!("“{q}”：请从列出的回答中选择。"),
            Detail::NotAllowed => format!("For “{q}”, choose one of the answers shown."),
            Detail::Implausible { .. } if zh => format!("“{q}”的数值不可能是真实的血压，请检查。"),
            Detail::Implausible { .. } => {
                format!("“{q}” is not a possible blood pressure: check it.")
            }
            Detail::Compare { op, other, .. } => {
                let other = title(&protocol.fields[*other], lang);
                compare(q, *op, other, zh)
            }
            Detail::Hidden if zh => format!("“{q}”不需要回答，请清空。"),
            Detail::Hidden => format!("“{q}” is not asked now: clear it."),
            // A rule's description speaks the protocol's language; in
            // another, the patient gets the plain fact.
            Detail::Assert {
                description: Some(d),
            } if !zh => d.clone(),
            Detail::Assert { .. } if zh => format!("“{q}”与其他回答互相矛盾，请检查。"),
            Detail::Assert { .. } => format!("“{q}” does not fit your other answers: check them."),
            _ => return None,
        };
        Some(text)
    }
}

/// "Enter a whole number", by the field's type.
fn type_hint(q: &str, ty: &Type, zh: bool) -> String {
    let (en, cn) = match ty {
        Type::Integer { .. } => ("enter a whole number", "请输入整数"),
        Type::Number { .. } => ("enter a number", "请输入数字"),
        Type::Date(_) | Type::DateTime(_) | Type::Year | Type::YearMonth => {
            ("enter a date", "请输入日期")
        }
        Type::Time(_) => ("enter a time", "请输入时间"),
        Type::Boolean { .. } => ("choose yes or no", "请选择“是”或“否”"),
        _ => ("check this answer", "请检查此回答"),
    };
    if zh {
        format!("“{q}”：{cn}。")
    } else {
        format!("For “{q}”, {en}.")
    }
}

/// "Choose a number from 0 to 10", and its one-sided forms.
fn range(q: &str, low: Option<&BoundText>, high: Option<&BoundText>, zh: bool) -> String {
    fn inclusive(b: Option<&BoundText>) -> Option<&str> {
        b.filter(|b| !b.exclusive).map(|b| b.text.as_str())
    }
    match (inclusive(low), inclusive(high), low, high) {
        (Some(lo), Some(hi), ..) if zh => format!("“{q}”：请选择 {lo} 到 {hi} 之间的数。"),
        (Some(lo), Some(hi), ..) => format!("For “{q}”, choose a number from {lo} to {hi}."),
        (_, _, Some(lo), _) if zh => {
            let at = if lo.exclusive { "大于" } else { "不小于" };
            format!("“{q}”：请输入{at} {} 的数。", lo.text)
        }
        (_, _, Some(lo), _) => {
            let at = if lo.exclusive {
                "more than"
            } else {
                "at least"
            };
            format!("For “{q}”, enter a number {at} {}.", lo.text)
        }
        (_, _, None, Some(hi)) if zh => {
            let at = if hi.exclusive { "小于" } else { "不大于" };
            format!("“{q}”：请输入{at} {} 的数。", hi.text)
        }
        (_, _, None, Some(hi)) => {
            let at = if hi.exclusive { "less than" } else { "at most" };
            format!("For “{q}”, enter a number {at} {}.", hi.text)
        }
        (_, _, None, None) if zh => format!("“{q}”的数值超出范围。"),
        (_, _, None, None) => format!("“{q}” is out of range."),
    }
}

/// "“Bedtime” must be before “Wake-up time”".
fn compare(q: &str, op: CompareOp, other: &str, zh: bool) -> String {
    let (en, cn) = match op {
        CompareOp::Less => ("less than", "小于"),
        CompareOp::LessOrEqual => ("at most", "不大于"),
        CompareOp::Greater => ("more than", "大于"),
        CompareOp::GreaterOrEqual => ("at least", "不小于"),
        CompareOp::Equal => ("the same as", "等于"),
        CompareOp::NotEqual => ("different from", "不同于"),
    };
    if zh {
        format!("“{q}”应{cn}“{other}”。")
    } else {
        format!("“{q}” must be {en} “{other}”.")
    }
}

#[cfg(all(test, feature = "full"))]
mod tests {
    use std::sync::Arc;

    use crate::protocol::Protocol;
    use crate::{Lang, Validator};

    /// The patient's messages of a diary's answers, in `lang`.
    fn said(record: &str, lang: Lang) -> Vec<String> {
        let diary = Arc::new(Protocol::builtin("epro-daily").unwrap());
        let as_of = chrono::NaiveDate::from_ymd_opt(2026, 12, 2).unwrap();
        let mut validator = Validator::new(Arc::clone(&diary), as_of);
        let outcome = validator
            .validate_json(1, record.as_bytes(), usize::MAX)
            .unwrap();
        outcome
            .issues
            .iter()
            .filter_map(|issue| issue.patient_message(&diary, lang))
            .collect()
    }

    #[test]
    fn a_patient_reads_the_question_and_plain_words_in_their_language() {
        let record = r#"{"pain": 11, "fatigue": "lots", "sleepQuality": "ok", "nausea": "yes",
                         "symptoms": ["none", "rash"], "notes": "", "completedAt": "2026-12-09"}"#;
        let en = said(record, Lang::En);
        assert!(en.contains(&"For “Pain right now (0 = no pain, 10 = worst imaginable)”, choose a number from 0 to 10.".to_owned()), "{en:#?}");
        assert!(en.iter().any(|m| m == "For “Tiredness today (0 = none, 10 = worst imaginable)”, enter a whole number."), "{en:#?}");
        assert!(
            en.iter()
                .any(|m| m
                    == "For “How did you sleep last night?”, choose one of the answers shown."),
            "{en:#?}"
        );
        assert!(
            en.iter()
                .any(|m| m == "Please answer “How bad was the nausea?”."),
            "{en:#?}"
        );
        assert!(
            en.iter()
                .any(|m| m == "“Completed on” cannot be after today."),
            "{en:#?}"
        );
        assert!(
            en.iter().any(|m| m.contains("cannot be chosen together")),
            "{en:#?}"
        );
        let zh = said(record, Lang::ZhCn);
        assert!(
            zh.iter().any(|m| m
                == "“现在的疼痛程度（0 = 不痛，10 = 能想象的最痛）”：请选择 0 到 10 之间的数。"),
            "{zh:#?}"
        );
        assert!(
            zh.iter().any(|m| m == "请回答“恶心有多严重？”。"),
            "{zh:#?}"
        );
        // No field key, code or Rust range in any of them.
        for message in en.iter().chain(&zh) {
            for key in [
                "pain ",
                "fatigue",
                "nauseaSeverity",
                "completedAt",
                "..=",
                "none_with",
            ] {
                assert!(!message.contains(key), "{message}");
            }
        }
        assert_eq!(zh.len(), en.len());
    }
}
