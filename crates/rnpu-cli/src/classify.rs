//! `rnpu classify MODEL --image IMG`: decode an image, fit it to the model's input tensor, run,
//! print the top-K classes.
//!
//! ## How pixels become the input tensor
//! 1. Decode (PNG/JPEG), convert to the input's channels: C = 1 → grayscale (luma), C = 3 → RGB,
//!    C = 4 → RGBA.
//! 2. Resize to the input's H×W with a bilinear (triangle) filter, unless it already has that
//!    size.
//! 3. Map each 8-bit pixel `p` linearly onto the input's range:
//!    - quantized integer inputs: onto the whole representable range, `q = qmin +
//!      round(p · (qmax − qmin) / 255)`; i.e. the real value `p/255 · (hi − lo) + lo` with
//!      `[lo, hi] = [(qmin − zp)·s, (qmax − zp)·s]`, quantized with the tensor's own (s, zp).
//!      For uint8 this is the pixel byte itself, for int8 the byte − 128. That is what models
//!      quantized from images expect: the converter picks the input scale and zero point from the
//!      float range the model was trained on (e.g. [−1, 1] for MobileNet: s = 1/127.5, zp = 128 or
//!      −1; the real MNIST nets take the raw bytes with s = 1/127, zp = 128), so the full pixel
//!      range lands on the full range the model was calibrated for.
//!    - float inputs: `p / 255`, i.e. [0, 1].
//!
//! Scores printed are the output dequantized with its (s, zp) (float outputs as they are).

use std::path::Path;

use anyhow::{bail, Context, Result};
use image::imageops::FilterType;
use image::DynamicImage;
use rnpu_model::{Array, ArrayData, DType, Tensor};
use rnpu_runtime::DeviceSpec;

use crate::{device_line, emit, load_model_or_program, open_session};

/// Read an image file, naming the file in every error.
pub(crate) fn read_image(path: &Path) -> Result<DynamicImage> {
    let bytes = std::fs::read(path).with_context(|| format!("{}: cannot read", path.display()))?;
    image::load_from_memory(&bytes)
        .with_context(|| format!("{}: cannot decode the image", path.display()))
}

/// The model's input tensor from an image (see the module doc for the rule).
pub(crate) fn image_to_input(img: &DynamicImage, t: &Tensor) -> Result<Array> {
    let (h, w, c) = match t.shape.as_slice() {
        [1, h, w, c] => (*h, *w, *c),
        [h, w, c] => (*h, *w, *c),
        [h, w] => (*h, *w, 1),
        s => bail!(
            "input {:?} has shape {s:?}; an image input is [1, H, W, C] (NHWC)",
            t.name
        ),
    };
    let resized = if img.width() as usize == w && img.height() as usize == h {
        img.clone()
    } else {
        img.resize_exact(w as u32, h as u32, FilterType::Triangle)
    };
    let pixels: Vec<u8> = match c {
        1 => resized.to_luma8().into_raw(),
        3 => resized.to_rgb8().into_raw(),
        4 => resized.to_rgba8().into_raw(),
        c => bail!("input {:?} has {c} channels; images give 1, 3 or 4", t.name),
    };
    let int = |qmin: i64, qmax: i64| -> Vec<i64> {
        pixels
            .iter()
            .map(|&p| qmin + (i64::from(p) * (qmax - qmin) + 127) / 255)
            .collect()
    };
    let data = match t.dtype {
        DType::Float32 => ArrayData::F32(pixels.iter().map(|&p| f32::from(p) / 255.0).collect()),
        DType::UInt8 => ArrayData::U8(int(0, 255).into_iter().map(|q| q as u8).collect()),
        DType::Int8 => ArrayData::I8(int(-128, 127).into_iter().map(|q| q as i8).collect()),
        DType::Int16 => ArrayData::I16(int(-32768, 32767).into_iter().map(|q| q as i16).collect()),
        d => bail!(
            "input {:?} is {d}; images feed float32, uint8, int8 or int16",
            t.name
        ),
    };
    Ok(Array::new(t.shape.clone(), data))
}

/// Real values of an output (dequantized when quantized).
pub(crate) fn dequantized(a: &Array, t: &Tensor) -> Vec<f64> {
    let v = a.data.to_f64_vec();
    if a.dtype() == DType::Float32 {
        return v;
    }
    let (s, zp) = (
        f64::from(t.quantization.scale()),
        t.quantization.zero_point() as f64,
    );
    v.into_iter().map(|q| (q - zp) * s).collect()
}

/// One label per line (empty lines kept, so line i is class i).
pub(crate) fn read_labels(path: Option<&Path>) -> Result<Vec<String>> {
    let Some(p) = path else {
        return Ok(Vec::new());
    };
    let text =
        std::fs::read_to_string(p).with_context(|| format!("{}: cannot read", p.display()))?;
    Ok(text.lines().map(|l| l.trim().to_string()).collect())
}

pub(crate) fn cmd_classify(
    model_path: &Path,
    image_path: &Path,
    labels: Option<&Path>,
    top: usize,
    device: &DeviceSpec,
    json: bool,
) -> Result<()> {
    let labels = read_labels(labels)?;
    let img = read_image(image_path)?;
    let l = load_model_or_program(model_path)?;
    if l.model.inputs.len() != 1 {
        bail!(
            "{}: classify needs a model with one input, it has {}",
            model_path.display(),
            l.model.inputs.len()
        );
    }
    let in_t = &l.model.tensors[l.model.inputs[0]];
    let input = image_to_input(&img, in_t).with_context(|| format!("{}", model_path.display()))?;
    let session = open_session(model_path, &l, device)?;
    let outs = session
        .run(&[input])
        .with_context(|| format!("{}: run failed", model_path.display()))?;
    let out_t = &l.model.tensors[l.model.outputs[0]];
    let scores = dequantized(&outs[0], out_t);
    let mut order: Vec<usize> = (0..scores.len()).collect();
    // Stable: equal scores keep the lower class index first.
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    order.truncate(top.max(1));
    let label = |i: usize| labels.get(i).cloned().filter(|s| !s.is_empty());
    let mut out = String::new();
    if json {
        let v = serde_json::json!({
            "model": model_path.display().to_string(),
            "image": image_path.display().to_string(),
            "device": session.device().name,
            "top": order.iter().map(|&i| serde_json::json!({
                "class": i,
                "label": label(i),
                "score": scores[i],
            })).collect::<Vec<_>>(),
        });
        outln!(out, "{}", serde_json::to_string_pretty(&v)?);
    } else {
        outln!(out, "{}", device_line(&session));
        for &i in &order {
            outln!(
                out,
                "{i:>5}  {:.6}{}",
                scores[i],
                label(i).map(|s| format!("  {s}")).unwrap_or_default()
            );
        }
    }
    emit(&out)
}
