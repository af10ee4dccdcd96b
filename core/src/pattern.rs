//! Protocol patterns: `regex-lite` semantics everywhere, with a fast path.
//!
//! One regex engine for every build keeps verdicts identical natively and
//! in wasm; `regex-lite` is ~80 KB (gzipped) smaller in the module than
//! `regex`, but slower. Most protocol patterns are a few quantified ASCII
//! classes (`[A-Za-z0-9_-]{1,32}`, `\+?[0-9]{1,3}`), which run per record:
//! those are compiled to a [`Simple`] matcher as well, and `regex-lite`
//! stays the engine for everything else (and the reference the fast path
//! is tested against). The compact wasm module (without the `full`
//! feature) has only the [`Simple`] matcher: a pattern outside its subset
//! needs the full module.

#[cfg(feature = "full")]
use regex_lite::Regex;

/// A compiled protocol pattern (anchored at both ends).
#[derive(Debug, Clone)]
pub struct Pattern {
    /// The pattern as written in the protocol.
    pub source: String,
    simple: Option<Simple>,
    #[cfg(feature = "full")]
    regex: Regex,
}

/// Why a pattern cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatternError {
    /// Not a valid regular expression.
    #[error("not a valid regular expression: {0}")]
    Invalid(String),
    /// Valid, but outside the subset this build matches without a regex
    /// engine (the compact module).
    #[error("needs the regex engine, which is in the full module")]
    NeedsFullModule,
}

impl Pattern {
    /// Compiles `source`; the whole text must match it.
    pub fn new(source: &str) -> Result<Pattern, PatternError> {
        let simple = Simple::parse(source);
        #[cfg(not(feature = "full"))]
        if simple.is_none() {
            return Err(PatternError::NeedsFullModule);
        }
        Ok(Pattern {
            source: source.to_owned(),
            #[cfg(feature = "full")]
            regex: Regex::new(&format!("^(?:{source})$"))
                .map_err(|e| PatternError::Invalid(e.to_string()))?,
            simple,
        })
    }

    /// Whether the whole of `text` matches.
    pub fn is_match(&self, text: &str) -> bool {
        match &self.simple {
            Some(simple) => simple.is_match(text.as_bytes()),
            #[cfg(feature = "full")]
            None => self.regex.is_match(text),
            #[cfg(not(feature = "full"))]
            None => false, // not built: `new` refuses such patterns
        }
    }
}

/// A set of ASCII bytes, as two 64-bit words (wasm has no 128-bit
/// integers: `u128` shifts become library calls there).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct ByteSet([u64; 2]);

impl ByteSet {
    fn add(&mut self, byte: u8) {
        self.0[usize::from(byte >> 6) & 1] |= 1 << (byte & 63);
    }

    fn union(&mut self, other: ByteSet) {
        self.0[0] |= other.0[0];
        self.0[1] |= other.0[1];
    }

    fn add_range(&mut self, from: u8, to: u8) {
        for b in from..=to {
            self.add(b);
        }
    }

    fn contains(self, byte: u8) -> bool {
        byte < 128 && self.0[usize::from(byte >> 6)] & (1 << (byte & 63)) != 0
    }
}

/// One class with its repetition bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Item {
    set: ByteSet,
    min: usize,
    max: usize,
}

/// A concatenation of quantified ASCII classes and literals: the subset of
/// regex syntax this matches without a regex engine.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Simple(Vec<Item>);

impl Simple {
    /// Texts up to this long are matched with positions in a 64-bit mask;
    /// longer ones by [`Simple::is_match_long`].
    const MASK_TEXT: usize = 63;

    /// The pattern as items, or `None` if it uses anything outside the subset.
    fn parse(source: &str) -> Option<Simple> {
        let body = source.strip_prefix('^').unwrap_or(source);
        let body = match body.strip_suffix('$') {
            Some(rest) if !rest.ends_with('\\') => rest,
            _ => body,
        };
        let bytes = body.as_bytes();
        if !body.is_ascii() {
            return None;
        }
        let mut items = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            let (set, next) = match bytes[i] {
                b'[' => class(bytes, i + 1)?,
                b'\\' => (escape(*bytes.get(i + 1)?)?, i + 2),
                b'.' | b'(' | b')' | b'|' | b'^' | b'$' | b'*' | b'+' | b'?' | b'{' | b'}'
                | b']' => return None,
                b if b.is_ascii_graphic() || b == b' ' => {
                    let mut set = ByteSet::default();
                    set.add(b);
                    (set, i + 1)
                }
                _ => return None,
            };
            let (min, max, next) = quantifier(bytes, next)?;
            items.push(Item { set, min, max });
            i = next;
        }
        Some(Simple(items))
    }

    fn is_match(&self, text: &[u8]) -> bool {
        if let [item] = self.0.as_slice() {
            // One item (the common case): length and membership.
            return (item.min..=item.max).contains(&text.len())
                && text.iter().all(|&b| item.set.contains(b));
        }
        if text.len() > Self::MASK_TEXT {
            return self.is_match_long(text);
        }
        // Positions reachable after each item, as a bitmask over 0..=len.
        let mut reach: u64 = 1;
        for item in &self.0 {
            let mut next: u64 = 0;
            let mut starts = reach;
            while starts != 0 {
                let start = starts.trailing_zeros() as usize;
                starts &= starts - 1;
                let mut end = start;
                loop {
                    if end - start >= item.min {
                        next |= 1 << end;
                    }
                    if end - start == item.max || end == text.len() || !item.set.contains(text[end])
                    {
                        break;
                    }
                    end += 1;
                }
            }
            reach = next;
        }
        reach & (1 << text.len()) != 0
    }

    /// [`Simple::is_match`] for any length, in time linear in the text per
    /// item: position `end` is reachable after an item if some reachable
    /// `start` has `min ≤ end − start ≤ max` and only class bytes between;
    /// the latest reachable `start ≤ end − min` is the one to test.
    fn is_match_long(&self, text: &[u8]) -> bool {
        let mut reach = vec![false; text.len() + 1];
        reach[0] = true;
        for item in &self.0 {
            let mut next = vec![false; text.len() + 1];
            let mut latest: Option<usize> = None; // latest reachable start ≤ end − min
            let mut run_start = 0; // text[run_start..end] are all in the class
            for end in 0..=text.len() {
                if end > 0 && !item.set.contains(text[end - 1]) {
                    run_start = end;
                }
                if let Some(candidate) = end.checked_sub(item.min)
                    && reach[candidate]
                {
                    latest = Some(candidate);
                }
                let lowest = run_start.max(end.saturating_sub(item.max));
                next[end] = latest.is_some_and(|start| start >= lowest);
            }
            reach = next;
        }
        reach[text.len()]
    }
}

/// `\d`, `\w`, `\s` (ASCII, as in regex-lite) or an escaped punctuation mark.
fn escape(byte: u8) -> Option<ByteSet> {
    let mut set = ByteSet::default();
    match byte {
        b'd' => set.add_range(b'0', b'9'),
        b'w' => {
            set.add_range(b'0', b'9');
            set.add_range(b'A', b'Z');
            set.add_range(b'a', b'z');
            set.add(b'_');
        }
        b's' => {
            for b in [b'\t', b'\n', 0x0B, 0x0C, b'\r', b' '] {
                set.add(b);
            }
        }
        b if b.is_ascii_punctuation() => set.add(b),
        _ => return None,
    }
    Some(set)
}

/// A bracket class from `bytes[start..]` (after `[`); returns the set and
/// the index after `]`. Negated classes are left to the regex engine.
fn class(bytes: &[u8], start: usize) -> Option<(ByteSet, usize)> {
    let mut set = ByteSet::default();
    let mut i = start;
    if bytes.get(i) == Some(&b'^') {
        return None;
    }
    let mut first = true;
    loop {
        let b = *bytes.get(i)?;
        let single = match b {
            b']' if !first => return Some((set, i + 1)),
            b'[' => return None,
            b'\\' => {
                let escaped = *bytes.get(i + 1)?;
                i += 2;
                if escaped.is_ascii_punctuation() {
                    Some(escaped)
                } else {
                    set.union(escape(escaped)?);
                    None
                }
            }
            _ => {
                i += 1;
                Some(b)
            }
        };
        first = false;
        let Some(from) = single else { continue };
        // `a-z` is a range unless `-` ends the class.
        if bytes.get(i) == Some(&b'-') && bytes.get(i + 1).is_some_and(|&n| n != b']') {
            let to = match *bytes.get(i + 1)? {
                b'\\' | b'[' => return None,
                to => to,
            };
            if to < from {
                return None;
            }
            set.add_range(from, to);
            i += 2;
        } else {
            set.add(from);
        }
    }
}

/// An optional quantifier at `bytes[i..]`: `(min, max, next index)`.
fn quantifier(bytes: &[u8], i: usize) -> Option<(usize, usize, usize)> {
    let (min, max, next) = match bytes.get(i) {
        Some(b'?') => (0, 1, i + 1),
        Some(b'*') => (0, usize::MAX, i + 1),
        Some(b'+') => (1, usize::MAX, i + 1),
        Some(b'{') => {
            let close = i + bytes[i..].iter().position(|&b| b == b'}')?;
            let inner = std::str::from_utf8(&bytes[i + 1..close]).ok()?;
            let number = |s: &str| -> Option<usize> {
                (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse().ok())?
            };
            let (min, max) = match inner.split_once(',') {
                None => (number(inner)?, number(inner)?),
                Some((lo, "")) => (number(lo)?, usize::MAX),
                Some((lo, hi)) => (number(lo)?, number(hi)?),
            };
            if min > max {
                return None;
            }
            (min, max, close + 1)
        }
        _ => return Some((1, 1, i)),
    };
    // A lazy or possessive suffix is left to the regex engine.
    if matches!(bytes.get(next), Some(b'?' | b'+')) {
        return None;
    }
    Some((min, max, next))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Patterns the fast path takes, and ones it must leave to regex-lite.
    const SIMPLE: &[&str] = &[
        "[A-Za-z0-9_-]{1,32}",
        r"\+?[0-9]{1,3}",
        r"^S[0-9]{4}$",
        r"[a-c]*b+c?",
        r"\d{2,}-\w+",
        r"[-a]x{0}y{2}",
        r"P\-[0-9]{3,5}[A-Z]?",
        r"\s*[a-z]+\s*",
        r"[]a]b",
        r"a{3,}",
    ];
    const COMPLEX: &[&str] = &[
        "(ab)+",
        "a|b",
        "[^a]",
        "a.b",
        "[a-z]+?",
        "é+",
        r"\p{Han}",
        "[[:alpha:]]",
        "a{2,1}",
    ];

    #[test]
    fn the_subset_is_recognised() {
        for p in SIMPLE {
            assert!(Simple::parse(p).is_some(), "{p} should be simple");
        }
        for p in COMPLEX {
            assert!(Simple::parse(p).is_none(), "{p} is not simple");
        }
    }

    /// Every string up to length 5 over an alphabet that exercises the
    /// patterns: the fast path must agree with regex-lite on all of them.
    #[cfg(feature = "full")]
    #[test]
    fn the_fast_path_agrees_with_regex_lite() {
        let alphabet: Vec<char> = "ab-+1 _AyxPSé]".chars().collect();
        let mut texts = vec![String::new()];
        let mut frontier = vec![String::new()];
        for _ in 0..4 {
            frontier = frontier
                .iter()
                .flat_map(|t| alphabet.iter().map(move |c| format!("{t}{c}")))
                .collect();
            texts.extend(frontier.iter().cloned());
        }
        texts.extend(
            [
                "12", "123", "1234", "+123", "12-ab", "S1234", "P-123A", "aaab", "  ab ", "yy",
                "]b",
            ]
            .map(String::from),
        );
        texts.push("X".repeat(32));
        texts.push("X".repeat(33));
        // Past the 64-bit mask: the linear matcher.
        for n in [63, 64, 65, 100] {
            texts.push("a".repeat(n));
            texts.push(format!("{}b", "a".repeat(n)));
            texts.push(format!("{}1-ab", "2".repeat(n)));
            texts.push(format!("  {} ", "a".repeat(n)));
        }
        for source in SIMPLE.iter().chain(COMPLEX) {
            let Ok(pattern) = Pattern::new(source) else {
                continue; // regex-lite refuses it too (e.g. \p{Han}, a{2,1})
            };
            for text in &texts {
                assert_eq!(
                    pattern.is_match(text),
                    pattern.regex.is_match(text),
                    "{source} on {text:?}"
                );
            }
        }
    }

    #[test]
    fn long_texts_match_in_linear_time() {
        let pattern = Pattern::new("a*a*a*b").unwrap();
        let long = format!("{}b", "a".repeat(100_000));
        assert!(pattern.is_match(&long));
        assert!(!pattern.is_match(&format!("{long}a")));
    }

    #[cfg(not(feature = "full"))]
    #[test]
    fn the_compact_build_refuses_what_it_cannot_match() {
        assert_eq!(
            Pattern::new("a|b").unwrap_err(),
            PatternError::NeedsFullModule
        );
    }
}
