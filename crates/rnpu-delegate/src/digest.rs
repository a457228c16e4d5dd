//! A canonical text rendering of a `Model` (tensors and operators), used to check the graph
//! intake against `rnpu_model::load_file` on the same `.tflite` (tools/delegate_test.py compares
//! the delegate's rendering, written when `RNPU_DELEGATE_DUMP_GRAPH` is set, with the one the
//! `render_model` example prints). Constant data is summarised by length and FNV-1a hash.
//! `shape_signature` is left out: LiteRT keeps it for some tensors only.

use std::fmt::Write;

use rnpu_model::Model;

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    })
}

/// One line per tensor, then one per operator.
pub fn render(model: &Model) -> String {
    let mut s = String::new();
    for (i, t) in model.tensors.iter().enumerate() {
        let data = match &t.data {
            Some(d) => format!("{}:{:016x}", d.len(), fnv1a(d)),
            None => "none".into(),
        };
        let _ = writeln!(
            s,
            "T{i} {:?} {} {:?} {:?} data={data} var={}",
            t.name, t.dtype, t.shape, t.quantization, t.is_variable
        );
    }
    for (i, op) in model.operators.iter().enumerate() {
        let _ = writeln!(
            s,
            "O{i} {} v{} in={:?} out={:?} {:?}",
            op.kind, op.version, op.inputs, op.outputs, op.options
        );
    }
    s
}
