//! Linux errno values as the `rocket` driver returns them (kernel-uapi.md §2).
//!
//! A small newtype instead of `rustix::io::Errno` so that the emulator, which must return the
//! same numbers, does not depend on a Unix-only crate. Values are the asm-generic ones (arm64
//! and x86_64 agree on all of these).

use std::fmt;

/// A positive Linux errno number.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Errno(pub i32);

impl Errno {
    pub const EPERM: Errno = Errno(1);
    pub const ENOENT: Errno = Errno(2);
    pub const EINTR: Errno = Errno(4);
    pub const EIO: Errno = Errno(5);
    pub const ENXIO: Errno = Errno(6);
    pub const ENOMEM: Errno = Errno(12);
    pub const EACCES: Errno = Errno(13);
    pub const EFAULT: Errno = Errno(14);
    pub const EBUSY: Errno = Errno(16);
    pub const ENODEV: Errno = Errno(19);
    pub const EINVAL: Errno = Errno(22);
    pub const ENOTTY: Errno = Errno(25);
    pub const ENOSPC: Errno = Errno(28);
    pub const EOVERFLOW: Errno = Errno(75);
    pub const EALREADY: Errno = Errno(114);
    pub const ETIMEDOUT: Errno = Errno(110);
    pub const ECANCELED: Errno = Errno(125);

    /// The symbolic name, e.g. `"EINVAL"`, or `None` for numbers this crate never produces.
    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            1 => "EPERM",
            2 => "ENOENT",
            4 => "EINTR",
            5 => "EIO",
            6 => "ENXIO",
            12 => "ENOMEM",
            13 => "EACCES",
            14 => "EFAULT",
            16 => "EBUSY",
            19 => "ENODEV",
            22 => "EINVAL",
            25 => "ENOTTY",
            28 => "ENOSPC",
            75 => "EOVERFLOW",
            110 => "ETIMEDOUT",
            114 => "EALREADY",
            125 => "ECANCELED",
            _ => return None,
        })
    }
}

impl fmt::Debug for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => write!(f, "{n}"),
            None => write!(f, "errno {}", self.0),
        }
    }
}

#[cfg(target_os = "linux")]
impl From<rustix::io::Errno> for Errno {
    fn from(e: rustix::io::Errno) -> Self {
        Errno(e.raw_os_error())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_numbers_match_linux() {
        assert_eq!(Errno::EINVAL.to_string(), "EINVAL");
        assert_eq!(Errno::EALREADY.0, 114);
        assert_eq!(Errno(9999).to_string(), "errno 9999");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn numbers_agree_with_the_host_libc() {
        use rustix::io::Errno as R;
        for (ours, theirs) in [
            (Errno::ENOENT, R::NOENT),
            (Errno::EINVAL, R::INVAL),
            (Errno::EFAULT, R::FAULT),
            (Errno::EBUSY, R::BUSY),
            (Errno::ENOSPC, R::NOSPC),
            (Errno::ETIMEDOUT, R::TIMEDOUT),
            (Errno::EALREADY, R::ALREADY),
            (Errno::ECANCELED, R::CANCELED),
            (Errno::EACCES, R::ACCESS),
            (Errno::ENOMEM, R::NOMEM),
            (Errno::ENOTTY, R::NOTTY),
        ] {
            assert_eq!(ours, Errno::from(theirs));
        }
    }
}
