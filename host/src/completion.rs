//! When a diary was completed, in the patient's own time zone.
//!
//! "Not after today" means the patient's today: a diary completed at 01:30
//! in Shanghai is dated the next day while the server (on UTC) is still on
//! the previous one. The page sends the completion time with its UTC
//! offset (`2026-12-02T01:30:00+08:00`); its local date is the diary's day
//! (the as-of date it is checked with, and the day of the one-a-day rule).
//! What can be checked is checked: the offset must be one that time zones
//! use (UTC−12:00 to UTC+14:00), and the moment may not be later than now
//! (beyond a little clock drift). A diary completed offline and sent days
//! later keeps its own day: the device's record of it is the evidence, and
//! the server stores when it received it beside it.

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};

/// How far ahead of the server's clock a device's may be.
const CLOCK_DRIFT: chrono::TimeDelta = chrono::TimeDelta::minutes(5);
/// The time zones in use: UTC−12:00 (Baker Island) to UTC+14:00 (Line Islands), in seconds.
const OFFSETS: std::ops::RangeInclusive<i32> = -12 * 3600..=14 * 3600;

/// A completion time with the device's UTC offset, checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Completion(DateTime<FixedOffset>);

/// Why a completion time is refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CompletionError {
    /// Not RFC 3339 with an offset.
    #[error(
        "completedAt `{text}` is not a time with its UTC offset, as 2026-12-02T01:30:00+08:00: {reason}"
    )]
    Syntax {
        /// The text sent.
        text: String,
        /// The parser's reason.
        reason: chrono::ParseError,
    },
    /// An offset no time zone has.
    #[error(
        "completedAt's UTC offset {offset} is outside the time zones in use (UTC-12:00 to UTC+14:00)"
    )]
    Offset {
        /// The offset, as `+15:00`.
        offset: FixedOffset,
    },
    /// Later than now.
    #[error("completedAt {at} is later than the server's clock ({now}): check the device's clock")]
    Future {
        /// The completion time.
        at: String,
        /// The server's time (UTC).
        now: String,
    },
}

impl CompletionError {
    /// The API's error code.
    pub fn code(&self) -> &'static str {
        match self {
            CompletionError::Syntax { .. } => "invalid_completed_at",
            CompletionError::Offset { .. } => "offset_out_of_range",
            CompletionError::Future { .. } => "completed_in_future",
        }
    }
}

impl Completion {
    /// Parses and checks `text` at the server's time `now`.
    pub fn parse(text: &str, now: DateTime<Utc>) -> Result<Completion, CompletionError> {
        let at = DateTime::parse_from_rfc3339(text).map_err(|reason| CompletionError::Syntax {
            text: text.to_owned(),
            reason,
        })?;
        if !OFFSETS.contains(&at.offset().local_minus_utc()) {
            return Err(CompletionError::Offset {
                offset: *at.offset(),
            });
        }
        if at.with_timezone(&Utc) > now + CLOCK_DRIFT {
            return Err(CompletionError::Future {
                at: text.to_owned(),
                now: now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            });
        }
        Ok(Completion(at))
    }

    /// The patient's day.
    pub fn local_date(self) -> NaiveDate {
        self.0.date_naive()
    }

    /// Minutes east of UTC.
    pub fn offset_minutes(self) -> i32 {
        self.0.offset().local_minus_utc() / 60
    }

    /// RFC 3339 with the device's offset, to the second.
    pub fn to_rfc3339(self) -> String {
        self.0.to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
    }
}

/// An offset of `minutes` east of UTC as `+08:00` / `-11:00`.
pub fn offset_text(minutes: i32) -> String {
    let sign = if minutes < 0 { '-' } else { '+' };
    let minutes = minutes.unsigned_abs();
    format!("{sign}{:02}:{:02}", minutes / 60, minutes % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().to_utc()
    }

    #[test]
    fn the_shanghai_night_is_the_next_day_while_utc_is_still_on_the_last() {
        let now = utc("2026-12-01T17:30:05Z");
        let at = Completion::parse("2026-12-02T01:30:00+08:00", now).unwrap();
        assert_eq!(at.local_date().to_string(), "2026-12-02");
        assert_eq!(at.offset_minutes(), 480);
        assert_eq!(at.to_rfc3339(), "2026-12-02T01:30:00+08:00");
        // Behind UTC: Pago Pago is still on the 1st when London is on the 2nd.
        let at =
            Completion::parse("2026-12-01T13:10:00-11:00", utc("2026-12-02T00:10:00Z")).unwrap();
        assert_eq!(at.local_date().to_string(), "2026-12-01");
        assert_eq!(at.offset_minutes(), -660);
        assert_eq!(offset_text(-660), "-11:00");
        assert_eq!(offset_text(345), "+05:45");
        assert_eq!(offset_text(0), "+00:00");
    }

    #[test]
    fn every_real_offset_is_accepted_and_no_other() {
        let now = utc("2026-12-01T12:00:00Z");
        for (text, day) in [
            ("2026-12-02T02:00:00+14:00", "2026-12-02"),
            ("2026-11-30T23:59:00-12:00", "2026-11-30"),
            ("2026-12-01T00:00:00-12:00", "2026-12-01"),
            ("2026-12-01T17:45:00+05:45", "2026-12-01"),
        ] {
            match Completion::parse(text, now) {
                Ok(at) => assert_eq!(at.local_date().to_string(), day, "{text}"),
                Err(error) => assert!(day.is_empty(), "{text}: {error}"),
            }
        }
        for text in ["2026-12-02T03:00:00+15:00", "2026-11-30T23:00:00-13:00"] {
            let error = Completion::parse(text, now).unwrap_err();
            assert_eq!(error.code(), "offset_out_of_range", "{text}");
        }
    }

    #[test]
    fn a_time_later_than_now_is_refused_beyond_clock_drift() {
        let now = utc("2026-12-01T12:00:00Z");
        assert!(Completion::parse("2026-12-01T20:04:00+08:00", now).is_ok());
        let error = Completion::parse("2026-12-01T20:06:00+08:00", now).unwrap_err();
        assert_eq!(error.code(), "completed_in_future");
        assert!(
            error.to_string().contains("2026-12-01T12:00:00Z"),
            "{error}"
        );
        // A diary completed offline last week keeps its day.
        let at = Completion::parse("2026-11-24T21:00:00+01:00", now).unwrap();
        assert_eq!(at.local_date().to_string(), "2026-11-24");
    }

    #[test]
    fn a_time_without_its_offset_is_refused() {
        let now = utc("2026-12-01T12:00:00Z");
        for text in [
            "2026-12-01T08:00:00",
            "2026-12-01 08:00",
            "2026-12-01",
            "yesterday",
            "",
        ] {
            let error = Completion::parse(text, now).unwrap_err();
            assert_eq!(error.code(), "invalid_completed_at", "{text}");
        }
    }
}
