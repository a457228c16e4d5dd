//! `rnpu detect MODEL --image IMG --out annotated.png`: run a detector that ends in
//! `TFLite_Detection_PostProcess`, print its detections and draw them on the image.
//!
//! The image is fed as `rnpu classify` feeds it (see `classify.rs`). Boxes are the op's
//! normalized (ymin, xmin, ymax, xmax), drawn on the original image as 2-pixel outlines in a
//! colour per class, with the class index written above the box in a built-in 3×5 digit font
//! (no font file); label names, when given, are printed, not drawn. The PNG is written through a
//! temporary file renamed at the end.

use std::path::Path;

use anyhow::{bail, Context, Result};
use image::{Rgb, RgbImage};
use rnpu_model::{OpKind, OpOptions};
use rnpu_ref::kernels::detection::{DetectionOptions, CUSTOM_NAME};
use rnpu_runtime::DeviceSpec;

use crate::classify::{image_to_input, read_image, read_labels};
use crate::{device_line, emit, load_model_or_program, open_session, write_atomic};

/// One detection: class (without background), score, normalized (ymin, xmin, ymax, xmax).
#[derive(Clone, Debug)]
pub(crate) struct Detection {
    pub class: usize,
    pub score: f32,
    pub bbox: [f32; 4],
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn cmd_detect(
    model_path: &Path,
    image_path: &Path,
    out_path: &Path,
    threshold: f32,
    labels: Option<&Path>,
    device: &DeviceSpec,
    json: bool,
) -> Result<()> {
    let labels = read_labels(labels)?;
    let img = read_image(image_path)?;
    let l = load_model_or_program(model_path)?;
    let m = &l.model;
    // The four outputs of the post-process op, as positions in the model's outputs.
    let op = m
        .operators
        .iter()
        .rev()
        .find(|o| matches!(&o.kind, OpKind::Custom(n) if n == CUSTOM_NAME))
        .with_context(|| {
            format!(
                "{}: the model has no {CUSTOM_NAME} operator to decode",
                model_path.display()
            )
        })?;
    let pos: Vec<usize> = op
        .outputs
        .iter()
        .map(|t| m.outputs.iter().position(|o| o == t))
        .collect::<Option<_>>()
        .with_context(|| {
            format!(
                "{}: the outputs of {CUSTOM_NAME} are not all model outputs",
                model_path.display()
            )
        })?;
    let OpOptions::Custom(raw) = &op.options else {
        bail!("{}: {CUSTOM_NAME} has no options", model_path.display());
    };
    let opts = DetectionOptions::parse(raw)
        .map_err(|e| anyhow::anyhow!("{}: {CUSTOM_NAME} options: {e}", model_path.display()))?;
    if m.inputs.len() != 1 || pos.len() != 4 {
        bail!(
            "{}: detect needs one image input and the op's four outputs",
            model_path.display()
        );
    }
    let input = image_to_input(&img, &m.tensors[m.inputs[0]])
        .with_context(|| format!("{}", model_path.display()))?;
    let session = open_session(model_path, &l, device)?;
    let outs = session
        .run(&[input])
        .with_context(|| format!("{}: run failed", model_path.display()))?;
    let f = |k: usize| -> Result<&[f32]> {
        outs[pos[k]]
            .as_f32()
            .with_context(|| format!("{}: output {} is not float32", model_path.display(), pos[k]))
    };
    let (boxes, classes, scores, num) = (f(0)?, f(1)?, f(2)?, f(3)?);
    let n = (num.first().copied().unwrap_or(0.0).max(0.0) as usize).min(scores.len());
    // Fast NMS writes max_classes_per_detection rows per detection, regular NMS one.
    let rows = if opts.use_regular_nms {
        n
    } else {
        n * opts.max_classes_per_detection.max(0) as usize
    }
    .min(scores.len());
    let dets: Vec<Detection> = (0..rows)
        .filter(|&i| scores[i] >= threshold)
        .map(|i| Detection {
            class: classes[i].max(0.0) as usize,
            score: scores[i],
            bbox: [
                boxes[i * 4],
                boxes[i * 4 + 1],
                boxes[i * 4 + 2],
                boxes[i * 4 + 3],
            ],
        })
        .collect();

    let mut canvas = img.to_rgb8();
    for d in &dets {
        draw_detection(&mut canvas, d);
    }
    let mut png = Vec::new();
    canvas
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .with_context(|| format!("{}: cannot encode PNG", out_path.display()))?;
    write_atomic(out_path, &png)?;

    let label = |c: usize| labels.get(c).cloned().filter(|s| !s.is_empty());
    let mut out = String::new();
    if json {
        let v = serde_json::json!({
            "model": model_path.display().to_string(),
            "image": image_path.display().to_string(),
            "out": out_path.display().to_string(),
            "device": session.device().name,
            "num_detections": n,
            "detections": dets.iter().map(|d| serde_json::json!({
                "class": d.class,
                "label": label(d.class),
                "score": d.score,
                "box": d.bbox,
            })).collect::<Vec<_>>(),
        });
        outln!(out, "{}", serde_json::to_string_pretty(&v)?);
    } else {
        outln!(out, "{}", device_line(&session));
        outln!(
            out,
            "{n} detection(s), {} at score >= {threshold}; annotated image: {}",
            dets.len(),
            out_path.display()
        );
        for d in &dets {
            outln!(
                out,
                "class {:>3}  score {:.4}  box (ymin, xmin, ymax, xmax) ({:.4}, {:.4}, {:.4}, {:.4}){}",
                d.class,
                d.score,
                d.bbox[0],
                d.bbox[1],
                d.bbox[2],
                d.bbox[3],
                label(d.class).map(|s| format!("  {s}")).unwrap_or_default()
            );
        }
    }
    emit(&out)
}

/// A distinct, saturated colour per class.
pub(crate) fn class_colour(class: usize) -> Rgb<u8> {
    const PALETTE: [[u8; 3]; 8] = [
        [255, 0, 0],
        [0, 200, 0],
        [0, 80, 255],
        [255, 160, 0],
        [200, 0, 200],
        [0, 200, 200],
        [255, 255, 0],
        [255, 255, 255],
    ];
    Rgb(PALETTE[class % PALETTE.len()])
}

/// The pixel rectangle (x0, y0, x1, y1), inclusive, of a normalized box on a w×h image.
pub(crate) fn pixel_box(b: &[f32; 4], w: u32, h: u32) -> (i64, i64, i64, i64) {
    let px = |v: f32, n: u32| ((v.clamp(0.0, 1.0) * n as f32).round() as i64).min(n as i64 - 1);
    (px(b[1], w), px(b[0], h), px(b[3], w), px(b[2], h))
}

fn put(img: &mut RgbImage, x: i64, y: i64, c: Rgb<u8>) {
    if x >= 0 && y >= 0 && (x as u32) < img.width() && (y as u32) < img.height() {
        img.put_pixel(x as u32, y as u32, c);
    }
}

fn draw_detection(img: &mut RgbImage, d: &Detection) {
    let c = class_colour(d.class);
    let (x0, y0, x1, y1) = pixel_box(&d.bbox, img.width(), img.height());
    for t in 0..2 {
        for x in x0..=x1 {
            put(img, x, y0 + t, c);
            put(img, x, y1 - t, c);
        }
        for y in y0..=y1 {
            put(img, x0 + t, y, c);
            put(img, x1 - t, y, c);
        }
    }
    // The class index above the box's top-left corner (inside it when at the top edge).
    let text = d.class.to_string();
    let scale = 2;
    let (tw, th) = (
        (text.len() as i64) * 4 * scale + scale,
        5 * scale + 2 * scale,
    );
    let ty = if y0 >= th { y0 - th } else { y0 + 2 };
    for y in ty..ty + th {
        for x in x0..x0 + tw {
            put(img, x, y, c);
        }
    }
    for (k, ch) in text.bytes().enumerate() {
        let glyph = DIGITS[usize::from(ch - b'0')];
        for (row, bits) in glyph.iter().enumerate() {
            for col in 0..3 {
                if bits & (0b100 >> col) != 0 {
                    for dy in 0..scale {
                        for dx in 0..scale {
                            put(
                                img,
                                x0 + scale + (k as i64) * 4 * scale + col * scale + dx,
                                ty + scale + (row as i64) * scale + dy,
                                Rgb([0, 0, 0]),
                            );
                        }
                    }
                }
            }
        }
    }
}

/// 3×5 glyphs of the digits 0–9, one row per entry, bit 2 = left column.
const DIGITS: [[u8; 5]; 10] = [
    [0b111, 0b101, 0b101, 0b101, 0b111],
    [0b010, 0b110, 0b010, 0b010, 0b111],
    [0b111, 0b001, 0b111, 0b100, 0b111],
    [0b111, 0b001, 0b111, 0b001, 0b111],
    [0b101, 0b101, 0b111, 0b001, 0b001],
    [0b111, 0b100, 0b111, 0b001, 0b111],
    [0b111, 0b100, 0b111, 0b101, 0b111],
    [0b111, 0b001, 0b010, 0b010, 0b010],
    [0b111, 0b101, 0b111, 0b101, 0b111],
    [0b111, 0b101, 0b111, 0b001, 0b111],
];
