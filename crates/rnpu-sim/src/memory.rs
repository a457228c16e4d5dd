//! The NPU's view of memory: buffers mapped at IOVAs (one IOMMU domain).
//!
//! Any access that is not entirely inside one mapped buffer is a [`Fault::Memory`] naming the
//! address, size and unit. Accesses spanning two adjacent buffers are also refused: the
//! kernel maps each BO separately and the emulator is deliberately stricter than a real IOMMU
//! (which would let a DMA run from one page-contiguous BO into the next).

use crate::error::{Access, Fault, Unit};

/// A buffer mapped at an IOVA.
#[derive(Debug, Clone)]
pub struct Buffer {
    pub iova: u64,
    pub data: Vec<u8>,
}

/// Errors when building a memory map.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MapError {
    #[error("buffer at {iova:#x} (+{size:#x}) overlaps the buffer at {other:#x}")]
    Overlap { iova: u64, size: u64, other: u64 },
    #[error("buffer at {iova:#x} (+{size:#x}) wraps the address space")]
    Wrap { iova: u64, size: u64 },
    #[error("empty buffer at {iova:#x}")]
    Empty { iova: u64 },
}

/// A set of non-overlapping buffers, sorted by IOVA.
#[derive(Debug, Clone, Default)]
pub struct Memory {
    bufs: Vec<Buffer>,
}

impl Memory {
    pub fn new() -> Self {
        Self::default()
    }

    /// Maps `data` at `iova`. Fails on overlap with an existing buffer.
    pub fn map(&mut self, iova: u64, data: Vec<u8>) -> Result<(), MapError> {
        let size = data.len() as u64;
        if size == 0 {
            return Err(MapError::Empty { iova });
        }
        let end = iova
            .checked_add(size)
            .ok_or(MapError::Wrap { iova, size })?;
        let pos = self.bufs.partition_point(|b| b.iova < iova);
        if let Some(prev) = pos.checked_sub(1).and_then(|p| self.bufs.get(p)) {
            if prev.iova + prev.data.len() as u64 > iova {
                return Err(MapError::Overlap {
                    iova,
                    size,
                    other: prev.iova,
                });
            }
        }
        if let Some(next) = self.bufs.get(pos) {
            if next.iova < end {
                return Err(MapError::Overlap {
                    iova,
                    size,
                    other: next.iova,
                });
            }
        }
        self.bufs.insert(pos, Buffer { iova, data });
        Ok(())
    }

    /// The buffers, sorted by IOVA.
    pub fn buffers(&self) -> &[Buffer] {
        &self.bufs
    }

    /// The buffer mapped exactly at `iova`.
    pub fn buffer_at(&self, iova: u64) -> Option<&Buffer> {
        self.bufs.iter().find(|b| b.iova == iova)
    }

    /// Mutable access to the buffer mapped exactly at `iova`.
    pub fn buffer_at_mut(&mut self, iova: u64) -> Option<&mut Buffer> {
        self.bufs.iter_mut().find(|b| b.iova == iova)
    }

    fn locate(&self, addr: u64, size: u64) -> Option<(usize, usize)> {
        let pos = self.bufs.partition_point(|b| b.iova <= addr);
        let idx = pos.checked_sub(1)?;
        let b = &self.bufs[idx];
        let off = addr - b.iova;
        let end = off.checked_add(size)?;
        if end <= b.data.len() as u64 {
            Some((idx, off as usize))
        } else {
            None
        }
    }

    /// Reads `size` bytes at `addr` on behalf of `unit`.
    pub fn read(&self, unit: Unit, addr: u64, size: u64) -> Result<&[u8], Fault> {
        match self.locate(addr, size) {
            Some((i, off)) => Ok(&self.bufs[i].data[off..off + size as usize]),
            None => Err(Fault::Memory {
                unit,
                access: Access::Read,
                addr,
                size,
            }),
        }
    }

    /// Writable slice of `size` bytes at `addr` on behalf of `unit`.
    pub fn write_slice(&mut self, unit: Unit, addr: u64, size: u64) -> Result<&mut [u8], Fault> {
        match self.locate(addr, size) {
            Some((i, off)) => Ok(&mut self.bufs[i].data[off..off + size as usize]),
            None => Err(Fault::Memory {
                unit,
                access: Access::Write,
                addr,
                size,
            }),
        }
    }

    /// Writes `bytes` at `addr` on behalf of `unit`.
    pub fn write(&mut self, unit: Unit, addr: u64, bytes: &[u8]) -> Result<(), Fault> {
        self.write_slice(unit, addr, bytes.len() as u64)?
            .copy_from_slice(bytes);
        Ok(())
    }

    pub fn read_u32(&self, unit: Unit, addr: u64) -> Result<u32, Fault> {
        let b = self.read(unit, addr, 4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub fn read_u64(&self, unit: Unit, addr: u64) -> Result<u64, Fault> {
        let b = self.read(unit, addr, 8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn map_read_write_and_faults() {
        let mut m = Memory::new();
        m.map(0x1000, vec![0; 0x100]).unwrap();
        m.map(0x2000, vec![7; 0x10]).unwrap();
        assert!(matches!(
            m.map(0x10f0, vec![0; 0x20]),
            Err(MapError::Overlap { other: 0x1000, .. })
        ));
        assert!(matches!(
            m.map(0x1ff8, vec![0; 0x10]),
            Err(MapError::Overlap { other: 0x2000, .. })
        ));
        m.write(Unit::Dpu, 0x10fc, &[1, 2, 3, 4]).unwrap();
        assert_eq!(m.read_u32(Unit::Cna, 0x10fc).unwrap(), 0x0403_0201);
        assert_eq!(m.read(Unit::Cna, 0x2000, 0x10).unwrap(), &[7; 16]);
        // One byte past the end.
        let e = m.read(Unit::Cna, 0x10fd, 4).unwrap_err();
        assert_eq!(
            e,
            Fault::Memory {
                unit: Unit::Cna,
                access: Access::Read,
                addr: 0x10fd,
                size: 4
            }
        );
        // Unmapped, below everything, and address overflow.
        assert!(m.read(Unit::Pc, 0, 1).is_err());
        assert!(m.write(Unit::Dpu, 0x1800, &[0]).is_err());
        assert!(m.read(Unit::Pc, u64::MAX, 2).is_err());
    }
}
