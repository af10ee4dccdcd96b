//! Generates the GB18030 decoding tables from encoding_rs.
//!
//! encoding_rs stays the source of truth for GB18030 (tests compare the
//! decoder with it on every code point), but it cannot be linked into the
//! wasm module: its runtime dispatch keeps every legacy encoding's tables,
//! 123 KB gzipped. Here only GB18030's are extracted, and the two-byte
//! table is stored as wrapping deltas (GBK's extension areas follow
//! Unicode order), which gzips to ~17 KB.

use std::path::PathBuf;

use encoding_rs::GB18030;

/// Two-byte area: leads 0x81..=0xFE × 190 trails.
const TWO_BYTE_POINTERS: u32 = 126 * 190;
/// Four-byte pointers that map into the BMP.
const FOUR_BYTE_BMP_POINTERS: u32 = 39420;
/// Marks unmapped pointers in the four-byte ranges.
const NONE: u32 = u32::MAX;

fn decode_one(bytes: &[u8]) -> Option<u32> {
    let (text, had_errors) = GB18030.decode_without_bom_handling(bytes);
    let mut chars = text.chars();
    match (had_errors, chars.next(), chars.next()) {
        (false, Some(c), None) => Some(c as u32),
        _ => None,
    }
}

fn main() {
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR"));

    let mut deltas = Vec::with_capacity(2 * TWO_BYTE_POINTERS as usize);
    let mut previous: u16 = 0;
    for pointer in 0..TWO_BYTE_POINTERS {
        let lead = 0x81 + pointer / 190;
        let trail = pointer % 190;
        let trail = if trail < 0x3F {
            0x40 + trail
        } else {
            0x41 + trail
        };
        let code = decode_one(&[lead as u8, trail as u8]).unwrap_or(0);
        let code = u16::try_from(code).expect("two-byte GB18030 maps into the BMP");
        deltas.extend_from_slice(&code.wrapping_sub(previous).to_le_bytes());
        previous = code;
    }
    std::fs::write(out.join("gb18030_two_byte.bin"), deltas).expect("write two-byte table");

    // Runs of consecutive code points: (first pointer, first code point or NONE).
    let mut runs = Vec::new();
    let mut expected = None;
    for pointer in 0..FOUR_BYTE_BMP_POINTERS {
        let bytes = [
            (0x81 + pointer / 12600) as u8,
            (0x30 + pointer / 1260 % 10) as u8,
            (0x81 + pointer / 10 % 126) as u8,
            (0x30 + pointer % 10) as u8,
        ];
        let code = decode_one(&bytes).unwrap_or(NONE);
        if Some(code) != expected {
            runs.extend_from_slice(&pointer.to_le_bytes());
            runs.extend_from_slice(&code.to_le_bytes());
        }
        expected = Some(if code == NONE { NONE } else { code + 1 });
    }
    std::fs::write(out.join("gb18030_ranges.bin"), runs).expect("write ranges table");
    println!("cargo::rerun-if-changed=build.rs");
}
