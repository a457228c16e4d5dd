//! The safe middle of the delegate on every committed fixture: the TFLite writer round-trips
//! through `rnpu_model::parse`, and a partition cut out of a graph compiles and runs like the
//! same operators in the whole model (on the CPU reference, so results must be identical).

use std::path::PathBuf;

use rnpu_delegate::intake::{DelegateGraph, GraphNode, TensorInfo};
use rnpu_delegate::submodel::extract;
use rnpu_delegate::writer::write;
use rnpu_model::{Array, Model};
use rnpu_runtime::{DeviceSpec, Options, Session};

fn fixtures() -> Vec<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/models");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path().join("model.tflite"))
        .filter(|p| p.exists())
        .collect();
    v.sort();
    assert!(v.len() > 100, "fixtures not found under {}", root.display());
    v
}

/// What the reader produces for a model written by us (no signatures, one subgraph).
fn comparable(m: &Model) -> Model {
    Model {
        description: None,
        signatures: Vec::new(),
        num_subgraphs: 1,
        ..m.clone()
    }
}

#[test]
fn writer_round_trips_every_fixture() {
    for f in fixtures() {
        let m = rnpu_model::load_file(&f).unwrap();
        let back = rnpu_model::parse(&write(&m))
            .unwrap_or_else(|e| panic!("{}: written model does not parse: {e}", f.display()));
        assert_eq!(comparable(&back), comparable(&m), "{}", f.display());
    }
}

/// A DelegateGraph over a model as the intake would build it (every op translated).
fn graph_of(m: &Model) -> DelegateGraph {
    DelegateGraph {
        model: m.clone(),
        nodes: (0..m.operators.len())
            .map(|i| GraphNode {
                node_index: i,
                op: Ok(i),
            })
            .collect(),
        tensors: m
            .tensors
            .iter()
            .map(|t| TensorInfo {
                allocation_type: if t.data.is_some() { 1 } else { 2 },
                problem: None,
            })
            .collect(),
        resized: Vec::new(),
    }
}

fn seeded(m: &Model, t: usize, seed: u64) -> Array {
    let tensor = &m.tensors[t];
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let bytes: Vec<u8> = (0..tensor.num_elements() * tensor.dtype.size())
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect();
    Array::new(
        tensor.shape.clone(),
        rnpu_model::ArrayData::from_le_bytes(tensor.dtype, &bytes),
    )
}

/// Cut every single operator of MobileNetV1 out as its own partition and check that the
/// sub-model, written and compiled, gives the whole model's intermediate value (CPU reference).
#[test]
fn single_op_partitions_match_the_whole_model() {
    let f = fixtures()
        .into_iter()
        .find(|p| {
            p.to_string_lossy()
                .contains("mobilenet_v1_a0.25_224_int8pa/")
        })
        .unwrap();
    let m = rnpu_model::load_file(&f).unwrap();
    let g = graph_of(&m);
    let cpu = Options {
        device: DeviceSpec::Cpu,
        ..Default::default()
    };
    // Whole model on the CPU reference with a seeded input, keeping every intermediate: run
    // prefixes of the model as sub-models ending at each op's output.
    let input = seeded(&m, m.inputs[0], 7);
    let mut values: Vec<Option<Array>> = vec![None; m.tensors.len()];
    values[m.inputs[0]] = Some(input);
    for (i, op) in m.operators.iter().enumerate() {
        let ins: Vec<i32> = op.inputs.iter().flatten().map(|&t| t as i32).collect();
        let outs: Vec<i32> = op.outputs.iter().map(|&t| t as i32).collect();
        let sub = extract(&g, &[i as i32], &ins, &outs).unwrap();
        let s = Session::with_program(write(&sub.model), None, &cpu)
            .unwrap_or_else(|e| panic!("op {i}: {e}"));
        let args: Vec<Array> = sub
            .inputs
            .iter()
            .map(|&t| values[t].clone().expect("value computed earlier"))
            .collect();
        let got = s.run(&args).unwrap();
        for (&t, a) in sub.outputs.iter().zip(got) {
            values[t] = Some(a);
        }
    }
    // The chain of single-op partitions equals the whole model run at once.
    let whole = Session::with_program(std::fs::read(&f).unwrap(), None, &cpu).unwrap();
    let want = whole.run(&[values[m.inputs[0]].clone().unwrap()]).unwrap();
    assert_eq!(values[m.outputs[0]].as_ref(), Some(&want[0]));
}

#[test]
fn extract_refuses_bad_partitions() {
    let f = &fixtures()[0];
    let m = rnpu_model::load_file(f).unwrap();
    let g = graph_of(&m);
    assert!(extract(&g, &[], &[], &[]).is_err());
    assert!(extract(&g, &[9999], &[0], &[1]).is_err());
    assert!(extract(&g, &[0], &[-7], &[100_000]).is_err());
    let mut bad = g.clone();
    bad.nodes[0].op = Err("not translated".into());
    assert!(extract(&bad, &[0], &[0], &[1]).is_err());
}

/// A partition can be views only — here a channel concatenation of two model inputs (16 + 16
/// channels, aligned): an NPU segment without a task. The runtime must not SUBMIT it (the
/// kernel refuses a job of 0 tasks) and still hand back the concatenated bytes.
#[test]
fn a_segment_of_views_only_runs_without_a_submit() {
    use rnpu_model::{
        Activation, ArrayData, ConcatenationOptions, DType, OpKind, OpOptions, Operator,
        Quantization, Tensor,
    };
    let q = Quantization::PerTensor {
        scale: 0.05,
        zero_point: -3,
    };
    let t = |name: &str, c: usize| Tensor {
        name: name.into(),
        dtype: DType::Int8,
        shape: vec![1, 4, 5, c],
        shape_signature: None,
        quantization: q.clone(),
        data: None,
        is_variable: false,
    };
    let model = Model {
        version: 3,
        description: None,
        tensors: vec![t("a", 16), t("b", 16), t("ab", 32)],
        operators: vec![Operator {
            kind: OpKind::Concatenation,
            version: 1,
            inputs: vec![Some(0), Some(1)],
            outputs: vec![2],
            options: OpOptions::Concatenation(ConcatenationOptions {
                axis: 3,
                activation: Activation::None,
            }),
        }],
        inputs: vec![0, 1],
        outputs: vec![2],
        signatures: Vec::new(),
        num_subgraphs: 1,
    };
    let bytes = write(&model);
    let s = Session::new(
        &bytes,
        &Options {
            device: DeviceSpec::Emulator,
            ..Default::default()
        },
    )
    .unwrap();
    assert!(
        s.program().placements[0].npu,
        "{:?}",
        s.program().placements[0]
    );
    assert_eq!(s.program().placements[0].tasks, 0);
    let a = Array::new(
        vec![1, 4, 5, 16],
        ArrayData::I8((0..320).map(|i| (i % 251) as i8).collect()),
    );
    let b = Array::new(
        vec![1, 4, 5, 16],
        ArrayData::I8((0..320).map(|i| (i * 7 % 256) as u8 as i8).collect()),
    );
    let got = s.run(&[a.clone(), b.clone()]).unwrap();
    let cpu = Session::new(
        &bytes,
        &Options {
            device: DeviceSpec::Cpu,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(got, cpu.run(&[a, b]).unwrap());
}

/// A tensor TFLite resizes at run time (`DelegateGraph::resized`) may not cross a partition
/// boundary: the nodes touching it go back to TFLite; inside a partition it is fine.
#[test]
fn resized_tensors_stay_inside_partitions() {
    use rnpu_delegate::claim::{claim, refine, PreviewPartition};
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/models/layernorm_gelu_13x9_c16_int8pt/model.tflite");
    let m = rnpu_model::load_file(&dir).expect("fixture");
    let mut g = graph_of(&m);
    // The flattened input of the first FULLY_CONNECTED (resolved [117, 16]).
    let fc = m
        .operators
        .iter()
        .position(|o| o.kind == rnpu_model::OpKind::FullyConnected)
        .unwrap();
    let flat = m.operators[fc].inputs[0].unwrap();
    g.resized = vec![flat];
    let opts = Default::default();
    let full = claim(&g, &opts);
    assert!(full.nodes.contains(&fc), "{:?}", full.refused);
    // TFLite forms two partitions split at the flattened tensor: both touch it on a boundary.
    let cut = |nodes: &[usize]| {
        let (a, b): (Vec<usize>, Vec<usize>) = nodes.iter().partition(|&&n| n < fc);
        Some(vec![
            PreviewPartition {
                nodes: a.iter().map(|&n| n as i32).collect(),
                inputs: vec![],
                outputs: vec![flat as i32],
            },
            PreviewPartition {
                nodes: b.iter().map(|&n| n as i32).collect(),
                inputs: vec![flat as i32],
                outputs: vec![],
            },
        ])
    };
    let mut c = full.clone();
    refine(&g, &mut c, cut);
    assert!(
        !c.nodes.contains(&fc),
        "the FULLY_CONNECTED reading it stays claimed"
    );
    assert!(
        c.refused
            .iter()
            .any(|(n, why)| *n == fc && why.contains("resized")),
        "{:?}",
        c.refused
    );
    // One partition holding it: nothing is given back for that reason.
    let mut c = full.clone();
    refine(&g, &mut c, |nodes: &[usize]| {
        Some(vec![PreviewPartition {
            nodes: nodes.iter().map(|&n| n as i32).collect(),
            inputs: vec![],
            outputs: vec![],
        }])
    });
    assert!(!c.refused.iter().any(|(_, why)| why.contains("resized")));
}
