//! Streaming text decoding: UTF-8 (with or without BOM), GB18030 fallback.
//!
//! Chinese hospital systems export GBK; everything else is UTF-8. The first
//! [`SNIFF_BYTES`] decide: if they are valid UTF-8 the stream is read as
//! UTF-8, otherwise as GB18030. Deciding per cell would misread short GBK
//! names that happen to be valid UTF-8 (about one two-character name in
//! fifty). If a UTF-8 stream later holds bytes that are not UTF-8, the rest
//! of the stream is decoded as GB18030 from there. A UTF-16 BOM (Excel's
//! "Unicode text") is honoured too. Input is handed on as `&str` pieces; in
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
}

/// The encoding a stream was read with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextEncoding {
    /// UTF-8.
    Utf8,
    /// GB18030 (a superset of GBK and GB2312).
    Gb18030,
    /// UTF-16, little or big endian, by BOM.
    Utf16,
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
    /// Bytes of input consumed so far.
    offset: u64,
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
            return self.pass(&buffer[bom..], last, emit);
        }
        self.pass(bytes, last, emit)
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
        if utf8 {
            self.encoding = Some(TextEncoding::Utf8);
            self.mode = Mode::Utf8 {
                pending: Vec::new(),
            };
        } else {
            self.switch_to_gb18030();
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
        emit: &mut dyn FnMut(&str) -> Result<(), E>,
    ) -> Result<(), E> {
        let Mode::Utf8 { pending } = &mut self.mode else {
            return self.decode(bytes, last, emit);
        };
        let mut input = bytes;
        if self.offset == 0 && input.starts_with(b"\xEF\xBB\xBF") {
            input = &input[3..];
            self.offset = 3;
        }
        let joined;
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
        match &mut self.mode {
            Mode::Gb18030(decoder) => decoder.decode(bytes, last, &mut self.out),
            Mode::Utf16(decoder) => decoder.decode(bytes, last, &mut self.out),
            Mode::Sniffing(_) | Mode::Utf8 { .. } => return Ok(()),
        }
        let out = std::mem::take(&mut self.out);
        let result = emit_checked(&mut self.offset, &out, emit);
        self.out = out;
        result
    }
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
