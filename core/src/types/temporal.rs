//! The default forms of Table Schema's temporal types, as XML Schema
//! writes them: `date` `yyyy-mm-dd`, `time` `hh:mm:ss(.s+)?(zone)?`,
//! `datetime` `yyyy-mm-ddThh:mm:ss(.s+)?(zone)?`, `year` `yyyy`,
//! `yearmonth` `yyyy-mm`, and `duration` `-?PnYnMnDTnHnMnS`.
//!
//! Hand-written scanners (no regex): `date` and `datetime` run per cell.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};

use crate::value::Duration;

/// A time of day and its UTC offset in seconds, if written.
pub type Zoned<T> = (T, Option<i32>);

/// Value of a run of ASCII digits (callers check the bytes are digits).
pub(crate) fn digits(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0, |n, b| {
        n.wrapping_mul(10)
            .wrapping_add(u32::from(b.wrapping_sub(b'0')))
    })
}

fn all_digits(bytes: &[u8]) -> bool {
    !bytes.is_empty() && bytes.iter().all(u8::is_ascii_digit)
}

/// `yyyy-mm-dd`, a real calendar date.
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    let b = text.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    if !(all_digits(&b[..4]) && all_digits(&b[5..7]) && all_digits(&b[8..])) {
        return None;
    }
    let year = i32::try_from(digits(&b[..4])).ok()?;
    NaiveDate::from_ymd_opt(year, digits(&b[5..7]), digits(&b[8..]))
}

/// `hh:mm:ss`, an optional fraction and an optional zone (`Z`, `±hh:mm`).
pub fn parse_time(text: &str) -> Option<Zoned<NaiveTime>> {
    let b = text.as_bytes();
    if b.len() < 8 || b[2] != b':' || b[5] != b':' {
        return None;
    }
    if !(all_digits(&b[..2]) && all_digits(&b[3..5]) && all_digits(&b[6..8])) {
        return None;
    }
    let mut at = 8;
    let mut nanos = 0;
    if b.get(at) == Some(&b'.') {
        let count = b[at + 1..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        if count == 0 {
            return None;
        }
        nanos = fraction_nanos(&b[at + 1..at + 1 + count]);
        at += 1 + count;
    }
    let offset = parse_zone(&text[at..])?;
    let (hour, minute, second) = (digits(&b[..2]), digits(&b[3..5]), digits(&b[6..8]));
    if (hour, minute, second, nanos) == (24, 0, 0, 0) {
        return Some((NaiveTime::MIN, offset)); // XML Schema's end of day
    }
    let time = NaiveTime::from_hms_nano_opt(hour, minute, second, nanos)?;
    Some((time, offset))
}

/// `yyyy-mm-ddThh:mm:ss`, an optional fraction and an optional zone.
pub fn parse_datetime(text: &str) -> Option<Zoned<NaiveDateTime>> {
    let (date, time) = (text.get(..10)?, text.get(11..)?);
    if text.as_bytes().get(10) != Some(&b'T') {
        return None;
    }
    let (clock, offset) = parse_time(time)?;
    let mut day = parse_date(date)?;
    if time.starts_with("24:") {
        day = day.succ_opt()?; // 24:00:00 is the start of the next day
    }
    Some((day.and_time(clock), offset))
}

/// A zone: nothing, `Z`, or `±hh:mm` (at most 14:00 either way). The
/// outer `None` is a malformed zone; the inner one, no zone.
pub(crate) fn parse_zone(text: &str) -> Option<Option<i32>> {
    let b = text.as_bytes();
    match b {
        [] => Some(None),
        [b'Z'] => Some(Some(0)),
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            if !all_digits(&[*h1, *h2, *m1, *m2]) {
                return None;
            }
            let (hours, minutes) = (digits(&[*h1, *h2]), digits(&[*m1, *m2]));
            if minutes > 59 || hours * 60 + minutes > 14 * 60 {
                return None;
            }
            let seconds = i32::try_from(hours * 3600 + minutes * 60).ok()?;
            Some(Some(if *sign == b'-' { -seconds } else { seconds }))
        }
        _ => None,
    }
}

/// Nanoseconds of a fraction's digits (`3` → 300 000 000); digits past
/// the ninth are dropped.
pub(crate) fn fraction_nanos(digits_after_point: &[u8]) -> u32 {
    let mut nanos = 0u32;
    for i in 0..9 {
        let digit = digits_after_point.get(i).map_or(0, |b| u32::from(b - b'0'));
        nanos = nanos * 10 + digit;
    }
    nanos
}

/// `yyyy`: four digits.
pub fn parse_year(text: &str) -> Option<i32> {
    let b = text.as_bytes();
    (b.len() == 4 && all_digits(b)).then(|| i32::try_from(digits(b)).ok())?
}

/// `yyyy-mm`, month 01 to 12.
pub fn parse_yearmonth(text: &str) -> Option<(i32, u8)> {
    let b = text.as_bytes();
    if b.len() != 7 || b[4] != b'-' || !all_digits(&b[5..]) {
        return None;
    }
    let year = parse_year(&text[..4])?;
    let month = u8::try_from(digits(&b[5..])).ok()?;
    (1..=12).contains(&month).then_some((year, month))
}

/// `-?P(nY)?(nM)?(nD)?(T(nH)?(nM)?(n(.n)?S)?)?`: at least one part, and
/// at least one after a `T`; only seconds may have a fraction.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let (negative, rest) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let rest = rest.strip_prefix('P')?;
    let (date, time) = match rest.split_once('T') {
        Some((date, time)) if !time.is_empty() => (date, Some(time)),
        Some(_) => return None,
        None => (rest, None),
    };
    let mut duration = Duration {
        negative,
        parts: [0; 5],
        seconds: 0.0,
    };
    let mut any = false;
    // Designators in order, each at most once: the index into `parts`.
    let mut read = |text: &str, units: &[(u8, usize)]| -> Option<()> {
        let mut bytes = text.as_bytes();
        let mut next_unit = 0;
        while !bytes.is_empty() {
            let count = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
            let fraction = if bytes.get(count) == Some(&b'.') {
                1 + bytes[count + 1..]
                    .iter()
                    .take_while(|b| b.is_ascii_digit())
                    .count()
            } else {
                0
            };
            let designator = *bytes.get(count + fraction)?;
            let position = units[next_unit..]
                .iter()
                .position(|(d, _)| *d == designator)?;
            next_unit += position + 1;
            let (_, slot) = units[next_unit - 1];
            if count == 0 || fraction == 1 {
                return None;
            }
            if slot == 5 {
                let number = std::str::from_utf8(&bytes[..count + fraction]).ok()?;
                duration.seconds = super::number::parse_decimal(number)?;
            } else if fraction > 0 {
                return None;
            } else {
                let number = std::str::from_utf8(&bytes[..count]).ok()?;
                duration.parts[slot] = number.parse().ok()?;
            }
            any = true;
            bytes = &bytes[count + fraction + 1..];
        }
        Some(())
    };
    read(date, &[(b'Y', 0), (b'M', 1), (b'D', 2)])?;
    if let Some(time) = time {
        read(time, &[(b'H', 3), (b'M', 4), (b'S', 5)])?;
    }
    any.then_some(duration)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_yyyy_mm_dd_only() {
        assert_eq!(
            parse_date("2024-01-26"),
            NaiveDate::from_ymd_opt(2024, 1, 26)
        );
        for bad in [
            "2024-1-26",
            "20240126",
            "2024-01-26T00:00:00",
            " 2024-01-26",
            "2023-02-29",
            "2024/01/26",
        ] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn times_with_fractions_and_zones() {
        let t = |h, m, s, n| NaiveTime::from_hms_nano_opt(h, m, s, n).unwrap();
        assert_eq!(parse_time("15:00:00"), Some((t(15, 0, 0, 0), None)));
        assert_eq!(
            parse_time("15:00:00.5"),
            Some((t(15, 0, 0, 500_000_000), None))
        );
        assert_eq!(parse_time("15:00:00Z"), Some((t(15, 0, 0, 0), Some(0))));
        assert_eq!(
            parse_time("15:00:00-05:30"),
            Some((t(15, 0, 0, 0), Some(-19800)))
        );
        assert_eq!(
            parse_time("24:00:00"),
            Some((t(0, 0, 0, 0), None)),
            "end of day"
        );
        for bad in [
            "15:00",
            "5:00:00",
            "15:60:00",
            "24:00:01",
            "24:00:00.5",
            "15:00:60",
            "15:00:00.",
            "15:00:00+0500",
            "15:00:00+15:00",
            "15:00:00 ",
        ] {
            assert_eq!(parse_time(bad), None, "{bad}");
        }
    }

    #[test]
    fn datetimes_need_the_t() {
        let (at, zone) = parse_datetime("2024-01-26T15:00:00.300-05:00").unwrap();
        assert_eq!(at.to_string(), "2024-01-26 15:00:00.300");
        assert_eq!(zone, Some(-18000));
        let (midnight, _) = parse_datetime("2024-12-31T24:00:00").unwrap();
        assert_eq!(midnight.to_string(), "2025-01-01 00:00:00");
        for bad in [
            "2024-01-26 15:00:00",
            "2024-01-26T15:00",
            "2024-1-26T15:00:00",
            "20240126T150000",
            "2024-01-26T",
        ] {
            assert_eq!(parse_datetime(bad), None, "{bad}");
        }
    }

    #[test]
    fn years_and_months() {
        assert_eq!(parse_year("2020"), Some(2020));
        assert_eq!(parse_year("0000"), Some(0));
        for bad in ["-2020", "20200", "2020Z", "99", "２０２０"] {
            assert_eq!(parse_year(bad), None, "{bad}");
        }
        assert_eq!(parse_yearmonth("2020-01"), Some((2020, 1)));
        for bad in ["2020-1", "2020-13", "2020-00", "2020/01", "202001"] {
            assert_eq!(parse_yearmonth(bad), None, "{bad}");
        }
    }

    #[test]
    fn durations() {
        let d = parse_duration("P1Y2M10DT2H30M").unwrap();
        assert_eq!(
            (d.negative, d.parts, d.seconds),
            (false, [1, 2, 10, 2, 30], 0.0)
        );
        assert_eq!(parse_duration("PT0.5S").unwrap().seconds, 0.5);
        assert!(parse_duration("-P1D").unwrap().negative);
        assert_eq!(parse_duration("PT36H").unwrap().parts[3], 36);
        assert_eq!(parse_duration("P1M").unwrap().parts[1], 1);
        assert_eq!(parse_duration("PT1M").unwrap().parts[4], 1);
        for bad in [
            "P", "PT", "P1DT", "P1W", "P0.5Y", "PT1.S", "P1D2Y", "P1Y1Y", "1D", "P-1D", "PT1H30",
        ] {
            assert!(parse_duration(bad).is_none(), "{bad}");
        }
    }
}
