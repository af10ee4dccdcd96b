//! `integer` and `number`: Table Schema's lexical rules, with
//! `decimalChar`, `groupChar` and `bareNumber`.
//!
//! The grammar is XML Schema's `decimal` with Table Schema's additions
//! (an exponent; `NaN`, `INF`, `-INF` in any case): `[+-]?(d+(.d*)?|.d+)
//! ([eE][+-]?d+)?`. Only ASCII digits count, and nothing is trimmed: white
//! space around a number is not a number (the protocol's cleaning may trim
//! it first).

use std::borrow::Cow;

/// How a field writes its numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumberSyntax {
    /// The decimal point (`decimalChar`, default `.`).
    pub decimal_char: char,
    /// A character grouping digits (`groupChar`), removed before reading.
    pub group_char: Option<char>,
    /// `bareNumber`: when false, leading and trailing non-numeric text
    /// (`€95`, `95%`) is stripped.
    pub bare: bool,
    /// REDCap's `number` grammar (format `redcap`): no `NaN`, no `5.`.
    pub redcap: Option<super::Full>,
}

impl Default for NumberSyntax {
    fn default() -> Self {
        NumberSyntax {
            decimal_char: '.',
            group_char: None,
            bare: true,
            redcap: None,
        }
    }
}

impl NumberSyntax {
    /// Whether the text is read as it is: a bare number, `.` its decimal
    /// point, no group character.
    fn plain(&self) -> bool {
        self.bare && self.decimal_char == '.' && self.group_char.is_none()
    }

    /// The text with stripping and group characters applied, in plain
    /// syntax (`.` as the decimal point); `None` when it cannot be one.
    fn normalise<'t>(&self, text: &'t str) -> Option<Cow<'t, str>> {
        let mut text = text;
        if !self.bare {
            let decimal = self.decimal_char;
            let numeric = |c: char| c.is_ascii_digit() || c == decimal;
            let start = text.find(|c: char| numeric(c) || c == '-' || c == '+')?;
            let (last, c) = text.char_indices().rev().find(|&(_, c)| numeric(c))?;
            text = text.get(start..last + c.len_utf8())?;
        }
        if self.decimal_char == '.' && self.group_char.is_none() {
            return Some(Cow::Borrowed(text));
        }
        if self.decimal_char != '.' && text.contains('.') && self.group_char != Some('.') {
            return None;
        }
        let mut out = String::with_capacity(text.len());
        for c in text.chars() {
            if Some(c) == self.group_char {
                continue;
            }
            out.push(if c == self.decimal_char { '.' } else { c });
        }
        Some(Cow::Owned(out))
    }

    /// An `integer` field's text as an `i64`.
    pub fn integer(&self, text: &str) -> Option<i64> {
        if self.plain() {
            return parse_integer(text);
        }
        let text = self.normalise(text)?;
        parse_integer(&text)
    }

    /// A `number` field's text as an `f64` (`NaN`, `INF`, `-INF` included).
    pub fn number(&self, text: &str) -> Option<f64> {
        if self.redcap.is_some() && !super::redcap::is_number(text) {
            return None;
        }
        // Most cells: a number in the plain syntax that starts with a
        // digit (so is not `NaN` or `INF`).
        if self.plain() && text.as_bytes().first().is_some_and(u8::is_ascii_digit) {
            return parse_decimal(text);
        }
        if let Some(special) = special(text) {
            return Some(special);
        }
        let text = self.normalise(text)?;
        parse_decimal(&text)
    }
}

/// `NaN`, `INF` or `-INF`, in any case.
fn special(text: &str) -> Option<f64> {
    if text.eq_ignore_ascii_case("nan") {
        Some(f64::NAN)
    } else if text.eq_ignore_ascii_case("inf") {
        Some(f64::INFINITY)
    } else if text.eq_ignore_ascii_case("-inf") {
        Some(f64::NEG_INFINITY)
    } else {
        None
    }
}

/// `[+-]?[0-9]+` into an `i64` (`None` past its range).
pub fn parse_integer(text: &str) -> Option<i64> {
    let (negative, digits) = match text.as_bytes() {
        [b'-', rest @ ..] => (true, rest),
        [b'+', rest @ ..] => (false, rest),
        all => (false, all),
    };
    if digits.is_empty() {
        return None;
    }
    if digits.len() > 18 {
        // Might overflow: checked arithmetic (a 128-bit multiply in wasm,
        // so not for the short numbers of nearly every cell).
        return digits
            .iter()
            .all(u8::is_ascii_digit)
            .then(|| text.parse().ok())
            .flatten();
    }
    let mut n = 0i64;
    for &b in digits {
        let digit = b.wrapping_sub(b'0');
        if digit > 9 {
            return None;
        }
        n = n * 10 + i64::from(digit);
    }
    Some(if negative { -n } else { n })
}

/// A decimal `[+-]?(d+(.d*)?|.d+)([eE][+-]?d+)?` as a finite `f64`,
/// correctly rounded.
pub fn parse_decimal(text: &str) -> Option<f64> {
    let bytes = text.as_bytes();
    let rest = match bytes.first()? {
        b'+' | b'-' => &bytes[1..],
        _ => bytes,
    };
    let digits = |from: usize| {
        rest[from.min(rest.len())..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count()
    };
    let whole = digits(0);
    let mut at = whole;
    let mut fraction = 0;
    if rest.get(at) == Some(&b'.') {
        fraction = digits(at + 1);
        at += 1 + fraction;
    }
    if whole == 0 && fraction == 0 {
        return None;
    }
    if matches!(rest.get(at), Some(b'e' | b'E')) {
        at += 1;
        if matches!(rest.get(at), Some(b'+' | b'-')) {
            at += 1;
        }
        let exponent = digits(at);
        if exponent == 0 {
            return None;
        }
        at += exponent;
    }
    if at != rest.len() {
        return None;
    }
    if at == whole + fraction + usize::from(rest.get(whole) == Some(&b'.'))
        && whole + fraction <= 15
    {
        // Fifteen digits without an exponent (nearly every cell): their
        // integer is below 2⁵³ and 10^fraction a double exactly, so one
        // division, itself correctly rounded, is the nearest double
        // (Clinger's fast path).
        let mantissa = rest
            .iter()
            .filter(|b| b.is_ascii_digit())
            .fold(0u64, |n, b| n * 10 + u64::from(b - b'0'));
        // 10^fraction by products of whole numbers below 2⁵³: exact.
        let scale = (0..fraction).fold(1.0, |scale, _| scale * 10.0);
        let x = mantissa as f64 / scale;
        return Some(if bytes[0] == b'-' { -x } else { x });
    }
    // The grammar is checked above; Rust's conversion rounds correctly
    // (serde_json's, used before, can be one unit in the last place off).
    text.parse::<f64>().ok().filter(|x| x.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_to_the_ends_of_i64() {
        for (text, value) in [
            ("0", Some(0)),
            ("+51", Some(51)),
            ("-007", Some(-7)),
            ("999999999999999999", Some(999_999_999_999_999_999)),
            ("9223372036854775807", Some(i64::MAX)),
            ("-9223372036854775808", Some(i64::MIN)),
            ("9223372036854775808", None),
            ("-9223372036854775809", None),
            ("00000000000000000000000000042", Some(42)),
            ("", None),
            ("+", None),
            ("-", None),
            ("1.0", None),
            ("1 ", None),
            ("١٢", None),
        ] {
            assert_eq!(parse_integer(text), value, "{text:?}");
        }
    }

    /// The fast path for short decimals gives Rust's correctly rounded
    /// conversion, bit for bit, on every split of up to 15 digits.
    #[test]
    fn short_decimals_match_the_full_conversion() {
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        for _ in 0..200_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let digits = format!("{:015}", seed % 1_000_000_000_000_000);
            let len = 1 + (seed >> 50) as usize % 15;
            let point = (seed >> 40) as usize % (len + 1);
            let sign = ["", "-", "+"][(seed >> 33) as usize % 3];
            let text = format!("{sign}{}.{}", &digits[..point], &digits[point..len]);
            let expected: f64 = text.parse().unwrap();
            assert_eq!(
                parse_decimal(&text).map(f64::to_bits),
                Some(expected.to_bits()),
                "{text}"
            );
        }
    }

    /// Correctly rounded: the nearest double, also where a fast or
    /// JSON-minded conversion slips (bit patterns from the exact values).
    #[test]
    fn decimals_are_correctly_rounded() {
        for (text, bits) in [
            ("0.1", 0x3FB9_9999_9999_999A_u64),
            ("0.00000000000000000000001", 0x3B28_2DB3_4012_B251),
            ("2.2250738585072011e-308", 0x000F_FFFF_FFFF_FFFF),
            ("9007199254740993", 0x4340_0000_0000_0000),
            (
                "1.00000000000000011102230246251565404236316680908203125",
                0x3FF0_0000_0000_0000,
            ),
            ("-0.0", 0x8000_0000_0000_0000),
        ] {
            assert_eq!(parse_decimal(text).map(f64::to_bits), Some(bits), "{text}");
        }
    }

    #[test]
    fn decimals_as_xml_schema_writes_them() {
        for (text, value) in [
            ("1.5", 1.5),
            (".5", 0.5),
            ("5.", 5.0),
            ("+100000.00", 100000.0),
            ("-1.23", -1.23),
            ("007", 7.0),
            ("1e3", 1000.0),
            ("1E-2", 0.01),
            ("-.5e1", -5.0),
        ] {
            assert_eq!(parse_decimal(text), Some(value), "{text}");
        }
        for bad in [
            "", ".", "+", "-", "1e", "1e+", " 1", "1 ", "1_000", "1,000", "0x10", "١٢", "１２",
            "e5", "1.2.3", "1e400",
        ] {
            assert_eq!(parse_decimal(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn specials_in_any_case() {
        let n = NumberSyntax::default();
        assert!(n.number("NaN").unwrap().is_nan());
        assert!(n.number("nan").unwrap().is_nan());
        assert_eq!(n.number("INF"), Some(f64::INFINITY));
        assert_eq!(n.number("-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(n.number("+INF"), None, "the spec lists INF and -INF only");
        assert_eq!(n.number("Infinity"), None);
    }

    #[test]
    fn decimal_and_group_characters() {
        let eu = NumberSyntax {
            decimal_char: ',',
            group_char: Some('.'),
            bare: true,
            redcap: None,
        };
        assert_eq!(eu.number("1.000,5"), Some(1000.5));
        assert_eq!(eu.number("1,5"), Some(1.5));
        let comma = NumberSyntax {
            decimal_char: ',',
            ..NumberSyntax::default()
        };
        assert_eq!(
            comma.number("1.5"),
            None,
            "a `.` is not the decimal point here"
        );
        let grouped = NumberSyntax {
            group_char: Some(','),
            ..NumberSyntax::default()
        };
        assert_eq!(grouped.integer("1,000,000"), Some(1_000_000));
        assert_eq!(grouped.number("1,000.25"), Some(1000.25));
        assert_eq!(NumberSyntax::default().integer("1,000"), None);
    }

    #[test]
    fn bare_number_false_strips_surrounding_text() {
        let loose = NumberSyntax {
            bare: false,
            ..NumberSyntax::default()
        };
        assert_eq!(loose.number("€95"), Some(95.0));
        assert_eq!(loose.number("95%"), Some(95.0));
        assert_eq!(loose.number("EUR 95"), Some(95.0));
        assert_eq!(loose.number("EUR -9.5"), Some(-9.5));
        assert_eq!(loose.number(".5%"), Some(0.5));
        assert_eq!(loose.number("abc"), None);
        assert_eq!(loose.integer("€95"), Some(95));
        assert_eq!(loose.integer("95.5%"), None);
        assert_eq!(NumberSyntax::default().number("95%"), None);
    }

    #[test]
    fn integers() {
        let n = NumberSyntax::default();
        assert_eq!(n.integer("+1"), Some(1));
        assert_eq!(n.integer("-0"), Some(0));
        assert_eq!(n.integer("01"), Some(1));
        for bad in ["1.0", "1e3", " 1", "1_000", "99999999999999999999", ""] {
            assert_eq!(n.integer(bad), None, "{bad:?}");
        }
    }
}
