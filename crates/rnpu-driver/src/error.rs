//! Typed errors. Every variant that comes from (or stands in for) the kernel carries the errno.

use std::path::PathBuf;

use crate::errno::Errno;

/// Errors of [`Device`](crate::Device) operations, device discovery and opening.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// No `/dev/accel/accel*` node is driven by `rocket`. `detail` says what was examined.
    #[error("no rocket NPU device found: {detail}")]
    NoDevice { detail: String },

    /// The node exists but could not be opened (permissions, ...).
    #[error("cannot open {}: {errno}{}", path.display(), hint(*errno))]
    Open { path: PathBuf, errno: Errno },

    /// The node answered `DRM_IOCTL_VERSION` with another driver name.
    #[error("{} is driven by {name:?}, not \"rocket\"", path.display())]
    NotRocket { path: PathBuf, name: String },

    /// The kernel (or the emulated kernel) refused an ioctl.
    #[error("{ioctl} failed with {errno}: {what}")]
    Ioctl {
        ioctl: &'static str,
        errno: Errno,
        what: String,
    },

    /// Refused in user space before the ioctl, because the kernel would have accepted it and
    /// then dropped or misrun it silently (kernel-uapi.md §2.4, §6(a)6). `errno` is what the
    /// kernel uses internally for the same condition.
    #[error("{ioctl} rejected before reaching the kernel ({errno}): {what}")]
    Rejected {
        ioctl: &'static str,
        errno: Errno,
        what: String,
    },

    /// `mmap(2)` of a BO failed.
    #[error("mmap of BO {handle} failed with {errno}: {what}")]
    Mmap {
        handle: u32,
        errno: Errno,
        what: String,
    },

    /// A CPU access outside the BO.
    #[error("BO {handle}: CPU access of {len:#x} bytes at offset {offset:#x} is outside its {size:#x} bytes")]
    OutOfBounds {
        handle: u32,
        offset: u64,
        len: u64,
        size: u64,
    },
}

fn hint(e: Errno) -> &'static str {
    match e {
        Errno::EACCES | Errno::EPERM => {
            " (permission denied: add a udev rule for /dev/accel/* or join its group)"
        }
        Errno::ENOENT => " (no such device node)",
        _ => "",
    }
}

impl Error {
    /// The errno, when the error has one.
    pub fn errno(&self) -> Option<Errno> {
        match self {
            Error::Open { errno, .. }
            | Error::Ioctl { errno, .. }
            | Error::Rejected { errno, .. }
            | Error::Mmap { errno, .. } => Some(*errno),
            Error::OutOfBounds { .. } => Some(Errno::EFAULT),
            Error::NoDevice { .. } => Some(Errno::ENODEV),
            Error::NotRocket { .. } => Some(Errno::ENODEV),
        }
    }

    pub(crate) fn ioctl(ioctl: &'static str, errno: Errno, what: impl Into<String>) -> Self {
        Error::Ioctl {
            ioctl,
            errno,
            what: what.into(),
        }
    }

    pub(crate) fn rejected(ioctl: &'static str, errno: Errno, what: impl Into<String>) -> Self {
        Error::Rejected {
            ioctl,
            errno,
            what: what.into(),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
