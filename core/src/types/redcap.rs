//! REDCap's text validation types, read as `shared/spec/redcap-dictionary.md`
//! defines them: the formats `redcap-*` of `date`, `datetime`, `time`,
//! `number` and `string`. REDCap's own rules, not Table Schema's: two-digit
//! months and days, one separator used twice, hours of one or two digits,
//! ASCII digits only, and its e-mail, North American phone and ZIP code
//! forms.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};

/// The order of a date's parts besides the ISO form (always accepted).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateOrder {
    /// `YYYY-MM-DD` or `YYYY/MM/DD` (`date_ymd`).
    Ymd,
    /// ISO, or `MM-DD-YYYY` / `MM/DD/YYYY` (`date_mdy`).
    Mdy,
    /// ISO, or `DD-MM-YYYY` / `DD/MM/YYYY` (`date_dmy`).
    Dmy,
}

/// A time of day's form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clock {
    /// `H:MM` or `HH:MM`, 0:00–23:59 (`time`).
    HoursMinutes,
    /// `H:MM:SS` or `HH:MM:SS` (`time_hh_mm_ss`).
    HoursMinutesSeconds,
    /// `MM:SS`, 00:00–59:59 (`time_mm_ss`), read as a time under an hour.
    MinutesSeconds,
}

impl DateOrder {
    /// The order a format names: `redcap-ymd`, `redcap-mdy`, `redcap-dmy`.
    pub fn of_format(format: &str) -> Option<DateOrder> {
        Some(match format {
            "redcap-ymd" => DateOrder::Ymd,
            "redcap-mdy" => DateOrder::Mdy,
            "redcap-dmy" => DateOrder::Dmy,
            _ => return None,
        })
    }
}

fn digits(text: &str, len: usize) -> Option<u32> {
    (text.len() == len && text.bytes().all(|b| b.is_ascii_digit()))
        .then(|| text.parse().ok())
        .flatten()
}

/// A date of `order`'s forms.
pub fn date(text: &str, order: DateOrder) -> Option<NaiveDate> {
    let bytes = text.as_bytes();
    if bytes.len() != 10 {
        return None;
    }
    let separator = |at: usize| matches!(bytes[at], b'-' | b'/');
    let (year, month, day) = if separator(4) && bytes[7] == bytes[4] {
        // ISO (and date_ymd's slashes): only `-` outside ymd.
        if bytes[4] == b'/' && order != DateOrder::Ymd {
            return None;
        }
        (&text[..4], &text[5..7], &text[8..])
    } else if separator(2) && bytes[5] == bytes[2] && order != DateOrder::Ymd {
        let (a, b) = (&text[..2], &text[3..5]);
        match order {
            DateOrder::Mdy => (&text[6..], a, b),
            _ => (&text[6..], b, a),
        }
    } else {
        return None;
    };
    NaiveDate::from_ymd_opt(
        i32::try_from(digits(year, 4)?).ok()?,
        digits(month, 2)?,
        digits(day, 2)?,
    )
}

/// `H:MM`, `HH:MM`, and with `seconds` `:SS` after.
fn clock(text: &str, seconds: bool) -> Option<NaiveTime> {
    let mut parts = text.split(':');
    let hour = parts.next()?;
    let hour = match hour.len() {
        1 => digits(hour, 1)?,
        _ => digits(hour, 2)?,
    };
    let minute = digits(parts.next()?, 2)?;
    let second = if seconds {
        digits(parts.next()?, 2)?
    } else {
        0
    };
    if parts.next().is_some() || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    NaiveTime::from_hms_opt(hour, minute, second)
}

/// A time of `form`.
pub fn time(text: &str, form: Clock) -> Option<NaiveTime> {
    match form {
        Clock::HoursMinutes => clock(text, false),
        Clock::HoursMinutesSeconds => clock(text, true),
        Clock::MinutesSeconds => {
            let (minutes, seconds) = text.split_once(':')?;
            let (m, s) = (digits(minutes, 2)?, digits(seconds, 2)?);
            (m <= 59 && s <= 59).then(|| NaiveTime::from_hms_opt(0, m, s))?
        }
    }
}

/// A date of `order`'s forms, a space, and a time (`H:MM`, with
/// `seconds` `H:MM:SS`).
pub fn date_time(text: &str, order: DateOrder, seconds: bool) -> Option<NaiveDateTime> {
    let (day, at) = text.split_once(' ')?;
    Some(date(day, order)?.and_time(clock(at, seconds)?))
}

/// REDCap's `number`: `[-+]?[0-9]*\.?[0-9]+([eE][-+]?[0-9]+)?`.
pub fn is_number(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut at = usize::from(matches!(bytes.first(), Some(b'+' | b'-')));
    let run = |from: usize| {
        bytes[from..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count()
    };
    let whole = run(at);
    at += whole;
    if bytes.get(at) == Some(&b'.') {
        let fraction = run(at + 1);
        if fraction == 0 {
            return false; // `5.` is not a REDCap number
        }
        at += 1 + fraction;
    } else if whole == 0 {
        return false;
    }
    if matches!(bytes.get(at), Some(b'e' | b'E')) {
        at += 1;
        at += usize::from(matches!(bytes.get(at), Some(b'+' | b'-')));
        let exponent = run(at);
        if exponent == 0 {
            return false;
        }
        at += exponent;
    }
    at == bytes.len()
}

/// REDCap's `email`: a local part of `A-Za-z0-9_'+-` in dot-separated runs,
/// `@`, domain labels of `A-Za-z0-9-`, the last of two or more letters.
pub fn is_email(text: &str) -> bool {
    let Some((local, domain)) = text.split_once('@') else {
        return false;
    };
    let runs = |s: &str, ok: fn(u8) -> bool| {
        !s.is_empty() && s.split('.').all(|r| !r.is_empty() && r.bytes().all(ok))
    };
    let local_ok = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'\'' | b'+' | b'-');
    let label_ok = |b: u8| b.is_ascii_alphanumeric() || b == b'-';
    let last = domain.rsplit('.').next().unwrap_or("");
    runs(local, local_ok)
        && domain.contains('.')
        && runs(domain, label_ok)
        && last.len() >= 2
        && last.bytes().all(|b| b.is_ascii_alphabetic())
}

/// REDCap's `phone`: a North American number. An area code (in
/// parentheses or not) whose first digit is 2–9 and that is not `N11`, a
/// three-digit exchange starting 2–9, four digits, separated by nothing,
/// `.`, `-` or spaces; then optionally `x`, `ext` or `#` and digits.
pub fn is_phone(text: &str) -> bool {
    let mut rest = text.trim_start();
    let digits_run = |s: &str, n: usize| -> Option<(Vec<u8>, usize)> {
        let run: Vec<u8> = s.bytes().take(n).collect();
        (run.len() == n && run.iter().all(u8::is_ascii_digit)).then_some((run, n))
    };
    let separator = |s: &str| -> usize {
        let trimmed = s.trim_start_matches(' ');
        let after = trimmed.strip_prefix(['.', '-']).unwrap_or(trimmed);
        s.len() - after.trim_start_matches(' ').len()
    };
    let parenthesised = rest.starts_with('(');
    if parenthesised {
        rest = &rest[1..];
    }
    let Some((area, n)) = digits_run(rest, 3) else {
        return false;
    };
    rest = &rest[n..];
    if parenthesised {
        let Some(after) = rest.strip_prefix(')') else {
            return false;
        };
        rest = after;
    }
    if !(b'2'..=b'9').contains(&area[0]) || area[1] == b'1' && area[2] == b'1' {
        return false;
    }
    rest = &rest[separator(rest)..];
    let Some((exchange, n)) = digits_run(rest, 3) else {
        return false;
    };
    if !(b'2'..=b'9').contains(&exchange[0]) {
        return false;
    }
    rest = &rest[n..];
    rest = &rest[separator(rest)..];
    let Some((_, n)) = digits_run(rest, 4) else {
        return false;
    };
    rest = rest[n..].trim();
    if rest.is_empty() {
        return true;
    }
    let Some(number) = ["ext", "x", "#"]
        .iter()
        .find_map(|mark| rest.strip_prefix(mark))
        .map(str::trim_start)
    else {
        return false;
    };
    !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit())
}

/// REDCap's `zipcode`: `[0-9]{5}(-[0-9]{4})?`.
pub fn is_zipcode(text: &str) -> bool {
    let five = |s: &str| s.len() == 5 && s.bytes().all(|b| b.is_ascii_digit());
    match text.split_once('-') {
        None => five(text),
        Some((zip, plus)) => {
            five(zip) && plus.len() == 4 && plus.bytes().all(|b| b.is_ascii_digit())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_in_each_order() {
        let d = |y, m, d| NaiveDate::from_ymd_opt(y, m, d);
        for (text, order, expected) in [
            ("2024-05-09", DateOrder::Ymd, d(2024, 5, 9)),
            ("2024/05/09", DateOrder::Ymd, d(2024, 5, 9)),
            ("2024-05/09", DateOrder::Ymd, None),
            ("2024-5-09", DateOrder::Ymd, None),
            ("05-09-2024", DateOrder::Ymd, None),
            ("2024-05-09", DateOrder::Mdy, d(2024, 5, 9)),
            ("05-09-2024", DateOrder::Mdy, d(2024, 5, 9)),
            ("05/09/2024", DateOrder::Mdy, d(2024, 5, 9)),
            ("2024/05/09", DateOrder::Mdy, None),
            ("13-09-2024", DateOrder::Mdy, None),
            ("05-09-2024", DateOrder::Dmy, d(2024, 9, 5)),
            ("31/12/2024", DateOrder::Dmy, d(2024, 12, 31)),
            ("2024-02-30", DateOrder::Ymd, None),
            ("２０２４-05-09", DateOrder::Ymd, None),
        ] {
            assert_eq!(date(text, order), expected, "{text} {order:?}");
        }
    }

    #[test]
    fn times_and_date_times() {
        let t = |h, m, s| NaiveTime::from_hms_opt(h, m, s);
        for (text, form, expected) in [
            ("9:05", Clock::HoursMinutes, t(9, 5, 0)),
            ("09:05", Clock::HoursMinutes, t(9, 5, 0)),
            ("23:59", Clock::HoursMinutes, t(23, 59, 0)),
            ("24:00", Clock::HoursMinutes, None),
            ("9:5", Clock::HoursMinutes, None),
            ("9:05:01", Clock::HoursMinutes, None),
            ("9:05:01", Clock::HoursMinutesSeconds, t(9, 5, 1)),
            ("09:05:60", Clock::HoursMinutesSeconds, None),
            ("59:59", Clock::MinutesSeconds, t(0, 59, 59)),
            ("5:59", Clock::MinutesSeconds, None),
            ("60:00", Clock::MinutesSeconds, None),
        ] {
            assert_eq!(time(text, form), expected, "{text}");
        }
        assert!(date_time("05-09-2024 7:30", DateOrder::Mdy, false).is_some());
        assert!(date_time("05-09-2024 7:30:01", DateOrder::Mdy, false).is_none());
        assert!(date_time("2024-05-09 17:30:01", DateOrder::Dmy, true).is_some());
        assert!(date_time("2024-05-09T17:30", DateOrder::Ymd, false).is_none());
    }

    #[test]
    fn numbers_emails_phones_zipcodes() {
        for good in ["5", "-5", "+5.25", ".5", "1e3", "1.5E-2", "007"] {
            assert!(is_number(good), "{good}");
        }
        for bad in ["5.", ".", "", "1e", "NaN", "INF", "1,5", "1 ", "٥"] {
            assert!(!is_number(bad), "{bad}");
        }
        for good in [
            "a@b.co",
            "first.last+tag@mail.example.org",
            "o'neil@x-y.com",
        ] {
            assert!(is_email(good), "{good}");
        }
        for bad in [
            "a@b",
            "a@b.c",
            "a@b.c1",
            ".a@b.co",
            "a..b@c.co",
            "a b@c.co",
            "a@-.co@",
            "@b.co",
        ] {
            assert!(!is_email(bad), "{bad}");
        }
        for good in [
            "3364812635",
            "336-481-2635",
            "(336) 481-2635",
            "336.481.2635",
            "336 481 2635",
            "336-481-2635 x123",
            "336-481-2635ext12",
            "336-481-2635 #9",
            "200-481-2635",
        ] {
            assert!(is_phone(good), "{good}");
        }
        for bad in [
            "136-481-2635",
            "211-481-2635",
            "336-181-2635",
            "336-481-263",
            "336-481-26355",
            "(336 481-2635",
            "336-481-2635 x",
            "+1 336 481 2635",
        ] {
            assert!(!is_phone(bad), "{bad}");
        }
        for good in ["12345", "12345-6789"] {
            assert!(is_zipcode(good), "{good}");
        }
        for bad in ["1234", "123456", "12345-678", "12345 6789", "ABCDE"] {
            assert!(!is_zipcode(bad), "{bad}");
        }
    }
}
