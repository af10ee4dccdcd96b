//! The ids people give trials and patients: 1 to 64 ASCII letters,
//! digits, `-` or `_` (safe in a URL path, a file name, a CSV cell).
//! Checked once where an id comes in — a request body, a path, a command
//! line — as a [`TrialId`] or a [`PatientId`]; a client's
//! [`IdempotencyKey`] likewise.

use std::fmt;

/// Why an id is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} `{text}` must be 1 to 64 letters, digits, `-` or `_`")]
pub struct IdError {
    /// Which id (`patientId`, `trial id`).
    pub what: &'static str,
    /// The text given.
    pub text: String,
}

fn check(what: &'static str, text: &str) -> Result<String, IdError> {
    let ok = (1..=64).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(text.to_owned())
    } else {
        Err(IdError {
            what,
            text: text.to_owned(),
        })
    }
}

macro_rules! id_type {
    ($name:ident, $what:literal, $doc:literal) => {
        #[doc = $doc]
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            /// Checks `text`; `what` names it in the error (`patientId`).
            pub fn parse_as(text: &str, what: &'static str) -> Result<$name, IdError> {
                check(what, text).map($name)
            }

            /// Checks `text`.
            pub fn parse(text: &str) -> Result<$name, IdError> {
                $name::parse_as(text, $what)
            }

            /// The id's text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl std::str::FromStr for $name {
            type Err = IdError;
            fn from_str(text: &str) -> Result<$name, IdError> {
                $name::parse(text)
            }
        }
    };
}

id_type!(TrialId, "trial id", "A trial's (a project's) id.");
id_type!(PatientId, "patient id", "A patient's id within a trial.");

/// A client's `Idempotency-Key`: 1 to 255 visible ASCII characters. The
/// same key from the same token names one submission.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyKey(String);

/// Why an Idempotency-Key is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Idempotency-Key must be 1 to 255 visible ASCII characters")]
pub struct KeyError;

impl IdempotencyKey {
    /// Checks `bytes` (a header's value or a query's).
    pub fn parse(bytes: &[u8]) -> Result<IdempotencyKey, KeyError> {
        if (1..=255).contains(&bytes.len()) && bytes.iter().all(|b| b.is_ascii_graphic()) {
            Ok(IdempotencyKey(String::from_utf8_lossy(bytes).into_owned()))
        } else {
            Err(KeyError)
        }
    }

    /// The key's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The key's text, owned.
    pub fn into_string(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_short_safe_ascii() {
        for good in ["P-001", "CT001", "a", "x_y", &"9".repeat(64)] {
            assert_eq!(PatientId::parse(good).unwrap().as_str(), good);
        }
        for bad in ["", "P 001", "P/001", "Ｐ001", "é", &"9".repeat(65)] {
            let error = TrialId::parse_as(bad, "id").unwrap_err();
            assert_eq!(
                error.to_string(),
                format!("id `{bad}` must be 1 to 64 letters, digits, `-` or `_`")
            );
        }
    }

    #[test]
    fn idempotency_keys_are_visible_ascii_up_to_255() {
        for good in ["k", "2f1c-9a~!", &"x".repeat(255)] {
            assert_eq!(
                IdempotencyKey::parse(good.as_bytes()).unwrap().as_str(),
                good
            );
        }
        for bad in ["", "a b", "tab\t", "é", &"x".repeat(256)] {
            assert_eq!(
                IdempotencyKey::parse(bad.as_bytes()),
                Err(KeyError),
                "{bad}"
            );
        }
    }
}
