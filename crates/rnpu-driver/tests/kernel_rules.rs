//! One test per kernel rule of kernel-uapi.md §6(b), each named after its rule and citing the
//! section it comes from, run against `EmulatedDevice` over the scripted test NPU (the rules are
//! the kernel's, not the NPU's).

use rnpu_driver::emulated::scripted::{Op, ScriptedNpu, DEFAULT_TASK_NS};
use rnpu_driver::emulated::{Event, UserMemory, CLOCK_START_NS, IOVA_END, JOB_TIMEOUT_NS};
use rnpu_driver::uapi::{
    DrmGemClose, DrmRocketCreateBo, DrmRocketFiniBo, DrmRocketJob, DrmRocketPrepBo,
    DrmRocketSubmit, DrmRocketTask,
};
use rnpu_driver::{
    Bo, Deadline, Device, EmuOptions, EmulatedDevice, EmulatedNpu, Errno, Error, Job, Task,
};

const MS: i64 = 1_000_000;

fn board() -> EmulatedNpu {
    EmulatedNpu::new(ScriptedNpu::new(), EmuOptions::default())
}

fn board_with(opts: EmuOptions) -> EmulatedNpu {
    EmulatedNpu::new(ScriptedNpu::new(), opts)
}

/// A BO holding `ops` as its task script, flushed for the NPU.
fn script(dev: &mut EmulatedDevice, ops: &[Op]) -> (Bo, Task) {
    let (bytes, count) = Op::encode(ops);
    let bo = dev.create_bo(bytes.len().max(16) as u32).unwrap();
    dev.write_bo(bo.handle, 0, &bytes).unwrap();
    dev.fini_bo(bo.handle).unwrap();
    let task = Task {
        regcmd: bo.iova(),
        regcmd_count: count,
    };
    (bo, task)
}

fn job(tasks: &[Task], ins: &[u32], outs: &[u32]) -> Job {
    Job {
        tasks: tasks.to_vec(),
        in_bos: ins.to_vec(),
        out_bos: outs.to_vec(),
    }
}

/// Raw job in `user` memory (what a careless user-space library would pass).
fn raw_job(user: &mut UserMemory, tasks: &[Task], ins: &[u32], outs: &[u32]) -> DrmRocketJob {
    let t: Vec<u8> = tasks
        .iter()
        .flat_map(|t| {
            DrmRocketTask {
                regcmd: t.regcmd,
                regcmd_count: t.regcmd_count,
            }
            .to_bytes()
        })
        .collect();
    let h = |user: &mut UserMemory, hs: &[u32]| {
        if hs.is_empty() {
            0
        } else {
            user.alloc(&hs.iter().flat_map(|h| h.to_le_bytes()).collect::<Vec<_>>())
        }
    };
    DrmRocketJob {
        tasks: if t.is_empty() { 0 } else { user.alloc(&t) },
        in_bo_handles: h(user, ins),
        out_bo_handles: h(user, outs),
        task_count: tasks.len() as u32,
        task_struct_size: 8,
        in_bo_handle_count: ins.len() as u32,
        out_bo_handle_count: outs.len() as u32,
    }
}

fn submit_raw(
    dev: &mut EmulatedDevice,
    user: &mut UserMemory,
    jobs: &[DrmRocketJob],
) -> Result<(), Errno> {
    let bytes: Vec<u8> = jobs.iter().flat_map(|j| j.to_bytes()).collect();
    let args = DrmRocketSubmit {
        jobs: user.alloc(&bytes),
        job_count: jobs.len() as u32,
        job_struct_size: 40,
        reserved: 0,
    };
    dev.ioctl_submit(user, &args)
}

fn dropped(npu: &EmulatedNpu) -> Vec<(usize, Errno)> {
    npu.events()
        .into_iter()
        .filter_map(|e| match e {
            Event::JobDropped { index, errno, .. } => Some((index, errno)),
            _ => None,
        })
        .collect()
}

fn read(dev: &mut EmulatedDevice, h: u32, len: usize) -> Vec<u8> {
    let mut v = vec![0; len];
    dev.read_bo(h, 0, &mut v).unwrap();
    v
}

fn prep(dev: &mut EmulatedDevice, handle: u32, timeout_ns: i64) -> Result<i32, Errno> {
    dev.ioctl_prep_bo(&DrmRocketPrepBo {
        handle,
        reserved: 0,
        timeout_ns,
    })
}

fn starts(npu: &EmulatedNpu) -> Vec<(u64, u64, usize, i64)> {
    npu.events()
        .into_iter()
        .filter_map(|e| match e {
            Event::JobStarted { fd, job, core, at } => Some((fd, job, core, at)),
            _ => None,
        })
        .collect()
}

// ---- §6(b)1 per fd: IOVA, handles, mmap offsets --------------------------------------------

// §2.2 step 4, §6(b)1: drm_mm BEST, PAGE_SIZE alignment, from 0, reuse after free.
#[test]
fn iova_best_fit_page_aligned_from_zero() {
    let npu = board();
    let mut d = npu.open();
    let a = d.create_bo(100).unwrap();
    let b = d.create_bo(3 * 4096).unwrap();
    let c = d.create_bo(1).unwrap();
    assert_eq!(a.dma_address, 0, "first BO of a fresh fd is at IOVA 0");
    assert_eq!(b.dma_address, 4096);
    assert_eq!(c.dma_address, 4 * 4096);
    assert_eq!(a.size, 4096);
    d.close_bo(b.handle).unwrap();
    // Holes: [1 page, 4 pages) and [5 pages, 4 GiB). One page goes to the smaller hole's bottom.
    assert_eq!(d.create_bo(4096).unwrap().dma_address, 4096);
    // Two pages still fit the remaining 2-page hole.
    assert_eq!(d.create_bo(8192).unwrap().dma_address, 2 * 4096);
    assert_eq!(d.create_bo(4096).unwrap().dma_address, 5 * 4096);
}

// §5, §6(b)1: every fd has its own IOVA space starting at 0.
#[test]
fn iova_spaces_are_per_fd_and_overlap() {
    let npu = board();
    let mut d1 = npu.open();
    let mut d2 = npu.open();
    assert_eq!(d1.create_bo(4096).unwrap().dma_address, 0);
    assert_eq!(d2.create_bo(4096).unwrap().dma_address, 0);
}

// §1.2 create_bo.handle, §6(b)1: per file, from 1, lowest free.
#[test]
fn handles_start_at_one_lowest_free_per_fd() {
    let npu = board();
    let mut d1 = npu.open();
    let mut d2 = npu.open();
    let h: Vec<u32> = (0..3).map(|_| d1.create_bo(64).unwrap().handle).collect();
    assert_eq!(h, [1, 2, 3]);
    assert_eq!(d2.create_bo(64).unwrap().handle, 1);
    d1.close_bo(2).unwrap();
    assert_eq!(d1.create_bo(64).unwrap().handle, 2);
    assert_eq!(d1.create_bo(64).unwrap().handle, 4);
}

// §2.2 step 6, §6(b)1: the fake-offset space is device-global and starts at 4 GiB.
#[test]
fn mmap_offsets_are_device_global_from_4gib() {
    let npu = board();
    let mut d1 = npu.open();
    let mut d2 = npu.open();
    let a = d1.create_bo(4096).unwrap();
    let b = d2.create_bo(4096).unwrap();
    assert_eq!(a.mmap_offset, 1 << 32);
    assert_eq!(b.mmap_offset, (1 << 32) + 4096, "not per fd: no overlap");
}

// ---- §6(b)2 CREATE_BO ----------------------------------------------------------------------

// §2.2 step 1: PAGE_ALIGNed shmem, new pages read as zero; input fields other than size ignored.
#[test]
fn create_bo_rounds_up_to_page_and_zero_fills() {
    let npu = board();
    let mut d = npu.open();
    let mut args = DrmRocketCreateBo {
        size: 5000,
        handle: 77,
        dma_address: 0xdead_0000,
        offset: 3,
    };
    d.ioctl_create_bo(&mut args).unwrap();
    assert_eq!((args.handle, args.dma_address), (1, 0));
    let bo = d.bo(1).unwrap();
    assert_eq!(bo.size, 8192);
    assert!(read(&mut d, 1, 8192).iter().all(|&b| b == 0));
    // The whole rounded-up size is mappable.
    d.write_bo(1, 8191, &[1]).unwrap();
    assert!(d.write_bo(1, 8192, &[1]).is_err());
}

// §2.2 step 1: size 0 → -ENOSPC (probable, from the mmap-offset drm_mm).
#[test]
fn create_bo_size_zero_is_enospc() {
    let npu = board();
    let mut d = npu.open();
    let e = d.create_bo(0).unwrap_err();
    assert_eq!(e.errno(), Some(Errno::ENOSPC));
}

// §2.2 step 4 (after f706e6a4ce75): IOVA exhaustion → -ENOSPC, and no handle is left behind.
#[test]
fn create_bo_iova_exhaustion_is_enospc_and_leaves_no_handle() {
    let npu = board_with(EmuOptions {
        iova_end: 4 * 4096,
        ..EmuOptions::default()
    });
    let mut d = npu.open();
    d.create_bo(3 * 4096).unwrap();
    assert_eq!(d.create_bo(4097).unwrap_err().errno(), Some(Errno::ENOSPC));
    assert!(d.bo(2).is_none(), "failed CREATE_BO leaves no handle");
    assert_eq!(d.create_bo(4096).unwrap().handle, 2);
    // The default aperture is the Rockchip IOMMU's 4 GiB.
    assert_eq!(EmuOptions::default().iova_end, IOVA_END);
    assert_eq!(IOVA_END, 1 << 32);
}

// ---- §6(b)3 SUBMIT: ioctl-level checks, in order --------------------------------------------

// §2.4 step 1: job_count == 0 returns 0 before any other check.
#[test]
fn submit_with_zero_jobs_returns_zero_before_other_checks() {
    let npu = board();
    let mut d = npu.open();
    let args = DrmRocketSubmit {
        jobs: 0,
        job_count: 0,
        job_struct_size: 1,
        reserved: 5,
    };
    assert_eq!(d.ioctl_submit(&UserMemory::new(), &args), Ok(()));
    // The typed API refuses it: an empty submit is a caller bug.
    let e = d.submit(&[]).unwrap_err();
    assert!(
        matches!(
            e,
            Error::Rejected {
                errno: Errno::EINVAL,
                ..
            }
        ),
        "{e}"
    );
}

// §2.4 step 2: job_struct_size < 40 → -EINVAL (checked before reserved).
#[test]
fn submit_job_struct_size_below_40_is_einval() {
    let npu = board();
    let mut d = npu.open();
    let args = DrmRocketSubmit {
        jobs: 0,
        job_count: 1,
        job_struct_size: 39,
        reserved: 0,
    };
    assert_eq!(
        d.ioctl_submit(&UserMemory::new(), &args),
        Err(Errno::EINVAL)
    );
}

// §2.4 step 3: reserved != 0 → -EINVAL.
#[test]
fn submit_reserved_nonzero_is_einval() {
    let npu = board();
    let mut d = npu.open();
    let args = DrmRocketSubmit {
        jobs: 0,
        job_count: 1,
        job_struct_size: 40,
        reserved: 1,
    };
    assert_eq!(
        d.ioctl_submit(&UserMemory::new(), &args),
        Err(Errno::EINVAL)
    );
}

// §1.2 extensibility rule: a larger stride is accepted, the extra bytes ignored.
#[test]
fn submit_larger_job_stride_is_accepted_extra_bytes_ignored() {
    let npu = board();
    let mut d = npu.open();
    let out = d.create_bo(4096).unwrap();
    let (_, t) = script(
        &mut d,
        &[Op::Fill {
            dst: out.iova(),
            len: 4,
            byte: 7,
        }],
    );
    let mut user = UserMemory::new();
    let j = raw_job(&mut user, &[t, t], &[], &[out.handle]);
    let mut bytes = j.to_bytes().to_vec();
    bytes.extend_from_slice(&[0xff; 16]); // an extension the kernel does not know
    bytes.extend_from_slice(&j.to_bytes());
    bytes.extend_from_slice(&[0xff; 16]);
    let args = DrmRocketSubmit {
        jobs: user.alloc(&bytes),
        job_count: 2,
        job_struct_size: 56,
        reserved: 0,
    };
    d.ioctl_submit(&user, &args).unwrap();
    assert_eq!(npu.stats().jobs_queued, 2);
    assert!(dropped(&npu).is_empty());
}

// §2.4 step 5: a fault copying any job → -EFAULT and no job is submitted.
#[test]
fn submit_copy_fault_is_efault_and_submits_nothing() {
    let npu = board();
    let mut d = npu.open();
    let out = d.create_bo(4096).unwrap();
    let (_, t) = script(&mut d, &[]);
    let mut user = UserMemory::new();
    let j = raw_job(&mut user, &[t], &[], &[out.handle]);
    // Room for one job only; job_count says two.
    let args = DrmRocketSubmit {
        jobs: user.alloc(&j.to_bytes()),
        job_count: 2,
        job_struct_size: 40,
        reserved: 0,
    };
    assert_eq!(d.ioctl_submit(&user, &args), Err(Errno::EFAULT));
    assert_eq!(npu.stats().jobs_queued, 0);
}

// ---- §6(b)3 SUBMIT: per-job failures are dropped silently, SUBMIT returns 0 ------------------

fn drop_case(
    make: impl FnOnce(&mut EmulatedDevice, &mut UserMemory, Task, u32) -> DrmRocketJob,
) -> Errno {
    let npu = board();
    let mut d = npu.open();
    let out = d.create_bo(4096).unwrap();
    let (_, t) = script(&mut d, &[]);
    let mut user = UserMemory::new();
    let bad = make(&mut d, &mut user, t, out.handle);
    let good = raw_job(&mut user, &[t], &[], &[out.handle]);
    assert_eq!(
        submit_raw(&mut d, &mut user, &[bad, good]),
        Ok(()),
        "SUBMIT returns 0"
    );
    let drops = dropped(&npu);
    assert_eq!(drops.len(), 1, "{drops:?}");
    assert_eq!(drops[0].0, 0);
    // §2.4 step 6: later jobs in the same call are still queued.
    assert_eq!(npu.stats().jobs_queued, 1);
    assert_eq!(npu.stats().jobs_dropped, 1);
    drops[0].1
}

// §2.4: task_count == 0 → -EINVAL, dropped.
#[test]
fn job_dropped_silently_when_task_count_zero() {
    let e = drop_case(|_, u, _, out| raw_job(u, &[], &[], &[out]));
    assert_eq!(e, Errno::EINVAL);
}

// §2.4: task_struct_size < 8 → -EINVAL, dropped.
#[test]
fn job_dropped_silently_when_task_struct_size_below_8() {
    let e = drop_case(|_, u, t, out| DrmRocketJob {
        task_struct_size: 4,
        ..raw_job(u, &[t], &[], &[out])
    });
    assert_eq!(e, Errno::EINVAL);
}

// §2.4: fault while copying tasks → -EFAULT, dropped.
#[test]
fn job_dropped_silently_when_task_copy_faults() {
    let e = drop_case(|_, u, t, out| DrmRocketJob {
        task_count: 2, // only one task in user memory
        ..raw_job(u, &[t], &[], &[out])
    });
    assert_eq!(e, Errno::EFAULT);
}

// §2.4: any task with regcmd_count == 0 → -EINVAL, dropped.
#[test]
fn job_dropped_silently_when_regcmd_count_zero() {
    let e = drop_case(|_, u, t, out| {
        let z = Task {
            regcmd_count: 0,
            ..t
        };
        raw_job(u, &[t, z], &[], &[out])
    });
    assert_eq!(e, Errno::EINVAL);
}

// §2.4: unknown BO handle in either list → -ENOENT, dropped.
#[test]
fn job_dropped_silently_when_bo_handle_invalid() {
    let e = drop_case(|_, u, t, out| raw_job(u, &[t], &[42], &[out]));
    assert_eq!(e, Errno::ENOENT);
    let e = drop_case(|_, u, t, _| raw_job(u, &[t], &[], &[42]));
    assert_eq!(e, Errno::ENOENT);
}

// §2.4: bad handle-array pointer → -EFAULT, dropped; NULL is fine when the count is 0.
#[test]
fn job_dropped_silently_when_handle_array_faults() {
    let e = drop_case(|_, u, t, out| DrmRocketJob {
        in_bo_handles: 0,
        in_bo_handle_count: 1,
        ..raw_job(u, &[t], &[], &[out])
    });
    assert_eq!(e, Errno::EFAULT);
}

// §2.4: the same BO twice, in one list or across in/out → -EALREADY (derived), dropped.
#[test]
fn job_dropped_silently_when_bo_listed_twice() {
    let e = drop_case(|_, u, t, out| raw_job(u, &[t], &[out], &[out]));
    assert_eq!(e, Errno::EALREADY);
    let e = drop_case(|_, u, t, out| raw_job(u, &[t], &[], &[out, out]));
    assert_eq!(e, Errno::EALREADY);
}

// §6(a)6: the Device API refuses, before the ioctl, every job the kernel would drop.
#[test]
fn device_submit_rejects_what_the_kernel_would_drop() {
    let npu = board();
    let mut d = npu.open();
    let out = d.create_bo(4096).unwrap();
    let (_, t) = script(&mut d, &[]);
    let cases = [
        (job(&[], &[], &[out.handle]), Errno::EINVAL),
        (
            job(
                &[Task {
                    regcmd_count: 0,
                    ..t
                }],
                &[],
                &[out.handle],
            ),
            Errno::EINVAL,
        ),
        (job(&[t], &[9], &[out.handle]), Errno::ENOENT),
        (job(&[t], &[out.handle], &[out.handle]), Errno::EALREADY),
        (job(&[t], &[], &[]), Errno::EINVAL),
        (
            job(
                &[Task {
                    regcmd: 0x10_0000,
                    ..t
                }],
                &[],
                &[out.handle],
            ),
            Errno::EFAULT,
        ),
    ];
    for (j, errno) in cases {
        let e = d.submit(std::slice::from_ref(&j)).unwrap_err();
        assert!(matches!(e, Error::Rejected { .. }), "{j:?}: {e}");
        assert_eq!(e.errno(), Some(errno), "{j:?}: {e}");
    }
    assert_eq!(npu.stats().jobs_queued, 0);
    assert_eq!(npu.stats().jobs_dropped, 0, "nothing reached the kernel");
}

// ---- §6(b)4 dependencies, fences, FIFO, cores -----------------------------------------------

// §2.3 step 4, §2.4 "Implicit synchronisation": PREP_BO waits for write fences only; a BO that
// is only an input of a running job is handed to the CPU at once.
#[test]
fn prep_bo_waits_for_out_fence_only() {
    let npu = board();
    let mut d = npu.open();
    let input = d.create_bo(4096).unwrap();
    let out = d.create_bo(4096).unwrap();
    let (_, t) = script(
        &mut d,
        &[
            Op::Time(100 * MS as u64),
            Op::Copy {
                src: input.iova(),
                dst: out.iova(),
                len: 4,
            },
        ],
    );
    d.submit(&[job(&[t], &[input.handle], &[out.handle])])
        .unwrap();
    assert_eq!(npu.jobs_pending(), 1);
    // The input: no fence, returns at once (write-after-read hazards are not tracked).
    assert_eq!(prep(&mut d, input.handle, 0), Ok(0));
    // The output: busy.
    assert_eq!(prep(&mut d, out.handle, 0), Err(Errno::EBUSY));
    d.prep_bo(out.handle, Deadline::Forever).unwrap();
    assert_eq!(npu.now_ns(), CLOCK_START_NS + 100 * MS);
}

// §2.4: a job with no out BOs is fire-and-forget — nothing can wait for it.
#[test]
fn job_without_out_bo_cannot_be_waited_on() {
    let npu = board();
    let mut d = npu.open();
    let scratch = d.create_bo(4096).unwrap();
    let (_, t) = script(
        &mut d,
        &[
            Op::Time(50 * MS as u64),
            Op::Fill {
                dst: scratch.iova(),
                len: 4,
                byte: 9,
            },
        ],
    );
    let mut user = UserMemory::new();
    let j = raw_job(&mut user, &[t], &[scratch.handle], &[]);
    submit_raw(&mut d, &mut user, &[j]).unwrap();
    assert_eq!(npu.jobs_pending(), 1);
    // The BO it writes (listed as in) has no fence: PREP_BO returns while the job still runs.
    assert_eq!(prep(&mut d, scratch.handle, 0), Ok(0));
    assert_eq!(npu.jobs_pending(), 1);
}

// §2.4 "Scheduling": one fd's jobs run strictly FIFO, one at a time, on one core.
#[test]
fn jobs_of_one_fd_run_fifo_one_at_a_time() {
    let npu = board();
    let mut d = npu.open();
    let outs: Vec<Bo> = (0..3).map(|_| d.create_bo(4096).unwrap()).collect();
    let (_, t) = script(&mut d, &[Op::Time(10 * MS as u64)]);
    let jobs: Vec<Job> = outs.iter().map(|o| job(&[t], &[], &[o.handle])).collect();
    d.submit(&jobs).unwrap();
    npu.run_until_idle();
    let s = starts(&npu);
    assert_eq!(s.len(), 3);
    for (i, (_, job, core, at)) in s.iter().enumerate() {
        assert_eq!(*job, i as u64 + 1, "FIFO");
        assert_eq!(*core, s[0].2, "the entity stays on its core while busy");
        assert_eq!(*at, CLOCK_START_NS + i as i64 * 10 * MS, "one at a time");
    }
    assert_eq!(npu.stats().max_cores_busy, 1);
}

// §2.4: a job depends on earlier unsignalled jobs that wrote any of its BOs (read-after-write).
#[test]
fn job_reading_a_bo_runs_after_the_job_writing_it() {
    let npu = board();
    let mut d = npu.open();
    let mid = d.create_bo(4096).unwrap();
    let out = d.create_bo(4096).unwrap();
    let (_, w) = script(
        &mut d,
        &[
            Op::Time(300 * MS as u64),
            Op::Fill {
                dst: mid.iova(),
                len: 8,
                byte: 0x5a,
            },
        ],
    );
    let (_, r) = script(
        &mut d,
        &[Op::Copy {
            src: mid.iova(),
            dst: out.iova(),
            len: 8,
        }],
    );
    d.submit(&[job(&[w], &[], &[mid.handle])]).unwrap();
    d.submit(&[job(&[r], &[mid.handle], &[out.handle])])
        .unwrap();
    d.prep_bo(out.handle, Deadline::Forever).unwrap();
    assert_eq!(read(&mut d, out.handle, 8), vec![0x5a; 8]);
    let s = starts(&npu);
    assert_eq!(s[1].3, CLOCK_START_NS + 300 * MS);
}

// §2.1, §2.4: three cores shared by all fds; one job per core; a fourth fd waits.
#[test]
fn fds_share_three_cores_one_job_per_core() {
    let npu = board();
    let mut devs: Vec<EmulatedDevice> = (0..4).map(|_| npu.open()).collect();
    let mut outs = vec![];
    for d in devs.iter_mut() {
        let out = d.create_bo(4096).unwrap();
        let (_, t) = script(d, &[Op::Time(100 * MS as u64)]);
        d.submit(&[job(&[t], &[], &[out.handle])]).unwrap();
        outs.push(out);
    }
    npu.run_until_idle();
    let s = starts(&npu);
    let cores: Vec<usize> = s.iter().map(|x| x.2).collect();
    assert_eq!(
        &cores[..3],
        &[0, 1, 2],
        "least-loaded core, lowest index on ties"
    );
    assert!(
        s[..3].iter().all(|x| x.3 == CLOCK_START_NS),
        "three at once"
    );
    assert_eq!(
        s[3].3,
        CLOCK_START_NS + 100 * MS,
        "the fourth waits for a core"
    );
    assert_eq!(npu.stats().max_cores_busy, 3);
}

// ---- §6(b)5 execution ----------------------------------------------------------------------

// §1.2 drm_rocket_job, §2.5: a job's tasks run back to back on one core; the fence signals
// after the last task.
#[test]
fn tasks_of_a_job_run_sequentially_on_one_core() {
    let npu = board();
    let mut d = npu.open();
    let out = d.create_bo(4096).unwrap();
    let (_, a) = script(
        &mut d,
        &[
            Op::Time(20 * MS as u64),
            Op::Fill {
                dst: out.iova(),
                len: 1,
                byte: 1,
            },
        ],
    );
    let (_, b) = script(
        &mut d,
        &[
            Op::Time(30 * MS as u64),
            Op::Copy {
                src: out.iova(),
                dst: out.iova() + 1,
                len: 1,
            },
        ],
    );
    d.submit(&[job(&[a, b], &[], &[out.handle])]).unwrap();
    d.prep_bo(out.handle, Deadline::Forever).unwrap();
    assert_eq!(npu.now_ns(), CLOCK_START_NS + 50 * MS);
    assert_eq!(
        read(&mut d, out.handle, 2),
        [1, 1],
        "task 2 saw task 1's output"
    );
    assert_eq!(starts(&npu).len(), 1);
}

// §2.5 "Completion is keyed only on the DPU interrupt": a task that ends without it never
// completes; the job times out at 500 ms (its writes have happened).
#[test]
fn completion_needs_the_dpu_interrupt() {
    let npu = board();
    let mut d = npu.open();
    let out = d.create_bo(4096).unwrap();
    let (_, t) = script(
        &mut d,
        &[
            Op::Fill {
                dst: out.iova(),
                len: 4,
                byte: 3,
            },
            Op::Hang,
        ],
    );
    d.submit(&[job(&[t], &[], &[out.handle])]).unwrap();
    assert_eq!(
        prep(&mut d, out.handle, CLOCK_START_NS + 499 * MS),
        Err(Errno::ETIMEDOUT)
    );
    d.prep_bo(out.handle, Deadline::Forever).unwrap();
    assert_eq!(npu.now_ns(), CLOCK_START_NS + JOB_TIMEOUT_NS);
    assert_eq!(npu.stats().jobs_timed_out, 1);
}

// §2.6: the whole job, all tasks, must finish within 500 ms; then the fence is signalled with
// -ECANCELED, invisibly: PREP_BO succeeds and the job "looks complete".
#[test]
fn job_over_500ms_times_out_and_looks_complete() {
    let npu = board();
    let mut d = npu.open();
    let out = d.create_bo(4096).unwrap();
    let (_, t) = script(&mut d, &[Op::Time(300 * MS as u64)]);
    d.submit(&[job(&[t, t], &[], &[out.handle])]).unwrap();
    assert_eq!(d.prep_bo(out.handle, Deadline::Forever), Ok(()));
    assert_eq!(npu.now_ns(), CLOCK_START_NS + JOB_TIMEOUT_NS);
    assert!(npu
        .events()
        .iter()
        .any(|e| matches!(e, Event::JobTimedOut { reason, .. } if reason.contains("500 ms"))));
    // 2 × 200 ms fits.
    let (_, t) = script(&mut d, &[Op::Time(200 * MS as u64)]);
    d.submit(&[job(&[t, t], &[], &[out.handle])]).unwrap();
    d.prep_bo(out.handle, Deadline::Forever).unwrap();
    assert_eq!(npu.stats().jobs_completed, 1);
}

// §2.6: timeout → core reset; other fds' jobs on other cores are unharmed, and the hung fd's
// later jobs run normally.
#[test]
fn timeout_resets_core_other_fds_unharmed() {
    let npu = board();
    let mut a = npu.open();
    let mut b = npu.open();
    let a_out = a.create_bo(4096).unwrap();
    let (_, hang) = script(&mut a, &[Op::Hang]);
    let (_, ok_a) = script(
        &mut a,
        &[Op::Fill {
            dst: a_out.iova(),
            len: 4,
            byte: 0xa,
        }],
    );
    let b_out = b.create_bo(4096).unwrap();
    let (_, slow) = script(
        &mut b,
        &[
            Op::Time(400 * MS as u64),
            Op::Fill {
                dst: b_out.iova(),
                len: 4,
                byte: 0xb,
            },
        ],
    );
    a.submit(&[job(&[hang], &[], &[a_out.handle])]).unwrap();
    b.submit(&[job(&[slow], &[], &[b_out.handle])]).unwrap();
    a.submit(&[job(&[ok_a], &[], &[a_out.handle])]).unwrap();
    b.prep_bo(b_out.handle, Deadline::Forever).unwrap();
    assert_eq!(read(&mut b, b_out.handle, 4), [0xb; 4]);
    a.prep_bo(a_out.handle, Deadline::Forever).unwrap();
    assert_eq!(read(&mut a, a_out.handle, 4), [0xa; 4]);
    let st = npu.stats();
    assert_eq!(st.jobs_timed_out, 1);
    assert_eq!(st.core_resets, [1, 0, 0]);
    assert_eq!(st.jobs_completed, 2);
    let ev = npu.events();
    assert!(ev.contains(&Event::CoreReset {
        core: 0,
        at: CLOCK_START_NS + JOB_TIMEOUT_NS
    }));
}

// §2.6 "output is undefined": optionally poisoned so code that trusts it is caught.
#[test]
fn timed_out_job_output_is_undefined() {
    let npu = board_with(EmuOptions {
        poison_timed_out_outputs: Some(0xee),
        ..EmuOptions::default()
    });
    let mut d = npu.open();
    let out = d.create_bo(4096).unwrap();
    let (_, t) = script(
        &mut d,
        &[
            Op::Fill {
                dst: out.iova(),
                len: 4,
                byte: 1,
            },
            Op::Hang,
        ],
    );
    d.submit(&[job(&[t], &[], &[out.handle])]).unwrap();
    d.prep_bo(out.handle, Deadline::Forever).unwrap();
    assert_eq!(read(&mut d, out.handle, 4), [0xee; 4]);
}

// §5, §6(b)5: DMA to an IOVA not mapped in the fd's domain → IOMMU fault → timeout.
#[test]
fn dma_outside_fd_bos_faults_then_times_out() {
    let npu = board();
    let mut d = npu.open();
    let out = d.create_bo(4096).unwrap();
    let (_, t) = script(
        &mut d,
        &[Op::Copy {
            src: 0x4000_0000,
            dst: out.iova(),
            len: 16,
        }],
    );
    d.submit(&[job(&[t], &[], &[out.handle])]).unwrap();
    d.prep_bo(out.handle, Deadline::Forever).unwrap();
    assert_eq!(npu.now_ns(), CLOCK_START_NS + JOB_TIMEOUT_NS);
    assert!(npu
        .events()
        .iter()
        .any(|e| matches!(e, Event::JobTimedOut { reason, .. } if reason.contains("IOMMU fault"))));
}

// §5, §6(b)8: an fd's jobs cannot reach another fd's BOs, even at the same IOVA numbers.
#[test]
fn bos_never_visible_to_other_fds() {
    let npu = board();
    let mut a = npu.open();
    let mut b = npu.open();
    for _ in 0..4 {
        a.create_bo(4096).unwrap(); // IOVAs 0..16 KiB exist in a's domain only
    }
    a.write_bo(4, 0, &[0x77; 8]).unwrap();
    a.fini_bo(4).unwrap();
    let out = b.create_bo(4096).unwrap(); // IOVA 0 in b
    let (_, t) = script(
        &mut b,
        &[Op::Copy {
            src: 3 * 4096,
            dst: out.iova(),
            len: 8,
        }],
    );
    b.submit(&[job(&[t], &[], &[out.handle])]).unwrap();
    b.prep_bo(out.handle, Deadline::Forever).unwrap();
    assert_eq!(npu.stats().jobs_timed_out, 1, "the read faulted");
    assert_eq!(read(&mut b, out.handle, 8), [0; 8]);
}

// ---- §6(b)6 PREP_BO ----------------------------------------------------------------------

// §2.3 step 1: reserved != 0 → -EINVAL, before the handle lookup.
#[test]
fn prep_bo_reserved_nonzero_is_einval_before_handle_lookup() {
    let npu = board();
    let mut d = npu.open();
    let r = d.ioctl_prep_bo(&DrmRocketPrepBo {
        handle: 99,
        reserved: 1,
        timeout_ns: 0,
    });
    assert_eq!(r, Err(Errno::EINVAL));
}

// §2.3 step 2: unknown handle → -ENOENT.
#[test]
fn prep_bo_unknown_handle_is_enoent() {
    let npu = board();
    let mut d = npu.open();
    assert_eq!(prep(&mut d, 99, 0), Err(Errno::ENOENT));
}

// §2.3 step 5: poll (timeout 0) on a BO still being written → -EBUSY.
#[test]
fn prep_bo_poll_on_busy_bo_is_ebusy() {
    let npu = board();
    let mut d = npu.open();
    let out = d.create_bo(4096).unwrap();
    let (_, t) = script(&mut d, &[]);
    d.submit(&[job(&[t], &[], &[out.handle])]).unwrap();
    assert_eq!(
        d.prep_bo(out.handle, Deadline::Poll).unwrap_err().errno(),
        Some(Errno::EBUSY)
    );
    npu.advance(DEFAULT_TASK_NS as i64);
    assert_eq!(d.prep_bo(out.handle, Deadline::Poll), Ok(()));
}

// §2.3 step 3: a deadline at or before now (also negative) is a poll → -EBUSY, not ETIMEDOUT.
#[test]
fn prep_bo_past_deadline_is_a_poll() {
    let npu = board();
    let mut d = npu.open();
    let out = d.create_bo(4096).unwrap();
    let (_, t) = script(&mut d, &[]);
    d.submit(&[job(&[t], &[], &[out.handle])]).unwrap();
    assert_eq!(prep(&mut d, out.handle, CLOCK_START_NS), Err(Errno::EBUSY));
    assert_eq!(prep(&mut d, out.handle, -5), Err(Errno::EBUSY));
    assert_eq!(npu.now_ns(), CLOCK_START_NS, "a poll does not wait");
}

// §1.2, §2.3: timeout_ns is an absolute CLOCK_MONOTONIC deadline; expired → -ETIMEDOUT.
#[test]
fn prep_bo_deadline_is_absolute_and_expiry_is_etimedout() {
    let npu = board();
    let mut d = npu.open();
    let out = d.create_bo(4096).unwrap();
    let (_, t) = script(&mut d, &[Op::Time(100 * MS as u64)]);
    d.submit(&[job(&[t], &[], &[out.handle])]).unwrap();
    let deadline = CLOCK_START_NS + 40 * MS;
    assert_eq!(prep(&mut d, out.handle, deadline), Err(Errno::ETIMEDOUT));
    assert_eq!(npu.now_ns(), deadline);
    // The same absolute deadline again is now in the past: a poll.
    assert_eq!(prep(&mut d, out.handle, deadline), Err(Errno::EBUSY));
    assert_eq!(
        d.prep_bo(
            out.handle,
            Deadline::after(&d, std::time::Duration::from_millis(60))
        ),
        Ok(())
    );
}

// §2.3 step 7: success is 0 after the 2026 fix.
#[test]
fn prep_bo_success_returns_zero() {
    let npu = board();
    let mut d = npu.open();
    let out = d.create_bo(4096).unwrap();
    assert_eq!(prep(&mut d, out.handle, i64::MAX), Ok(0));
}

// §2.3 step 7: 6.18.0 leaks the remaining jiffies (a long) through an int: a small positive
// value for near deadlines, garbage for far ones (INT64_MAX gives (2^63 − now)/4 ms + 1 at
// HZ = 250, truncated — not the "-2" the note derives; see the crate's report). Why the library
// treats every non-errno return as success and never passes INT64_MAX (KernelDevice waits
// "forever" in 10 s steps).
#[test]
fn prep_bo_on_6_18_0_returns_remaining_jiffies() {
    let npu = board_with(EmuOptions {
        prep_bo_returns_jiffies: true,
        ..EmuOptions::default()
    });
    let mut d = npu.open();
    let out = d.create_bo(4096).unwrap();
    // 1 s at HZ = 250: 250 jiffies + 1.
    assert_eq!(
        prep(&mut d, out.handle, CLOCK_START_NS + 1_000 * MS),
        Ok(251)
    );
    let far = prep(&mut d, out.handle, i64::MAX);
    assert_ne!(far, Ok(0), "garbage, not 0");
    let expect = (((i64::MAX - CLOCK_START_NS) as i128 * 250).div_euclid(1_000_000_000) + 1) as i32;
    assert!(
        far == Ok(expect) || far == Err(Errno(-expect)),
        "{far:?} vs {expect}"
    );
}

// §2.3 step 6: the CPU cache is invalidated whatever the wait returned, even on timeout.
#[test]
fn prep_bo_invalidates_cpu_cache_even_on_timeout() {
    let npu = board();
    let mut d = npu.open();
    let out = d.create_bo(4096).unwrap();
    d.write_bo(out.handle, 0, &[1, 2, 3]).unwrap(); // dirty in the CPU cache, never flushed
    let (_, t) = script(&mut d, &[Op::Time(100 * MS as u64)]);
    d.submit(&[job(&[t], &[], &[out.handle])]).unwrap();
    assert_eq!(
        d.prep_bo(out.handle, Deadline::Poll).unwrap_err().errno(),
        Some(Errno::EBUSY)
    );
    // The dirty lines were invalidated: the CPU now sees RAM (zeros).
    assert_eq!(read(&mut d, out.handle, 3), [0, 0, 0]);
}

// ---- §6(b)7 FINI_BO, GEM_CLOSE, dispatch -----------------------------------------------------

// §2.3 FINI_BO: reserved != 0 → -EINVAL (before the handle lookup).
#[test]
fn fini_bo_reserved_nonzero_is_einval() {
    let npu = board();
    let mut d = npu.open();
    let r = d.ioctl_fini_bo(&DrmRocketFiniBo {
        handle: 99,
        reserved: 1,
    });
    assert_eq!(r, Err(Errno::EINVAL));
}

// §2.3 FINI_BO: unknown handle → -ENOENT.
#[test]
fn fini_bo_unknown_handle_is_enoent() {
    let npu = board();
    let mut d = npu.open();
    let r = d.ioctl_fini_bo(&DrmRocketFiniBo {
        handle: 99,
        reserved: 0,
    });
    assert_eq!(r, Err(Errno::ENOENT));
}

// §2.3 FINI_BO: never waits, even while a job writes the BO.
#[test]
fn fini_bo_never_waits() {
    let npu = board();
    let mut d = npu.open();
    let out = d.create_bo(4096).unwrap();
    let (_, t) = script(&mut d, &[Op::Time(100 * MS as u64)]);
    d.submit(&[job(&[t], &[], &[out.handle])]).unwrap();
    d.fini_bo(out.handle).unwrap();
    assert_eq!(npu.now_ns(), CLOCK_START_NS);
    assert_eq!(npu.jobs_pending(), 1);
}

// §2.2 "GEM object behaviour": GEM_CLOSE of an unknown handle → -EINVAL.
#[test]
fn gem_close_unknown_handle_is_einval() {
    let npu = board();
    let mut d = npu.open();
    assert_eq!(
        d.ioctl_gem_close(&DrmGemClose { handle: 5, pad: 0 }),
        Err(Errno::EINVAL)
    );
}

// §1.3: dispatch on the nr byte only; driver nr 0x44–0x9F → -EINVAL.
#[test]
fn unknown_driver_ioctl_nr_is_einval() {
    let npu = board();
    let d = npu.open();
    assert_eq!(d.ioctl_dispatch(0x4018_6441), Ok("DRM_IOCTL_ROCKET_SUBMIT"));
    assert_eq!(
        d.ioctl_dispatch(0x0000_0041),
        Ok("DRM_IOCTL_ROCKET_SUBMIT"),
        "type byte unchecked"
    );
    for nr in 0x44..=0x9f {
        assert_eq!(
            d.ioctl_dispatch(0xC000_6400 | nr),
            Err(Errno::EINVAL),
            "nr {nr:#x}"
        );
    }
    assert_eq!(d.ioctl_version().0, "rocket");
}

// ---- §6(b)8 lifetimes ----------------------------------------------------------------------

// §2.4 "Reference counting": a job references its listed BOs; closing one keeps it alive (and
// mapped in the domain) until the job is done.
#[test]
fn closing_listed_bo_keeps_it_alive_until_job_done() {
    let npu = board();
    let mut d = npu.open();
    let input = d.create_bo(4096).unwrap();
    d.write_bo(input.handle, 0, &[4; 4]).unwrap();
    d.fini_bo(input.handle).unwrap();
    let out = d.create_bo(4096).unwrap();
    let (_, slow) = script(&mut d, &[Op::Time(100 * MS as u64)]);
    let (_, copy) = script(
        &mut d,
        &[Op::Copy {
            src: input.iova(),
            dst: out.iova(),
            len: 4,
        }],
    );
    d.submit(&[
        job(&[slow], &[], &[out.handle]),
        job(&[copy], &[input.handle], &[out.handle]),
    ])
    .unwrap();
    let before = npu.objects_alive();
    d.close_bo(input.handle).unwrap();
    assert_eq!(npu.objects_alive(), before, "held by the queued job");
    d.prep_bo(out.handle, Deadline::Forever).unwrap();
    assert_eq!(read(&mut d, out.handle, 4), [4; 4]);
    assert_eq!(npu.objects_alive(), before - 1, "freed with the job");
}

// §2.4, §6(b)8: closing a BO a job uses without listing it unmaps it → fault → timeout.
#[test]
fn closing_unlisted_bo_used_by_job_faults() {
    let npu = board();
    let mut d = npu.open();
    let out = d.create_bo(4096).unwrap();
    let (_, slow) = script(&mut d, &[Op::Time(100 * MS as u64)]);
    let (regcmd, t) = script(
        &mut d,
        &[Op::Fill {
            dst: out.iova(),
            len: 4,
            byte: 1,
        }],
    );
    d.submit(&[
        job(&[slow], &[], &[out.handle]),
        job(&[t], &[], &[out.handle]),
    ])
    .unwrap();
    d.close_bo(regcmd.handle).unwrap(); // the regcmd BO is not listed: freed now
    d.prep_bo(out.handle, Deadline::Forever).unwrap();
    assert_eq!(npu.stats().jobs_timed_out, 1);
    assert!(npu
        .events()
        .iter()
        .any(|e| matches!(e, Event::JobTimedOut { reason, .. } if reason.contains("PC fetch"))));
}

// §2.2: a CPU mapping holds a GEM reference: the BO outlives GEM_CLOSE until munmap.
#[test]
fn mapping_keeps_bo_alive_after_gem_close() {
    let npu = board();
    let mut d = npu.open();
    let bo = d.create_bo(4096).unwrap();
    let m = d.mmap(bo.mmap_offset, 4096, true).unwrap();
    d.ioctl_gem_close(&DrmGemClose {
        handle: bo.handle,
        pad: 0,
    })
    .unwrap();
    assert_eq!(npu.objects_alive(), 1);
    d.map_write(&m, 0, &[1]).unwrap();
    d.munmap(m);
    assert_eq!(npu.objects_alive(), 0);
    // Its IOVA is free again.
    assert_eq!(d.create_bo(4096).unwrap().dma_address, 0);
}

// §2.1 close(): the entity is flushed (queued jobs still run), then handles go.
#[test]
fn close_flushes_queued_jobs_then_frees_bos() {
    let npu = board();
    let mut d = npu.open();
    let out = d.create_bo(4096).unwrap();
    let (_, t) = script(&mut d, &[Op::Time(100 * MS as u64)]);
    d.submit(&[job(&[t], &[], &[out.handle]), job(&[t], &[], &[out.handle])])
        .unwrap();
    drop(d);
    assert_eq!(npu.stats().jobs_completed, 2);
    assert_eq!(npu.objects_alive(), 0);
    assert_eq!(npu.jobs_pending(), 0);
}

// ---- §2.2 mmap and cache coherence ---------------------------------------------------------

// §2.2: mmap must be MAP_SHARED, at most the object's size, through an fd holding a handle.
#[test]
fn mmap_must_be_shared_within_size_and_own_fd() {
    let npu = board();
    let mut a = npu.open();
    let mut b = npu.open();
    let bo = a.create_bo(4096).unwrap();
    assert_eq!(a.mmap(bo.mmap_offset, 4096, false), Err(Errno::EINVAL));
    assert_eq!(a.mmap(bo.mmap_offset, 8192, true), Err(Errno::EINVAL));
    assert_eq!(
        a.mmap(bo.mmap_offset + 4096, 4096, true),
        Err(Errno::EINVAL)
    );
    assert_eq!(b.mmap(bo.mmap_offset, 4096, true), Err(Errno::EACCES));
    let m = a.mmap(bo.mmap_offset, 4096, true).unwrap();
    a.munmap(m);
}

// §2.2 "Cache coherence": CPU writes reach the NPU only after FINI_BO.
#[test]
fn cpu_writes_reach_npu_only_after_fini_bo() {
    let npu = board();
    let mut d = npu.open();
    let input = d.create_bo(4096).unwrap();
    let out = d.create_bo(4096).unwrap();
    let (_, t) = script(
        &mut d,
        &[Op::Copy {
            src: input.iova(),
            dst: out.iova(),
            len: 4,
        }],
    );
    d.write_bo(input.handle, 0, &[9; 4]).unwrap();
    d.submit(&[job(&[t], &[input.handle], &[out.handle])])
        .unwrap();
    d.prep_bo(out.handle, Deadline::Forever).unwrap();
    assert_eq!(
        read(&mut d, out.handle, 4),
        [0; 4],
        "no FINI_BO: the NPU read stale RAM"
    );
    d.fini_bo(input.handle).unwrap();
    d.submit(&[job(&[t], &[input.handle], &[out.handle])])
        .unwrap();
    d.prep_bo(out.handle, Deadline::Forever).unwrap();
    assert_eq!(read(&mut d, out.handle, 4), [9; 4]);
}

// §2.2 "Cache coherence": NPU writes reach the CPU only after PREP_BO.
#[test]
fn npu_writes_reach_cpu_only_after_prep_bo() {
    let npu = board();
    let mut d = npu.open();
    let out = d.create_bo(4096).unwrap();
    assert_eq!(read(&mut d, out.handle, 4), [0; 4]); // lines now cached
    let (_, t) = script(
        &mut d,
        &[Op::Fill {
            dst: out.iova(),
            len: 4,
            byte: 6,
        }],
    );
    d.submit(&[job(&[t], &[], &[out.handle])]).unwrap();
    npu.run_until_idle();
    assert_eq!(read(&mut d, out.handle, 4), [0; 4], "stale cached lines");
    d.prep_bo(out.handle, Deadline::Poll).unwrap();
    assert_eq!(read(&mut d, out.handle, 4), [6; 4]);
}
