//! Cross-checks against Mesa's captured command streams and buffers
//! (`shared/mesa-captures/`, format in its README).
//!
//! * every regcmd entry of every task decodes to the register name and the non-zero field
//!   values that the capture's own `decoded-*.txt` (made with Mesa's register database)
//!   lists — an independent check of our transcription of the register map;
//! * the only flagged entries are the two unnamed writes Mesa makes;
//! * packing the delegate's raw copies of the TFLite weight and bias tensors with
//!   `rnpu_hw::layout` reproduces Mesa's weights and biases BOs byte for byte;
//! * packing `input.npy` reproduces the graph-input BO.
//!
//! The captures are not part of the repository. They are looked up in
//! `$RNPU_MESA_CAPTURES`, else in `shared/mesa-captures` next to any ancestor of this crate;
//! when absent the tests say so on stderr and pass.

use std::fs;
use std::path::{Path, PathBuf};

use rnpu_hw::disasm::{disassemble, LineKind};
use rnpu_hw::layout::{self, ConvKind, FeatureShape, WeightShape};
use rnpu_hw::regcmd::Issue;
use serde_json::Value;

fn captures_dir() -> Option<PathBuf> {
    // `RNPU_CAPTURES` as every other capture test reads it (the older name still works).
    for var in ["RNPU_CAPTURES", "RNPU_MESA_CAPTURES"] {
        if let Ok(p) = std::env::var(var) {
            return Some(PathBuf::from(p));
        }
    }
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .map(|a| a.join("shared/mesa-captures"))
        .find(|p| p.is_dir())
}

fn cases() -> Vec<PathBuf> {
    let Some(dir) = captures_dir() else {
        eprintln!("mesa-captures not found: capture cross-checks skipped");
        return Vec::new();
    };
    let mut v: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("case.json").is_file())
        .collect();
    v.sort();
    v
}

/// (index, raw, name, [(field, raw value)]) of one line of a capture's decode.
type DecodedLine = (usize, u64, String, Vec<(String, u64)>);

fn parse_decoded(text: &str) -> Vec<DecodedLine> {
    let mut out = Vec::new();
    for line in text.lines() {
        if line.starts_with('#') || line.trim_start().starts_with("idx") || line.trim().is_empty() {
            continue;
        }
        let toks: Vec<&str> = line.split_whitespace().collect();
        let idx: usize = toks[0].parse().unwrap();
        let raw = u64::from_str_radix(toks[1], 16).unwrap();
        // Name runs from token 4 to the 10-character value token.
        let vpos = toks
            .iter()
            .skip(4)
            .position(|t| t.len() == 10 && t.starts_with("0x"))
            .unwrap()
            + 4;
        let name = toks[4..vpos].join(" ");
        let rest = toks[vpos + 1..].join(" ");
        let mut fields = Vec::new();
        for part in rest.split(", ") {
            let Some((k, v)) = part.split_once('=') else {
                continue;
            };
            let digits: String = v.chars().take_while(|c| c.is_ascii_digit()).collect();
            if k.chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
                && !digits.is_empty()
            {
                fields.push((k.to_string(), digits.parse().unwrap()));
            }
        }
        out.push((idx, raw, name, fields));
    }
    out
}

#[test]
fn disassembly_matches_capture_decodes() {
    let (mut tasks, mut entries, mut fields_checked) = (0, 0, 0);
    for case in cases() {
        for f in fs::read_dir(&case).unwrap() {
            let path = f.unwrap().path();
            let fname = path.file_name().unwrap().to_str().unwrap().to_string();
            let Some(stem) = fname
                .strip_prefix("decoded-")
                .and_then(|s| s.strip_suffix(".txt"))
            else {
                continue;
            };
            let bin = fs::read(case.join(format!("{stem}.regcmd.bin"))).unwrap();
            let dis = disassemble(&bin);
            let theirs = parse_decoded(&fs::read_to_string(&path).unwrap());
            assert_eq!(dis.trailing_bytes, 0);
            assert_eq!(dis.lines.len(), theirs.len(), "{fname}");
            tasks += 1;
            for (line, (idx, raw, name, fields)) in dis.lines.iter().zip(&theirs) {
                let ctx = format!("{}/{fname} entry {idx}", case.display());
                assert_eq!(line.index, *idx, "{ctx}");
                assert_eq!(u64::from_str_radix(&line.raw, 16).unwrap(), *raw, "{ctx}");
                entries += 1;
                match line.kind {
                    LineKind::Write if line.register.is_some() => {
                        assert_eq!(line.register.as_deref(), Some(name.as_str()), "{ctx}");
                        assert!(line.issues.is_empty(), "{ctx}: {:?}", line.issues);
                        let ours: Vec<(String, u64)> = line
                            .fields
                            .iter()
                            .filter(|f| f.raw != 0)
                            .map(|f| (f.name.to_string(), f.raw as u64))
                            .collect();
                        assert_eq!(&ours, fields, "{ctx}");
                        fields_checked += ours.len();
                    }
                    LineKind::Write => {
                        // The unnamed CORE 0x3030 / DPU 0x40c4 writes.
                        assert_eq!(name, "?", "{ctx}");
                        assert_eq!(
                            line.issues,
                            vec![Issue::UnknownRegister {
                                known_unnamed: true
                            }],
                            "{ctx}"
                        );
                    }
                    LineKind::Zero => assert!(name.contains("zero entry"), "{ctx}"),
                    LineKind::OpEnablePrelude => {
                        assert!(name.contains("0x0041"), "{ctx}");
                        assert!(line.issues.is_empty());
                    }
                    LineKind::OpEnable => {
                        assert!(name.starts_with("PC_OPERATION_ENABLE"), "{ctx}");
                        assert_eq!(line.value, 0x1d);
                        assert!(line.issues.is_empty());
                    }
                    LineKind::Unknown => panic!("{ctx}: unknown target"),
                }
            }
            // The structured form serializes.
            let json = serde_json::to_value(&dis).unwrap();
            assert_eq!(json["lines"].as_array().unwrap().len(), dis.lines.len());
        }
    }
    eprintln!("checked {tasks} tasks, {entries} entries, {fields_checked} non-zero fields");
}

fn load_json(p: &Path) -> Value {
    serde_json::from_str(&fs::read_to_string(p).unwrap()).unwrap()
}

fn bo_file(submit: &Value, handle: u64) -> String {
    submit["bos"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["handle"] == handle)
        .unwrap()["file"]
        .as_str()
        .unwrap()
        .to_string()
}

fn raw_copy_file(submit: &Value, tensor: u64) -> String {
    submit["bos"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| {
            b["tflite_tensor"] == tensor
                && b["roles"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|r| r.as_str().unwrap().contains("raw copy"))
        })
        .unwrap_or_else(|| panic!("no raw copy of tensor {tensor}"))["file"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn weight_and_bias_packing_matches_mesa_buffers() {
    let (mut ops, mut weight_bytes, mut bias_bytes) = (0, 0, 0);
    for case in cases() {
        let cj = load_json(&case.join("case.json"));
        for submit in cj["submits"].as_array().unwrap() {
            for op in submit["npu_ops"].as_array().unwrap() {
                let ty = op["type"].as_str().unwrap();
                let kind = if ty.starts_with("DEPTHWISE") {
                    ConvKind::Depthwise
                } else {
                    ConvKind::Direct
                };
                let dims: Vec<usize> = op["weights"]["shape"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|d| d.as_u64().unwrap() as usize)
                    .collect();
                let s = WeightShape {
                    oc: dims[0],
                    kh: dims[1],
                    kw: dims[2],
                    ic: dims[3],
                };
                let wzp = op["weights"]["zero_point"].as_u64().unwrap() as u8;
                let izp = op["input"]["zero_point"].as_u64().unwrap() as u8;
                let w = fs::read(case.join(raw_copy_file(
                    submit,
                    op["weights"]["tensor"].as_u64().unwrap(),
                )))
                .unwrap();
                let b: Vec<i32> = fs::read(case.join(raw_copy_file(
                    submit,
                    op["bias"]["tensor"].as_u64().unwrap(),
                )))
                .unwrap()
                .chunks(4)
                .map(|c| i32::from_le_bytes(c.try_into().unwrap()))
                .collect();
                let ctx = format!("{} op {}", case.display(), op["npu_op"]);

                let packed = layout::pack_conv_weights_u8(&w, s, kind, wzp).unwrap();
                let mesa_w =
                    fs::read(case.join(bo_file(submit, op["bo"]["weights"].as_u64().unwrap())))
                        .unwrap();
                assert_eq!(packed.len(), s.hw_weight_bytes(kind), "{ctx}");
                assert_eq!(&mesa_w[..packed.len()], &packed[..], "{ctx}: weights");
                assert!(
                    mesa_w[packed.len()..].iter().all(|&x| x == 0),
                    "{ctx}: bytes past WEIGHT_SIZE0"
                );

                // CLIP_TRUNCATE is 0 in every task of the corpus (README).
                let packed = layout::pack_biases_u8(&b, &w, s, kind, izp, wzp, 0).unwrap();
                let mesa_b =
                    fs::read(case.join(bo_file(submit, op["bo"]["biases"].as_u64().unwrap())))
                        .unwrap();
                assert_eq!(mesa_b, packed, "{ctx}: biases");
                ops += 1;
                weight_bytes += s.hw_weight_bytes(kind);
                bias_bytes += packed.len();
            }
        }
    }
    eprintln!("{ops} ops: {weight_bytes} weight bytes and {bias_bytes} bias bytes identical");
}

/// uint8 `.npy` → (shape, data).
fn read_npy_u8(p: &Path) -> (Vec<usize>, Vec<u8>) {
    let b = fs::read(p).unwrap();
    assert_eq!(&b[..6], b"\x93NUMPY");
    let (hlen, start) = if b[6] == 1 {
        (u16::from_le_bytes([b[8], b[9]]) as usize, 10)
    } else {
        (u32::from_le_bytes([b[8], b[9], b[10], b[11]]) as usize, 12)
    };
    let header = std::str::from_utf8(&b[start..start + hlen]).unwrap();
    assert!(header.contains("'|u1'"), "{header}");
    let shape_txt = header.split("'shape': (").nth(1).unwrap();
    let shape: Vec<usize> = shape_txt
        .split(')')
        .next()
        .unwrap()
        .split(',')
        .filter(|t| !t.trim().is_empty())
        .map(|t| t.trim().parse().unwrap())
        .collect();
    (shape, b[start + hlen..].to_vec())
}

#[test]
fn input_packing_matches_mesa_input_bo() {
    let mut n = 0;
    for case in cases() {
        let cj = load_json(&case.join("case.json"));
        let submit = &cj["submits"][0];
        let (shape, data) = read_npy_u8(&case.join("input.npy"));
        let (h, w, c) = (shape[1], shape[2], shape[3]);
        let zp = cj["model_input"]["zero_point"].as_u64().unwrap() as u8;
        let bo =
            fs::read(case.join(bo_file(submit, submit["input_bo"].as_u64().unwrap()))).unwrap();
        let packed = if c == 1 {
            layout::single_channel_u8(&data, h, w, zp).unwrap()
        } else {
            layout::nhwc_to_nc1hwc2_u8(&data, FeatureShape::new(h, w, c), zp).unwrap()
        };
        assert_eq!(&bo[..packed.len()], &packed[..], "{}", case.display());
        if c > 1 {
            assert_eq!(
                layout::nc1hwc2_to_nhwc_u8(&bo, FeatureShape::new(h, w, c)).unwrap(),
                data
            );
        }
        n += 1;
    }
    eprintln!("{n} graph inputs identical");
}
