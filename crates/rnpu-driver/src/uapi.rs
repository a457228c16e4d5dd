//! The mainline `rocket` UAPI (`include/uapi/drm/rocket_accel.h`, Linux 6.18) and the two DRM core
//! ioctls user space needs, as `#[repr(C)]` structs and request codes (kernel-uapi.md §1).
//!
//! Pure data, no `unsafe`: [`crate::kernel`] hands these structs to `ioctl(2)`; the emulator
//! reads the very same bytes ([`to_bytes`](DrmRocketJob::to_bytes) /
//! [`from_bytes`](DrmRocketJob::from_bytes)) out of its simulated user memory, so both devices
//! see one encoding. User pointers are `u64` (§1.2: "represent user pointers as `u64`").

/// `DRM_IOCTL_BASE` (§1.1).
pub const DRM_IOCTL_BASE: u8 = b'd';
/// `DRM_COMMAND_BASE` (§1.1): driver ioctls are `nr` 0x40.. .
pub const DRM_COMMAND_BASE: u8 = 0x40;

/// `nr` of the four rocket ioctls (§1.1).
pub const DRM_ROCKET_CREATE_BO: u8 = 0x00;
pub const DRM_ROCKET_SUBMIT: u8 = 0x01;
pub const DRM_ROCKET_PREP_BO: u8 = 0x02;
pub const DRM_ROCKET_FINI_BO: u8 = 0x03;
/// Number of driver ioctls: `nr` 0x44–0x9F is `-EINVAL` (§1.3).
pub const DRM_ROCKET_NUM_IOCTLS: u8 = 4;

/// `nr` of the DRM core ioctls used on the node (§1.1).
pub const DRM_NR_VERSION: u8 = 0x00;
pub const DRM_NR_GEM_CLOSE: u8 = 0x09;

/// Direction bits of the generic Linux `_IOC` encoding (arm64 and x86 alike, §1.1).
pub const IOC_WRITE: u32 = 1;
pub const IOC_READ: u32 = 2;

/// `_IOC(dir, type, nr, size)` = `dir<<30 | size<<16 | type<<8 | nr` (§1.1).
pub const fn ioc(dir: u32, ty: u8, nr: u8, size: usize) -> u32 {
    (dir << 30) | ((size as u32) << 16) | ((ty as u32) << 8) | nr as u32
}

/// `DRM_IOWR(DRM_COMMAND_BASE + nr, T)` etc.
const fn drm_iowr<T>(nr: u8) -> u32 {
    ioc(IOC_READ | IOC_WRITE, DRM_IOCTL_BASE, nr, size_of::<T>())
}
const fn drm_iow<T>(nr: u8) -> u32 {
    ioc(IOC_WRITE, DRM_IOCTL_BASE, nr, size_of::<T>())
}

/// Request codes, computed from the layouts below (checked against §1.1's table in tests).
pub const DRM_IOCTL_ROCKET_CREATE_BO: u32 =
    drm_iowr::<DrmRocketCreateBo>(DRM_COMMAND_BASE + DRM_ROCKET_CREATE_BO);
pub const DRM_IOCTL_ROCKET_SUBMIT: u32 =
    drm_iow::<DrmRocketSubmit>(DRM_COMMAND_BASE + DRM_ROCKET_SUBMIT);
pub const DRM_IOCTL_ROCKET_PREP_BO: u32 =
    drm_iow::<DrmRocketPrepBo>(DRM_COMMAND_BASE + DRM_ROCKET_PREP_BO);
pub const DRM_IOCTL_ROCKET_FINI_BO: u32 =
    drm_iow::<DrmRocketFiniBo>(DRM_COMMAND_BASE + DRM_ROCKET_FINI_BO);
pub const DRM_IOCTL_VERSION: u32 = drm_iowr::<DrmVersion>(DRM_NR_VERSION);
pub const DRM_IOCTL_GEM_CLOSE: u32 = drm_iow::<DrmGemClose>(DRM_NR_GEM_CLOSE);

/// Stride the kernel copies per job / per task (§1.2 "Extensibility rule"); always pass these.
pub const JOB_STRUCT_SIZE: u32 = size_of::<DrmRocketJob>() as u32;
pub const TASK_STRUCT_SIZE: u32 = size_of::<DrmRocketTask>() as u32;

/// `struct drm_rocket_create_bo` (§1.2): 24 bytes, IOWR.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DrmRocketCreateBo {
    /// in: bytes, rounded up to a page by the kernel.
    pub size: u32,
    /// out: GEM handle (per fd, from 1, lowest free).
    pub handle: u32,
    /// out: IOVA in the fd's private NPU address space (< 2^32; the first BO gets 0).
    pub dma_address: u64,
    /// out: fake offset for `mmap()` on the same fd.
    pub offset: u64,
}

/// `struct drm_rocket_task` (§1.2): 8 bytes.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DrmRocketTask {
    /// IOVA of the regcmd buffer (u32!), 16-byte aligned in practice (§2.5).
    pub regcmd: u32,
    /// Number of 64-bit regcmd entries, including the 4-entry PC tail; must be > 0.
    pub regcmd_count: u32,
}

/// `struct drm_rocket_job` (§1.2): 40 bytes.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DrmRocketJob {
    /// User pointer to `task_count` tasks at stride `task_struct_size`.
    pub tasks: u64,
    /// User pointer to `u32[in_bo_handle_count]` (BOs the job reads).
    pub in_bo_handles: u64,
    /// User pointer to `u32[out_bo_handle_count]` (BOs the job writes).
    pub out_bo_handles: u64,
    pub task_count: u32,
    /// Must be ≥ 8.
    pub task_struct_size: u32,
    pub in_bo_handle_count: u32,
    pub out_bo_handle_count: u32,
}

/// `struct drm_rocket_submit` (§1.2): 24 bytes, IOW.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DrmRocketSubmit {
    /// User pointer to `job_count` jobs at stride `job_struct_size`.
    pub jobs: u64,
    pub job_count: u32,
    /// Must be ≥ 40.
    pub job_struct_size: u32,
    /// Must be 0.
    pub reserved: u64,
}

/// `struct drm_rocket_prep_bo` (§1.2): 16 bytes, IOW.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DrmRocketPrepBo {
    pub handle: u32,
    /// Must be 0.
    pub reserved: u32,
    /// **Absolute** CLOCK_MONOTONIC deadline in ns; 0 = poll (§2.3).
    pub timeout_ns: i64,
}

/// `struct drm_rocket_fini_bo` (§1.2): 8 bytes, IOW.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DrmRocketFiniBo {
    pub handle: u32,
    /// Must be 0.
    pub reserved: u32,
}

/// `struct drm_gem_close` (§1.1): 8 bytes, IOW.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DrmGemClose {
    pub handle: u32,
    pub pad: u32,
}

/// `struct drm_version` on LP64 (§1.1, 64 bytes). `size_t` and `char *` are `u64` here; the
/// crate refuses to build this layout on 32-bit targets (see the assertion below).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DrmVersion {
    pub version_major: i32,
    pub version_minor: i32,
    pub version_patchlevel: i32,
    /// Explicit: the C struct has 4 bytes of implicit padding before `name_len`.
    pub pad: u32,
    pub name_len: u64,
    pub name: u64,
    pub date_len: u64,
    pub date: u64,
    pub desc_len: u64,
    pub desc: u64,
}

// `struct drm_version` uses size_t and pointers: the u64 mirror is only right on LP64.
const _: () = assert!(
    size_of::<usize>() == 8,
    "rnpu-driver's UAPI layer assumes LP64"
);

/// Little-endian field packing shared by the structs (the RK3588 and every host we build for
/// are little-endian; the kernel copies raw bytes).
macro_rules! bytes_codec {
    ($t:ty, $n:expr, [$($f:ident: $ft:ty),* $(,)?]) => {
        impl $t {
            /// Size in bytes of the kernel's struct.
            pub const SIZE: usize = $n;

            /// The struct's bytes exactly as `copy_from_user` sees them.
            pub fn to_bytes(&self) -> [u8; $n] {
                let mut out = [0u8; $n];
                let mut at = 0usize;
                $(
                    let b = self.$f.to_le_bytes();
                    out[at..at + b.len()].copy_from_slice(&b);
                    at += b.len();
                )*
                debug_assert_eq!(at, $n);
                out
            }

            /// Decodes `SIZE` bytes (the emulator's `copy_from_user`).
            pub fn from_bytes(b: &[u8; $n]) -> Self {
                let mut at = 0usize;
                $(
                    let $f = {
                        const W: usize = size_of::<$ft>();
                        let mut a = [0u8; W];
                        a.copy_from_slice(&b[at..at + W]);
                        at += W;
                        <$ft>::from_le_bytes(a)
                    };
                )*
                debug_assert_eq!(at, $n);
                Self { $($f),* }
            }
        }
    };
}

bytes_codec!(DrmRocketTask, 8, [regcmd: u32, regcmd_count: u32]);
bytes_codec!(
    DrmRocketJob,
    40,
    [
        tasks: u64,
        in_bo_handles: u64,
        out_bo_handles: u64,
        task_count: u32,
        task_struct_size: u32,
        in_bo_handle_count: u32,
        out_bo_handle_count: u32,
    ]
);
bytes_codec!(
    DrmRocketSubmit,
    24,
    [jobs: u64, job_count: u32, job_struct_size: u32, reserved: u64]
);

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::{align_of, offset_of, size_of};

    // §1.2 / §6(a)2: sizes, offsets, alignments; no implicit padding anywhere.
    #[test]
    fn create_bo_layout_matches_section_1_2() {
        assert_eq!(size_of::<DrmRocketCreateBo>(), 24);
        assert_eq!(align_of::<DrmRocketCreateBo>(), 8);
        assert_eq!(offset_of!(DrmRocketCreateBo, size), 0);
        assert_eq!(offset_of!(DrmRocketCreateBo, handle), 4);
        assert_eq!(offset_of!(DrmRocketCreateBo, dma_address), 8);
        assert_eq!(offset_of!(DrmRocketCreateBo, offset), 16);
    }

    #[test]
    fn prep_bo_layout_matches_section_1_2() {
        assert_eq!(size_of::<DrmRocketPrepBo>(), 16);
        assert_eq!(offset_of!(DrmRocketPrepBo, handle), 0);
        assert_eq!(offset_of!(DrmRocketPrepBo, reserved), 4);
        assert_eq!(offset_of!(DrmRocketPrepBo, timeout_ns), 8);
    }

    #[test]
    fn fini_bo_layout_matches_section_1_2() {
        assert_eq!(size_of::<DrmRocketFiniBo>(), 8);
        assert_eq!(align_of::<DrmRocketFiniBo>(), 4);
        assert_eq!(offset_of!(DrmRocketFiniBo, handle), 0);
        assert_eq!(offset_of!(DrmRocketFiniBo, reserved), 4);
    }

    #[test]
    fn task_layout_matches_section_1_2() {
        assert_eq!(size_of::<DrmRocketTask>(), 8);
        assert_eq!(align_of::<DrmRocketTask>(), 4);
        assert_eq!(offset_of!(DrmRocketTask, regcmd), 0);
        assert_eq!(offset_of!(DrmRocketTask, regcmd_count), 4);
        assert_eq!(TASK_STRUCT_SIZE, 8);
    }

    #[test]
    fn job_layout_matches_section_1_2() {
        assert_eq!(size_of::<DrmRocketJob>(), 40);
        assert_eq!(align_of::<DrmRocketJob>(), 8);
        assert_eq!(offset_of!(DrmRocketJob, tasks), 0);
        assert_eq!(offset_of!(DrmRocketJob, in_bo_handles), 8);
        assert_eq!(offset_of!(DrmRocketJob, out_bo_handles), 16);
        assert_eq!(offset_of!(DrmRocketJob, task_count), 24);
        assert_eq!(offset_of!(DrmRocketJob, task_struct_size), 28);
        assert_eq!(offset_of!(DrmRocketJob, in_bo_handle_count), 32);
        assert_eq!(offset_of!(DrmRocketJob, out_bo_handle_count), 36);
        assert_eq!(JOB_STRUCT_SIZE, 40);
    }

    #[test]
    fn submit_layout_matches_section_1_2() {
        assert_eq!(size_of::<DrmRocketSubmit>(), 24);
        assert_eq!(offset_of!(DrmRocketSubmit, jobs), 0);
        assert_eq!(offset_of!(DrmRocketSubmit, job_count), 8);
        assert_eq!(offset_of!(DrmRocketSubmit, job_struct_size), 12);
        assert_eq!(offset_of!(DrmRocketSubmit, reserved), 16);
    }

    #[test]
    fn drm_core_layouts_match_section_1_1() {
        assert_eq!(size_of::<DrmGemClose>(), 8);
        assert_eq!(size_of::<DrmVersion>(), 64);
        assert_eq!(offset_of!(DrmVersion, version_patchlevel), 8);
        assert_eq!(offset_of!(DrmVersion, name_len), 16);
        assert_eq!(offset_of!(DrmVersion, name), 24);
        assert_eq!(offset_of!(DrmVersion, date_len), 32);
        assert_eq!(offset_of!(DrmVersion, date), 40);
        assert_eq!(offset_of!(DrmVersion, desc_len), 48);
        assert_eq!(offset_of!(DrmVersion, desc), 56);
    }

    // §1.1 / §6(a)1: the computed request codes equal the note's table.
    #[test]
    fn ioctl_numbers_match_section_1_1() {
        assert_eq!(DRM_IOCTL_ROCKET_CREATE_BO, 0xC018_6440);
        assert_eq!(DRM_IOCTL_ROCKET_SUBMIT, 0x4018_6441);
        assert_eq!(DRM_IOCTL_ROCKET_PREP_BO, 0x4010_6442);
        assert_eq!(DRM_IOCTL_ROCKET_FINI_BO, 0x4008_6443);
        assert_eq!(DRM_IOCTL_GEM_CLOSE, 0x4008_6409);
        assert_eq!(DRM_IOCTL_VERSION, 0xC040_6400);
    }

    #[cfg(target_os = "linux")]
    #[test]
    #[allow(clippy::unnecessary_cast)] // `Opcode` is u32 on some targets, c_ulong on others
    fn rustix_opcode_encoding_agrees() {
        use rustix::ioctl::opcode;
        let cb = opcode::read_write::<DrmRocketCreateBo>(DRM_IOCTL_BASE, 0x40);
        assert_eq!(cb as u32, DRM_IOCTL_ROCKET_CREATE_BO);
        let sb = opcode::write::<DrmRocketSubmit>(DRM_IOCTL_BASE, 0x41);
        assert_eq!(sb as u32, DRM_IOCTL_ROCKET_SUBMIT);
    }

    #[test]
    fn byte_codec_matches_repr_c_offsets() {
        let j = DrmRocketJob {
            tasks: 0x1122_3344_5566_7788,
            in_bo_handles: 2,
            out_bo_handles: 3,
            task_count: 4,
            task_struct_size: 5,
            in_bo_handle_count: 6,
            out_bo_handle_count: 7,
        };
        let b = j.to_bytes();
        assert_eq!(&b[0..8], &0x1122_3344_5566_7788u64.to_le_bytes());
        assert_eq!(b[24], 4);
        assert_eq!(b[28], 5);
        assert_eq!(b[32], 6);
        assert_eq!(b[36], 7);
        assert_eq!(DrmRocketJob::from_bytes(&b), j);
        let s = DrmRocketSubmit {
            jobs: 9,
            job_count: 1,
            job_struct_size: 40,
            reserved: 0xff,
        };
        let sb = s.to_bytes();
        assert_eq!(sb[12], 40);
        assert_eq!(sb[16], 0xff);
        assert_eq!(DrmRocketSubmit::from_bytes(&sb), s);
        let t = DrmRocketTask {
            regcmd: 0x40,
            regcmd_count: 12,
        };
        assert_eq!(DrmRocketTask::from_bytes(&t.to_bytes()), t);
    }
}
