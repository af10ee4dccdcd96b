//! Date and time patterns in Python's `strptime` syntax (`%d/%m/%Y`,
//! `%Y-%m-%dT%H:%M:%S%z`), which Table Schema names as the `<PATTERN>`
//! format of `date`, `time` and `datetime`.
//!
//! Built the way CPython's `_strptime` builds it, so values mean what the
//! spec's reference says: each directive becomes the same regular
//! expression CPython uses (`%d` is `3[01]|[12]\d|0[1-9]|[1-9]| [1-9]`),
//! white space in the pattern matches any run of white space, the match is
//! case-insensitive and must start at the beginning, and text left over
//! after it is an error. Names are the C locale's (English). The regex
//! engine is regex-lite, whose leftmost-first matching picks the same
//! alternatives as Python's backtracking `re.match`.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use regex_lite::Regex;

use super::temporal::{digits, fraction_nanos};

/// A directive of the pattern, in the order its capture group appears.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Directive {
    Day,
    Fraction,
    Hour24,
    Hour12,
    DayOfYear,
    Month,
    Minute,
    Second,
    Year2,
    Year4,
    Zone,
    ZoneName,
    AmPm,
    MonthName,
    MonthAbbreviation,
    Weekday,
    WeekdayAbbreviation,
    WeekdayNumber,
    IsoWeekdayNumber,
}

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];
const WEEKDAYS: [&str; 7] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

impl Directive {
    /// The directive of `%c`, or why it cannot be used.
    fn of(letter: char) -> Result<Directive, String> {
        use Directive::*;
        Ok(match letter {
            'd' => Day,
            'f' => Fraction,
            'H' => Hour24,
            'I' => Hour12,
            'j' => DayOfYear,
            'm' => Month,
            'M' => Minute,
            'S' => Second,
            'y' => Year2,
            'Y' => Year4,
            'z' => Zone,
            'Z' => ZoneName,
            'p' => AmPm,
            'B' => MonthName,
            'b' | 'h' => MonthAbbreviation,
            'A' => Weekday,
            'a' => WeekdayAbbreviation,
            'w' => WeekdayNumber,
            'u' => IsoWeekdayNumber,
            'U' | 'W' | 'G' | 'V' => {
                return Err(format!(
                    "`%{letter}` (week numbers) is not supported; write the date with %Y, %m and %d or %j"
                ));
            }
            other => return Err(format!("`%{other}` is not a strptime directive")),
        })
    }

    /// CPython's regular expression for the directive (without the group).
    fn regex(self) -> String {
        use Directive::*;
        let names = |list: &[&str], abbreviate: bool| {
            let mut names: Vec<String> = list
                .iter()
                .map(|n| {
                    if abbreviate {
                        n[..3].to_owned()
                    } else {
                        (*n).to_owned()
                    }
                })
                .collect();
            // Longest first, as CPython sorts them, so `may` is not cut short.
            names.sort_by_key(|n| std::cmp::Reverse(n.len()));
            names.join("|")
        };
        match self {
            Day => r"3[0-1]|[1-2]\d|0[1-9]|[1-9]| [1-9]".into(),
            Fraction => r"[0-9]{1,6}".into(),
            Hour24 => r"2[0-3]|[0-1]\d|\d".into(),
            Hour12 => r"1[0-2]|0[1-9]|[1-9]".into(),
            DayOfYear => r"36[0-6]|3[0-5]\d|[1-2]\d\d|0[1-9]\d|00[1-9]|[1-9]\d|0[1-9]|[1-9]".into(),
            Month => r"1[0-2]|0[1-9]|[1-9]".into(),
            Minute => r"[0-5]\d|\d".into(),
            Second => r"6[0-1]|[0-5]\d|\d".into(),
            Year2 => r"\d\d".into(),
            Year4 => r"\d\d\d\d".into(),
            Zone => r"[+-]\d\d:?[0-5]\d(?::?[0-5]\d(?:\.\d{1,6})?)?|(?-i:Z)".into(),
            ZoneName => "utc|gmt".into(),
            AmPm => "am|pm".into(),
            MonthName => names(&MONTHS, false),
            MonthAbbreviation => names(&MONTHS, true),
            Weekday => names(&WEEKDAYS, false),
            WeekdayAbbreviation => names(&WEEKDAYS, true),
            WeekdayNumber => "[0-6]".into(),
            IsoWeekdayNumber => "[1-7]".into(),
        }
    }
}

/// A compiled strptime pattern.
#[derive(Debug, Clone)]
pub struct Strptime {
    source: String,
    regex: Regex,
    groups: Vec<Directive>,
}

impl Strptime {
    /// Compiles `pattern`; the error says which directive cannot be used.
    pub fn new(pattern: &str) -> Result<Strptime, String> {
        // The C locale's composite directives, expanded as CPython does.
        let expanded = pattern
            .replace("%c", "%a %b %d %H:%M:%S %Y")
            .replace("%x", "%m/%d/%y")
            .replace("%X", "%H:%M:%S");
        let mut regex = String::from("(?i)^(?:");
        let mut groups = Vec::new();
        let mut chars = expanded.chars().peekable();
        let mut literal = String::new();
        let flush = |literal: &mut String, regex: &mut String| {
            regex.push_str(&regex_lite::escape(literal));
            literal.clear();
        };
        while let Some(c) = chars.next() {
            if c.is_whitespace() {
                while chars.peek().is_some_and(|c| c.is_whitespace()) {
                    chars.next();
                }
                flush(&mut literal, &mut regex);
                regex.push_str(r"\s+");
                continue;
            }
            if c != '%' {
                literal.push(c);
                continue;
            }
            match chars.next() {
                None => return Err("the pattern ends with a lone `%`".into()),
                Some('%') => literal.push('%'),
                Some(letter) => {
                    let directive = Directive::of(letter)?;
                    if groups.contains(&directive) {
                        return Err(format!("`%{letter}` is given twice"));
                    }
                    flush(&mut literal, &mut regex);
                    regex.push('(');
                    regex.push_str(&directive.regex());
                    regex.push(')');
                    groups.push(directive);
                }
            }
        }
        flush(&mut literal, &mut regex);
        regex.push(')');
        let regex = Regex::new(&regex).map_err(|e| e.to_string())?;
        Ok(Strptime {
            source: pattern.to_owned(),
            regex,
            groups,
        })
    }

    /// The pattern as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Whether the pattern reads a time of day (hours, minutes or seconds).
    pub fn has_time(&self) -> bool {
        self.groups.iter().any(|d| {
            matches!(
                d,
                Directive::Hour24 | Directive::Hour12 | Directive::Minute | Directive::Second
            )
        })
    }

    /// Reads `text`: the date and time (1900-01-01 00:00:00 where the
    /// pattern has no such parts) and the UTC offset of `%z`.
    pub fn parse(&self, text: &str) -> Option<(NaiveDateTime, Option<i32>)> {
        let found = self.regex.captures(text)?;
        if found.get(0)?.end() != text.len() {
            return None; // "unconverted data remains"
        }
        let mut year = 1900i32;
        let (mut month, mut day) = (1u32, 1u32);
        let (mut hour, mut minute, mut second, mut nanos) = (0u32, 0u32, 0u32, 0u32);
        let (mut hour12, mut pm) = (None, None);
        let mut day_of_year = None;
        let mut offset = None;
        for (i, directive) in self.groups.iter().enumerate() {
            let part = found.get(i + 1)?.as_str();
            let number = || digits(part.trim_start().as_bytes());
            let lower = part.to_ascii_lowercase();
            match directive {
                Directive::Day => day = number(),
                Directive::Fraction => nanos = fraction_nanos(part.as_bytes()) / 1000 * 1000,
                Directive::Hour24 => hour = number(),
                Directive::Hour12 => hour12 = Some(number()),
                Directive::DayOfYear => day_of_year = Some(number()),
                Directive::Month => month = number(),
                Directive::Minute => minute = number(),
                Directive::Second => second = number(),
                Directive::Year2 => {
                    let yy = i32::try_from(number()).ok()?;
                    year = if yy <= 68 { 2000 + yy } else { 1900 + yy };
                }
                Directive::Year4 => year = i32::try_from(number()).ok()?,
                Directive::Zone => offset = Some(zone_seconds(part)?),
                Directive::AmPm => pm = Some(lower == "pm"),
                Directive::MonthName | Directive::MonthAbbreviation => {
                    let position = MONTHS.iter().position(|m| m.starts_with(&lower))?;
                    month = u32::try_from(position).ok()? + 1;
                }
                Directive::ZoneName
                | Directive::Weekday
                | Directive::WeekdayAbbreviation
                | Directive::WeekdayNumber
                | Directive::IsoWeekdayNumber => {}
            }
        }
        if let Some(h) = hour12 {
            hour = match (pm.unwrap_or(false), h) {
                (false, 12) => 0,
                (true, 12) => 12,
                (true, h) => h + 12,
                (false, h) => h,
            };
        }
        let date = match day_of_year {
            Some(n) => NaiveDate::from_ymd_opt(year, 1, 1)?
                .checked_add_days(chrono::Days::new(u64::from(n.checked_sub(1)?)))?,
            None => NaiveDate::from_ymd_opt(year, month, day)?,
        };
        let time = NaiveTime::from_hms_nano_opt(hour, minute, second, nanos)?;
        Some((date.and_time(time), offset))
    }
}

/// `%z`'s text in seconds east of UTC: `Z`, `±HHMM`, `±HH:MM`, with
/// optional seconds and microseconds; less than a day either way.
fn zone_seconds(text: &str) -> Option<i32> {
    if text == "Z" {
        return Some(0);
    }
    let negative = text.starts_with('-');
    let mut plain: String = text[1..].to_owned();
    if plain.as_bytes().get(2) == Some(&b':') {
        plain.remove(2);
        if plain.len() > 4 {
            if plain.as_bytes().get(4) != Some(&b':') {
                return None; // "Inconsistent use of :"
            }
            plain.remove(4);
        }
    }
    let b = plain.as_bytes();
    let field = |range: std::ops::Range<usize>| b.get(range).map_or(0, digits);
    let seconds = field(0..2) * 3600 + field(2..4) * 60 + field(4..6);
    if seconds >= 86_400 {
        return None;
    }
    let seconds = i32::try_from(seconds).ok()?;
    Some(if negative { -seconds } else { seconds })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(pattern: &str, text: &str) -> Option<String> {
        let p = Strptime::new(pattern).unwrap();
        p.parse(text).map(|(at, zone)| match zone {
            Some(z) => format!("{at} {z}"),
            None => at.to_string(),
        })
    }

    #[test]
    fn day_first_dates_as_python_reads_them() {
        let dmy = "%d/%m/%Y";
        assert_eq!(
            parse(dmy, "26/01/2024").as_deref(),
            Some("2024-01-26 00:00:00")
        );
        assert_eq!(
            parse(dmy, "1/2/2024").as_deref(),
            Some("2024-02-01 00:00:00")
        );
        for bad in [
            "26/01/24",
            "31/02/2024",
            "26/01/2024 ",
            "26-01-2024",
            "32/01/2024",
        ] {
            assert_eq!(parse(dmy, bad), None, "{bad}");
        }
    }

    #[test]
    fn zones_names_and_twelve_hour_clocks() {
        let iso = "%Y-%m-%dT%H:%M:%S%z";
        assert_eq!(
            parse(iso, "2024-01-26T15:00:00+0530").as_deref(),
            Some("2024-01-26 15:00:00 19800")
        );
        assert_eq!(
            parse(iso, "2024-01-26T15:00:00-05:30").as_deref(),
            Some("2024-01-26 15:00:00 -19800")
        );
        assert_eq!(
            parse(iso, "2024-01-26T15:00:00Z").as_deref(),
            Some("2024-01-26 15:00:00 0")
        );
        assert_eq!(
            parse(iso, "2024-01-26T15:00:00z"),
            None,
            "Z is case-sensitive"
        );
        assert_eq!(parse(iso, "2024-01-26T15:00:00"), None);
        assert_eq!(
            parse("%d %B %Y", "5 march  2024").as_deref(),
            Some("2024-03-05 00:00:00")
        );
        assert_eq!(
            parse("%d %b %Y", "05 MAY 2024").as_deref(),
            Some("2024-05-05 00:00:00")
        );
        assert_eq!(
            parse("%I:%M %p", "12:30 am").as_deref(),
            Some("1900-01-01 00:30:00")
        );
        assert_eq!(
            parse("%I:%M %p", "1:05 PM").as_deref(),
            Some("1900-01-01 13:05:00")
        );
        assert_eq!(
            parse("%y-%m-%d", "68-01-01").as_deref(),
            Some("2068-01-01 00:00:00")
        );
        assert_eq!(
            parse("%y-%m-%d", "69-01-01").as_deref(),
            Some("1969-01-01 00:00:00")
        );
        assert_eq!(
            parse("%H:%M:%S.%f", "10:00:00.5").as_deref(),
            Some("1900-01-01 10:00:00.500")
        );
        assert_eq!(
            parse("%Y %j", "2024 060").as_deref(),
            Some("2024-02-29 00:00:00")
        );
        assert_eq!(parse("%d%%", "5%").as_deref(), Some("1900-01-05 00:00:00"));
        assert_eq!(parse("%m/%d", "2/29"), None, "no leap day without a year");
        assert_eq!(
            parse("%x", "01/26/24").as_deref(),
            Some("2024-01-26 00:00:00")
        );
    }

    #[test]
    fn patterns_that_cannot_be_used() {
        for (bad, why) in [
            ("%Y-%m-%", "lone"),
            ("%d %d", "twice"),
            ("%Q", "not a strptime directive"),
            ("%U %Y", "week numbers"),
        ] {
            let error = Strptime::new(bad).unwrap_err();
            assert!(error.contains(why), "{bad}: {error}");
        }
        assert!(Strptime::new("%H:%M").unwrap().has_time());
        assert!(!Strptime::new("(%Y)").unwrap().has_time());
        assert_eq!(
            parse("(%Y)", "(2024)").as_deref(),
            Some("2024-01-01 00:00:00")
        );
    }
}
