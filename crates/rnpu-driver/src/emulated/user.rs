//! A simulated process address space for the emulator's `copy_from_user`: the raw ioctl entry
//! points take user pointers (`u64`) into a [`UserMemory`], so EFAULT cases (§2.4) are real.

use std::collections::BTreeMap;

use crate::errno::Errno;

/// Regions of bytes at user addresses. Address 0 and the gaps between regions are unmapped.
#[derive(Debug, Clone)]
pub struct UserMemory {
    regions: BTreeMap<u64, Vec<u8>>,
    next: u64,
}

impl Default for UserMemory {
    fn default() -> Self {
        UserMemory {
            regions: BTreeMap::new(),
            next: 0x1000_0000,
        }
    }
}

impl UserMemory {
    pub fn new() -> Self {
        Self::default()
    }

    /// Places `bytes` at a fresh address (followed by an unmapped page) and returns it.
    pub fn alloc(&mut self, bytes: &[u8]) -> u64 {
        let at = self.next;
        self.next = (at + bytes.len() as u64 + 4096).next_multiple_of(4096);
        self.regions.insert(at, bytes.to_vec());
        at
    }

    /// `copy_from_user`: `len` bytes at `addr`, or EFAULT. Zero bytes never fault.
    pub fn read(&self, addr: u64, len: u64) -> Result<&[u8], Errno> {
        if len == 0 {
            return Ok(&[]);
        }
        let (&start, data) = self
            .regions
            .range(..=addr)
            .next_back()
            .ok_or(Errno::EFAULT)?;
        let off = addr - start;
        let end = off.checked_add(len).ok_or(Errno::EFAULT)?;
        if end > data.len() as u64 {
            return Err(Errno::EFAULT);
        }
        Ok(&data[off as usize..end as usize])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_inside_regions_only() {
        let mut u = UserMemory::new();
        let a = u.alloc(&[1, 2, 3, 4]);
        let b = u.alloc(&[5; 8]);
        assert_eq!(u.read(a + 1, 2).unwrap(), &[2, 3]);
        assert_eq!(u.read(a, 5), Err(Errno::EFAULT));
        assert_eq!(u.read(b, 8).unwrap(), &[5; 8]);
        assert_eq!(u.read(0, 1), Err(Errno::EFAULT));
        assert_eq!(u.read(0, 0).unwrap(), &[] as &[u8]);
    }
}
