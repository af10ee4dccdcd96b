//! The memory of a uniqueness check: which keys earlier records had.
//!
//! Keeping every key's text would cost ~100 bytes a record (a million-row
//! file: ~100 MB). Instead each key is reduced to a 96-bit fingerprint of
//! its typed values and stored with the first row in 16 bytes. A key that
//! is one value of one word (an integer id, a date, a number: most keys) is
//! its own fingerprint, exactly; any other is a SipHash-1-3 of its parts.
//! Two different keys share a fingerprint with probability about n²/2⁹⁷
//! (for 10 million records, 6·10⁻¹⁶), far below any other source of error;
//! the hash keys are fixed so every host gives the same verdicts.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use chrono::{Datelike, Timelike};
use siphasher::sip128::{Hasher128, SipHasher13};

use crate::value::Value;

/// Fixed SipHash keys: verdicts must not depend on a random seed.
const KEYS: (u64, u64) = (0x636c_696e_7661_6c31, 0x6b65_792d_696e_6465);

/// 96 bits of a key's SipHash-1-3; packed to 4-byte alignment so that an
/// entry with its `u32` row takes 16 bytes, not 24.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
#[repr(C, packed(4))]
struct Fingerprint {
    low: u64,
    high: u32,
}

/// The high word of an exact fingerprint (see [`KeyIndex::fingerprint`])
/// above its value's tag: a SipHash fingerprint has it with probability
/// 2⁻²⁴, and then still differs in its other 72 bits.
const EXACT: u32 = 0xc1_7a_11_00;

/// The table's hash of a fingerprint: its low word, mixed by a multiply,
/// since an exact fingerprint (an id, a number's bits) is not uniformly
/// distributed and the table reads the hash's low and high bits.
#[derive(Default)]
struct Mix(u64);

impl Hasher for Mix {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        // Every bit of `n` reaches the low bits (the bucket) and the high
        // ones (the table's tag): a number's differ mostly in its high bits.
        // Keys that differ only in their last four bits (ids 16k..16k+15)
        // land in one group of slots and differ in their tag: consecutive
        // ids fill a few cache lines instead of sixteen scattered ones.
        let high = n >> 4;
        let product = (high ^ (high >> 29)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        // The tag is the hash's top seven bits of a usize: bits 57.. on
        // 64-bit hosts, 25.. in wasm32.
        let low = n & 15;
        self.0 = ((product ^ (product >> 32)) & !15 | low) ^ (low << 57) ^ (low << 25);
    }
    fn write_u32(&mut self, _: u32) {}
}

/// Keys seen so far, each with the row that first had it.
///
/// The index grows by doubling; where memory is bounded (a wasm instance)
/// a growth that cannot be had sets the caller's `full` flag instead of
/// aborting, and the session fails the input with a clear error
/// ([`crate::InputError::DuplicateIndexFull`]).
#[derive(Debug, Default)]
pub(crate) struct KeyIndex {
    seen: HashMap<Fingerprint, u32, BuildHasherDefault<Mix>>,
}

impl std::fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (high, low) = (self.high, self.low);
        write!(f, "{high:08x}{low:016x}")
    }
}

impl KeyIndex {
    /// The fingerprint of the key made of `parts`: the value itself when
    /// the key is one value of one word, a SipHash of them otherwise.
    /// (One copy in the module for every kind of key: `parts` is `dyn`.)
    fn fingerprint<'v, 'a: 'v>(parts: &mut dyn Iterator<Item = &'v Value<'a>>) -> Fingerprint {
        let mut hasher = KeyBytes {
            hasher: SipHasher13::new_with_keys(KEYS.0, KEYS.1),
            buffer: [0; KeyBytes::BUFFER],
            len: 0,
        };
        let first = parts.next();
        if let Some(value) = first {
            match (fixed_words(value), parts.next()) {
                (Some((tag, a, 0)), None) => {
                    return Fingerprint {
                        low: a,
                        high: EXACT | u32::from(tag),
                    };
                }
                (_, second) => {
                    hash_value(&mut hasher, value);
                    if let Some(second) = second {
                        hash_value(&mut hasher, second);
                    }
                }
            }
        }
        for value in parts {
            hash_value(&mut hasher, value);
        }
        hasher.flush();
        let hash = hasher.hasher.finish128();
        Fingerprint {
            low: hash.h1,
            high: hash.h2 as u32,
        }
    }

    /// Whether a key made of `parts` was recorded.
    pub(crate) fn contains<'v, 'a: 'v>(
        &self,
        mut parts: impl Iterator<Item = &'v Value<'a>>,
    ) -> bool {
        self.seen.contains_key(&Self::fingerprint(&mut parts))
    }

    /// How many distinct keys were recorded.
    pub(crate) fn len(&self) -> usize {
        self.seen.len()
    }

    /// Makes room for about `keys` keys in all, if memory allows (a hint:
    /// growing by doubling rehashes every key recorded so far).
    pub(crate) fn reserve(&mut self, keys: usize) {
        let _ = self.seen.try_reserve(keys.saturating_sub(self.seen.len()));
    }

    /// Records the key made of `parts` for `row`; returns the row that had
    /// it first if an earlier record had it. Rows past `u32::MAX` are kept
    /// as `u32::MAX`. When there is no memory to record it, sets `full`
    /// (the key is then only looked up).
    pub(crate) fn first_row_or_insert<'v, 'a: 'v>(
        &mut self,
        mut parts: impl Iterator<Item = &'v Value<'a>>,
        row: u64,
        full: &mut bool,
    ) -> Option<u64> {
        let fingerprint = Self::fingerprint(&mut parts);
        let row = u32::try_from(row).unwrap_or(u32::MAX);
        // `entry` grows the table infallibly (an abort, a trap in wasm,
        // when memory is out): grow it fallibly first.
        if self.seen.len() == self.seen.capacity() && self.seen.try_reserve(1).is_err() {
            *full = true;
            return self.seen.get(&fingerprint).map(|&first| u64::from(first));
        }
        match self.seen.entry(fingerprint) {
            std::collections::hash_map::Entry::Occupied(first) => Some(u64::from(*first.get())),
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(row);
                None
            }
        }
    }
}

/// The hasher behind a buffer: a key's parts are many small writes, and
/// SipHash's per-write handling of partial words costs more than hashing
/// the bytes (in wasm, most of a key's cost). SipHash is a stream, so the
/// fingerprint is the same however the bytes are split.
struct KeyBytes {
    hasher: SipHasher13,
    buffer: [u8; KeyBytes::BUFFER],
    len: usize,
}

impl KeyBytes {
    /// Bytes held before they go to the hasher: most keys fit.
    const BUFFER: usize = 64;

    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        if self.len + bytes.len() > Self::BUFFER {
            self.flush();
        }
        if bytes.len() > Self::BUFFER {
            self.hasher.write(bytes);
        } else {
            self.buffer[self.len..self.len + bytes.len()].copy_from_slice(bytes);
            self.len += bytes.len();
        }
    }

    #[inline]
    fn flush(&mut self) {
        self.hasher.write(&self.buffer[..self.len]);
        self.len = 0;
    }
}

/// Feeds a value to the hasher so that equal values of one field type
/// (in the order [`Value::compare`] gives) hash alike, without formatting
/// them: a tag and two words for fixed-size values, in one write (one
/// SipHash call site, not one per variant: this is in the wasm module).
fn hash_value(hasher: &mut KeyBytes, value: &Value<'_>) {
    if let Some((tag, a, b)) = fixed_words(value) {
        let mut bytes = [0u8; 17];
        bytes[0] = tag;
        bytes[1..9].copy_from_slice(&a.to_le_bytes());
        bytes[9..].copy_from_slice(&b.to_le_bytes());
        hasher.write(&bytes);
        return;
    }
    match value {
        Value::Text(text) | Value::Json(text) => {
            let tag = if matches!(value, Value::Text(_)) {
                1
            } else {
                14
            };
            let mut head = [tag; 9];
            head[1..].copy_from_slice(&(text.len() as u64).to_le_bytes());
            hasher.write(&head);
            hasher.write(text.as_bytes());
        }
        Value::List(items) => {
            hasher.write(&[15]);
            hasher.write(&(items.len() as u64).to_le_bytes());
            for item in items {
                hash_value(hasher, item);
            }
        }
        _ => {}
    }
}

/// A fixed-size value as a tag and two words, so that equal values (in
/// the order [`Value::compare`] gives) have equal words; `None` for texts
/// and lists.
fn fixed_words(value: &Value<'_>) -> Option<(u8, u64, u64)> {
    Some(match value {
        Value::Text(_) | Value::Json(_) | Value::List(_) => return None,
        Value::Missing => (0, 0, 0),
        Value::Integer(n) => (2, *n as u64, 0),
        Value::Number(x) => (3, number_bits(*x), 0),
        Value::Boolean(b) => (4, u64::from(*b), 0),
        Value::Date(date) => (6, date.num_days_from_ce() as u64, 0),
        Value::BloodPressure {
            systolic,
            diastolic,
        } => (7, u64::from(*systolic), u64::from(*diastolic)),
        // Times and date-times as the instant they name (12:00+01:00 is 11:00Z).
        Value::Time { time, offset } => {
            let seconds =
                i64::from(time.num_seconds_from_midnight()) - i64::from(offset.unwrap_or(0));
            (8, seconds as u64, u64::from(time.nanosecond()))
        }
        Value::DateTime { datetime, offset } => {
            let utc = datetime.and_utc();
            let seconds = utc.timestamp() - i64::from(offset.unwrap_or(0));
            (9, seconds as u64, u64::from(utc.timestamp_subsec_nanos()))
        }
        Value::Year(year) => (10, *year as u64, 0),
        Value::YearMonth { year, month } => (11, *year as u64, u64::from(*month)),
        Value::Duration(duration) => {
            let (months, seconds) = duration.months_seconds();
            (12, number_bits(months), number_bits(seconds))
        }
        Value::GeoPoint { lon, lat } => (13, number_bits(*lon), number_bits(*lat)),
    })
}

/// A number's bits, with 0.0 and -0.0 as one number.
fn number_bits(x: f64) -> u64 {
    if x == 0.0 { 0 } else { x.to_bits() }
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use super::*;

    #[test]
    fn same_values_same_key_and_first_row_is_kept() {
        let mut index = KeyIndex::default();
        let date = Value::Date(chrono::NaiveDate::from_ymd_opt(2024, 1, 5).unwrap());
        let a = [Value::Text(Cow::Borrowed("P1")), date.clone()];
        let b = [Value::Text(Cow::Owned("P1".into())), date.clone()];
        assert_eq!(index.first_row_or_insert(a.iter(), 1, &mut false), None);
        assert_eq!(index.first_row_or_insert(b.iter(), 2, &mut false), Some(1));
        assert_eq!(index.first_row_or_insert(b.iter(), 3, &mut false), Some(1));
    }

    #[test]
    fn reserved_room_holds_the_keys_without_growing() {
        let mut index = KeyIndex::default();
        index.first_row_or_insert([Value::Integer(0)].iter(), 1, &mut false);
        index.reserve(10_000);
        let room = index.seen.capacity();
        assert!(room >= 10_000, "{room}");
        for id in 1..10_000 {
            let key = [Value::Integer(id)];
            assert_eq!(index.first_row_or_insert(key.iter(), 2, &mut false), None);
        }
        assert_eq!(index.seen.capacity(), room);
        let again = [Value::Integer(0)];
        assert_eq!(
            index.first_row_or_insert(again.iter(), 3, &mut false),
            Some(1)
        );
    }

    #[test]
    fn parts_do_not_run_together() {
        let mut index = KeyIndex::default();
        let ab = [
            Value::Text(Cow::Borrowed("ab")),
            Value::Text(Cow::Borrowed("c")),
        ];
        let a_bc = [
            Value::Text(Cow::Borrowed("a")),
            Value::Text(Cow::Borrowed("bc")),
        ];
        assert_eq!(index.first_row_or_insert(ab.iter(), 1, &mut false), None);
        assert_eq!(index.first_row_or_insert(a_bc.iter(), 2, &mut false), None);
    }

    #[test]
    fn one_word_keys_are_exact_and_keep_their_type() {
        let mut index = KeyIndex::default();
        let day = chrono::NaiveDate::from_num_days_from_ce_opt(7).unwrap();
        assert_eq!(
            index.first_row_or_insert([Value::Integer(7)].iter(), 1, &mut false),
            None
        );
        assert_eq!(
            index.first_row_or_insert([Value::Date(day)].iter(), 2, &mut false),
            None
        );
        assert_eq!(
            index.first_row_or_insert([Value::Year(7)].iter(), 3, &mut false),
            None
        );
        // Two parts are hashed: (7, 7) is neither 7 nor any other one-part key.
        let pair = [Value::Integer(7), Value::Integer(7)];
        assert_eq!(index.first_row_or_insert(pair.iter(), 4, &mut false), None);
        assert_eq!(
            index.first_row_or_insert([Value::Integer(7)].iter(), 5, &mut false),
            Some(1)
        );
        assert_eq!(
            index.first_row_or_insert(pair.iter(), 6, &mut false),
            Some(4)
        );
        assert_eq!(index.len(), 4);
    }

    #[test]
    fn strided_and_clustered_keys_are_all_told_apart() {
        for stride in [1i64, 16, 1000, 4096, 1 << 40] {
            let mut index = KeyIndex::default();
            let key = |n: i64| [Value::Integer(n * stride + stride / 3)];
            for n in 0..20_000 {
                let first = index.first_row_or_insert(key(n).iter(), n as u64 + 1, &mut false);
                assert_eq!(first, None, "{n} × {stride}");
            }
            for n in (0..20_000).step_by(7) {
                let first = index.first_row_or_insert(key(n).iter(), 99_999, &mut false);
                assert_eq!(first, Some(n as u64 + 1), "{n} × {stride}");
            }
            assert_eq!(index.len(), 20_000);
        }
    }

    #[test]
    fn many_distinct_keys_do_not_collide() {
        let mut index = KeyIndex::default();
        for n in 0..200_000i64 {
            assert_eq!(
                index.first_row_or_insert([Value::Integer(n)].iter(), n as u64 + 1, &mut false),
                None
            );
        }
        assert_eq!(std::mem::size_of::<(Fingerprint, u32)>(), 16);
    }
}
