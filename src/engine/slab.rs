//! A slab with generations: stable `u32` slots reused after removal, so steady-state runs
//! allocate nothing per event.

pub(crate) struct Slab<T> {
    entries: Vec<SlabEntry<T>>,
    free: Vec<u32>,
    len: usize,
}

struct SlabEntry<T> {
    generation: u32,
    value: Option<T>,
}

impl<T> Slab<T> {
    pub(crate) fn new() -> Slab<T> {
        Slab {
            entries: Vec::with_capacity(1024),
            free: Vec::new(),
            len: 0,
        }
    }

    /// Stores `value`; returns its slot and the slot's generation. Inlined, so a large value
    /// is written straight into its slot instead of being copied into a call first.
    #[inline(always)]
    pub(crate) fn insert(&mut self, value: T) -> (u32, u32) {
        self.len += 1;
        if let Some(slot) = self.free.pop() {
            let entry = &mut self.entries[slot as usize];
            debug_assert!(entry.value.is_none(), "free slot {slot} is occupied");
            entry.generation = entry.generation.wrapping_add(1);
            entry.value = Some(value);
            return (slot, entry.generation);
        }
        let slot = u32::try_from(self.entries.len()).expect("slab holds at most 2^32 entries");
        self.entries.push(SlabEntry {
            generation: 0,
            value: Some(value),
        });
        (slot, 0)
    }

    #[inline]
    pub(crate) fn remove(&mut self, slot: u32) -> T {
        let value = self.entries[slot as usize]
            .value
            .take()
            .unwrap_or_else(|| panic!("slab slot {slot} removed twice"));
        self.free.push(slot);
        self.len -= 1;
        value
    }

    #[inline]
    pub(crate) fn get(&self, slot: u32) -> &T {
        self.entries[slot as usize]
            .value
            .as_ref()
            .expect("slab slot is empty")
    }

    pub(crate) fn generation(&self, slot: u32) -> u32 {
        self.entries[slot as usize].generation
    }

    /// The value in `slot` if it is still the same generation.
    #[inline]
    pub(crate) fn get_mut_checked(&mut self, slot: u32, generation: u32) -> Option<&mut T> {
        let entry = self.entries.get_mut(slot as usize)?;
        if entry.generation != generation {
            return None;
        }
        entry.value.as_mut()
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reuses_slots_with_new_generations() {
        let mut s = Slab::new();
        let (a, ga) = s.insert("a");
        let (b, _) = s.insert("b");
        assert_eq!(s.remove(a), "a");
        let (c, gc) = s.insert("c");
        assert_eq!(c, a);
        assert_ne!(ga, gc);
        assert!(
            s.get_mut_checked(a, ga).is_none(),
            "stale generation must miss"
        );
        assert_eq!(s.get_mut_checked(c, gc).copied(), Some("c"));
        assert_eq!(*s.get(b), "b");
        assert_eq!(s.len(), 2);
    }

    #[test]
    #[should_panic(expected = "removed twice")]
    fn double_remove_panics() {
        let mut s = Slab::new();
        let (a, _) = s.insert(1);
        s.remove(a);
        s.remove(a);
    }
}
