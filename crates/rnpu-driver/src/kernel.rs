//! [`KernelDevice`]: the mainline `rocket` accel driver through `/dev/accel/accelN`
//! (kernel-uapi.md §1, §2). The only `unsafe` in the crate lives here, each block with a
//! `// SAFETY:` comment.
//!
//! Cannot be exercised without an RK3588 running Linux ≥ 6.18; what can be tested without one
//! (layouts, request codes, validation, discovery on a machine without the node) is.

#![allow(unsafe_code)]

use std::collections::BTreeMap;
use std::ffi::c_void;
use std::fs;
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::ptr::NonNull;

use rustix::fs::{Mode, OFlags};
use rustix::ioctl::{self, opcode, Ioctl, IoctlOutput, Opcode};
use rustix::mm::{MapFlags, ProtFlags};

use crate::device::{Bo, Deadline, Device, DeviceKind, Handle, Identity, Job};
use crate::errno::Errno;
use crate::error::{Error, Result};
use crate::uapi::{
    self, DrmGemClose, DrmRocketCreateBo, DrmRocketFiniBo, DrmRocketJob, DrmRocketPrepBo,
    DrmRocketSubmit, DrmRocketTask, DrmVersion,
};
use crate::validate;

/// Where accel nodes live (§2.1: one node for all three cores, char major 261).
pub const ACCEL_DIR: &str = "/dev/accel";

/// The DRM driver name that identifies a rocket node (§2.1, §6(a)8).
pub const ROCKET_DRIVER_NAME: &str = "rocket";

const PAGE_SIZE: u64 = 4096;

// Request codes through rustix's encoder; equal to `uapi::DRM_IOCTL_*` (tested below).
const OP_VERSION: Opcode = opcode::read_write::<DrmVersion>(uapi::DRM_IOCTL_BASE, 0x00);
const OP_GEM_CLOSE: Opcode = opcode::write::<DrmGemClose>(uapi::DRM_IOCTL_BASE, 0x09);
const OP_CREATE_BO: Opcode = opcode::read_write::<DrmRocketCreateBo>(
    uapi::DRM_IOCTL_BASE,
    uapi::DRM_COMMAND_BASE + uapi::DRM_ROCKET_CREATE_BO,
);
const OP_SUBMIT: Opcode = opcode::write::<DrmRocketSubmit>(
    uapi::DRM_IOCTL_BASE,
    uapi::DRM_COMMAND_BASE + uapi::DRM_ROCKET_SUBMIT,
);
const OP_PREP_BO: Opcode = opcode::write::<DrmRocketPrepBo>(
    uapi::DRM_IOCTL_BASE,
    uapi::DRM_COMMAND_BASE + uapi::DRM_ROCKET_PREP_BO,
);
const OP_FINI_BO: Opcode = opcode::write::<DrmRocketFiniBo>(
    uapi::DRM_IOCTL_BASE,
    uapi::DRM_COMMAND_BASE + uapi::DRM_ROCKET_FINI_BO,
);

/// An ioctl on a `#[repr(C)]` argument that returns the raw non-negative return value.
///
/// rustix's `Setter`/`Updater` discard the return value; PREP_BO needs "`ret >= 0` is
/// success" (§2.3: 6.18.0 returns the remaining jiffies on success), which this gives: rustix
/// turns negative returns into `Err(errno)` and hands back everything else.
struct RawArg<'a, T, const OP: Opcode> {
    arg: &'a mut T,
}

// SAFETY: `opcode` is one of the request codes above, each encoded for exactly `T` (the size is
// part of the code and checked against the kernel's layout in the tests), `as_ptr` points at a
// live, exclusively borrowed `T`, and `IS_MUTATING` is true so the kernel may write it back.
unsafe impl<T, const OP: Opcode> Ioctl for RawArg<'_, T, OP> {
    type Output = IoctlOutput;
    const IS_MUTATING: bool = true;

    fn opcode(&self) -> Opcode {
        OP
    }

    fn as_ptr(&mut self) -> *mut c_void {
        (self.arg as *mut T).cast()
    }

    unsafe fn output_from_ptr(out: IoctlOutput, _: *mut c_void) -> rustix::io::Result<IoctlOutput> {
        Ok(out)
    }
}

/// Issues `OP` on `fd` with `arg`.
///
/// # Safety
/// `T` must be the kernel's argument struct for `OP`, and every user pointer inside `*arg` must
/// be valid for the accesses the kernel makes during the call.
unsafe fn raw_ioctl<T, const OP: Opcode>(fd: impl AsFd, arg: &mut T) -> Result<i32, Errno> {
    // SAFETY: forwarded from this function's contract.
    unsafe { ioctl::ioctl(fd, RawArg::<T, OP> { arg }) }.map_err(Errno::from)
}

/// The three strings and numbers of DRM_IOCTL_VERSION.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DrmVersionInfo {
    pub name: String,
    pub date: String,
    pub desc: String,
    pub version: (i32, i32, i32),
}

/// DRM_IOCTL_VERSION on `fd`.
pub fn drm_version(fd: impl AsFd) -> Result<DrmVersionInfo, Errno> {
    // Generous buffers; `drm_copy_field` copies min(len, strlen) bytes without a NUL and writes
    // the true strlen back (§2.1), so a truncated field is detected and re-read bigger.
    let mut cap = 64usize;
    loop {
        let (mut name, mut date, mut desc) = (vec![0u8; cap], vec![0u8; cap], vec![0u8; cap]);
        let mut v = DrmVersion {
            name_len: cap as u64,
            name: name.as_mut_ptr() as u64,
            date_len: cap as u64,
            date: date.as_mut_ptr() as u64,
            desc_len: cap as u64,
            desc: desc.as_mut_ptr() as u64,
            ..Default::default()
        };
        // SAFETY: `DrmVersion` is `struct drm_version` on LP64 (layout tested); its three
        // pointers point at live `Vec`s of exactly the lengths passed, which outlive the call.
        unsafe { raw_ioctl::<DrmVersion, OP_VERSION>(fd.as_fd(), &mut v)? };
        let lens = [v.name_len, v.date_len, v.desc_len];
        if lens.iter().any(|&l| l > cap as u64) {
            cap = lens.iter().copied().max().unwrap_or(0) as usize + 1;
            continue;
        }
        let s = |b: &mut Vec<u8>, l: u64| {
            b.truncate(l as usize);
            String::from_utf8_lossy(b).into_owned()
        };
        return Ok(DrmVersionInfo {
            name: s(&mut name, v.name_len),
            date: s(&mut date, v.date_len),
            desc: s(&mut desc, v.desc_len),
            version: (v.version_major, v.version_minor, v.version_patchlevel),
        });
    }
}

/// One `/dev/accel/accel*` node examined by [`discover`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub path: PathBuf,
    /// The driver version, or why the node could not be queried.
    pub version: Result<DrmVersionInfo, Errno>,
}

impl Candidate {
    pub fn is_rocket(&self) -> bool {
        matches!(&self.version, Ok(v) if v.name == ROCKET_DRIVER_NAME)
    }
}

/// The accel nodes under `dir`, sorted by number (`accel2` before `accel10`).
pub fn accel_nodes(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut nodes: Vec<(u64, PathBuf)> = fs::read_dir(dir)?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let n = name.strip_prefix("accel")?.parse::<u64>().ok()?;
            Some((n, e.path()))
        })
        .collect();
    nodes.sort();
    Ok(nodes.into_iter().map(|(_, p)| p).collect())
}

/// Opens every accel node under `dir` and asks its driver name (no state is changed).
pub fn discover_in(dir: &Path) -> std::io::Result<Vec<Candidate>> {
    Ok(accel_nodes(dir)?
        .into_iter()
        .map(|path| {
            let version = open_node(&path).and_then(drm_version);
            Candidate { path, version }
        })
        .collect())
}

/// [`discover_in`] on `/dev/accel`; a missing directory is an empty list.
pub fn discover() -> Vec<Candidate> {
    discover_in(Path::new(ACCEL_DIR)).unwrap_or_default()
}

fn open_node(path: &Path) -> Result<OwnedFd, Errno> {
    rustix::fs::open(path, OFlags::RDWR | OFlags::CLOEXEC, Mode::empty()).map_err(Errno::from)
}

/// A CPU mapping of one BO (`MAP_SHARED`, the whole page-aligned object).
#[derive(Debug)]
struct Mapping {
    ptr: NonNull<u8>,
    len: usize,
}

#[derive(Debug)]
struct KernelBo {
    bo: Bo,
    map: Option<Mapping>,
}

/// An open `rocket` node: one fd, one private IOVA space, one FIFO of jobs (§2.1, §2.4).
#[derive(Debug)]
pub struct KernelDevice {
    fd: OwnedFd,
    identity: Identity,
    bos: BTreeMap<Handle, KernelBo>,
}

// SAFETY: the only non-Send members are the `NonNull` pointers of BO mappings. They are owned
// by this value (created by its mmap, released by its munmap), never shared, and every access
// goes through `&mut self`; moving the device to another thread moves their sole owner.
unsafe impl Send for KernelDevice {}

impl KernelDevice {
    /// The first node under `/dev/accel` whose DRM driver is `rocket`.
    pub fn open_first() -> Result<KernelDevice> {
        Self::open_first_in(Path::new(ACCEL_DIR))
    }

    /// The first node under `dir` whose DRM driver is `rocket` (the error lists what was seen).
    pub fn open_first_in(dir: &Path) -> Result<KernelDevice> {
        let nodes = match accel_nodes(dir) {
            Ok(n) => n,
            Err(e) => {
                return Err(Error::NoDevice {
                    detail: format!(
                        "{} is not readable ({e}): this kernel has no accel devices (needs Linux ≥ 6.18 with CONFIG_DRM_ACCEL_ROCKET on an RK3588); use the emulator",
                        dir.display()
                    ),
                })
            }
        };
        if nodes.is_empty() {
            return Err(Error::NoDevice {
                detail: format!(
                    "no accel* nodes in {} (is the rocket module loaded and the NPU enabled in the device tree?)",
                    dir.display()
                ),
            });
        }
        let mut seen = Vec::new();
        for path in nodes {
            match Self::open(&path) {
                Ok(d) => return Ok(d),
                Err(e) => seen.push(e.to_string()),
            }
        }
        Err(Error::NoDevice {
            detail: format!("examined {}: {}", dir.display(), seen.join("; ")),
        })
    }

    /// Opens `path` and checks that it is a `rocket` node.
    pub fn open(path: impl AsRef<Path>) -> Result<KernelDevice> {
        let path = path.as_ref();
        let fd = open_node(path).map_err(|errno| Error::Open {
            path: path.to_owned(),
            errno,
        })?;
        let v = drm_version(&fd).map_err(|errno| Error::Ioctl {
            ioctl: "DRM_IOCTL_VERSION",
            errno,
            what: format!("{} is not a DRM device", path.display()),
        })?;
        if v.name != ROCKET_DRIVER_NAME {
            return Err(Error::NotRocket {
                path: path.to_owned(),
                name: v.name,
            });
        }
        Ok(KernelDevice {
            fd,
            identity: Identity {
                kind: DeviceKind::Kernel,
                driver: v.name,
                desc: v.desc,
                version: v.version,
                path: Some(path.to_owned()),
            },
            bos: BTreeMap::new(),
        })
    }

    fn get(&self, handle: Handle, ioctl: &'static str) -> Result<&KernelBo> {
        self.bos.get(&handle).ok_or_else(|| {
            Error::rejected(
                ioctl,
                Errno::ENOENT,
                format!("BO handle {handle} is not open on this device"),
            )
        })
    }

    /// The mapping of `handle`, created on first use.
    fn mapping(&mut self, handle: Handle) -> Result<(NonNull<u8>, usize)> {
        let fd = self.fd.as_fd();
        let kbo = self.bos.get_mut(&handle).ok_or_else(|| Error::Mmap {
            handle,
            errno: Errno::ENOENT,
            what: "handle is not open on this device".into(),
        })?;
        if let Some(m) = &kbo.map {
            return Ok((m.ptr, m.len));
        }
        let len = kbo.bo.size as usize;
        // SAFETY: a fresh mapping at an address the kernel picks (null hint) cannot alias any
        // Rust object; `len` is the object's page-aligned size and `mmap_offset` is the fake
        // offset CREATE_BO returned on this same fd (§2.2). MAP_SHARED as shmem requires.
        let ptr = unsafe {
            rustix::mm::mmap(
                std::ptr::null_mut(),
                len,
                ProtFlags::READ | ProtFlags::WRITE,
                MapFlags::SHARED,
                fd,
                kbo.bo.mmap_offset,
            )
        }
        .map_err(|e| Error::Mmap {
            handle,
            errno: e.into(),
            what: format!("{len} bytes at offset {:#x}", kbo.bo.mmap_offset),
        })?;
        let ptr = NonNull::new(ptr.cast::<u8>()).ok_or_else(|| Error::Mmap {
            handle,
            errno: Errno::EFAULT,
            what: "mmap returned NULL".into(),
        })?;
        kbo.map = Some(Mapping { ptr, len });
        Ok((ptr, len))
    }

    fn unmap(m: Mapping) {
        // SAFETY: `m` came from our mmap of exactly `len` bytes and is dropped here, so no
        // pointer into it survives (accessors copy and never hand out references).
        let _ = unsafe { rustix::mm::munmap(m.ptr.as_ptr().cast(), m.len) };
    }

    fn range(handle: Handle, offset: u64, len: usize, size: usize) -> Result<usize> {
        let end = offset.checked_add(len as u64);
        match end {
            Some(end) if end <= size as u64 => Ok(offset as usize),
            _ => Err(Error::OutOfBounds {
                handle,
                offset,
                len: len as u64,
                size: size as u64,
            }),
        }
    }

    fn prep_bo_once(&self, handle: Handle, timeout_ns: i64) -> Result<(), Errno> {
        let mut args = DrmRocketPrepBo {
            handle,
            reserved: 0,
            timeout_ns,
        };
        // SAFETY: `DrmRocketPrepBo` is `struct drm_rocket_prep_bo` (layout tested); it holds no
        // pointers.
        let _ret = unsafe { raw_ioctl::<_, OP_PREP_BO>(&self.fd, &mut args)? };
        // §2.3: success is any non-error return. 6.18.0 returns the remaining jiffies truncated
        // to int; rustix, like libc, reports only -4095..=-1 as errno, so `_ret` may even be a
        // negative garbage value on success — it is deliberately ignored.
        Ok(())
    }
}

impl Drop for KernelDevice {
    fn drop(&mut self) {
        for (_, kbo) in std::mem::take(&mut self.bos) {
            if let Some(m) = kbo.map {
                Self::unmap(m);
            }
        }
        // The fd closes after; the DRM core releases every handle (§2.1 close()).
    }
}

/// The longest PREP_BO wait issued at once for [`Deadline::Forever`]. On 6.18.0 PREP_BO leaks
/// the remaining jiffies as an `int`; an `INT64_MAX` deadline makes that -2 = "ENOENT" on
/// success (§2.3). A deadline this close keeps the leaked value small and positive.
const FOREVER_STEP_NS: i64 = 10_000_000_000;

impl Device for KernelDevice {
    fn identity(&self) -> &Identity {
        &self.identity
    }

    fn create_bo(&mut self, size: u32) -> Result<Bo> {
        let mut args = DrmRocketCreateBo {
            size,
            ..Default::default()
        };
        // SAFETY: `DrmRocketCreateBo` is `struct drm_rocket_create_bo` (layout tested); no
        // pointers; the kernel writes handle/dma_address/offset back into it.
        unsafe { raw_ioctl::<_, OP_CREATE_BO>(&self.fd, &mut args) }
            .map_err(|e| Error::ioctl("CREATE_BO", e, format!("size {size}")))?;
        let bo = Bo {
            handle: args.handle,
            size: (size as u64).div_ceil(PAGE_SIZE) * PAGE_SIZE,
            dma_address: args.dma_address,
            mmap_offset: args.offset,
        };
        self.bos.insert(bo.handle, KernelBo { bo, map: None });
        Ok(bo)
    }

    fn bo(&self, handle: Handle) -> Option<Bo> {
        self.bos.get(&handle).map(|k| k.bo)
    }

    fn map_bo(&mut self, handle: Handle) -> Result<()> {
        self.mapping(handle).map(|_| ())
    }

    fn write_bo(&mut self, handle: Handle, offset: u64, data: &[u8]) -> Result<()> {
        let (ptr, len) = self.mapping(handle)?;
        let off = Self::range(handle, offset, data.len(), len)?;
        // SAFETY: [off, off + data.len()) lies inside the live mapping (checked above); `data`
        // is ordinary memory and cannot overlap a mapping we own exclusively.
        unsafe { std::ptr::copy_nonoverlapping(data.as_ptr(), ptr.as_ptr().add(off), data.len()) };
        Ok(())
    }

    fn read_bo(&mut self, handle: Handle, offset: u64, out: &mut [u8]) -> Result<()> {
        let (ptr, len) = self.mapping(handle)?;
        let off = Self::range(handle, offset, out.len(), len)?;
        // SAFETY: as in `write_bo`, the source range is inside the live mapping and the
        // destination is a distinct exclusively borrowed slice.
        unsafe {
            std::ptr::copy_nonoverlapping(ptr.as_ptr().add(off), out.as_mut_ptr(), out.len())
        };
        Ok(())
    }

    fn close_bo(&mut self, handle: Handle) -> Result<()> {
        self.get(handle, "GEM_CLOSE")?;
        // The mapping holds a GEM reference: unmap first, or the object (and its IOVA) lives on.
        if let Some(m) = self.bos.get_mut(&handle).and_then(|k| k.map.take()) {
            Self::unmap(m);
        }
        let mut args = DrmGemClose { handle, pad: 0 };
        // SAFETY: `DrmGemClose` is `struct drm_gem_close` (layout tested); no pointers.
        let r = unsafe { raw_ioctl::<_, OP_GEM_CLOSE>(&self.fd, &mut args) };
        self.bos.remove(&handle);
        r.map(|_| ())
            .map_err(|e| Error::ioctl("GEM_CLOSE", e, format!("handle {handle}")))
    }

    fn submit(&mut self, jobs: &[Job]) -> Result<()> {
        validate::validate_submit(jobs, |h| self.bo(h))?;
        let all: Vec<Bo> = self.bos.values().map(|k| k.bo).collect();
        validate::validate_regcmd_ranges(jobs, &all)?;
        // Arrays the kernel copies from; they must outlive the ioctl.
        let tasks: Vec<Vec<DrmRocketTask>> = jobs
            .iter()
            .map(|j| {
                j.tasks
                    .iter()
                    .map(|t| DrmRocketTask {
                        regcmd: t.regcmd,
                        regcmd_count: t.regcmd_count,
                    })
                    .collect()
            })
            .collect();
        let raw_jobs: Vec<DrmRocketJob> = jobs
            .iter()
            .zip(&tasks)
            .map(|(j, t)| DrmRocketJob {
                tasks: t.as_ptr() as u64,
                in_bo_handles: j.in_bos.as_ptr() as u64,
                out_bo_handles: j.out_bos.as_ptr() as u64,
                // Lengths fit u32: validate_submit checked.
                task_count: t.len() as u32,
                task_struct_size: uapi::TASK_STRUCT_SIZE,
                in_bo_handle_count: j.in_bos.len() as u32,
                out_bo_handle_count: j.out_bos.len() as u32,
            })
            .collect();
        let mut args = DrmRocketSubmit {
            jobs: raw_jobs.as_ptr() as u64,
            job_count: raw_jobs.len() as u32,
            job_struct_size: uapi::JOB_STRUCT_SIZE,
            reserved: 0,
        };
        // SAFETY: `DrmRocketSubmit`/`DrmRocketJob`/`DrmRocketTask` are the kernel's structs
        // (layouts tested). `jobs` points at `job_count` jobs at stride 40; each job's `tasks`
        // points at `task_count` tasks at stride 8 and its handle pointers at `u32` arrays of
        // the given counts. All are live `Vec`s borrowed until after the call; the kernel only
        // reads them.
        unsafe { raw_ioctl::<_, OP_SUBMIT>(&self.fd, &mut args) }
            .map_err(|e| Error::ioctl("SUBMIT", e, format!("{} jobs", jobs.len())))?;
        Ok(())
    }

    fn prep_bo(&mut self, handle: Handle, deadline: Deadline) -> Result<()> {
        self.get(handle, "PREP_BO")?;
        let err = |e: Errno| Error::ioctl("PREP_BO", e, format!("handle {handle}"));
        match deadline {
            Deadline::Poll => self.prep_bo_once(handle, 0).map_err(err),
            Deadline::At(t) => self.prep_bo_once(handle, t.max(0)).map_err(err),
            Deadline::Forever => loop {
                let t = self.now_ns().saturating_add(FOREVER_STEP_NS);
                match self.prep_bo_once(handle, t) {
                    Err(Errno::ETIMEDOUT) => continue,
                    r => return r.map_err(err),
                }
            },
        }
    }

    fn fini_bo(&mut self, handle: Handle) -> Result<()> {
        self.get(handle, "FINI_BO")?;
        let mut args = DrmRocketFiniBo {
            handle,
            reserved: 0,
        };
        // SAFETY: `DrmRocketFiniBo` is `struct drm_rocket_fini_bo` (layout tested); no pointers.
        unsafe { raw_ioctl::<_, OP_FINI_BO>(&self.fd, &mut args) }
            .map(|_| ())
            .map_err(|e| Error::ioctl("FINI_BO", e, format!("handle {handle}")))
    }

    fn now_ns(&self) -> i64 {
        // PREP_BO's deadline is absolute CLOCK_MONOTONIC (§1.2, §2.3).
        let t = rustix::time::clock_gettime(rustix::time::ClockId::Monotonic);
        t.tv_sec
            .saturating_mul(1_000_000_000)
            .saturating_add(t.tv_nsec)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::unnecessary_cast)] // `Opcode` is u32 on some targets, c_ulong on others
    fn rustix_opcodes_equal_the_notes_request_codes() {
        // §1.1 table, through the encoder the ioctls actually use.
        assert_eq!(OP_CREATE_BO as u32, 0xC018_6440);
        assert_eq!(OP_SUBMIT as u32, 0x4018_6441);
        assert_eq!(OP_PREP_BO as u32, 0x4010_6442);
        assert_eq!(OP_FINI_BO as u32, 0x4008_6443);
        assert_eq!(OP_GEM_CLOSE as u32, 0x4008_6409);
        assert_eq!(OP_VERSION as u32, 0xC040_6400);
    }

    #[test]
    fn discovery_without_accel_dir_names_the_path() {
        let dir = Path::new("/nonexistent-rnpu-test/accel");
        let e = KernelDevice::open_first_in(dir).unwrap_err();
        assert!(matches!(e, Error::NoDevice { .. }));
        let msg = e.to_string();
        assert!(msg.contains("/nonexistent-rnpu-test/accel"), "{msg}");
        assert!(msg.contains("emulator"), "{msg}");
        assert!(discover_in(dir).is_err());
    }

    #[test]
    fn discovery_with_empty_accel_dir_says_no_nodes() {
        let dir = std::env::temp_dir().join(format!("rnpu-accel-empty-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("not-a-node"), b"").unwrap();
        let e = KernelDevice::open_first_in(&dir).unwrap_err();
        assert!(e.to_string().contains("no accel* nodes"), "{e}");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn discovery_skips_nodes_that_are_not_drm_and_names_them() {
        // A regular file named accel0: opens, but DRM_IOCTL_VERSION fails with ENOTTY.
        let dir = std::env::temp_dir().join(format!("rnpu-accel-fake-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("accel0"), b"").unwrap();
        fs::write(dir.join("accel10"), b"").unwrap();
        fs::write(dir.join("accel2"), b"").unwrap();
        assert_eq!(
            accel_nodes(&dir).unwrap(),
            vec![dir.join("accel0"), dir.join("accel2"), dir.join("accel10")]
        );
        let c = discover_in(&dir).unwrap();
        assert_eq!(c.len(), 3);
        assert!(c.iter().all(|c| !c.is_rocket()));
        assert_eq!(c[0].version, Err(Errno::ENOTTY));
        let e = KernelDevice::open_first_in(&dir).unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("accel0") && msg.contains("ENOTTY"), "{msg}");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn open_of_missing_node_is_a_clear_error_naming_the_path() {
        let e = KernelDevice::open("/dev/accel/accel99").unwrap_err();
        assert_eq!(e.errno(), Some(Errno::ENOENT));
        assert!(e.to_string().contains("/dev/accel/accel99"), "{e}");
    }

    #[test]
    fn open_of_a_non_drm_char_device_is_rejected() {
        // /dev/null opens but is no DRM device.
        let e = KernelDevice::open("/dev/null").unwrap_err();
        assert!(
            matches!(
                e,
                Error::Ioctl {
                    ioctl: "DRM_IOCTL_VERSION",
                    ..
                }
            ),
            "{e}"
        );
    }
}
