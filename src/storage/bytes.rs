//! Reading back the little-endian records protocols write to storage.

/// Takes fixed-size little-endian values off the front of a byte slice. Every read returns
/// `None` once the bytes run out, so a short or damaged record never panics.
pub struct ByteReader<'a>(&'a [u8]);

impl<'a> ByteReader<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        ByteReader(bytes)
    }

    /// Whether every byte was read (a record with bytes left over is not what was written).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn take<const N: usize>(&mut self) -> Option<[u8; N]> {
        let (head, tail) = self.0.split_at_checked(N)?;
        self.0 = tail;
        head.try_into().ok()
    }

    pub fn byte(&mut self) -> Option<u8> {
        Some(self.take::<1>()?[0])
    }

    pub fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take()?))
    }

    pub fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_in_order_and_stops_at_the_end() {
        let mut bytes = vec![7u8];
        bytes.extend(5u32.to_le_bytes());
        bytes.extend(9u64.to_le_bytes());
        let mut r = ByteReader::new(&bytes);
        assert_eq!((r.byte(), r.u32(), r.u64()), (Some(7), Some(5), Some(9)));
        assert!(r.is_empty());
        assert_eq!(r.byte(), None);
        assert_eq!(ByteReader::new(&[1, 2]).u32(), None);
    }
}
