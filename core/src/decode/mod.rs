//! Streaming text decoding: UTF-8 (with or without BOM), GB18030 fallback.
//!
//! Chinese hospital systems export GBK; everything else is UTF-8. The first
//! [`SNIFF_BYTES`] decide: if they are valid UTF-8 the stream is read as
//! UTF-8; if they are not, but are valid GB18030, as GB18030; otherwise as
//! UTF-8 with an error. Deciding per cell would misread short GBK names
//! that happen to be valid UTF-8 (about one two-character name in fifty).
//! A UTF-8 stream that was plain ASCII up to a byte that is not UTF-8 is
//! GBK whose first Chinese text came late: the rest is decoded as GB18030.
//! A UTF-16 BOM (Excel's "Unicode text") is honoured too.
//!
//! Bytes that are not valid in the encoding chosen never make the decoder
//! switch a stream that was already read as UTF-8 text, and are never
//! replaced silently (a name would change): each bad sequence becomes
//! U+FFFD in the text *and* a [`Damage`] handed on with the piece (its
//! byte offset and line), from which the session gives the record that
//! holds it an `encoding` issue. A U+FFFD already in the input (the mark
//! of an earlier, lossy conversion) is handed on as damage too. Input is
//! handed on as `&str` pieces; in the UTF-8 case without copying.
//!
//! The encoding can also be given ([`Decoder::with_encoding`]): then the
//! first bytes decide nothing (a byte-order mark is still skipped).

mod gb18030;
mod utf16;

use gb18030::Gb18030;
use utf16::Utf16;

/// How many bytes are looked at before the encoding is chosen.
pub const SNIFF_BYTES: usize = 64 * 1024;

/// Why the input cannot be read as text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// A NUL character: binary data, not a text export.
    #[error("input is binary, not text (NUL byte near byte {offset})")]
    Binary {
        /// Byte offset of the NUL in the input.
        offset: u64,
    },
}

/// A place where the text handed on is not what the input's bytes say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Damage {
    /// Byte offset in the input of the bad bytes (for UTF-16, of the piece
    /// they were in).
    pub offset: u64,
    /// 1-based line of the text they are on.
    pub line: u64,
    /// True for bytes not valid in the encoding (decoded as U+FFFD), false
    /// for a U+FFFD the input itself holds.
    pub replaced: bool,
    /// The encoding the input is read with.
    pub encoding: TextEncoding,
}

/// The encoding a stream was read with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum TextEncoding {
    /// UTF-8.
    #[serde(rename = "UTF-8")]
    Utf8,
    /// GB18030 (a superset of GBK and GB2312).
    #[serde(rename = "GB18030")]
    Gb18030,
    /// UTF-16, little or big endian, by BOM.
    #[serde(rename = "UTF-16")]
    Utf16,
}

impl TextEncoding {
    /// An `encoding` setting, as the module option, the protocol key and
    /// the server's parameter take it: `auto` (`None`: detect it), or
    /// `utf-8` or `gb18030` (also `utf8`, `gbk`, `gb2312`; any case).
    /// UTF-16 is read only by its byte-order mark, never forced.
    pub fn from_setting(name: &str) -> Result<Option<TextEncoding>, UnknownEncoding> {
        match name.to_ascii_lowercase().as_str() {
            "auto" => Ok(None),
            "utf-8" | "utf8" => Ok(Some(TextEncoding::Utf8)),
            "gb18030" | "gbk" | "gb2312" => Ok(Some(TextEncoding::Gb18030)),
            _ => Err(UnknownEncoding(name.to_owned())),
        }
    }
}

/// An `encoding` setting that names no encoding clinval reads.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not one of auto, utf-8, gb18030")]
pub struct UnknownEncoding(pub String);

impl std::fmt::Display for TextEncoding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TextEncoding::Utf8 => "UTF-8",
            TextEncoding::Gb18030 => "GB18030",
            TextEncoding::Utf16 => "UTF-16",
        })
    }
}

enum Mode {
    Sniffing(Vec<u8>),
    Utf8 { pending: Vec<u8> },
    Gb18030(Gb18030),
    Utf16(Utf16),
}

/// Turns byte chunks into UTF-8 text pieces.
pub struct Decoder {
    mode: Mode,
    encoding: Option<TextEncoding>,
    /// The encoding to read with, when given rather than detected.
    forced: Option<TextEncoding>,
    /// Bytes of text handed on so far (for the NUL check's offset).
    offset: u64,
    /// Bytes of input taken in before the current piece.
    consumed: u64,
    /// Line breaks in the text handed on so far.
    lines: u64,
    /// Whether the text handed on so far is all ASCII.
    ascii: bool,
    /// Whether a UTF-8 stream may still turn out GB18030 (its first
    /// bytes were valid UTF-8; not when they were neither).
    switchable: bool,
    out: String,
    /// The damage in the piece being handed on.
    damage: Vec<Damage>,
}

/// What receives the decoded text: each piece with the damage in it.
pub type Emit<'e, E> = dyn FnMut(&str, &[Damage]) -> Result<(), E> + 'e;

impl Default for Decoder {
    fn default() -> Self {
        Decoder::new()
    }
}

impl Decoder {
    /// A decoder that has not seen any input yet.
    pub fn new() -> Decoder {
        Decoder::with_encoding(None)
    }

    /// A decoder that reads with `encoding` (`None`: detect it).
    pub fn with_encoding(encoding: Option<TextEncoding>) -> Decoder {
        Decoder {
            mode: Mode::Sniffing(Vec::new()),
            encoding: None,
            forced: encoding,
            offset: 0,
            consumed: 0,
            lines: 0,
            ascii: true,
            switchable: true,
            out: String::new(),
            damage: Vec::new(),
        }
    }

    /// The encoding chosen, once enough input was seen.
    pub fn encoding(&self) -> Option<TextEncoding> {
        self.encoding
    }

    /// Feeds the next bytes; `last` marks the end of input. Calls `emit`
    /// with each decoded piece of text, in order.
    pub fn feed<E: From<DecodeError>>(
        &mut self,
        bytes: &[u8],
        last: bool,
        emit: &mut Emit<'_, E>,
    ) -> Result<(), E> {
        if let Mode::Sniffing(buffer) = &mut self.mode {
            buffer.extend_from_slice(bytes);
            if buffer.len() < SNIFF_BYTES && !last {
                return Ok(());
            }
            let buffer = std::mem::take(buffer);
            let bom = self.choose(&buffer, last);
            self.offset += bom as u64;
            self.consumed += bom as u64;
            let result = self.pass(&buffer[bom..], last, emit);
            self.consumed += (buffer.len() - bom) as u64;
            return result;
        }
        let result = self.pass(bytes, last, emit);
        self.consumed += bytes.len() as u64;
        result
    }

    /// Picks the mode from the first bytes of the stream.
    fn choose(&mut self, head: &[u8], last: bool) -> usize {
        let utf16 = match head {
            [0xFF, 0xFE, ..] => Some(true),
            [0xFE, 0xFF, ..] => Some(false),
            _ => None,
        };
        if let Some(little_endian) = utf16 {
            self.encoding = Some(TextEncoding::Utf16);
            self.mode = Mode::Utf16(Utf16::new(little_endian));
            return 2; // the byte-order mark
        }
        let utf8 = match std::str::from_utf8(head) {
            Ok(_) => true,
            // A character cut at the end of the sniffed bytes is fine.
            Err(e) => e.error_len().is_none() && !last,
        };
        let gb18030 = match self.forced {
            Some(forced) => forced == TextEncoding::Gb18030,
            // Neither UTF-8 nor GB18030: read as the one it breaks less.
            None => !utf8 && gb18030_errors(head, last) < utf8_errors(head),
        };
        if gb18030 {
            self.switch_to_gb18030();
        } else {
            self.switchable = utf8 && self.forced.is_none();
            self.encoding = Some(TextEncoding::Utf8);
            self.mode = Mode::Utf8 {
                pending: Vec::new(),
            };
        }
        0
    }

    fn switch_to_gb18030(&mut self) {
        self.encoding = Some(TextEncoding::Gb18030);
        self.mode = Mode::Gb18030(Gb18030::default());
    }

    fn pass<E: From<DecodeError>>(
        &mut self,
        bytes: &[u8],
        last: bool,
        emit: &mut Emit<'_, E>,
    ) -> Result<(), E> {
        let Mode::Utf8 { pending } = &mut self.mode else {
            return self.decode(bytes, self.consumed, last, emit);
        };
        let mut input = bytes;
        let mut skipped = 0;
        if self.offset == 0 && input.starts_with(b"\xEF\xBB\xBF") {
            input = &input[3..];
            self.offset = 3;
            skipped = 3;
        }
        let joined;
        let carried = pending.len();
        if !pending.is_empty() {
            pending.extend_from_slice(input);
            joined = std::mem::take(pending);
            input = &joined;
        }
        let (valid, rest) = match std::str::from_utf8(input) {
            Ok(text) => (text, &[][..]),
            Err(e) => {
                let (good, rest) = input.split_at(e.valid_up_to());
                // The prefix was just checked to be UTF-8.
                let good = std::str::from_utf8(good).unwrap_or_default();
                (good, rest)
            }
        };
        let ascii_before = self.ascii;
        if self.ascii && !valid.is_ascii() {
            self.ascii = false;
        }
        if rest.is_empty()
            || std::str::from_utf8(rest).is_err_and(|e| e.error_len().is_none()) && !last
        {
            // All of it good (bar a character cut at the end, kept for
            // the next piece): handed on as it is.
            self.hand_on(valid, emit)?;
            if let Mode::Utf8 { pending } = &mut self.mode {
                pending.extend_from_slice(rest);
            }
            return Ok(());
        }
        if self.switchable && ascii_before && valid.is_ascii() {
            // ASCII so far, then bytes that are not UTF-8: GBK whose first
            // Chinese text came late. The rest is read as GB18030.
            self.hand_on(valid, emit)?;
            self.switch_to_gb18030();
            let base =
                (self.consumed + (skipped + valid.len()) as u64).saturating_sub(carried as u64);
            return self.decode(rest, base, last, emit);
        }
        // Text already read as UTF-8: the bad bytes are damage, not a
        // reason to read the rest differently.
        let base = (self.consumed + skipped as u64).saturating_sub(carried as u64);
        let mut out = std::mem::take(&mut self.out);
        out.clear();
        let mut at = 0;
        let mut rest = input;
        loop {
            match std::str::from_utf8(rest) {
                Ok(text) => {
                    out.push_str(text);
                    break;
                }
                Err(e) => {
                    let good = e.valid_up_to();
                    out.push_str(std::str::from_utf8(&rest[..good]).unwrap_or_default());
                    // A bad sequence, or a character cut at the very end.
                    let len = match e.error_len() {
                        Some(len) => len,
                        None if last => rest.len() - good,
                        None => {
                            if let Mode::Utf8 { pending } = &mut self.mode {
                                pending.extend_from_slice(&rest[good..]);
                            }
                            break;
                        }
                    };
                    self.damage.push(Damage {
                        offset: base + (at + good) as u64,
                        line: 0, // set by hand_on
                        replaced: true,
                        encoding: TextEncoding::Utf8,
                    });
                    out.push('\u{FFFD}');
                    at += good + len;
                    rest = &rest[good + len..];
                }
            }
        }
        let result = self.hand_on(&out, emit);
        self.out = out;
        result
    }

    /// Decodes `bytes`, which start at byte `base` of the input, in a mode
    /// other than UTF-8.
    fn decode<E: From<DecodeError>>(
        &mut self,
        bytes: &[u8],
        base: u64,
        last: bool,
        emit: &mut Emit<'_, E>,
    ) -> Result<(), E> {
        let mut out = std::mem::take(&mut self.out);
        out.clear();
        match &mut self.mode {
            Mode::Gb18030(decoder) => {
                decoder.decode(bytes, last, &mut out);
                for &at in &decoder.invalid_at {
                    self.damage.push(Damage {
                        offset: base + at as u64,
                        line: 0,
                        replaced: true,
                        encoding: TextEncoding::Gb18030,
                    });
                }
            }
            Mode::Utf16(decoder) => {
                let before = decoder.invalid;
                decoder.decode(bytes, last, &mut out);
                for _ in before..decoder.invalid {
                    self.damage.push(Damage {
                        offset: base,
                        line: 0,
                        replaced: true,
                        encoding: TextEncoding::Utf16,
                    });
                }
            }
            Mode::Sniffing(_) | Mode::Utf8 { .. } => {}
        }
        let result = self.hand_on(&out, emit);
        self.out = out;
        result
    }

    /// Hands `text` on with the damage found in it (each given its line,
    /// in order: the first U+FFFD not yet accounted for is the first damage,
    /// and a U+FFFD with no damage left was in the input); advances the
    /// offset and line count. Text holding a NUL is binary.
    fn hand_on<E: From<DecodeError>>(
        &mut self,
        text: &str,
        emit: &mut Emit<'_, E>,
    ) -> Result<(), E> {
        if let Some(at) = memchr::memchr(0, text.as_bytes()) {
            return Err(DecodeError::Binary {
                offset: self.offset + at as u64,
            }
            .into());
        }
        // Clean text (the common case) is looked at once, by a vector
        // search for U+FFFD's first byte (memchr is in the module already;
        // its substring search would add kilobytes).
        let bytes = text.as_bytes();
        let marked = !self.damage.is_empty()
            || memchr::memchr_iter(0xEF, bytes)
                .any(|at| bytes[at + 1..].starts_with(&[0xBF, 0xBD]));
        let mut replaced = std::mem::take(&mut self.damage).into_iter();
        let mut line = self.lines + 1;
        let mut counted = 0;
        let marks = if marked { text } else { "" };
        for (at, _) in marks.match_indices('\u{FFFD}') {
            line += memchr::memchr_iter(b'\n', &text.as_bytes()[counted..at]).count() as u64;
            counted = at;
            let damage = match replaced.next() {
                Some(damage) => Damage { line, ..damage },
                None => Damage {
                    offset: self.offset + at as u64,
                    line,
                    replaced: false,
                    encoding: self.encoding.unwrap_or(TextEncoding::Utf8),
                },
            };
            self.damage.push(damage);
        }
        self.lines += memchr::memchr_iter(b'\n', text.as_bytes()).count() as u64;
        self.offset += text.len() as u64;
        let result = if text.is_empty() {
            Ok(())
        } else {
            emit(text, &self.damage)
        };
        self.damage.clear();
        result
    }
}

/// The invalid GB18030 sequences in `head`, the first bytes of a stream
/// (one cut at the end, when more follows, is fine).
fn gb18030_errors(head: &[u8], last: bool) -> u64 {
    let mut decoder = Gb18030::default();
    let mut out = String::with_capacity(head.len());
    decoder.decode(head, last, &mut out);
    decoder.invalid
}

/// The invalid UTF-8 sequences in `head` (one cut at the end is not).
fn utf8_errors(head: &[u8]) -> u64 {
    let (mut rest, mut errors) = (head, 0);
    while let Err(e) = std::str::from_utf8(rest) {
        let Some(len) = e.error_len() else { break };
        errors += 1;
        rest = &rest[e.valid_up_to() + len..];
    }
    errors
}

/// A deterministic byte-stream generator for the decoders' tests.
#[cfg(test)]
fn xorshift(seed: u64) -> impl FnMut() -> u64 {
    let mut state = seed;
    move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The text, encoding and damage of `chunks` read with `forced`.
    fn decode_with(
        forced: Option<TextEncoding>,
        chunks: &[&[u8]],
    ) -> Result<(String, Option<TextEncoding>, Vec<Damage>), DecodeError> {
        let mut d = Decoder::with_encoding(forced);
        let mut text = String::new();
        let mut damage = Vec::new();
        let mut push = |s: &str, found: &[Damage]| -> Result<(), DecodeError> {
            text.push_str(s);
            damage.extend_from_slice(found);
            Ok(())
        };
        for (i, chunk) in chunks.iter().enumerate() {
            d.feed(chunk, i + 1 == chunks.len(), &mut push)?;
        }
        Ok((text, d.encoding(), damage))
    }

    fn decode_chunks(chunks: &[&[u8]]) -> Result<(String, Option<TextEncoding>), DecodeError> {
        let (text, encoding, damage) = decode_with(None, chunks)?;
        assert!(damage.is_empty(), "{damage:?}");
        Ok((text, encoding))
    }

    #[test]
    fn utf8_with_and_without_bom() {
        let (t, e) = decode_chunks(&[b"\xEF\xBB\xBFid,\xE5\xA7\x93\xE5\x90\x8D"]).unwrap();
        assert_eq!((t.as_str(), e), ("id,姓名", Some(TextEncoding::Utf8)));
        let (t, _) = decode_chunks(&[b"a,b"]).unwrap();
        assert_eq!(t, "a,b");
    }

    #[test]
    fn gbk_is_read_as_gb18030() {
        let (bytes, _, _) = encoding_rs::GB18030.encode("患者编号,姓名\nP1,李娜\n");
        let (t, e) = decode_chunks(&[&bytes]).unwrap();
        assert_eq!(
            (t.as_str(), e),
            ("患者编号,姓名\nP1,李娜\n", Some(TextEncoding::Gb18030))
        );
    }

    #[test]
    fn characters_split_across_chunks_survive() {
        let text = "名".repeat(SNIFF_BYTES); // three bytes each, past the sniff window
        let bytes = text.as_bytes();
        let chunks: Vec<&[u8]> = bytes.chunks(1000).collect();
        let (t, e) = decode_chunks(&chunks).unwrap();
        assert_eq!(t, text);
        assert_eq!(e, Some(TextEncoding::Utf8));
    }

    #[test]
    fn late_gbk_bytes_switch_the_rest_to_gb18030() {
        let mut bytes = "a".repeat(SNIFF_BYTES + 10).into_bytes();
        let (gbk, _, _) = encoding_rs::GB18030.encode("李娜");
        bytes.extend_from_slice(&gbk);
        let (t, e) = decode_chunks(&[&bytes[..SNIFF_BYTES], &bytes[SNIFF_BYTES..]]).unwrap();
        assert!(t.ends_with("a李娜"));
        assert_eq!(e, Some(TextEncoding::Gb18030));
    }

    #[test]
    fn bytes_invalid_in_the_encoding_are_damage_never_a_silent_change() {
        // (encoding, [(offset, line)]) of the replaced bytes, and the text.
        let damaged = |forced, chunks: &[&[u8]]| {
            let (text, encoding, damage) = decode_with(forced, chunks).unwrap();
            assert!(
                damage
                    .iter()
                    .all(|d| d.replaced && Some(d.encoding) == encoding)
            );
            let at: Vec<(u64, u64)> = damage.iter().map(|d| (d.offset, d.line)).collect();
            (encoding.unwrap(), at, text)
        };
        // F2: UTF-8 with two bytes that are neither UTF-8 nor GB18030 is
        // not read wholesale as GB18030 ("Zoë" would become "Zo毛"): the
        // bad bytes are marked, the rest is read as written.
        let zoe = b"id,name\n1,Zo\xC3\xAB\n2,Zo\xFF\xFE\n";
        let (encoding, at, text) = damaged(None, &[zoe]);
        assert_eq!((encoding, at), (TextEncoding::Utf8, vec![(19, 3), (20, 3)]));
        assert_eq!(text, "id,name\n1,Zoë\n2,Zo\u{FFFD}\u{FFFD}\n");
        // Latin-1 ("José Müller") as neither encoding: read as the one it
        // breaks less (GB18030), its bad bytes marked.
        let latin1 = b"id,name\n1,Jos\xE9 M\xFCller\n";
        let (encoding, at, _) = damaged(None, &[latin1]);
        assert_eq!((encoding, at[0]), (TextEncoding::Gb18030, (14, 2)));
        // A UTF-8 stream with a bad byte past the sniffed bytes stays
        // UTF-8, in whatever chunks it comes.
        let mut late = format!("id,name\n1,Zoë\n{}\n", "a".repeat(SNIFF_BYTES)).into_bytes();
        let bad = late.len() as u64 + 2;
        late.extend_from_slice(b"2,\xC3(\n");
        for cut in [SNIFF_BYTES, late.len() - 3, late.len() - 4] {
            let (encoding, at, text) = damaged(None, &[&late[..cut], &late[cut..]]);
            assert_eq!(
                (encoding, at),
                (TextEncoding::Utf8, vec![(bad, 4)]),
                "cut at {cut}"
            );
            assert!(text.ends_with("2,\u{FFFD}(\n"));
        }
        // GB18030 with a byte it has no character for.
        let (mut gbk, _, _) = encoding_rs::GB18030.encode("患者编号,姓名\nP1,李娜\n");
        let at = gbk.len() as u64;
        gbk.to_mut().extend_from_slice(b"P2,\xFF\n");
        assert_eq!(damaged(None, &[&gbk]).1, vec![(at + 3, 3)]);
        // UTF-16 with an unpaired surrogate.
        let bytes = [0xFF, 0xFE, b'a', 0, 0x00, 0xDC];
        assert_eq!(damaged(None, &[&bytes]).0, TextEncoding::Utf16);
    }

    #[test]
    fn a_replacement_character_in_the_input_is_damage_too() {
        let (_, _, damage) = decode_with(None, &["id\nZo\u{FFFD}\n".as_bytes()]).unwrap();
        assert_eq!(
            damage,
            vec![Damage {
                offset: 5,
                line: 2,
                replaced: false,
                encoding: TextEncoding::Utf8
            }]
        );
    }

    #[test]
    fn a_given_encoding_is_used_whatever_the_bytes() {
        let (gbk, _, _) = encoding_rs::GB18030.encode("id,姓名\n");
        // Given as UTF-8, GBK bytes are damage, not a reason to switch.
        let (_, encoding, damage) = decode_with(Some(TextEncoding::Utf8), &[&gbk]).unwrap();
        assert_eq!((encoding, damage.len()), (Some(TextEncoding::Utf8), 4));
        // Short GBK names that happen to be valid UTF-8 are read as GB18030
        // when the protocol says so ("瑗" in UTF-8 is GBK's "鑾" ...).
        let (text, encoding, _) =
            decode_with(Some(TextEncoding::Gb18030), &["id\n李\n".as_bytes()]).unwrap();
        assert_eq!(encoding, Some(TextEncoding::Gb18030));
        assert_ne!(text, "id\n李\n");
        let (text, _, _) = decode_with(Some(TextEncoding::Gb18030), &[&gbk]).unwrap();
        assert_eq!(text, "id,姓名\n");
    }

    #[test]
    fn utf16_by_bom() {
        let mut bytes = vec![0xFF, 0xFE];
        for unit in "id,名".encode_utf16() {
            bytes.extend_from_slice(&unit.to_le_bytes());
        }
        let (t, e) = decode_chunks(&[&bytes]).unwrap();
        assert_eq!((t.as_str(), e), ("id,名", Some(TextEncoding::Utf16)));
    }

    #[test]
    fn nul_bytes_mean_binary() {
        assert_eq!(
            decode_chunks(&[b"id\0\x01\x02"]),
            Err(DecodeError::Binary { offset: 2 })
        );
    }
}
