//! A sequence of byte records in one flat buffer.

/// Records stored back to back in `bytes`; `ends[i]` is where record `i` ends.
#[derive(Clone, Debug, Default)]
pub(super) struct RecordLog {
    bytes: Vec<u8>,
    ends: Vec<usize>,
}

impl RecordLog {
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    fn start(&self, index: usize) -> usize {
        match index {
            0 => 0,
            i => self.ends[i - 1],
        }
    }

    pub fn get(&self, index: usize) -> Option<&[u8]> {
        let end = *self.ends.get(index)?;
        Some(&self.bytes[self.start(index)..end])
    }

    /// A hash of the records, each one's bytes and bounds.
    pub fn fingerprint(&self) -> u64 {
        crate::trace::content_hash(&(&self.bytes, &self.ends))
    }

    pub fn push(&mut self, record: &[u8]) {
        self.bytes.extend_from_slice(record);
        self.ends.push(self.bytes.len());
    }

    pub fn truncate(&mut self, len: usize) {
        if len < self.ends.len() {
            self.bytes.truncate(self.start(len));
            self.ends.truncate(len);
        }
    }

    pub fn reserve(&mut self, records: usize, bytes: usize) {
        self.ends.reserve(records);
        self.bytes.reserve(bytes);
    }

    pub fn clear(&mut self) {
        self.bytes.clear();
        self.ends.clear();
    }

    /// Appends the records of `other` from index `from` up to, not including, `to`.
    pub fn extend_range(&mut self, other: &RecordLog, from: usize, to: usize) {
        assert!(to <= other.len(), "record range past the end of the log");
        if from >= to {
            return;
        }
        let (base, limit) = (other.start(from), other.start(to));
        let shift = self.bytes.len();
        self.bytes.extend_from_slice(&other.bytes[base..limit]);
        self.ends
            .extend(other.ends[from..to].iter().map(|&end| end - base + shift));
    }
}
