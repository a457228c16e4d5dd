//! Session behaviour: input checks naming the tensor, program files (round trip, corrupt
//! files), several sessions and threads, device selection errors.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rnpu_model::{npy, Array, ArrayData};
use rnpu_runtime::{program_file, DeviceKind, DeviceSpec, Options, RuntimeError, Session};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/models")
        .join(name)
}

fn emu() -> Options {
    Options {
        device: DeviceSpec::Emulator,
        ..Default::default()
    }
}

const CONV: &str = "conv2d_k3_s2_same_13x9_c5to7_relu_int8pa";

fn conv() -> (Vec<u8>, Array, Array) {
    let d = fixture(CONV);
    (
        std::fs::read(d.join("model.tflite")).unwrap(),
        npy::read(&d.join("input_0.npy")).unwrap(),
        npy::read(&d.join("output_0.npy")).unwrap(),
    )
}

fn assert_send_sync<T: Send + Sync>() {}

#[test]
fn session_is_send_and_sync() {
    assert_send_sync::<Session>();
}

#[test]
fn wrong_inputs_name_the_tensor() {
    let (bytes, input, _) = conv();
    let s = Session::new(&bytes, &emu()).unwrap();
    let name = s.model().tensors[s.model().inputs[0]].name.clone();
    // Wrong shape.
    let bad = Array::new(vec![1, 2, 3], ArrayData::I8(vec![0; 6]));
    let e = s.run(&[bad]).unwrap_err();
    assert!(matches!(e, RuntimeError::Input { index: 0, .. }), "{e}");
    assert!(e.to_string().contains(&name), "{e}");
    // Wrong dtype.
    let n = input.len();
    let bad = Array::new(input.shape.clone(), ArrayData::U8(vec![0; n]));
    let e = s.run(&[bad]).unwrap_err().to_string();
    assert!(e.contains(&name) && e.contains("uint8"), "{e}");
    // Wrong count.
    let e = s.run(&[]).unwrap_err().to_string();
    assert!(e.contains("1 input(s), 0 given"), "{e}");
    // And the right input still works afterwards.
    s.run(&[input]).unwrap();
}

#[test]
fn program_file_round_trip_runs_the_same() {
    let (bytes, input, _) = conv();
    let s = Session::new(&bytes, &emu()).unwrap();
    let file = s.program_file().unwrap();
    assert!(program_file::is_program_file(&file));
    let (model, program) = program_file::from_bytes(&file, None).unwrap();
    assert_eq!(model, bytes);
    assert_eq!(&program, s.program());
    let s2 = Session::new(&file, &emu()).unwrap();
    assert_eq!(
        s.run(std::slice::from_ref(&input)).unwrap(),
        s2.run(&[input]).unwrap()
    );
}

#[test]
fn corrupt_program_files_are_clear_errors() {
    let (bytes, _, _) = conv();
    let file = Session::new(&bytes, &emu())
        .unwrap()
        .program_file()
        .unwrap();
    let p = Path::new("/tmp/x.rnpu");
    let check = |b: &[u8], want: &str| {
        let e = program_file::from_bytes(b, Some(p))
            .unwrap_err()
            .to_string();
        assert!(e.contains("/tmp/x.rnpu") && e.contains(want), "{e}");
    };
    check(&file[..file.len() - 10], "checksum");
    check(&file[..20], "header");
    let mut flipped = file.clone();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 1;
    check(&flipped, "checksum");
    let mut v2 = file.clone();
    v2[8] = 99;
    check(&v2, "format version 99");
    check(b"TFL3 not a program", "magic");
}

#[test]
fn several_sessions_and_threads() {
    let (bytes, input, want) = conv();
    let a = Arc::new(Session::new(&bytes, &emu()).unwrap());
    let b = Session::new(&bytes, &emu()).unwrap();
    let cpu = Session::new(
        &bytes,
        &Options {
            device: DeviceSpec::Cpu,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(cpu.device().kind, DeviceKind::Cpu);
    assert_eq!(cpu.run(std::slice::from_ref(&input)).unwrap()[0], want);
    let reference = b.run(std::slice::from_ref(&input)).unwrap();
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let a = Arc::clone(&a);
            let input = input.clone();
            std::thread::spawn(move || {
                (0..5)
                    .map(|_| a.run(std::slice::from_ref(&input)).unwrap())
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    for t in threads {
        for out in t.join().unwrap() {
            assert_eq!(out, reference);
        }
    }
}

#[test]
fn missing_device_node_is_a_clear_error() {
    let (bytes, _, _) = conv();
    let e = Session::new(
        &bytes,
        &Options {
            device: DeviceSpec::Path("/dev/accel/accel9".into()),
            ..Default::default()
        },
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("/dev/accel/accel9"), "{e}");
}

#[test]
fn device_spec_parsing() {
    assert_eq!("auto".parse::<DeviceSpec>().unwrap(), DeviceSpec::Auto);
    assert_eq!(
        "emulator".parse::<DeviceSpec>().unwrap(),
        DeviceSpec::Emulator
    );
    assert_eq!("cpu".parse::<DeviceSpec>().unwrap(), DeviceSpec::Cpu);
    assert_eq!(
        "/dev/accel/accel0".parse::<DeviceSpec>().unwrap(),
        DeviceSpec::Path("/dev/accel/accel0".into())
    );
    assert!("gpu".parse::<DeviceSpec>().is_err());
}

#[test]
fn auto_without_a_rocket_device_is_the_emulator() {
    if rnpu_runtime::find_rocket().is_ok() {
        println!("a rocket device is present; auto picks it");
        return;
    }
    let (bytes, _, _) = conv();
    let s = Session::new(&bytes, &Options::default()).unwrap();
    assert_eq!(s.device().kind, DeviceKind::Emulator);
    println!("auto: {} ({:?})", s.device().name, s.device().note);
    assert!(s
        .device()
        .note
        .as_deref()
        .unwrap_or("")
        .contains("no rocket device"));
}

/// Several device contexts (one fd each): concurrent runs from several threads each check out a
/// context of their own; every run's output is the one-context session's output (the emulator
/// is deterministic) and every run's job lands on some context's board.
#[test]
fn contexts_serve_concurrent_runs() {
    let d = fixture("resnet_small_96x64_int8pa");
    let bytes = std::fs::read(d.join("model.tflite")).unwrap();
    let input = npy::read(&d.join("input_0.npy")).unwrap();
    let want = Session::new(&bytes, &emu())
        .unwrap()
        .run(std::slice::from_ref(&input))
        .unwrap();
    let opts = Options {
        contexts: 3,
        ..emu()
    };
    let s = Arc::new(Session::new(&bytes, &opts).unwrap());
    assert_eq!(s.contexts(), 3);
    let boards = s.emulated_boards();
    assert_eq!(boards.len(), 3, "one emulated board per context");
    let jobs_before: u64 = boards
        .iter()
        .map(|b| b.stats().jobs_per_core.iter().sum::<u64>())
        .sum();
    let (threads, runs_each) = (3, 2);
    let start = Arc::new(std::sync::Barrier::new(threads));
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let (s, input, start) = (Arc::clone(&s), input.clone(), Arc::clone(&start));
            std::thread::spawn(move || {
                start.wait();
                (0..runs_each)
                    .map(|_| s.run_profiled(std::slice::from_ref(&input)).unwrap())
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut jobs_per_run = 0;
    let mut n = 0;
    for h in handles {
        for (out, prof) in h.join().unwrap() {
            assert_eq!(
                out, want,
                "a concurrent run differs from the one-context run"
            );
            assert!(
                prof.npu_modeled_ns.unwrap_or(0) > 0,
                "modelled time is this fd's own"
            );
            jobs_per_run = prof.npu_jobs;
            n += 1;
        }
    }
    let jobs_after: u64 = boards
        .iter()
        .map(|b| b.stats().jobs_per_core.iter().sum::<u64>())
        .sum();
    assert_eq!(n, threads * runs_each);
    assert_eq!(jobs_after - jobs_before, (n * jobs_per_run) as u64);
    println!(
        "contexts: {n} runs from {threads} threads on 3 contexts, jobs per context {:?}",
        boards
            .iter()
            .map(|b| b.stats().jobs_per_core.iter().sum::<u64>())
            .collect::<Vec<_>>()
    );
}

/// The emulator models at most one context per core (three); 0 means one.
#[test]
fn contexts_are_clamped() {
    let (bytes, input, _) = conv();
    for (asked, got) in [(0, 1), (1, 1), (3, 3), (8, 3)] {
        let s = Session::new(
            &bytes,
            &Options {
                contexts: asked,
                ..emu()
            },
        )
        .unwrap();
        assert_eq!(s.contexts(), got, "contexts {asked}");
        s.run(std::slice::from_ref(&input)).unwrap();
    }
    // Nothing on the NPU: no context at all.
    let cpu = Session::new(
        &bytes,
        &Options {
            device: DeviceSpec::Cpu,
            contexts: 3,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(cpu.contexts(), 0);
}
