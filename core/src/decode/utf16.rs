//! A streaming UTF-16 decoder (for exports with a UTF-16 byte-order mark,
//! such as Excel's "Unicode text"): pairs surrogates across chunks, and
//! turns unpaired surrogates and a dangling odd byte into U+FFFD, as the
//! WHATWG Encoding Standard (and encoding_rs) do.

const REPLACEMENT: char = '\u{FFFD}';

/// Decoder state between chunks.
#[derive(Debug, Clone)]
pub struct Utf16 {
    little_endian: bool,
    odd_byte: Option<u8>,
    high_surrogate: Option<u16>,
    /// Units decoded as U+FFFD because they are not UTF-16.
    pub invalid: u64,
}

impl Utf16 {
    /// A decoder for one byte order.
    pub fn new(little_endian: bool) -> Utf16 {
        Utf16 {
            little_endian,
            odd_byte: None,
            high_surrogate: None,
            invalid: 0,
        }
    }

    /// Decodes `input` onto `out`; `last` ends the stream.
    pub fn decode(&mut self, input: &[u8], last: bool, out: &mut String) {
        let mut bytes = input.iter().copied();
        loop {
            let pair = match self.odd_byte.take() {
                Some(first) => bytes.next().map(|second| [first, second]),
                None => bytes.next().and_then(|first| match bytes.next() {
                    Some(second) => Some([first, second]),
                    None => {
                        self.odd_byte = Some(first);
                        None
                    }
                }),
            };
            let Some(pair) = pair else { break };
            let unit = if self.little_endian {
                u16::from_le_bytes(pair)
            } else {
                u16::from_be_bytes(pair)
            };
            self.unit(unit, out);
        }
        // An unfinished unit or pair at the end is one error, not two.
        if last && (self.high_surrogate.take().is_some() | self.odd_byte.take().is_some()) {
            self.bad(out);
        }
    }

    fn unit(&mut self, unit: u16, out: &mut String) {
        let is_high = (0xD800..=0xDBFF).contains(&unit);
        let is_low = (0xDC00..=0xDFFF).contains(&unit);
        if let Some(high) = self.high_surrogate.take() {
            if is_low {
                let code =
                    0x10000 + ((u32::from(high) - 0xD800) << 10) + (u32::from(unit) - 0xDC00);
                match char::from_u32(code) {
                    Some(c) => out.push(c),
                    None => self.bad(out),
                }
                return;
            }
            self.bad(out);
        }
        if is_high {
            self.high_surrogate = Some(unit);
        } else if is_low {
            self.bad(out);
        } else {
            match char::from_u32(u32::from(unit)) {
                Some(c) => out.push(c),
                None => self.bad(out),
            }
        }
    }

    /// An invalid unit: U+FFFD, counted.
    fn bad(&mut self, out: &mut String) {
        self.invalid += 1;
        out.push(REPLACEMENT);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_streams_in_random_chunks_match_encoding_rs() {
        let mut next = super::super::xorshift(0x9E37_79B9_7F4A_7C15u64);
        for little_endian in [true, false] {
            let encoding = if little_endian {
                encoding_rs::UTF_16LE
            } else {
                encoding_rs::UTF_16BE
            };
            for _ in 0..300 {
                let len = (next() % 40) as usize;
                let bytes: Vec<u8> = (0..len)
                    .map(
                        |i| match (next() % 3, i % 2 == usize::from(little_endian)) {
                            (0, true) => 0xD8 + (next() % 8) as u8, // surrogates, high byte
                            (1, _) => b'a',
                            _ => next() as u8,
                        },
                    )
                    .collect();
                let chunk = 1 + (next() % 5) as usize;
                let mut decoder = Utf16::new(little_endian);
                let mut out = String::new();
                let pieces: Vec<&[u8]> = bytes.chunks(chunk).collect();
                for (n, piece) in pieces.iter().enumerate() {
                    decoder.decode(piece, n + 1 == pieces.len(), &mut out);
                }
                if pieces.is_empty() {
                    decoder.decode(&[], true, &mut out);
                }
                let expected = encoding.decode_without_bom_handling(&bytes).0;
                assert_eq!(out, expected, "{bytes:02X?} in chunks of {chunk}");
            }
        }
    }
}
