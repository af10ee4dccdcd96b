//! Handle tables for the C ABI: a handle names one object of one kind,
//! once.
//!
//! A partner host keeps handles as plain `i32`s. If a freed handle came
//! back as the next object's handle, or a validator and a batch could have
//! the same number, a stale or mixed-up handle would silently reach the
//! wrong object. So a handle carries its kind and its slot's generation
//! beside the slot number (docs/abi.md, "Handles"):
//!
//! ```text
//!  bit 31 | 30..29 | 28..16      | 15..0
//!    0    |  kind  | generation  | slot + 1
//! ```
//!
//! It is always positive (bit 31 clear, slot + 1 ≥ 1). A slot's generation
//! advances each time it is freed, so a handle to a freed object is refused
//! until that slot has been reused 8,192 times.

/// What a handle names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A validator (`clinval_validator_new`).
    Validator = 1,
    /// A batch or key batch (`clinval_batch_new`, `clinval_keys_new`).
    Batch = 2,
}

impl Kind {
    /// The name the ABI's error messages use.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Validator => "validator",
            Kind::Batch => "batch",
        }
    }
}

const SLOT_BITS: u32 = 16;
const GENERATION_BITS: u32 = 13;
const GENERATION_MASK: u32 = (1 << GENERATION_BITS) - 1;
/// Most objects of one kind open at once.
pub const MAX_OPEN: usize = (1 << SLOT_BITS) - 1;

struct Slot<T> {
    generation: u32,
    value: Option<T>,
}

/// The objects of one kind, by handle.
pub struct Table<T> {
    kind: Kind,
    slots: Vec<Slot<T>>,
    /// Empty slots, reused before the table grows.
    free: Vec<usize>,
}

impl<T> Table<T> {
    /// An empty table of `kind`.
    pub fn new(kind: Kind) -> Table<T> {
        Table {
            kind,
            slots: Vec::new(),
            free: Vec::new(),
        }
    }

    fn handle(&self, index: usize, generation: u32) -> i32 {
        let raw = (self.kind as u32) << (SLOT_BITS + GENERATION_BITS)
            | generation << SLOT_BITS
            | (index as u32 + 1);
        raw as i32
    }

    /// The slot `handle` names, if it is this table's kind and generation.
    fn index(&self, handle: i32) -> Option<usize> {
        let raw = u32::try_from(handle).ok()?;
        if raw >> (SLOT_BITS + GENERATION_BITS) != self.kind as u32 {
            return None;
        }
        let index = usize::try_from(raw & ((1 << SLOT_BITS) - 1))
            .ok()?
            .checked_sub(1)?;
        let generation = (raw >> SLOT_BITS) & GENERATION_MASK;
        (self.slots.get(index)?.generation == generation).then_some(index)
    }

    /// Stores `value`; its handle, or `None` when [`MAX_OPEN`] are open.
    pub fn insert(&mut self, value: T) -> Option<i32> {
        let index = match self.free.pop() {
            Some(index) => index,
            None if self.slots.len() < MAX_OPEN => {
                self.slots.push(Slot {
                    generation: 0,
                    value: None,
                });
                self.slots.len() - 1
            }
            None => return None,
        };
        let slot = &mut self.slots[index];
        slot.value = Some(value);
        let generation = slot.generation;
        Some(self.handle(index, generation))
    }

    /// The object `handle` names.
    pub fn get(&self, handle: i32) -> Option<&T> {
        self.slots[self.index(handle)?].value.as_ref()
    }

    /// The object `handle` names, to change.
    pub fn get_mut(&mut self, handle: i32) -> Option<&mut T> {
        let index = self.index(handle)?;
        self.slots[index].value.as_mut()
    }

    /// Takes the object `handle` names out; the handle is dead from now on.
    pub fn take(&mut self, handle: i32) -> Option<T> {
        let index = self.index(handle)?;
        let slot = &mut self.slots[index];
        let value = slot.value.take()?;
        slot.generation = (slot.generation + 1) & GENERATION_MASK;
        self.free.push(index);
        Some(value)
    }

    /// How many objects are open.
    #[cfg(test)]
    fn open(&self) -> usize {
        self.slots.iter().filter(|s| s.value.is_some()).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_freed_handle_is_dead_and_its_slot_gets_a_new_handle() {
        let mut table = Table::new(Kind::Validator);
        let a = table.insert("a").unwrap();
        assert!(a > 0);
        assert_eq!(table.get(a), Some(&"a"));
        assert_eq!(table.take(a), Some("a"));
        assert_eq!(table.get(a), None);
        assert_eq!(table.take(a), None);
        let b = table.insert("b").unwrap();
        assert_ne!(a, b);
        assert_eq!(table.get(a), None);
        assert_eq!(table.get(b), Some(&"b"));
        assert_eq!(table.open(), 1);
    }

    #[test]
    fn kinds_never_share_a_handle() {
        let mut validators = Table::new(Kind::Validator);
        let mut batches = Table::new(Kind::Batch);
        let v = validators.insert(1).unwrap();
        let b = batches.insert(2).unwrap();
        assert_ne!(v, b);
        assert_eq!(batches.get(v), None);
        assert_eq!(validators.get(b), None);
    }

    #[test]
    fn handles_stay_positive_and_garbage_is_refused() {
        let mut table = Table::new(Kind::Batch);
        for _ in 0..GENERATION_MASK + 3 {
            let h = table.insert(()).unwrap();
            assert!(h > 0);
            table.take(h).unwrap();
        }
        for bad in [0, -1, i32::MIN, i32::MAX, 1, 65_535] {
            assert_eq!(table.get(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_full_table_refuses_more() {
        let mut table = Table::new(Kind::Batch);
        for _ in 0..MAX_OPEN {
            table.insert(()).unwrap();
        }
        assert_eq!(table.insert(()), None);
    }
}
