//! User-space validation of a SUBMIT, run by both devices before the ioctl.
//!
//! The kernel returns 0 from SUBMIT even when it drops a job (kernel-uapi.md §2.4), so every
//! condition under which it would drop a job — and a few under which it would run it into a
//! fault or an un-waitable state — is refused here with the errno the kernel uses internally.

use std::collections::HashSet;

use crate::device::{Bo, Handle, Job};
use crate::errno::Errno;
use crate::error::{Error, Result};

/// `PC_REGISTER_AMOUNTS` is 16 bits of 128-bit units minus one: `regcmd_count` above this wraps
/// silently (§2.5).
pub const MAX_REGCMD_COUNT: u32 = 131_072;

/// PC_BASE_ADDRESS bits 31:4 hold the address, bit 0 is PC_SEL (§2.5).
pub const REGCMD_ALIGN: u32 = 16;

const IOCTL: &str = "SUBMIT";

/// Checks `jobs` against every rule of §2.4 / §6(a)6. `lookup` resolves this device's handles.
pub fn validate_submit(jobs: &[Job], lookup: impl Fn(Handle) -> Option<Bo>) -> Result<()> {
    if jobs.is_empty() {
        // The kernel returns 0 and does nothing (§2.4 step 1); an empty submit is a caller bug.
        return Err(Error::rejected(IOCTL, Errno::EINVAL, "no jobs"));
    }
    if u32::try_from(jobs.len()).is_err() {
        return Err(Error::rejected(
            IOCTL,
            Errno::EINVAL,
            "job count does not fit u32",
        ));
    }
    for (j, job) in jobs.iter().enumerate() {
        validate_job(j, job, &lookup)?;
    }
    Ok(())
}

fn validate_job(j: usize, job: &Job, lookup: &impl Fn(Handle) -> Option<Bo>) -> Result<()> {
    let bad = |errno, what: String| Error::rejected(IOCTL, errno, format!("job {j}: {what}"));
    // Kernel order first (§2.4 "silently dropped per-job failures").
    if job.tasks.is_empty() {
        return Err(bad(Errno::EINVAL, "task_count is 0".into()));
    }
    if u32::try_from(job.tasks.len()).is_err() {
        return Err(bad(Errno::EINVAL, "task count does not fit u32".into()));
    }
    for (t, task) in job.tasks.iter().enumerate() {
        if task.regcmd_count == 0 {
            return Err(bad(Errno::EINVAL, format!("task {t}: regcmd_count is 0")));
        }
    }
    for (list, handles) in [("in", &job.in_bos), ("out", &job.out_bos)] {
        for &h in handles.iter() {
            if lookup(h).is_none() {
                return Err(bad(
                    Errno::ENOENT,
                    format!("{list} BO handle {h} is not open on this device"),
                ));
            }
        }
    }
    let total = job.in_bos.len() as u64 + job.out_bos.len() as u64;
    if u32::try_from(job.in_bos.len()).is_err()
        || u32::try_from(job.out_bos.len()).is_err()
        || total > u32::MAX as u64
    {
        return Err(bad(Errno::EINVAL, "in + out BO count overflows u32".into()));
    }
    let mut seen = HashSet::new();
    for (list, &h) in job
        .in_bos
        .iter()
        .map(|h| ("in", h))
        .chain(job.out_bos.iter().map(|h| ("out", h)))
    {
        if !seen.insert(h) {
            // ww_mutex relock with the same acquire context (§2.4, derived).
            return Err(bad(
                Errno::EALREADY,
                format!("BO {h} listed twice (again in the {list} list)"),
            ));
        }
    }
    // Beyond the kernel's checks: things it accepts but that cannot work.
    if job.out_bos.is_empty() {
        // Only out BOs get the job's fence: such a job cannot be waited on (§2.4, §6(a)6).
        return Err(bad(
            Errno::EINVAL,
            "no out BO: the job could never be waited on".into(),
        ));
    }
    for (t, task) in job.tasks.iter().enumerate() {
        if task.regcmd_count > MAX_REGCMD_COUNT {
            return Err(bad(
                Errno::EINVAL,
                format!(
                    "task {t}: regcmd_count {} > {MAX_REGCMD_COUNT} wraps PC_REGISTER_AMOUNTS",
                    task.regcmd_count
                ),
            ));
        }
        if task.regcmd % REGCMD_ALIGN != 0 {
            return Err(bad(
                Errno::EINVAL,
                format!(
                    "task {t}: regcmd {:#x} is not {REGCMD_ALIGN}-byte aligned",
                    task.regcmd
                ),
            ));
        }
    }
    Ok(())
}

/// Bytes the PC fetches for a task: whole 128-bit units (§2.5 `(count + 1) / 2` units).
pub fn regcmd_fetch_bytes(regcmd_count: u32) -> u64 {
    (regcmd_count as u64).div_ceil(2) * 16
}

/// Checks that each task's regcmd fetch lies inside one of `bos` (the device's open BOs).
/// The kernel does not check this; the NPU would fault and the job time out (§2.4, §5).
pub fn validate_regcmd_ranges(jobs: &[Job], bos: &[Bo]) -> Result<()> {
    for (j, job) in jobs.iter().enumerate() {
        for (t, task) in job.tasks.iter().enumerate() {
            let start = task.regcmd as u64;
            let end = start + regcmd_fetch_bytes(task.regcmd_count);
            let inside = bos
                .iter()
                .any(|b| b.dma_address <= start && end <= b.dma_address + b.size);
            if !inside {
                return Err(Error::rejected(
                    IOCTL,
                    Errno::EFAULT,
                    format!(
                        "job {j}: task {t}: regcmd [{start:#x}, {end:#x}) is not inside one BO of this device"
                    ),
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device::Task;

    fn bo(handle: u32, dma: u64) -> Bo {
        Bo {
            handle,
            size: 4096,
            dma_address: dma,
            mmap_offset: 1 << 32,
        }
    }

    fn lookup(h: Handle) -> Option<Bo> {
        (1..=3).contains(&h).then(|| bo(h, (h as u64 - 1) * 4096))
    }

    fn job() -> Job {
        Job {
            tasks: vec![Task {
                regcmd: 0,
                regcmd_count: 12,
            }],
            in_bos: vec![1],
            out_bos: vec![2],
        }
    }

    fn errno_of(r: Result<()>) -> Errno {
        r.unwrap_err().errno().unwrap()
    }

    #[test]
    fn a_good_job_passes() {
        validate_submit(&[job()], lookup).unwrap();
    }

    // §2.4 step 1 returns 0 for an empty submit; we refuse it as a caller bug.
    #[test]
    fn validation_rejects_submit_with_zero_jobs_as_einval() {
        assert_eq!(errno_of(validate_submit(&[], lookup)), Errno::EINVAL);
    }

    // §2.4: task_count == 0 → dropped with -EINVAL.
    #[test]
    fn validation_rejects_job_with_zero_tasks() {
        let mut j = job();
        j.tasks.clear();
        assert_eq!(errno_of(validate_submit(&[j], lookup)), Errno::EINVAL);
    }

    // §2.4: any task with regcmd_count == 0 → dropped with -EINVAL.
    #[test]
    fn validation_rejects_task_with_zero_regcmd_count() {
        let mut j = job();
        j.tasks.push(Task {
            regcmd: 0,
            regcmd_count: 0,
        });
        let e = validate_submit(&[job(), j], lookup).unwrap_err();
        assert_eq!(e.errno(), Some(Errno::EINVAL));
        assert!(e.to_string().contains("job 1: task 1"), "{e}");
    }

    // §2.4: unknown BO handle in either list → dropped with -ENOENT.
    #[test]
    fn validation_rejects_unknown_bo_handle() {
        let mut j = job();
        j.out_bos = vec![9];
        assert_eq!(errno_of(validate_submit(&[j], lookup)), Errno::ENOENT);
    }

    // §2.4: the same BO twice, within one list or across in/out → dropped with -EALREADY.
    #[test]
    fn validation_rejects_bo_listed_twice_across_in_and_out() {
        let mut j = job();
        j.out_bos = vec![1];
        assert_eq!(
            errno_of(validate_submit(&[j.clone()], lookup)),
            Errno::EALREADY
        );
        j.out_bos = vec![2, 2];
        assert_eq!(errno_of(validate_submit(&[j], lookup)), Errno::EALREADY);
    }

    // §6(a)6: every job needs an out BO, or it cannot be waited on.
    #[test]
    fn validation_rejects_job_without_out_bo() {
        let mut j = job();
        j.out_bos.clear();
        assert_eq!(errno_of(validate_submit(&[j], lookup)), Errno::EINVAL);
    }

    // §2.5: PC_BASE_ADDRESS bits 3:0 are not address bits.
    #[test]
    fn validation_rejects_regcmd_not_16_byte_aligned() {
        let mut j = job();
        j.tasks[0].regcmd = 8;
        assert_eq!(errno_of(validate_submit(&[j], lookup)), Errno::EINVAL);
    }

    // §2.5: PC_REGISTER_AMOUNTS is 16 bits; larger counts wrap silently.
    #[test]
    fn validation_rejects_regcmd_count_that_wraps_register_amounts() {
        let mut j = job();
        j.tasks[0].regcmd_count = MAX_REGCMD_COUNT;
        validate_submit(&[j.clone()], lookup).unwrap();
        j.tasks[0].regcmd_count = MAX_REGCMD_COUNT + 1;
        assert_eq!(errno_of(validate_submit(&[j], lookup)), Errno::EINVAL);
    }

    // §2.4 "No address validation" + §5: an unmapped regcmd faults and times out.
    #[test]
    fn validation_rejects_regcmd_outside_every_bo() {
        let bos = [bo(1, 0), bo(2, 4096)];
        let mut j = job();
        validate_regcmd_ranges(&[j.clone()], &bos).unwrap();
        // 512 entries = 4096 bytes fit BO 1 exactly; 513 entries round up to 4112 bytes.
        j.tasks[0].regcmd_count = 512;
        validate_regcmd_ranges(&[j.clone()], &bos).unwrap();
        j.tasks[0].regcmd_count = 513;
        let e = validate_regcmd_ranges(&[j.clone()], &bos).unwrap_err();
        assert_eq!(e.errno(), Some(Errno::EFAULT));
        j.tasks[0].regcmd = 0x10_0000;
        j.tasks[0].regcmd_count = 4;
        assert!(validate_regcmd_ranges(&[j], &bos).is_err());
    }

    #[test]
    fn fetch_rounds_up_to_128_bit_units() {
        assert_eq!(regcmd_fetch_bytes(1), 16);
        assert_eq!(regcmd_fetch_bytes(2), 16);
        assert_eq!(regcmd_fetch_bytes(3), 32);
    }
}
