//! A streaming GB18030 decoder (the WHATWG Encoding Standard's algorithm).
//!
//! Tables come from encoding_rs at build time (see `build.rs`), and the
//! tests hold this decoder to encoding_rs's output on every two-byte
//! sequence, every four-byte BMP sequence and random streams in random
//! chunks. Only the tables differ in form: the two-byte table ships as
//! deltas and is expanded once, on first use.

use std::sync::OnceLock;

/// Wrapping `u16` deltas of the two-byte table, little endian.
static TWO_BYTE_DELTAS: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/gb18030_two_byte.bin"));
/// Four-byte BMP runs: `(first pointer, first code point or u32::MAX)` pairs, little endian.
static RANGES: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/gb18030_ranges.bin"));

const REPLACEMENT: char = '\u{FFFD}';

fn two_byte_table() -> &'static [u16] {
    static TABLE: OnceLock<Vec<u16>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut code: u16 = 0;
        TWO_BYTE_DELTAS
            .chunks_exact(2)
            .map(|d| {
                code = code.wrapping_add(u16::from_le_bytes([d[0], d[1]]));
                code
            })
            .collect()
    })
}

/// The code point of a two-byte pointer, if mapped.
fn two_byte(pointer: usize) -> Option<char> {
    match two_byte_table().get(pointer) {
        Some(&code) if code != 0 => char::from_u32(u32::from(code)),
        _ => None,
    }
}

/// The code point of a four-byte pointer, if mapped.
fn four_byte(pointer: u32) -> Option<char> {
    if (39420..189_000).contains(&pointer) || pointer > 1_237_575 {
        return None;
    }
    if pointer >= 189_000 {
        return char::from_u32(0x10000 + pointer - 189_000);
    }
    let run = |i: usize| {
        let at = i * 8;
        let word =
            |o: usize| u32::from_le_bytes([RANGES[o], RANGES[o + 1], RANGES[o + 2], RANGES[o + 3]]);
        (word(at), word(at + 4))
    };
    let runs = RANGES.len() / 8;
    // The last run starting at or before the pointer.
    let (mut low, mut high) = (0, runs);
    while high - low > 1 {
        let mid = (low + high) / 2;
        if run(mid).0 <= pointer {
            low = mid;
        } else {
            high = mid;
        }
    }
    let (start, code) = run(low);
    if code == u32::MAX {
        return None;
    }
    char::from_u32(code + (pointer - start))
}

/// Decoder state between chunks: the bytes of an unfinished sequence.
#[derive(Debug, Default, Clone)]
pub struct Gb18030 {
    first: u8,
    second: u8,
    third: u8,
    /// Sequences decoded as U+FFFD because they are not GB18030.
    pub invalid: u64,
    /// Where in the last `decode` call's input each of them was seen.
    pub invalid_at: Vec<usize>,
}

/// Bytes handed back to the front of the stream (at most four at once).
#[derive(Default)]
struct Front {
    bytes: [u8; 8],
    len: usize,
}

impl Front {
    fn prepend(&mut self, bytes: &[u8]) {
        self.bytes.copy_within(0..self.len, bytes.len());
        self.bytes[..bytes.len()].copy_from_slice(bytes);
        self.len += bytes.len();
    }

    fn pop(&mut self) -> Option<u8> {
        if self.len == 0 {
            return None;
        }
        let byte = self.bytes[0];
        self.bytes.copy_within(1..self.len, 0);
        self.len -= 1;
        Some(byte)
    }
}

impl Gb18030 {
    /// Decodes `input` onto `out`; `last` ends the stream (an unfinished
    /// sequence becomes U+FFFD).
    pub fn decode(&mut self, input: &[u8], last: bool, out: &mut String) {
        self.invalid_at.clear();
        let mut front = Front::default();
        let mut i = 0;
        loop {
            let byte = match front.pop() {
                Some(byte) => byte,
                None if i < input.len() => {
                    if self.first == 0 && input[i] < 0x80 {
                        // A run of ASCII in the neutral state passes as it is.
                        let run = input[i..]
                            .iter()
                            .position(|&b| b >= 0x80)
                            .unwrap_or(input.len() - i);
                        out.push_str(std::str::from_utf8(&input[i..i + run]).unwrap_or_default());
                        i += run;
                        continue;
                    }
                    i += 1;
                    input[i - 1]
                }
                None => break,
            };
            let before = self.invalid;
            self.step(byte, &mut front, out);
            for _ in before..self.invalid {
                // The byte that showed the sequence bad (or the one after).
                self.invalid_at.push(i.saturating_sub(1));
            }
        }
        if last && self.first != 0 {
            self.reset();
            self.bad(out);
            self.invalid_at.push(input.len());
        }
    }

    fn step(&mut self, byte: u8, front: &mut Front, out: &mut String) {
        let digit = (0x30..=0x39).contains(&byte);
        if self.third != 0 {
            let (first, second, third) = (self.first, self.second, self.third);
            self.reset();
            if !digit {
                front.prepend(&[second, third, byte]);
                self.bad(out);
                return;
            }
            let pointer = u32::from(first - 0x81) * 12600
                + u32::from(second - 0x30) * 1260
                + u32::from(third - 0x81) * 10
                + u32::from(byte - 0x30);
            match four_byte(pointer) {
                Some(c) => out.push(c),
                None => self.bad(out),
            }
            return;
        }
        if self.second != 0 {
            if (0x81..=0xFE).contains(&byte) {
                self.third = byte;
                return;
            }
            let second = self.second;
            self.reset();
            front.prepend(&[second, byte]);
            self.bad(out);
            return;
        }
        if self.first != 0 {
            if digit {
                self.second = byte;
                return;
            }
            let lead = self.first;
            self.first = 0;
            let offset = if byte < 0x7F { 0x40 } else { 0x41 };
            let in_range = (0x40..=0x7E).contains(&byte) || (0x80..=0xFE).contains(&byte);
            let pointer = usize::from(lead - 0x81) * 190 + usize::from(byte.wrapping_sub(offset));
            if let Some(c) = in_range.then(|| two_byte(pointer)).flatten() {
                out.push(c);
                return;
            }
            if byte < 0x80 {
                front.prepend(&[byte]);
            }
            self.bad(out);
            return;
        }
        match byte {
            0x00..=0x7F => out.push(char::from(byte)),
            0x80 => out.push('\u{20AC}'),
            0x81..=0xFE => self.first = byte,
            0xFF => self.bad(out),
        }
    }

    /// Clears an unfinished sequence (keeping the count).
    fn reset(&mut self) {
        (self.first, self.second, self.third) = (0, 0, 0);
    }

    /// An invalid sequence: U+FFFD, counted.
    fn bad(&mut self, out: &mut String) {
        self.invalid += 1;
        out.push(REPLACEMENT);
    }
}

#[cfg(test)]
mod tests {
    use encoding_rs::GB18030;

    use super::*;

    fn reference(bytes: &[u8]) -> String {
        GB18030.decode_without_bom_handling(bytes).0.into_owned()
    }

    fn ours(bytes: &[u8], chunk: usize) -> String {
        let mut decoder = Gb18030::default();
        let mut out = String::new();
        let pieces: Vec<&[u8]> = bytes.chunks(chunk.max(1)).collect();
        for (n, piece) in pieces.iter().enumerate() {
            decoder.decode(piece, n + 1 == pieces.len(), &mut out);
        }
        if pieces.is_empty() {
            decoder.decode(&[], true, &mut out);
        }
        out
    }

    #[test]
    fn every_two_byte_sequence_matches_encoding_rs() {
        for lead in 0x80..=0xFFu8 {
            for trail in 0..=0xFFu8 {
                let bytes = [lead, trail, b'x'];
                assert_eq!(ours(&bytes, 3), reference(&bytes), "{lead:02X} {trail:02X}");
            }
        }
    }

    #[test]
    fn every_four_byte_bmp_sequence_matches_encoding_rs() {
        for pointer in 0..39420u32 {
            let bytes = [
                (0x81 + pointer / 12600) as u8,
                (0x30 + pointer / 1260 % 10) as u8,
                (0x81 + pointer / 10 % 126) as u8,
                (0x30 + pointer % 10) as u8,
            ];
            assert_eq!(ours(&bytes, 4), reference(&bytes), "pointer {pointer}");
        }
        // Supplementary planes and the unmapped gap, sampled.
        for pointer in (39420..1_300_000u32).step_by(997) {
            let bytes = [
                (0x81 + pointer / 12600 % 126) as u8,
                (0x30 + pointer / 1260 % 10) as u8,
                (0x81 + pointer / 10 % 126) as u8,
                (0x30 + pointer % 10) as u8,
            ];
            assert_eq!(ours(&bytes, 4), reference(&bytes), "pointer {pointer}");
        }
    }

    #[test]
    fn random_streams_in_random_chunks_match_encoding_rs() {
        let mut next = super::super::xorshift(0x2545_F491_4F6C_DD1Du64);
        for _ in 0..300 {
            let len = (next() % 64) as usize;
            let bytes: Vec<u8> = (0..len)
                .map(|_| match next() % 4 {
                    0 => b'0' + (next() % 10) as u8,
                    1 => 0x81 + (next() % 126) as u8,
                    2 => (next() % 128) as u8,
                    _ => next() as u8,
                })
                .collect();
            let chunk = 1 + (next() % 7) as usize;
            assert_eq!(
                ours(&bytes, chunk),
                reference(&bytes),
                "{bytes:02X?} in chunks of {chunk}"
            );
        }
    }
}
