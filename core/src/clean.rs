//! Cell cleaning: the normalisation a protocol's `cleaning` asks for.
//!
//! Hospital exports mix full-width forms (typed with a CJK input method) and
//! stray white space into otherwise good values. Cleaning folds full-width
//! ASCII forms and the ideographic space to ASCII and trims white space, so
//! `　P001 ` and `P001` are one id. A plain Table Schema gets none of it
//! (the spec reads cells exactly as written); the built-in protocols turn it
//! on. The common case (plain ASCII, nothing to fold) borrows the input and
//! allocates nothing.

use std::borrow::Cow;

/// First byte of the UTF-8 encoding of U+3000 (ideographic space).
const IDEOGRAPHIC_SPACE_LEAD: u8 = 0xE3;
/// First byte of the UTF-8 encoding of U+FF01..=U+FF5E.
const FULL_WIDTH_LEAD: u8 = 0xEF;

/// Cleans one cell: full-width forms U+FF01..=U+FF5E become their ASCII
/// twins, U+3000 becomes a space, and leading and trailing white space is
/// removed. An empty result means the cell is *missing*.
pub fn clean(cell: &str) -> Cow<'_, str> {
    clean_parts(cell, true, true)
}

/// [`clean`] with each step chosen: `trim` white space, `fold` full-width
/// forms.
fn clean_parts(cell: &str, trim_space: bool, fold: bool) -> Cow<'_, str> {
    #[inline(always)]
    fn trimmed(text: &str, trim_space: bool) -> &str {
        if trim_space { trim(text) } else { text }
    }
    // Most cells are short ASCII: `is_ascii` settles them without a search.
    if !fold
        || cell.is_ascii()
        || memchr::memchr2(FULL_WIDTH_LEAD, IDEOGRAPHIC_SPACE_LEAD, cell.as_bytes()).is_none()
    {
        return Cow::Borrowed(trimmed(cell, trim_space));
    }
    let folded: String = cell.chars().map(fold_width).collect();
    let kept = trimmed(&folded, trim_space);
    if kept.len() == folded.len() {
        Cow::Owned(folded)
    } else {
        Cow::Owned(kept.to_owned())
    }
}

/// `str::trim`, with ASCII white space stripped byte by byte first (the
/// common case, and much cheaper in wasm than decoding each char).
#[inline(always)]
fn trim(text: &str) -> &str {
    let ascii_space = |b: &u8| matches!(b, b' ' | b'\t' | b'\n' | 0x0B | 0x0C | b'\r');
    let bytes = text.as_bytes();
    // Nearly every cell starts and ends with a printable ASCII byte.
    if let (Some(first), Some(last)) = (bytes.first(), bytes.last())
        && first.is_ascii_graphic()
        && last.is_ascii_graphic()
    {
        return text;
    }
    let start = bytes
        .iter()
        .position(|b| !ascii_space(b))
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !ascii_space(b))
        .map_or(start, |i| i + 1);
    let inner = &text[start..end.max(start)];
    // Other (Unicode) white space, e.g. U+00A0, is rarer: the full trim,
    // when a non-ASCII end is white space (not for every CJK name).
    let unicode_space = |c: Option<char>| c.is_some_and(|c| !c.is_ascii() && c.is_whitespace());
    if unicode_space(inner.chars().next()) || unicode_space(inner.chars().next_back()) {
        inner.trim()
    } else {
        inner
    }
}

/// Maps one full-width character to its ASCII twin; other characters pass.
fn fold_width(c: char) -> char {
    match c {
        '\u{3000}' => ' ',
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFF01 + 0x21).unwrap_or(c),
        _ => c,
    }
}

/// [`clean`] with each step chosen, for a cell that may already be owned
/// (an unescaped JSON string); keeps the borrow when there is one.
#[inline(always)]
pub fn clean_owned(cell: Cow<'_, str>, trim_space: bool, fold: bool) -> Cow<'_, str> {
    match cell {
        Cow::Borrowed(text) => clean_parts(text, trim_space, fold),
        Cow::Owned(text) => match clean_parts(&text, trim_space, fold) {
            Cow::Borrowed(same) if same.len() == text.len() => Cow::Owned(text),
            cleaned => Cow::Owned(cleaned.into_owned()),
        },
    }
}

/// Replaces every inner run of white space by one space (the input is
/// already trimmed). Borrows when there is nothing to collapse.
pub fn collapse_whitespace(text: Cow<'_, str>) -> Cow<'_, str> {
    if !needs_collapse(&text) {
        return text;
    }
    let mut out = String::with_capacity(text.len());
    for (i, word) in text.split_whitespace().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(word);
    }
    Cow::Owned(out)
}

fn needs_collapse(text: &str) -> bool {
    if text.is_ascii() {
        let bytes = text.as_bytes();
        return bytes
            .iter()
            .any(|b| b.is_ascii_whitespace() && *b != b' ' || *b == 0x0B)
            || bytes.windows(2).any(|pair| pair == b"  ");
    }
    let mut previous_space = false;
    for c in text.chars() {
        if c == ' ' {
            if previous_space {
                return true;
            }
            previous_space = true;
        } else if c.is_whitespace() {
            return true;
        } else {
            previous_space = false;
        }
    }
    false
}

/// Normalises a column header or JSON key for matching against a protocol's
/// names and aliases: cleaned, lowercased, with spaces, `_` and `-` removed.
pub fn header_key(header: &str) -> String {
    clean(header)
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '_' && *c != '-')
        .map(lowercase)
        .collect()
}

/// Lowercases the capital letters of the Latin (ASCII and Latin-1), Greek
/// and Cyrillic alphabets by their fixed offsets; other characters (CJK has
/// no case) pass. Unicode's full case tables would add ~6 KB gzipped to the
/// wasm module for letters no header alias uses.
fn lowercase(c: char) -> char {
    let code = c as u32;
    let offset = match code {
        0x41..=0x5A | 0xC0..=0xD6 | 0xD8..=0xDE => 0x20, // A-Z, À-Ö, Ø-Þ
        0x391..=0x3A1 | 0x3A3..=0x3AB => 0x20,           // Α-Ρ, Σ-Ϋ
        0x410..=0x42F => 0x20,                           // А-Я
        0x400..=0x40F => 0x50,                           // Ѐ-Џ
        _ => 0,
    };
    char::from_u32(code + offset).unwrap_or(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_is_trimmed_and_borrowed() {
        assert!(matches!(clean("  P001\t"), Cow::Borrowed("P001")));
        assert_eq!(clean("   "), "");
    }

    #[test]
    fn full_width_forms_and_ideographic_space_fold_to_ascii() {
        assert_eq!(clean("　　P77483  "), "P77483");
        assert_eq!(clean("１６８／７７"), "168/77");
        assert_eq!(clean("７０"), "70");
        assert_eq!(clean("ＡＢＣ～！"), "ABC~!");
        assert_eq!(clean("　"), "");
    }

    #[test]
    fn each_step_can_be_chosen() {
        assert_eq!(clean_owned(Cow::Borrowed(" ７０ "), true, false), "７０");
        assert_eq!(clean_owned(Cow::Borrowed(" ７０ "), false, true), " 70 ");
        assert_eq!(clean_owned(Cow::Owned("　a".into()), false, true), " a");
        assert!(matches!(
            clean_owned(Cow::Borrowed(" a "), false, false),
            Cow::Borrowed(" a ")
        ));
    }

    #[test]
    fn other_non_ascii_is_kept() {
        assert_eq!(clean(" 李娜 "), "李娜");
        assert_eq!(clean("José Müller"), "José Müller");
        // U+FF5F is past the full-width ASCII block and stays as it is.
        assert_eq!(clean("\u{FF5F}"), "\u{FF5F}");
    }

    #[test]
    fn trim_is_str_trim() {
        for text in [
            "",
            " ",
            "a",
            " a ",
            "\t\n\x0B\x0Ca\r",
            "\u{A0}a\u{2003}",
            " \u{85}b c\u{A0} ",
            "é",
            " 名 ",
        ] {
            assert_eq!(trim(text), text.trim(), "{text:?}");
        }
    }

    #[test]
    fn collapse_inner_white_space() {
        assert_eq!(
            collapse_whitespace(Cow::Borrowed("Sean   García")),
            "Sean García"
        );
        assert_eq!(
            collapse_whitespace(Cow::Borrowed("Line\nBreak Li")),
            "Line Break Li"
        );
        assert!(matches!(
            collapse_whitespace(Cow::Borrowed("Anna Li")),
            Cow::Borrowed("Anna Li")
        ));
    }

    #[test]
    fn header_keys_ignore_case_spacing_and_separators() {
        for h in [
            "Patient ID",
            "patient_id",
            "PatientID",
            "patient-id",
            " ＰａｔｉｅｎｔＩＤ ",
        ] {
            assert_eq!(header_key(h), "patientid");
        }
        assert_eq!(header_key("患者编号"), "患者编号");
        assert_eq!(header_key("ÂGE Ø"), "âgeø");
        assert_eq!(header_key("ИМЯ ΟΝΟΜΑ"), "имяονομα");
        for c in ['A', 'Z', 'À', 'Þ', 'Α', 'Ω', 'А', 'Я', 'Ѐ', 'Џ'] {
            assert_eq!(Some(lowercase(c)), c.to_lowercase().next(), "{c}");
        }
    }
}
