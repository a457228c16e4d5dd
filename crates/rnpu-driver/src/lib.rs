//! rnpu-driver — access to the RK3588 NPU through the mainline Linux `rocket` accel driver.
//!
//! - [`Device`]: what the runtime uses — create/map/close BOs, SUBMIT jobs, PREP_BO/FINI_BO.
//! - [`KernelDevice`]: `/dev/accel/accelN` whose DRM driver is `rocket` (Linux ≥ 6.18). The
//!   UAPI structs live in [`uapi`]; ioctls and mmap go through `rustix`.
//! - [`EmulatedDevice`]: the same contract in-process, enforcing the kernel's rules (per-fd IOVA
//!   space, silent job drops, implicit fences, FIFO per fd, three shared cores, DPU-interrupt
//!   completion, the 500 ms timeout) over a pluggable NPU model.
//!
//! Facts and section numbers cited in comments (§n) refer to
//! `shared/research/kernel-uapi.md`.
#![deny(unsafe_code)]

pub mod device;
pub mod emulated;
pub mod errno;
pub mod error;
#[cfg(target_os = "linux")]
pub mod kernel;
pub mod uapi;
pub mod validate;

pub use device::{Bo, Deadline, Device, DeviceKind, Handle, Identity, Job, Task};
pub use emulated::{EmuOptions, EmulatedDevice, EmulatedNpu};
pub use errno::Errno;
pub use error::{Error, Result};
#[cfg(target_os = "linux")]
pub use kernel::KernelDevice;

#[cfg(test)]
mod tests {
    /// Devices move between threads (a runtime puts one behind a Mutex for Sync).
    #[test]
    fn devices_are_send() {
        fn send<T: Send>() {}
        send::<crate::EmulatedDevice>();
        send::<crate::EmulatedNpu>();
        #[cfg(target_os = "linux")]
        send::<crate::KernelDevice>();
        send::<Box<dyn crate::Device>>();
    }
}
