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
//! Bytes that are not valid in the encoding chosen are never replaced
//! silently (a name would change) nor make the decoder switch a stream
//! that was already read as UTF-8 text: they are a [`DecodeError::Invalid`]
//! naming the byte offset and line. Input is handed on as `&str` pieces; in
//! the UTF-8 case without copying.

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
    /// Bytes that are not valid in the encoding the input is read with.
    #[error(
        "line {line}: the bytes near byte {offset} are not valid {encoding}, the encoding this input is read with; re-export it as UTF-8 (a Latin-1 or Windows-1252 export is not read)"
    )]
    Invalid {
        /// The encoding.
        encoding: TextEncoding,
        /// Byte offset in the input, of the bad bytes (or of the piece
        /// they are in).
        offset: u64,
        /// 1-based line of the text they are on.
        line: u64,
    },
}

/// The encoding a stream was read with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TextEncoding {
    /// UTF-8.
    Utf8,
    /// GB18030 (a superset of GBK and GB2312).
    Gb18030,
    /// UTF-16, little or big endian, by BOM.
    Utf16,
}

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
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder::new()
    }
}

impl Decoder {
    /// A decoder that has not seen any input yet.
    pub fn new() -> Decoder {
        Decoder {
            mode: Mode::Sniffing(Vec::new()),
            encoding: None,
            offset: 0,
            consumed: 0,
            lines: 0,
            ascii: true,
            switchable: true,
            out: String::new(),
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
        emit: &mut dyn FnMut(&str) -> Result<(), E>,
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
        // Neither UTF-8 nor GB18030: read as the one it breaks less, which
        // reports its first bad bytes.
        if utf8 || gb18030_errors(head, last) >= utf8_errors(head) {
            self.switchable = utf8;
            self.encoding = Some(TextEncoding::Utf8);
            self.mode = Mode::Utf8 {
                pending: Vec::new(),
            };
        } else {
            self.switch_to_gb18030();
        }
        0
    }

    /// The error for bad bytes at `offset` of the current piece of input
    /// `piece`, on the line after `text` (the good text before them):
    /// binary data if the piece holds a NUL (in UTF-8 and GB18030 a NUL
    /// byte is a NUL character).
    fn invalid(&self, piece: &[u8], offset: usize, text: &str) -> DecodeError {
        if self.encoding != Some(TextEncoding::Utf16)
            && let Some(at) = memchr::memchr(0, piece)
        {
            return DecodeError::Binary {
                offset: self.consumed + at as u64,
            };
        }
        DecodeError::Invalid {
            encoding: self.encoding.unwrap_or(TextEncoding::Utf8),
            offset: self.consumed + offset as u64,
            line: self.lines + memchr::memchr_iter(b'\n', text.as_bytes()).count() as u64 + 1,
        }
    }

    fn switch_to_gb18030(&mut self) {
        self.encoding = Some(TextEncoding::Gb18030);
        self.mode = Mode::Gb18030(Gb18030::default());
    }

    fn pass<E: From<DecodeError>>(
        &mut self,
        bytes: &[u8],
        last: bool,
        emit: &mut dyn FnMut(&str) -> Result<(), E>,
    ) -> Result<(), E> {
        let Mode::Utf8 { pending } = &mut self.mode else {
            return self.decode(bytes, last, emit);
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
        let lines_before = self.lines;
        self.lines += memchr::memchr_iter(b'\n', valid.as_bytes()).count() as u64;
        emit_checked(&mut self.offset, valid, emit)?;
        if rest.is_empty() {
            return Ok(());
        }
        let incomplete = std::str::from_utf8(rest).is_err_and(|e| e.error_len().is_none());
        if incomplete && !last {
            if let Mode::Utf8 { pending } = &mut self.mode {
                pending.extend_from_slice(rest);
            }
            return Ok(());
        }
        if !(self.switchable && ascii_before && valid.is_ascii()) {
            // Text already read as UTF-8: these bytes are an error, not a
            // reason to read the rest differently.
            let at = skipped + valid.len() - carried.min(skipped + valid.len());
            self.lines = lines_before;
            return Err(self.invalid(bytes, at, valid).into());
        }
        self.switch_to_gb18030();
        self.decode(rest, last, emit)
    }

    fn decode<E: From<DecodeError>>(
        &mut self,
        bytes: &[u8],
        last: bool,
        emit: &mut dyn FnMut(&str) -> Result<(), E>,
    ) -> Result<(), E> {
        self.out.clear();
        // Where the first bad sequence is in `bytes`, if there is one.
        let invalid = match &mut self.mode {
            Mode::Gb18030(decoder) => {
                decoder.decode(bytes, last, &mut self.out);
                decoder.invalid_at
            }
            Mode::Utf16(decoder) => {
                let before = decoder.invalid;
                decoder.decode(bytes, last, &mut self.out);
                (decoder.invalid > before).then_some(0)
            }
            Mode::Sniffing(_) | Mode::Utf8 { .. } => return Ok(()),
        };
        if let Some(at) = invalid {
            // The good text before the first bad sequence says its line.
            let good = self.out.split('\u{FFFD}').next().unwrap_or_default();
            return Err(self.invalid(bytes, at, good).into());
        }
        let out = std::mem::take(&mut self.out);
        self.lines += memchr::memchr_iter(b'\n', out.as_bytes()).count() as u64;
        let result = emit_checked(&mut self.offset, &out, emit);
        self.out = out;
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

/// Hands `text` on unless it holds a NUL; advances `offset`.
fn emit_checked<E: From<DecodeError>>(
    offset: &mut u64,
    text: &str,
    emit: &mut dyn FnMut(&str) -> Result<(), E>,
) -> Result<(), E> {
    if let Some(at) = memchr::memchr(0, text.as_bytes()) {
        return Err(DecodeError::Binary {
            offset: *offset + at as u64,
        }
        .into());
    }
    *offset += text.len() as u64;
    if text.is_empty() {
        return Ok(());
    }
    emit(text)
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

    fn decode_chunks(chunks: &[&[u8]]) -> Result<(String, Option<TextEncoding>), DecodeError> {
        let mut d = Decoder::new();
        let mut text = String::new();
        let mut push = |s: &str| -> Result<(), DecodeError> {
            text.push_str(s);
            Ok(())
        };
        for (i, chunk) in chunks.iter().enumerate() {
            d.feed(chunk, i + 1 == chunks.len(), &mut push)?;
        }
        Ok((text, d.encoding()))
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
    fn bytes_invalid_in_the_encoding_are_an_error_never_a_silent_change() {
        let invalid = |chunks: &[&[u8]]| match decode_chunks(chunks) {
            Err(DecodeError::Invalid {
                encoding,
                offset,
                line,
            }) => (encoding, offset, line),
            other => panic!("{other:?}"),
        };
        // F2: UTF-8 with two bytes that are neither UTF-8 nor GB18030 is
        // not read wholesale as GB18030 ("Zoë" would become "Zo毛").
        let zoe = b"id,name\n1,Zo\xC3\xAB\n2,Zo\xFF\xFE\n";
        assert_eq!(invalid(&[zoe]), (TextEncoding::Utf8, 19, 3));
        // Latin-1 ("José Müller") is not misread either.
        // Latin-1 ("José Müller") is not misread either: as neither
        // encoding, it is an error of the one it breaks less (GB18030).
        let latin1 = b"id,name\n1,Jos\xE9 M\xFCller\n";
        assert_eq!(invalid(&[latin1]), (TextEncoding::Gb18030, 14, 2));
        // A UTF-8 stream with a bad byte past the sniffed bytes stays
        // UTF-8: an error, not GB18030 from there.
        let mut late = format!("id,name\n1,Zoë\n{}\n", "a".repeat(SNIFF_BYTES)).into_bytes();
        let at = late.len() as u64;
        late.extend_from_slice(b"2,\xC3(\n");
        let (encoding, offset, line) = invalid(&[&late[..SNIFF_BYTES], &late[SNIFF_BYTES..]]);
        assert_eq!((encoding, offset, line), (TextEncoding::Utf8, at + 2, 4));
        // GB18030 with a byte it has no character for.
        let (mut gbk, _, _) = encoding_rs::GB18030.encode("患者编号,姓名\nP1,李娜\n");
        let at = gbk.len() as u64;
        gbk.to_mut().extend_from_slice(b"P2,\xFF\n");
        assert_eq!(invalid(&[&gbk]), (TextEncoding::Gb18030, at + 3, 3));
        // UTF-16 with an unpaired surrogate.
        let bytes = [0xFF, 0xFE, b'a', 0, 0x00, 0xDC];
        assert_eq!(invalid(&[&bytes]).0, TextEncoding::Utf16);
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
