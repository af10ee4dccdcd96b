//! clinval's date forms: the ways hospitals actually write dates, and the
//! `any` format of `date`, `time` and `datetime`.
//!
//! A hand-written scanner rather than a regex or `strptime` loop: it runs on
//! every record of every file, must give `ambiguous_date` (not a guess) for
//! `04/07/2022`, and must stay small in the wasm build.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};

use super::temporal::{Zoned, digits, fraction_nanos, parse_zone};

/// One accepted way of writing a date (cleaned text, before an optional time).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateForm {
    /// `YYYY-M-D`, `YYYY/M/D` or `YYYY.M.D` (month and day one or two digits).
    YearMonthDay,
    /// `YYYYMMDD`, eight digits.
    Compact,
    /// `YYYY年M月D日`.
    Chinese,
    /// `A/B/YYYY`, `A.B.YYYY` or `A-B-YYYY`: day and month in either order,
    /// told apart by [`DayMonthOrder`].
    DayMonthYear,
}

impl DateForm {
    /// Every form, in the order the docs list them.
    pub const ALL: [DateForm; 4] = [
        DateForm::YearMonthDay,
        DateForm::Compact,
        DateForm::Chinese,
        DateForm::DayMonthYear,
    ];

    /// The form's name in protocols' `dateForms`.
    pub fn name(self) -> &'static str {
        match self {
            DateForm::YearMonthDay => "Y-M-D",
            DateForm::Compact => "YYYYMMDD",
            DateForm::Chinese => "Y年M月D日",
            DateForm::DayMonthYear => "A/B/Y",
        }
    }
}

/// How `A/B/YYYY` is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DayMonthOrder {
    /// If A > 12 it is day/month; if B > 12 month/day; if A = B either way;
    /// otherwise the date is ambiguous.
    #[default]
    Infer,
    /// Always day/month (`DD/MM/YYYY`).
    DayFirst,
    /// Always month/day (`MM/DD/YYYY`).
    MonthFirst,
}

/// Which forms a date field accepts and how to read them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateSyntax {
    /// Accepted forms.
    pub forms: Vec<DateForm>,
    /// Reading of `A/B/YYYY`.
    pub order: DayMonthOrder,
    /// Whether a trailing ` HH:MM[:SS]` / `THH:MM[:SS]` is accepted (and ignored).
    pub allow_time: bool,
}

impl DateSyntax {
    /// ISO `YYYY-MM-DD` only: Frictionless' `default` date format.
    pub fn iso() -> Self {
        DateSyntax {
            forms: vec![DateForm::YearMonthDay],
            order: DayMonthOrder::Infer,
            allow_time: false,
        }
    }
}

/// Why a text is not a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateError {
    /// Not one of the accepted forms, or not a real calendar date.
    Invalid,
    /// `A/B/YYYY` where day and month cannot be told apart.
    Ambiguous,
}

/// Parses a cleaned date text by `syntax`.
pub fn parse_date(text: &str, syntax: &DateSyntax) -> Result<NaiveDate, DateError> {
    // `YYYY-MM-DD`, by far the commonest, read without the general scan.
    if let [y1, y2, y3, y4, b'-', m1, m2, b'-', d1, d2] = *text.as_bytes()
        && [y1, y2, y3, y4, m1, m2, d1, d2]
            .iter()
            .all(u8::is_ascii_digit)
        && syntax.forms.contains(&DateForm::YearMonthDay)
    {
        let bytes = text.as_bytes();
        return calendar(
            digits(&bytes[..4]),
            digits(&bytes[5..7]),
            digits(&bytes[8..]),
        );
    }
    let date_part = match memchr::memchr2(b' ', b'T', text.as_bytes()) {
        Some(at) if syntax.allow_time => {
            if !is_time(&text[at + 1..]) {
                return Err(DateError::Invalid);
            }
            &text[..at]
        }
        Some(_) => return Err(DateError::Invalid),
        None => text,
    };
    let bytes = date_part.as_bytes();
    let allows = |form| syntax.forms.contains(&form);

    if bytes.len() == 8 && bytes.iter().all(u8::is_ascii_digit) {
        if !allows(DateForm::Compact) {
            return Err(DateError::Invalid);
        }
        let (y, m, d) = (
            digits(&bytes[..4]),
            digits(&bytes[4..6]),
            digits(&bytes[6..]),
        );
        return calendar(y, m, d);
    }
    // Only non-ASCII text can hold 年; `str::contains` with a non-ASCII
    // char builds a substring searcher per call, a visible cost per date.
    if !date_part.is_ascii() && date_part.contains('年') {
        if !allows(DateForm::Chinese) {
            return Err(DateError::Invalid);
        }
        return parse_chinese(date_part);
    }
    let [a, b, c] = split_groups(bytes).ok_or(DateError::Invalid)?;
    if a.len() == 4 && (1..=2).contains(&b.len()) && (1..=2).contains(&c.len()) {
        if !allows(DateForm::YearMonthDay) {
            return Err(DateError::Invalid);
        }
        return calendar(digits(a), digits(b), digits(c));
    }
    if c.len() == 4 && (1..=2).contains(&a.len()) && (1..=2).contains(&b.len()) {
        if !allows(DateForm::DayMonthYear) {
            return Err(DateError::Invalid);
        }
        let (a, b, year) = (digits(a), digits(b), digits(c));
        let (day, month) = match syntax.order {
            DayMonthOrder::DayFirst => (a, b),
            DayMonthOrder::MonthFirst => (b, a),
            DayMonthOrder::Infer if a > 12 || a == b => (a, b),
            DayMonthOrder::Infer if b > 12 => (b, a),
            DayMonthOrder::Infer => return Err(DateError::Ambiguous),
        };
        return calendar(year, month, day);
    }
    Err(DateError::Invalid)
}

/// Splits `D+ S D+ S D+` where S is one of `-`, `/`, `.` used twice.
fn split_groups(bytes: &[u8]) -> Option<[&[u8]; 3]> {
    let first = bytes.iter().position(|b| !b.is_ascii_digit())?;
    let separator = bytes[first];
    if !matches!(separator, b'-' | b'/' | b'.') {
        return None;
    }
    let mut parts = bytes.split(|b| *b == separator);
    let groups = [parts.next()?, parts.next()?, parts.next()?];
    if parts.next().is_some()
        || groups
            .iter()
            .any(|g| g.is_empty() || !g.iter().all(u8::is_ascii_digit))
    {
        return None;
    }
    Some(groups)
}

/// `YYYY年M月D日`.
fn parse_chinese(text: &str) -> Result<NaiveDate, DateError> {
    let invalid = DateError::Invalid;
    let (year, rest) = text.split_once('年').ok_or(invalid)?;
    let (month, rest) = rest.split_once('月').ok_or(invalid)?;
    let day = rest.strip_suffix('日').ok_or(invalid)?;
    let ok = |s: &str, lens: std::ops::RangeInclusive<usize>| {
        lens.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
    };
    if !(ok(year, 4..=4) && ok(month, 1..=2) && ok(day, 1..=2)) {
        return Err(invalid);
    }
    calendar(
        digits(year.as_bytes()),
        digits(month.as_bytes()),
        digits(day.as_bytes()),
    )
}

/// `time` in the `any` format: `H:MM`, `H:MM:SS` or with a fraction
/// (`H:MM:SS.s`), optionally `am`/`pm` (any case, after a space or not),
/// optionally a zone (`Z`, `±hh:mm`).
pub fn parse_any_time(text: &str) -> Option<Zoned<NaiveTime>> {
    let zone_at = text
        .rfind(['Z', '+', '-'])
        .filter(|&at| at > 0)
        .unwrap_or(text.len());
    let offset = parse_zone(&text[zone_at..])?;
    let clock = text[..zone_at].trim_end();
    let lower = clock.to_ascii_lowercase();
    let (clock, pm) = match lower
        .strip_suffix("am")
        .or_else(|| lower.strip_suffix("a.m."))
    {
        Some(rest) => (rest.trim_end(), Some(false)),
        None => match lower
            .strip_suffix("pm")
            .or_else(|| lower.strip_suffix("p.m."))
        {
            Some(rest) => (rest.trim_end(), Some(true)),
            None => (lower.as_str(), None),
        },
    };
    let mut parts = clock.splitn(3, ':');
    let hour = parts.next()?;
    let minute = parts.next()?;
    let second = parts.next();
    let small = |t: &str, lens: std::ops::RangeInclusive<usize>| {
        lens.contains(&t.len()) && t.bytes().all(|b| b.is_ascii_digit())
    };
    if !small(hour, 1..=2) || !small(minute, 2..=2) {
        return None;
    }
    let (second, nanos) = match second {
        None => (0, 0),
        Some(s) => {
            let (whole, fraction) = s.split_once('.').unwrap_or((s, ""));
            if !small(whole, 2..=2)
                || !fraction.bytes().all(|b| b.is_ascii_digit())
                || s.ends_with('.')
            {
                return None;
            }
            (
                digits(whole.as_bytes()),
                fraction_nanos(fraction.as_bytes()),
            )
        }
    };
    let mut hour = digits(hour.as_bytes());
    if let Some(pm) = pm {
        if !(1..=12).contains(&hour) {
            return None;
        }
        hour = match (pm, hour) {
            (false, 12) => 0,
            (true, 12) => 12,
            (true, h) => h + 12,
            (false, h) => h,
        };
    }
    let time = NaiveTime::from_hms_nano_opt(hour, digits(minute.as_bytes()), second, nanos)?;
    Some((time, offset))
}

/// `datetime` in the `any` format: a date in any of clinval's forms (day
/// and month told apart as `infer` does), then a space or `T`, then a time
/// as [`parse_any_time`] reads it. A date alone is midnight.
pub fn parse_any_datetime(text: &str) -> Option<Zoned<NaiveDateTime>> {
    let any = DateSyntax {
        forms: DateForm::ALL.to_vec(),
        order: DayMonthOrder::Infer,
        allow_time: false,
    };
    let (date, time) = match text.find([' ', 'T']) {
        Some(at) => (&text[..at], Some(text[at + 1..].trim_start())),
        None => (text, None),
    };
    let date = parse_date(date, &any).ok()?;
    let (time, offset) = match time {
        Some(time) => parse_any_time(time)?,
        None => (NaiveTime::MIN, None),
    };
    Some((date.and_time(time), offset))
}

/// `HH:MM` or `HH:MM:SS` (two digits each).
fn is_time(text: &str) -> bool {
    let b = text.as_bytes();
    let two = |i: usize| b[i].is_ascii_digit() && b[i + 1].is_ascii_digit();
    match b.len() {
        5 => two(0) && b[2] == b':' && two(3),
        8 => two(0) && b[2] == b':' && two(3) && b[5] == b':' && two(6),
        _ => false,
    }
}

fn calendar(year: u32, month: u32, day: u32) -> Result<NaiveDate, DateError> {
    let year = i32::try_from(year).map_err(|_| DateError::Invalid)?;
    NaiveDate::from_ymd_opt(year, month, day).ok_or(DateError::Invalid)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn any() -> DateSyntax {
        DateSyntax {
            forms: DateForm::ALL.to_vec(),
            order: DayMonthOrder::Infer,
            allow_time: true,
        }
    }

    fn ymd(y: i32, m: u32, d: u32) -> Result<NaiveDate, DateError> {
        Ok(NaiveDate::from_ymd_opt(y, m, d).unwrap())
    }

    #[test]
    fn every_form_parses() {
        let s = any();
        assert_eq!(parse_date("2023-07-10", &s), ymd(2023, 7, 10));
        assert_eq!(parse_date("2023-7-1", &s), ymd(2023, 7, 1));
        assert_eq!(parse_date("2021/06/06", &s), ymd(2021, 6, 6));
        assert_eq!(parse_date("2023.2.20", &s), ymd(2023, 2, 20));
        assert_eq!(parse_date("20250117", &s), ymd(2025, 1, 17));
        assert_eq!(parse_date("2024年9月25日", &s), ymd(2024, 9, 25));
        assert_eq!(parse_date("2024年09月05日", &s), ymd(2024, 9, 5));
        assert_eq!(parse_date("25/12/2023", &s), ymd(2023, 12, 25));
        assert_eq!(parse_date("12/25/2023", &s), ymd(2023, 12, 25));
        assert_eq!(parse_date("25.12.2023", &s), ymd(2023, 12, 25));
        assert_eq!(parse_date("12-25-2023", &s), ymd(2023, 12, 25));
        assert_eq!(parse_date("7/7/2023", &s), ymd(2023, 7, 7));
    }

    #[test]
    fn times_are_accepted_and_ignored() {
        let s = any();
        assert_eq!(parse_date("2023-04-29T08:30", &s), ymd(2023, 4, 29));
        assert_eq!(parse_date("2023-04-29 08:30:15", &s), ymd(2023, 4, 29));
        assert_eq!(parse_date("20230429 08:30", &s), ymd(2023, 4, 29));
        assert_eq!(parse_date("2023-04-29 8:30", &s), Err(DateError::Invalid));
        assert_eq!(parse_date("2023-04-29T", &s), Err(DateError::Invalid));
        let no_time = DateSyntax {
            allow_time: false,
            ..any()
        };
        assert_eq!(
            parse_date("2023-04-29T08:30", &no_time),
            Err(DateError::Invalid)
        );
    }

    #[test]
    fn impossible_and_malformed_dates_are_invalid() {
        let s = any();
        for bad in [
            "2024年2月30日",
            "2024-00-10",
            "2024-13-01",
            "2023-02-29",
            "13/13/2023",
            "2024-1/2",
            "2024--01",
            "24-01-01",
            "2024-001-01",
            "202401011",
            "yesterday",
            "2024-01-01-",
            "2024年1月1",
        ] {
            assert_eq!(parse_date(bad, &s), Err(DateError::Invalid), "{bad}");
        }
        assert_eq!(parse_date("2024-02-29", &s), ymd(2024, 2, 29));
    }

    #[test]
    fn day_month_order() {
        let s = any();
        assert_eq!(parse_date("04/07/2022", &s), Err(DateError::Ambiguous));
        assert_eq!(parse_date("1.11.2021", &s), Err(DateError::Ambiguous));
        let day_first = DateSyntax {
            order: DayMonthOrder::DayFirst,
            ..any()
        };
        assert_eq!(parse_date("04/07/2022", &day_first), ymd(2022, 7, 4));
        let month_first = DateSyntax {
            order: DayMonthOrder::MonthFirst,
            ..any()
        };
        assert_eq!(parse_date("04/07/2022", &month_first), ymd(2022, 4, 7));
        assert_eq!(
            parse_date("25/12/2023", &month_first),
            Err(DateError::Invalid)
        );
    }

    #[test]
    fn any_times_and_datetimes() {
        let t = |text| parse_any_time(text).map(|(t, z)| format!("{t} {z:?}"));
        assert_eq!(t("9:05").as_deref(), Some("09:05:00 None"));
        assert_eq!(t("09:05:30.25").as_deref(), Some("09:05:30.250 None"));
        assert_eq!(t("12:30 am").as_deref(), Some("00:30:00 None"));
        assert_eq!(t("1:05PM").as_deref(), Some("13:05:00 None"));
        assert_eq!(t("15:00:00Z").as_deref(), Some("15:00:00 Some(0)"));
        assert_eq!(t("15:00+05:30").as_deref(), Some("15:00:00 Some(19800)"));
        for bad in ["15", "15:0", "25:00", "13:00 pm", "15:00:60", "15:00:"] {
            assert_eq!(t(bad), None, "{bad}");
        }
        let dt = |text| parse_any_datetime(text).map(|(t, z)| format!("{t} {z:?}"));
        assert_eq!(
            dt("2024-01-26 15:00").as_deref(),
            Some("2024-01-26 15:00:00 None")
        );
        assert_eq!(
            dt("26/01/2024T15:00:00Z").as_deref(),
            Some("2024-01-26 15:00:00 Some(0)")
        );
        assert_eq!(
            dt("2024年1月26日").as_deref(),
            Some("2024-01-26 00:00:00 None")
        );
        assert_eq!(dt("04/07/2024 10:00"), None, "ambiguous day and month");
    }

    #[test]
    fn forms_can_be_restricted() {
        let iso = DateSyntax::iso();
        assert_eq!(parse_date("2023-07-10", &iso), ymd(2023, 7, 10));
        assert_eq!(parse_date("20230710", &iso), Err(DateError::Invalid));
        assert_eq!(parse_date("10/07/2023", &iso), Err(DateError::Invalid));
        assert_eq!(parse_date("2023年7月10日", &iso), Err(DateError::Invalid));
    }
}
