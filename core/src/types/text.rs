//! The formats of `string`: `email`, `uri`, `uuid` and `binary`.
//!
//! Each is the syntax its standard defines, checked by hand: an e-mail
//! address is RFC 5322's `addr-spec` in its dot-atom form with a DNS domain
//! name; a URI is RFC 3986's absolute form (a scheme, then only characters
//! a URI may hold, with valid `%` escapes); a UUID is RFC 9562's
//! `8-4-4-4-12` hexadecimal form; binary is RFC 4648 base64 with padding.

/// `local@domain`: the local part dot-separated runs of RFC 5322 `atext`,
/// the domain two or more labels of letters, digits and inner hyphens, the
/// last one not all digits.
pub fn is_email(text: &str) -> bool {
    let Some((local, domain)) = text.rsplit_once('@') else {
        return false;
    };
    let atext = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+/=?^_`{|}~-".contains(&b);
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && local
            .split('.')
            .all(|run| !run.is_empty() && run.bytes().all(atext));
    local_ok && is_domain(domain)
}

/// A DNS name of two or more labels (1–63 letters, digits or inner
/// hyphens each), at most 253 characters, the last label not numeric.
fn is_domain(domain: &str) -> bool {
    let labels: Vec<&str> = domain.split('.').collect();
    let label_ok = |label: &&str| {
        let b = label.as_bytes();
        (1..=63).contains(&b.len())
            && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
            && b[0] != b'-'
            && b[b.len() - 1] != b'-'
    };
    domain.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(label_ok)
        && labels
            .last()
            .is_some_and(|top| top.bytes().any(|b| b.is_ascii_alphabetic()))
}

/// An absolute URI: `scheme:rest`, the scheme a letter then letters,
/// digits, `+`, `-` or `.`; the rest only unreserved, reserved and `%XX`.
pub fn is_uri(text: &str) -> bool {
    let Some((scheme, rest)) = text.split_once(':') else {
        return false;
    };
    let scheme_ok = scheme
        .as_bytes()
        .first()
        .is_some_and(u8::is_ascii_alphabetic)
        && scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b));
    if !scheme_ok {
        return false;
    }
    let allowed = |b: u8| b.is_ascii_alphanumeric() || b"-._~:/?#[]@!$&'()*+,;=".contains(&b);
    let bytes = rest.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = bytes.get(i + 1..i + 3);
                if !hex.is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) {
                    return false;
                }
                i += 3;
            }
            b if allowed(b) => i += 1,
            _ => return false,
        }
    }
    true
}

/// `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`, hexadecimal in any case.
pub fn is_uuid(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// Base64 (RFC 4648, standard alphabet): groups of four, `=` padding only
/// at the end.
pub fn is_base64(text: &str) -> bool {
    let b = text.as_bytes();
    if !b.len().is_multiple_of(4) {
        return false;
    }
    let padding = b.iter().rev().take_while(|&&c| c == b'=').count();
    padding <= 2
        && b[..b.len() - padding]
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || *c == b'+' || *c == b'/')
}

/// Well-known text (OGC Simple Features): `POINT (1 2)`, `LINESTRING`,
/// `POLYGON`, their `MULTI` forms and `GEOMETRYCOLLECTION`, with `Z`, `M`
/// or `ZM`, or `EMPTY`; keywords in any case.
pub fn is_wkt(text: &str) -> bool {
    let mut wkt = Wkt { rest: text.trim() };
    wkt.geometry(0) && wkt.rest.trim().is_empty()
}

/// A cursor over well-known text.
struct Wkt<'t> {
    rest: &'t str,
}

impl Wkt<'_> {
    /// Most nested collections (a guard against deep input).
    const MAX_DEPTH: usize = 16;

    fn skip(&mut self) {
        self.rest = self.rest.trim_start();
    }

    fn word(&mut self) -> String {
        self.skip();
        let end = self
            .rest
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(self.rest.len());
        let word = self.rest[..end].to_ascii_uppercase();
        self.rest = &self.rest[end..];
        word
    }

    fn eat(&mut self, c: char) -> bool {
        self.skip();
        match self.rest.strip_prefix(c) {
            Some(rest) => {
                self.rest = rest;
                true
            }
            None => false,
        }
    }

    /// `kind [Z|M|ZM] (EMPTY | body)`.
    fn geometry(&mut self, depth: usize) -> bool {
        if depth > Self::MAX_DEPTH {
            return false;
        }
        let kind = self.word();
        let saved = self.rest;
        let dims = match self.word().as_str() {
            "Z" | "M" => Some(3),
            "ZM" => Some(4),
            "EMPTY" => return true,
            _ => {
                self.rest = saved;
                None
            }
        };
        let saved = self.rest;
        if self.word() == "EMPTY" {
            return true;
        }
        self.rest = saved;
        let position = |w: &mut Self| w.position(dims);
        let line = |w: &mut Self| w.seq(position);
        let polygon = |w: &mut Self| w.seq(line);
        match kind.as_str() {
            "POINT" => self.eat('(') && self.position(dims) && self.eat(')'),
            "LINESTRING" => line(self),
            "POLYGON" | "MULTILINESTRING" => polygon(self),
            "MULTIPOINT" => self.seq(|w| {
                if w.eat('(') {
                    w.position(dims) && w.eat(')')
                } else {
                    w.position(dims)
                }
            }),
            "MULTIPOLYGON" => self.seq(polygon),
            "GEOMETRYCOLLECTION" => self.seq(|w| w.geometry(depth + 1)),
            _ => false,
        }
    }

    /// `( item (, item)* )`.
    fn seq(&mut self, mut item: impl FnMut(&mut Self) -> bool) -> bool {
        if !self.eat('(') {
            return false;
        }
        loop {
            if !item(self) {
                return false;
            }
            if !self.eat(',') {
                return self.eat(')');
            }
        }
    }

    /// Two to four numbers (exactly `dims` when given).
    fn position(&mut self, dims: Option<usize>) -> bool {
        let mut count = 0;
        loop {
            self.skip();
            let end = self
                .rest
                .find(|c: char| c.is_whitespace() || c == ',' || c == ')')
                .unwrap_or(self.rest.len());
            if end == 0 || super::number::parse_decimal(&self.rest[..end]).is_none() {
                break;
            }
            self.rest = &self.rest[end..];
            count += 1;
        }
        match dims {
            Some(d) => count == d,
            None => (2..=4).contains(&count),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        for ok in [
            "a@b.co",
            "a.b@c.d.ee",
            "A+b@x.org",
            "o'neil@example.com",
            "x@xn--80ak6aa92e.com",
        ] {
            assert!(is_email(ok), "{ok}");
        }
        for bad in [
            "a@b",
            "a@@b.co",
            "@b.co",
            "a.@b.co",
            "a..b@c.co",
            "a@-b.co",
            "a@b.123",
            "a b@c.co",
            "a@b_c.co",
            "",
        ] {
            assert!(!is_email(bad), "{bad}");
        }
    }

    #[test]
    fn uris() {
        for ok in [
            "http://x.org",
            "mailto:a@b",
            "urn:isbn:1",
            "http://[::1]/",
            "https://x.org/a%20b?q=1#f",
            "file:///etc",
        ] {
            assert!(is_uri(ok), "{ok}");
        }
        for bad in [
            "x",
            "//x.org",
            "http://x.org/a b",
            "1http://x",
            "http://x/%zz",
            "é:x",
        ] {
            assert!(!is_uri(bad), "{bad}");
        }
    }

    #[test]
    fn well_known_text() {
        for ok in [
            "POINT (30 10)",
            "point(30 10)",
            "POINT Z (1 2 3)",
            "POINT EMPTY",
            "LINESTRING (30 10, 10 30, 40 40)",
            "POLYGON ((30 10, 40 40, 20 40, 10 20, 30 10))",
            "POLYGON ((35 10, 45 45, 15 40, 10 20, 35 10), (20 30, 35 35, 30 20, 20 30))",
            "MULTIPOINT ((10 40), (40 30))",
            "MULTIPOINT (10 40, 40 30)",
            "MULTILINESTRING ((10 10, 20 20), (40 40, 30 30))",
            "MULTIPOLYGON (((30 20, 45 40, 10 40, 30 20)), ((15 5, 40 10, 10 20, 5 10, 15 5)))",
            "GEOMETRYCOLLECTION (POINT (40 10), LINESTRING (10 10, 20 20))",
        ] {
            assert!(is_wkt(ok), "{ok}");
        }
        for bad in [
            "POINT (30)",
            "POINT 30 10",
            "CIRCLE (1 2)",
            "POINT Z (1 2)",
            "LINESTRING (1 2,)",
            "POINT (1 2) x",
            "",
            "POINT (a b)",
        ] {
            assert!(!is_wkt(bad), "{bad}");
        }
    }

    #[test]
    fn uuids_and_base64() {
        assert!(is_uuid("123e4567-e89b-12d3-a456-426614174000"));
        assert!(is_uuid("123E4567-E89B-12D3-A456-426614174000"));
        for bad in [
            "123e4567e89b12d3a456426614174000",
            "{123e4567-e89b-12d3-a456-426614174000}",
            "x",
            "123e4567-e89b-12d3-a456-42661417400g",
        ] {
            assert!(!is_uuid(bad), "{bad}");
        }
        for ok in ["aGVsbG8=", "aGVsbG8h", "aGk=", "", "+/+/"] {
            assert!(is_base64(ok), "{ok}");
        }
        for bad in ["aGVsbG8", "!!!!", "a b=", "aG=k", "a==="] {
            assert!(!is_base64(bad), "{bad}");
        }
    }
}
