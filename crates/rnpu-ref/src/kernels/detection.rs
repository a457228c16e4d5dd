//! The `TFLite_Detection_PostProcess` custom operator (SSD box decoding + multi-class NMS), as
//! LiteRT's `detection_postprocess.cc` computes it.
//!
//! Facts taken from LiteRT (not its code):
//! - options are a FlexBuffer map; `detections_per_class` defaults to 100 and `use_regular_nms`
//!   to false when absent;
//! - inputs: box encodings [1, N, ≥4] (y, x, h, w), class predictions [1, N, C or C+1] (a leading
//!   background column when C+1), anchors [N, 4] (ycenter, xcenter, h, w); uint8 or float32.
//!   uint8 box encodings are dequantized in float as `(q − zp) · scale` and then the anchors are
//!   read as uint8 too; uint8 scores are dequantized to float. int8 inputs are refused;
//! - decoding runs in double: `yc = y / y_scale · ah + ay`, `half_h = 0.5 · exp(h / h_scale) · ah`
//!   (same for x and w), each rounded to float, then corners `yc ∓ half_h`, `xc ∓ half_w`;
//! - single-class NMS: keep scores `>= nms_score_threshold`, stable sort by decreasing score,
//!   greedily select while suppressing later boxes with IoU `>` the IoU threshold (IoU in float,
//!   0 when either area is ≤ 0), at most `max_detections` selected;
//! - fast NMS: per anchor, the best `max_classes_per_detection` classes (the arg-max, first maximum,
//!   when it is 1), NMS over each anchor's best score, outputs `max_classes_per_detection` rows
//!   per selected anchor; slots past the detections are not written by LiteRT (zeros here);
//! - regular NMS: NMS per class (at most `min(detections_per_class, max_detections)` each), the
//!   per-class lists merged in class order with a stable merge by decreasing score (earlier
//!   entries first on ties) and cut to `max_detections`; unfilled slots are zeros.
//!   LiteRT merges per thread when it runs with several; the single-threaded order is the one
//!   reproduced here;
//! - outputs (all float32): boxes [1, D, 4] (ymin, xmin, ymax, xmax), classes [1, D] (without the
//!   background offset), scores [1, D], num_detections [1], D = max_detections ·
//!   max_classes_per_detection.

use rnpu_model::{Array, ArrayData, DType, OpOptions};

use crate::{OpCtx, RefError};

/// The operator's custom name in the model's operator codes.
pub const CUSTOM_NAME: &str = "TFLite_Detection_PostProcess";

/// The parsed options.
#[derive(Clone, Debug, PartialEq)]
pub struct DetectionOptions {
    pub max_detections: i32,
    pub max_classes_per_detection: i32,
    pub detections_per_class: i32,
    pub nms_score_threshold: f32,
    pub nms_iou_threshold: f32,
    pub num_classes: i32,
    pub y_scale: f32,
    pub x_scale: f32,
    pub h_scale: f32,
    pub w_scale: f32,
    pub use_regular_nms: bool,
}

impl DetectionOptions {
    /// Parse the FlexBuffer map of the operator's custom options.
    pub fn parse(bytes: &[u8]) -> Result<Self, String> {
        let map = flex::root_map(bytes)?;
        let num = |k: &str| -> Result<f64, String> {
            map.get(k)?
                .ok_or_else(|| format!("option {k:?} missing"))?
                .as_f64()
                .ok_or_else(|| format!("option {k:?} is not a number"))
        };
        let int = |k: &str| num(k).map(|v| v as i32);
        let float = |k: &str| num(k).map(|v| v as f32);
        let detections_per_class = match map.get("detections_per_class")? {
            Some(v) if !v.is_null() => v
                .as_f64()
                .ok_or("option \"detections_per_class\" is not a number")?
                as i32,
            _ => 100,
        };
        let use_regular_nms = match map.get("use_regular_nms")? {
            Some(v) if !v.is_null() => {
                v.as_f64()
                    .ok_or("option \"use_regular_nms\" is not a bool")?
                    != 0.0
            }
            _ => false,
        };
        Ok(DetectionOptions {
            max_detections: int("max_detections")?,
            max_classes_per_detection: int("max_classes_per_detection")?,
            detections_per_class,
            nms_score_threshold: float("nms_score_threshold")?,
            nms_iou_threshold: float("nms_iou_threshold")?,
            num_classes: int("num_classes")?,
            y_scale: float("y_scale")?,
            x_scale: float("x_scale")?,
            h_scale: float("h_scale")?,
            w_scale: float("w_scale")?,
            use_regular_nms,
        })
    }
}

/// A decoded box: (ymin, xmin, ymax, xmax).
type Corner = [f32; 4];

pub fn detection_postprocess(ctx: &OpCtx) -> Result<Vec<Array>, RefError> {
    let OpOptions::Custom(raw) = &ctx.op.options else {
        return Err(ctx.err("no custom options"));
    };
    let o = DetectionOptions::parse(raw).map_err(|e| ctx.err(format!("options: {e}")))?;
    if o.max_detections < 0 || o.max_classes_per_detection < 0 || o.detections_per_class < 0 {
        return Err(ctx.err("max_detections, max_classes_per_detection and detections_per_class must be non-negative"));
    }
    if o.num_classes <= 0 {
        return Err(ctx.err("num_classes must be positive"));
    }
    let boxes = ctx.input(0)?;
    let preds = ctx.input(1)?;
    let anchors = ctx.input(2)?;
    if boxes.shape.len() != 3 || preds.shape.len() != 3 || anchors.shape.len() != 2 {
        return Err(ctx.err("box encodings and class predictions must be 3-D, anchors 2-D"));
    }
    if boxes.shape[0] != 1 || preds.shape[0] != 1 {
        return Err(ctx.err("batch size must be 1"));
    }
    let n = boxes.shape[1];
    let enc_len = boxes.shape[2];
    if enc_len < 4 {
        return Err(ctx.err("box encodings dimension 2 must be at least 4"));
    }
    if preds.shape[1] != n || anchors.shape[0] < n || anchors.shape[1] != 4 {
        return Err(ctx.err(format!(
            "{n} boxes but class predictions {:?} and anchors {:?}",
            preds.shape, anchors.shape
        )));
    }
    let num_classes = o.num_classes as usize;
    let ncb = preds.shape[2];
    if ncb < num_classes || ncb - num_classes > 1 {
        return Err(ctx.err(format!(
            "class predictions have {ncb} columns for {num_classes} classes"
        )));
    }
    let decoded = decode_boxes(ctx, &o, boxes, anchors, n, enc_len)?;
    let scores: Vec<f32> = match &preds.data {
        ArrayData::F32(v) => v.clone(),
        ArrayData::U8(v) => {
            let q = &ctx.input_tensor(1)?.quantization;
            let (scale, zp) = (q.scale() as f64, q.zero_point() as i32);
            v.iter()
                .map(|&x| (scale * f64::from(i32::from(x) - zp)) as f32)
                .collect()
        }
        _ => {
            return Err(ctx.err(format!(
                "class predictions of type {} (LiteRT takes uint8 or float32)",
                preds.dtype()
            )))
        }
    };
    if !(o.nms_iou_threshold > 0.0 && o.nms_iou_threshold <= 1.0) {
        return Err(ctx.err("nms_iou_threshold must be in (0, 1]"));
    }
    if decoded.iter().any(|b| b[0] > b[2] || b[1] > b[3]) {
        return Err(ctx.err("a decoded box has ymin > ymax or xmin > xmax"));
    }

    let max_det = o.max_detections as usize;
    let max_cls = o.max_classes_per_detection as usize;
    let d = max_det * max_cls;
    let shapes: [Vec<usize>; 4] = [vec![1, d, 4], vec![1, d], vec![1, d], vec![1]];
    for (k, want) in shapes.iter().enumerate() {
        let t = ctx.output_tensor(k)?;
        if t.dtype != DType::Float32 || &t.shape != want {
            return Err(ctx.err(format!(
                "output {k} is {} {:?}; LiteRT makes it float32 {want:?}",
                t.dtype, t.shape
            )));
        }
    }
    let mut out_boxes = vec![0f32; d * 4];
    let mut out_classes = vec![0f32; d];
    let mut out_scores = vec![0f32; d];
    let label_offset = ncb - num_classes;
    let num_det;
    if o.use_regular_nms {
        let per_class = o.detections_per_class.min(o.max_detections) as usize;
        if per_class == 0 {
            return Err(ctx.err("min(detections_per_class, max_detections) must be positive"));
        }
        // (flat index into the class predictions, score), sorted by decreasing score.
        let mut acc: Vec<(usize, f32)> = Vec::with_capacity(2 * max_det);
        let mut class_scores = vec![0f32; n];
        for col in 0..num_classes {
            for (row, s) in class_scores.iter_mut().enumerate() {
                *s = scores[row * ncb + col + label_offset];
            }
            let sel = nms_single_class(&o, &decoded, &class_scores, per_class);
            if sel.is_empty() {
                continue;
            }
            let new: Vec<(usize, f32)> = sel
                .iter()
                .map(|&r| (r * ncb + col + label_offset, class_scores[r]))
                .collect();
            acc = stable_merge(&acc, &new);
            acc.truncate(max_det);
        }
        for (i, &(index, score)) in acc.iter().enumerate() {
            let anchor = index / ncb;
            let class = index - anchor * ncb - label_offset;
            out_boxes[i * 4..i * 4 + 4].copy_from_slice(&decoded[anchor]);
            out_classes[i] = class as f32;
            out_scores[i] = score;
        }
        num_det = acc.len();
    } else {
        if max_cls == 0 {
            return Err(ctx.err("max_classes_per_detection must be positive"));
        }
        let per_anchor = max_cls.min(num_classes);
        let mut best = Vec::with_capacity(n * per_anchor);
        let mut max_scores = vec![0f32; n];
        for (row, m) in max_scores.iter_mut().enumerate() {
            let s = &scores[row * ncb + label_offset..row * ncb + label_offset + num_classes];
            let top = top_classes(s, per_anchor);
            *m = s[top[0]];
            best.extend(top);
        }
        let sel = nms_single_class(&o, &decoded, &max_scores, max_det);
        for (k, &anchor) in sel.iter().enumerate() {
            let s = &scores[anchor * ncb + label_offset..];
            for col in 0..per_anchor {
                let slot = max_cls * k + col;
                let class = best[anchor * per_anchor + col];
                out_boxes[slot * 4..slot * 4 + 4].copy_from_slice(&decoded[anchor]);
                out_classes[slot] = class as f32;
                out_scores[slot] = s[class];
            }
        }
        num_det = sel.len();
    }
    let [s0, s1, s2, s3] = shapes;
    Ok(vec![
        Array::new(s0, ArrayData::F32(out_boxes)),
        Array::new(s1, ArrayData::F32(out_classes)),
        Array::new(s2, ArrayData::F32(out_scores)),
        Array::new(s3, ArrayData::F32(vec![num_det as f32])),
    ])
}

/// Decode every box against its anchor (see the module doc for the arithmetic).
fn decode_boxes(
    ctx: &OpCtx,
    o: &DetectionOptions,
    boxes: &Array,
    anchors: &Array,
    n: usize,
    enc_len: usize,
) -> Result<Vec<Corner>, RefError> {
    let deq = |v: &[u8], t: usize| -> Result<Vec<f32>, RefError> {
        let q = &ctx.input_tensor(t)?.quantization;
        let (scale, zp) = (q.scale(), q.zero_point() as i32 as f32);
        Ok(v.iter().map(|&x| (f32::from(x) - zp) * scale).collect())
    };
    let (enc, anc): (Vec<f32>, Vec<f32>) = match (&boxes.data, &anchors.data) {
        (ArrayData::F32(b), ArrayData::F32(a)) => (b.clone(), a.clone()),
        (ArrayData::U8(b), ArrayData::U8(a)) => (deq(b, 0)?, deq(a, 2)?),
        _ => {
            return Err(ctx.err(format!(
                "box encodings {} with anchors {} (LiteRT takes both uint8 or both float32)",
                boxes.dtype(),
                anchors.dtype()
            )))
        }
    };
    let (ys, xs, hs, ws) = (
        f64::from(o.y_scale),
        f64::from(o.x_scale),
        f64::from(o.h_scale),
        f64::from(o.w_scale),
    );
    Ok((0..n)
        .map(|i| {
            let e = &enc[i * enc_len..i * enc_len + 4];
            let a = &anc[i * 4..i * 4 + 4];
            let [y, x, h, w] = [e[0], e[1], e[2], e[3]].map(f64::from);
            let [ay, ax, ah, aw] = [a[0], a[1], a[2], a[3]].map(f64::from);
            let yc = (y / ys * ah + ay) as f32;
            let xc = (x / xs * aw + ax) as f32;
            let half_h = (0.5 * (h / hs).exp() * ah) as f32;
            let half_w = (0.5 * (w / ws).exp() * aw) as f32;
            [yc - half_h, xc - half_w, yc + half_h, xc + half_w]
        })
        .collect())
}

/// The `k` best classes of one anchor by decreasing score. For k = 1 the first maximum; for
/// k > 1 a stable order (LiteRT's partial sort leaves the order of ties unspecified).
fn top_classes(s: &[f32], k: usize) -> Vec<usize> {
    if k == 1 {
        let mut best = 0;
        for (i, &v) in s.iter().enumerate().skip(1) {
            if v > s[best] {
                best = i;
            }
        }
        return vec![best];
    }
    let mut idx: Vec<usize> = (0..s.len()).collect();
    idx.sort_by(|&i, &j| desc(s[i], s[j]));
    idx.truncate(k);
    idx
}

/// Ordering for a stable sort by decreasing score: `i` before `j` only when `s_i > s_j`
/// (the comparator LiteRT gives `std::stable_sort`; NaNs compare as equal).
fn desc(a: f32, b: f32) -> std::cmp::Ordering {
    if a > b {
        std::cmp::Ordering::Less
    } else if b > a {
        std::cmp::Ordering::Greater
    } else {
        std::cmp::Ordering::Equal
    }
}

/// Merge two lists sorted by decreasing score; on ties the entries of `a` come first.
fn stable_merge(a: &[(usize, f32)], b: &[(usize, f32)]) -> Vec<(usize, f32)> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        if b[j].1 > a[i].1 {
            out.push(b[j]);
            j += 1;
        } else {
            out.push(a[i]);
            i += 1;
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
    out
}

fn iou(a: &Corner, b: &Corner) -> f32 {
    let area_a = (a[2] - a[0]) * (a[3] - a[1]);
    let area_b = (b[2] - b[0]) * (b[3] - b[1]);
    if area_a <= 0.0 || area_b <= 0.0 {
        return 0.0;
    }
    let ih = (a[2].min(b[2]) - a[0].max(b[0])).max(0.0);
    let iw = (a[3].min(b[3]) - a[1].max(b[1])).max(0.0);
    let inter = ih * iw;
    inter / (area_a + area_b - inter)
}

/// Greedy NMS over one score per box; returns the selected box indices in selection order.
fn nms_single_class(
    o: &DetectionOptions,
    boxes: &[Corner],
    scores: &[f32],
    max_detections: usize,
) -> Vec<usize> {
    let keep: Vec<usize> = (0..scores.len())
        .filter(|&i| scores[i] >= o.nms_score_threshold)
        .collect();
    let mut order = keep;
    order.sort_by(|&i, &j| desc(scores[i], scores[j]));
    let out_size = order.len().min(max_detections);
    let mut active = vec![true; order.len()];
    let mut num_active = order.len();
    let mut selected = Vec::with_capacity(out_size);
    for i in 0..order.len() {
        if num_active == 0 || selected.len() >= out_size {
            break;
        }
        if !active[i] {
            continue;
        }
        selected.push(order[i]);
        active[i] = false;
        num_active -= 1;
        for j in i + 1..order.len() {
            if active[j] && iou(&boxes[order[i]], &boxes[order[j]]) > o.nms_iou_threshold {
                active[j] = false;
                num_active -= 1;
            }
        }
    }
    selected
}

/// A reader for the part of FlexBuffers that operator options use: a root map of scalars.
mod flex {
    /// Element types (FlexBuffers `Type`).
    const NULL: u8 = 0;
    const INT: u8 = 1;
    const UINT: u8 = 2;
    const FLOAT: u8 = 3;
    const INDIRECT_INT: u8 = 6;
    const INDIRECT_UINT: u8 = 7;
    const INDIRECT_FLOAT: u8 = 8;
    const MAP: u8 = 9;
    const BOOL: u8 = 26;

    fn read_uint(b: &[u8], pos: usize, width: usize) -> Result<u64, String> {
        let s = b
            .get(pos..pos + width)
            .ok_or_else(|| format!("read of {width} bytes at {pos} past the end"))?;
        let mut v = [0u8; 8];
        v[..width].copy_from_slice(s);
        Ok(u64::from_le_bytes(v))
    }

    fn read_int(b: &[u8], pos: usize, width: usize) -> Result<i64, String> {
        let u = read_uint(b, pos, width)?;
        let shift = 64 - 8 * width as u32;
        Ok(((u << shift) as i64) >> shift)
    }

    fn read_float(b: &[u8], pos: usize, width: usize) -> Result<f64, String> {
        let u = read_uint(b, pos, width)?;
        match width {
            4 => Ok(f64::from(f32::from_bits(u as u32))),
            8 => Ok(f64::from_bits(u)),
            w => Err(format!("float of width {w}")),
        }
    }

    fn back(pos: usize, off: u64) -> Result<usize, String> {
        usize::try_from(off)
            .ok()
            .and_then(|o| pos.checked_sub(o))
            .ok_or_else(|| "offset out of range".to_string())
    }

    /// One value: where it is, its parent's width and its packed type.
    #[derive(Clone, Copy)]
    pub struct Value<'a> {
        buf: &'a [u8],
        pos: usize,
        parent_width: usize,
        packed: u8,
    }

    impl Value<'_> {
        pub fn is_null(&self) -> bool {
            self.packed >> 2 == NULL
        }

        /// Numbers and bools as f64 (what `AsInt32`/`AsFloat`/`AsBool` need).
        pub fn as_f64(&self) -> Option<f64> {
            let (b, p, w) = (self.buf, self.pos, self.parent_width);
            let child = 1usize << (self.packed & 3);
            let r = match self.packed >> 2 {
                INT => read_int(b, p, w).map(|v| v as f64),
                UINT | BOOL => read_uint(b, p, w).map(|v| v as f64),
                FLOAT => read_float(b, p, w),
                t @ (INDIRECT_INT | INDIRECT_UINT | INDIRECT_FLOAT) => {
                    let at = read_uint(b, p, w).and_then(|o| back(p, o));
                    at.and_then(|q| match t {
                        INDIRECT_INT => read_int(b, q, child).map(|v| v as f64),
                        INDIRECT_UINT => read_uint(b, q, child).map(|v| v as f64),
                        _ => read_float(b, q, child),
                    })
                }
                _ => return None,
            };
            r.ok()
        }
    }

    pub struct Map<'a> {
        buf: &'a [u8],
        keys: Vec<&'a [u8]>,
        values: usize,
        width: usize,
    }

    impl<'a> Map<'a> {
        pub fn get(&self, key: &str) -> Result<Option<Value<'a>>, String> {
            let Some(i) = self.keys.iter().position(|k| *k == key.as_bytes()) else {
                return Ok(None);
            };
            let types = self.values + self.keys.len() * self.width;
            let packed = *self
                .buf
                .get(types + i)
                .ok_or("map type byte past the end")?;
            Ok(Some(Value {
                buf: self.buf,
                pos: self.values + i * self.width,
                parent_width: self.width,
                packed,
            }))
        }
    }

    pub fn root_map(b: &[u8]) -> Result<Map<'_>, String> {
        if b.len() < 3 {
            return Err("FlexBuffer too short".into());
        }
        let root_width = usize::from(b[b.len() - 1]);
        let packed = b[b.len() - 2];
        if !matches!(root_width, 1 | 2 | 4 | 8) || b.len() < 2 + root_width {
            return Err("bad FlexBuffer root".into());
        }
        if packed >> 2 != MAP {
            return Err(format!(
                "FlexBuffer root is of type {}, not a map",
                packed >> 2
            ));
        }
        let root = b.len() - 2 - root_width;
        let values = back(root, read_uint(b, root, root_width)?)?;
        let width = 1usize << (packed & 3);
        let size = read_uint(b, back(values, width as u64)?, width)? as usize;
        let keys_at = back(values, 3 * width as u64)?;
        let keys_vec = back(keys_at, read_uint(b, keys_at, width)?)?;
        let key_width = read_uint(b, back(values, 2 * width as u64)?, width)? as usize;
        if !matches!(key_width, 1 | 2 | 4 | 8) || size > b.len() {
            return Err("bad FlexBuffer map".into());
        }
        let mut keys = Vec::with_capacity(size);
        for i in 0..size {
            let p = keys_vec + i * key_width;
            let k = back(p, read_uint(b, p, key_width)?)?;
            let end = b[k..]
                .iter()
                .position(|&c| c == 0)
                .ok_or("unterminated FlexBuffer key")?;
            keys.push(&b[k..k + end]);
        }
        Ok(Map {
            buf: b,
            keys,
            values,
            width,
        })
    }
}
