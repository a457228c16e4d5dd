//! A `drm_mm`-like range allocator in `DRM_MM_INSERT_BEST` mode (kernel-uapi.md §2.2 step 4):
//! the smallest hole that fits (after alignment), allocating from the bottom of that hole;
//! among equally small holes the lowest address. Nodes keep their requested (unaligned) size,
//! as the kernel inserts them; only starts are aligned.

use std::collections::BTreeMap;

#[derive(Debug, Clone)]
pub(crate) struct RangeAllocator {
    start: u64,
    end: u64,
    align: u64,
    /// start → size of each node.
    nodes: BTreeMap<u64, u64>,
}

impl RangeAllocator {
    /// Allocates within `[start, end)` with starts aligned to `align` (a power of two).
    pub(crate) fn new(start: u64, end: u64, align: u64) -> Self {
        debug_assert!(align.is_power_of_two());
        RangeAllocator {
            start,
            end,
            align,
            nodes: BTreeMap::new(),
        }
    }

    /// Inserts a node of `size` bytes; `None` when no hole fits (the kernel's -ENOSPC).
    pub(crate) fn insert(&mut self, size: u64) -> Option<u64> {
        if size == 0 {
            return None;
        }
        let mut best: Option<(u64, u64)> = None; // (hole size, aligned start)
        let mut hole_start = self.start;
        let ends = self
            .nodes
            .iter()
            .map(|(&s, &sz)| (s, s + sz))
            .chain(std::iter::once((self.end, self.end)));
        for (node_start, node_end) in ends {
            let hole_end = node_start;
            if hole_end > hole_start {
                let at = hole_start.next_multiple_of(self.align);
                if at.checked_add(size).is_some_and(|e| e <= hole_end) {
                    let hole = hole_end - hole_start;
                    if best.is_none_or(|(b, _)| hole < b) {
                        best = Some((hole, at));
                    }
                }
            }
            hole_start = hole_start.max(node_end);
        }
        let (_, at) = best?;
        self.nodes.insert(at, size);
        Some(at)
    }

    /// Removes the node starting at `start`.
    pub(crate) fn remove(&mut self, start: u64) {
        self.nodes.remove(&start);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn best_fit_prefers_the_smallest_hole_then_the_lowest() {
        let mut a = RangeAllocator::new(0, 1 << 32, 4096);
        let x = a.insert(4096).unwrap();
        let y = a.insert(3 * 4096).unwrap();
        let z = a.insert(4096).unwrap();
        let w = a.insert(4096).unwrap();
        assert_eq!((x, y, z, w), (0, 4096, 4 * 4096, 5 * 4096));
        a.remove(y); // 3-page hole at 4096
        a.remove(w); // hole from 5 pages to the end
        a.remove(x); // with y's: one 4-page hole at 0
                     // Holes: [0, 4 pages) and [5 pages, 4 GiB). Best for 1 page: the 4-page hole, at 0.
        assert_eq!(a.insert(1), Some(0));
        // Unaligned node sizes: the next start is aligned up.
        assert_eq!(a.insert(10), Some(4096));
        assert_eq!(a.insert(2 * 4096), Some(2 * 4096));
        // The remaining small hole is gone; a 2-page request goes after z.
        assert_eq!(a.insert(2 * 4096), Some(5 * 4096));
    }

    #[test]
    fn exhaustion_is_none() {
        let mut a = RangeAllocator::new(0, 3 * 4096, 4096);
        assert_eq!(a.insert(2 * 4096), Some(0));
        assert_eq!(a.insert(4097), None);
        assert_eq!(a.insert(4096), Some(2 * 4096));
        assert_eq!(a.insert(1), None);
        assert_eq!(a.insert(0), None);
    }
}
