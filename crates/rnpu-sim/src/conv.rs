//! CNA (feature fetch, input converter, padding, weight fetch, CBUF check) and CORE (int8 MACs,
//! int32 accumulation, CLIP_TRUNCATE), run per task as blocked integer loops.
//!
//! Hardware facts used here, with their sources (ledger: `docs/hw-semantics.md`):
//! * Feature maps are int8 NC1HWC2 with C2 = 16 (Mesa `rkt_ml.c`; captures README, verified
//!   byte for byte against `input.npy`).
//! * Weight layout: kernel groups of 32 (WEIGHT_ATOMIC_SIZE, Mesa `rkt_ml.h`), channel groups of
//!   32 (direct) or 64 (depthwise), then `[ky][kx][kernel][channel]` (Mesa `rkt_coefs.c`, captures
//!   README "Conv weights BO").
//! * The weight offset `BS_OW_OP` adds `OW·S` (S = window sum of the CNA input, pad taps and
//!   padded channels included) before the BS ALU (G [HW], datapath-semantics §3). The emulator
//!   folds it into the weights (`w + OW`), which is the same sum.
//! * CLIP_TRUNCATE: `sat32(rha_t(acc))` per NVDLA cmod/doc (datapath-semantics §2, decision 1);
//!   the rounding is switchable because no RK measurement exists.

use crate::arith::{sat32, sat_signed, shift_round, Rounding};
use crate::error::{Fault, Unit};
use crate::hwconst::{
    CBUF_BANKS, CBUF_BANK_BYTES, DW_WEIGHT_CHANNEL_GROUP, FEATURE_C2, WEIGHT_CHANNEL_GROUP,
    WEIGHT_KERNEL_GROUP,
};
use crate::memory::Memory;

/// Direct convolution or depthwise (CNA CONV_MODE 0 / 3, CORE DW_EN).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConvMode {
    Direct,
    Depthwise,
}

/// `CNA_CVT_CON0.CVT_TYPE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CvtOrder {
    /// `round_t(x·scale) + offset` (CVT_TYPE = 0).
    MulThenAdd,
    /// `round_t((x + offset)·scale)` (CVT_TYPE = 1).
    AddThenMul,
}

/// One lane of the CNA input converter (`CNA_CVT_CON1..4` + the truncate field of `CVT_CON0`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CvtLane {
    pub scale: i16,
    pub offset: i16,
    pub truncate: u8,
}

/// The CNA input converter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputConverter {
    /// `CVT_BYPASS`: bytes go to the MAC as stored.
    pub bypass: bool,
    /// `DATA_SIGN`: stored bytes are two's complement (1) or unsigned (0).
    pub signed: bool,
    pub order: CvtOrder,
    /// `ROUND_TYPE`: 0 ties to even, 1 half up (TRM field description).
    pub rounding: Rounding,
    pub lanes: [CvtLane; 4],
    /// `CVT_CON5`: per-channel (c mod 16) enable of the conversion.
    pub channel_mask: u16,
}

impl InputConverter {
    /// Converts one stored byte of channel `c` to the value the MAC sees.
    /// The result is saturated to int8 (NVDLA `cdma_cvt` saturates to the int8 precision;
    /// unmeasured on RK — datapath-semantics §1).
    pub fn convert(&self, byte: u8, c: usize) -> i16 {
        let x = if self.signed {
            byte as i8 as i64
        } else {
            byte as i64
        };
        if self.bypass || (self.channel_mask >> (c % 16)) & 1 == 0 {
            return sat_signed(x, 8) as i16;
        }
        let lane = self.lanes[c % 4];
        let (scale, off) = (lane.scale as i64, lane.offset as i64);
        let t = lane.truncate as u32;
        let y = match self.order {
            CvtOrder::MulThenAdd => shift_round(x * scale, t, self.rounding) + off,
            CvtOrder::AddThenMul => shift_round((x + off) * scale, t, self.rounding),
        };
        sat_signed(y, 8) as i16
    }
}

/// How the feature cube lies in memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeatureLayout {
    /// NC1HWC2, C2 = 16 bytes per pixel per surface.
    Nc1hwc2 { line_bytes: u64, surface_bytes: u64 },
    /// "Non-aligned" packed pixels (CONV_CON1.NONALIGN_DMA, the IC == 1 path of Mesa):
    /// `channels_real` bytes per pixel, lines `line_bytes` apart.
    Packed { line_bytes: u64 },
}

/// The CNA feature input of one task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeatureInput {
    pub addr: u64,
    /// DATAIN_WIDTH / HEIGHT / CHANNEL: the cube the convolution sees.
    pub width: u32,
    pub height: u32,
    pub channels: u32,
    /// DATAIN_CHANNEL_REAL + 1.
    pub channels_real: u32,
    /// FC_DATA_SIZE0.DMA_WIDTH / DMA_HEIGHT: the part of the cube fetched from memory.
    /// Pixels of the cube outside it take the pad value (see the ledger, "DMA extent").
    pub dma_width: u32,
    pub dma_height: u32,
    pub layout: FeatureLayout,
    pub converter: InputConverter,
    /// CNA_PAD_CON1 as written.
    pub pad_con1: u32,
}

/// The per-kernel weight offset (DPU BS CPEND), folded into the MAC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WeightOffset {
    None,
    PerTensor(i32),
    PerChannel(Vec<i32>),
}

impl WeightOffset {
    fn for_channel(&self, c: usize) -> i32 {
        match self {
            WeightOffset::None => 0,
            WeightOffset::PerTensor(v) => *v,
            WeightOffset::PerChannel(v) => v.get(c).copied().unwrap_or(0),
        }
    }
}

/// Everything CNA + CORE need for one task, decoded from the register file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConvTask {
    pub mode: ConvMode,
    pub input: FeatureInput,
    pub weights_addr: u64,
    /// CNA_WEIGHT_SIZE0 / SIZE1 (bytes, bytes per kernel), SIZE2 (width, height, kernels).
    pub weight_bytes: u32,
    pub weight_bytes_per_kernel: u32,
    pub kernel_w: u32,
    pub kernel_h: u32,
    pub kernels: u32,
    pub stride_x: u32,
    pub stride_y: u32,
    pub pad_left: u32,
    pub pad_top: u32,
    /// CORE_DATAOUT_SIZE_0/1 (+1).
    pub out_width: u32,
    pub out_height: u32,
    pub out_channels: u32,
    pub clip_truncate: u8,
    pub weight_reuse: bool,
    pub data_banks: u32,
    pub weight_banks: u32,
}

/// Options of the accumulator that no RK measurement pins down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CoreOptions {
    /// Rounding of CLIP_TRUNCATE (default: half away, NVDLA).
    pub truncate_rounding: Rounding,
    /// Depthwise pad byte lanes (G [HW]): odd channels among the first 32 of each 64-channel
    /// group read byte 1 of CNA_PAD_CON1. `false` = every channel reads byte 0.
    pub dw_pad_byte_lanes: bool,
}

impl Default for CoreOptions {
    fn default() -> Self {
        CoreOptions {
            truncate_rounding: Rounding::HalfAway,
            dw_pad_byte_lanes: true,
        }
    }
}

/// Work bounds for one task (fuzzing and host protection).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConvLimits {
    pub max_macs: u64,
    pub max_elements: u64,
}

impl Default for ConvLimits {
    fn default() -> Self {
        ConvLimits {
            max_macs: 8_000_000_000,
            max_elements: 64 << 20,
        }
    }
}

/// The CORE output: int32 accumulators, `[channel][y][x]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accumulators {
    pub channels: u32,
    pub height: u32,
    pub width: u32,
    pub data: Vec<i32>,
}

/// Diagnostics a task may produce without stopping (logged warnings).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Warnings(pub Vec<String>);

/// Weights resident in the CBUF of one core (for WEIGHT_REUSE).
#[derive(Debug, Clone, Default)]
pub struct CbufState {
    pub weights: Option<(u64, Vec<u8>)>,
}

impl ConvTask {
    /// Number of multiply-accumulates the task performs.
    pub fn macs(&self) -> u64 {
        let per_out = self.kernel_w as u64
            * self.kernel_h as u64
            * match self.mode {
                ConvMode::Direct => self.input.channels as u64,
                ConvMode::Depthwise => 1,
            };
        let outs =
            (self.out_width as u64 * self.out_height as u64).saturating_mul(match self.mode {
                ConvMode::Direct => self.kernels.min(self.out_channels) as u64,
                ConvMode::Depthwise => self.input.channels.min(self.out_channels) as u64,
            });
        per_out.saturating_mul(outs)
    }

    /// Bytes the CNA reads (feature fetch + weights).
    pub fn dma_bytes(&self) -> u64 {
        let fm = self.input.dma_width as u64
            * self.input.dma_height as u64
            * match self.input.layout {
                FeatureLayout::Nc1hwc2 { .. } => self.input.channels as u64,
                FeatureLayout::Packed { .. } => self.input.channels_real as u64,
            };
        fm + if self.weight_reuse {
            0
        } else {
            self.weight_bytes as u64
        }
    }

    /// Validates the task against the hardware limits and the work bounds.
    pub fn check(&self, limits: &ConvLimits, warnings: &mut Warnings) -> Result<(), Fault> {
        let inv = |w: String| Err(Fault::invalid(Unit::Cna, w));
        let i = &self.input;
        if i.width == 0 || i.height == 0 || i.channels == 0 {
            return inv(format!(
                "empty input cube {}x{}x{}",
                i.width, i.height, i.channels
            ));
        }
        if !i.channels.is_multiple_of(FEATURE_C2 as u32)
            && matches!(i.layout, FeatureLayout::Nc1hwc2 { .. })
        {
            return inv(format!(
                "DATAIN_CHANNEL {} is not a multiple of {FEATURE_C2}",
                i.channels
            ));
        }
        if i.channels_real > i.channels {
            return inv(format!(
                "DATAIN_CHANNEL_REAL+1 = {} exceeds DATAIN_CHANNEL {}",
                i.channels_real, i.channels
            ));
        }
        if self.kernel_w == 0 || self.kernel_h == 0 || self.stride_x == 0 || self.stride_y == 0 {
            return inv(format!(
                "kernel {}x{} stride {}x{}",
                self.kernel_w, self.kernel_h, self.stride_x, self.stride_y
            ));
        }
        if self.out_width == 0 || self.out_height == 0 || self.out_channels == 0 {
            return Err(Fault::invalid(Unit::Core, "empty output cube"));
        }
        let kernels = match self.mode {
            ConvMode::Direct => self.kernels,
            ConvMode::Depthwise => 1,
        };
        if kernels == 0 {
            return inv("WEIGHT_KERNELS = 0".into());
        }
        let per_kernel = self.kernel_w as u64 * self.kernel_h as u64 * i.channels as u64;
        if self.weight_bytes_per_kernel as u64 != per_kernel {
            return inv(format!(
                "WEIGHT_BYTES_PER_KERNEL {} != KW·KH·C = {per_kernel}",
                self.weight_bytes_per_kernel
            ));
        }
        if self.weight_bytes as u64 != per_kernel * kernels as u64 {
            return inv(format!(
                "WEIGHT_BYTES {} != bytes per kernel × kernels = {}",
                self.weight_bytes,
                per_kernel * kernels as u64
            ));
        }
        // CBUF banks (Target: 12 × 32 KiB; Mesa rkt_ml.h, TRM §36.1).
        if self.data_banks + self.weight_banks > CBUF_BANKS {
            return inv(format!(
                "CBUF DATA_BANK {} + WEIGHT_BANK {} > {CBUF_BANKS}",
                self.data_banks, self.weight_banks
            ));
        }
        let fm_bytes = i.width as u64 * i.height as u64 * i.channels as u64;
        if fm_bytes > self.data_banks as u64 * CBUF_BANK_BYTES {
            return inv(format!(
                "input cube {}x{}x{} = {fm_bytes} B does not fit DATA_BANK {} × {CBUF_BANK_BYTES} B",
                i.width, i.height, i.channels, self.data_banks
            ));
        }
        if self.weight_bytes as u64 > self.weight_banks as u64 * CBUF_BANK_BYTES {
            // Mesa streams weights larger than the weight banks (e.g. 5x5x128x120); they pass
            // on silicon, so the CNA must refetch them. Not a fault; logged.
            warnings.0.push(format!(
                "CNA: weights ({} B) exceed WEIGHT_BANK {} × {CBUF_BANK_BYTES} B; modelled as streamed",
                self.weight_bytes, self.weight_banks
            ));
        }
        let elements = self.out_width as u64 * self.out_height as u64 * self.out_channels as u64;
        if elements > limits.max_elements {
            return Err(Fault::Limit {
                unit: Unit::Core,
                what: "output elements",
                value: elements,
                max: limits.max_elements,
            });
        }
        let in_elems = (self.padded_w() * self.padded_h()) * i.channels as u64;
        if in_elems > limits.max_elements {
            return Err(Fault::Limit {
                unit: Unit::Cna,
                what: "input window elements",
                value: in_elems,
                max: limits.max_elements,
            });
        }
        if self.weight_bytes as u64 > limits.max_elements {
            return Err(Fault::Limit {
                unit: Unit::Cna,
                what: "weight bytes",
                value: self.weight_bytes as u64,
                max: limits.max_elements,
            });
        }
        let macs = self.macs();
        if macs > limits.max_macs {
            return Err(Fault::Limit {
                unit: Unit::Core,
                what: "MACs per task",
                value: macs,
                max: limits.max_macs,
            });
        }
        Ok(())
    }

    fn padded_w(&self) -> u64 {
        (self.out_width as u64 - 1) * self.stride_x as u64 + self.kernel_w as u64
    }
    fn padded_h(&self) -> u64 {
        (self.out_height as u64 - 1) * self.stride_y as u64 + self.kernel_h as u64
    }

    /// The pad value seen by channel `c` (CNA_PAD_CON1).
    ///
    /// G [HW] (int8 depthwise): odd channels among the first 32 of each 64-channel group read
    /// byte 1 of PAD_CON1, all others byte 0. Direct convolution: byte 0 (Mesa programs
    /// `izp − 0x80`, sign-extended).
    fn pad_value(&self, c: usize, opts: &CoreOptions) -> i16 {
        let b = match self.mode {
            ConvMode::Depthwise if opts.dw_pad_byte_lanes && c % 64 < 32 && c % 2 == 1 => {
                (self.input.pad_con1 >> 8) as u8
            }
            _ => self.input.pad_con1 as u8,
        };
        b as i8 as i16
    }

    /// Fetches the padded input window `[y][x][c]` as the MAC sees it (converted int8 values).
    fn fetch_input(
        &self,
        mem: &Memory,
        opts: &CoreOptions,
    ) -> Result<(Vec<i16>, usize, usize), Fault> {
        let i = &self.input;
        let c_n = i.channels as usize;
        let wp = self.padded_w() as usize;
        let hp = self.padded_h() as usize;
        let pads: Vec<i16> = (0..c_n).map(|c| self.pad_value(c, opts)).collect();
        let mut win = vec![0i16; wp * hp * c_n];
        for (yy, row) in win.chunks_mut(wp * c_n).enumerate() {
            let y = yy as i64 - self.pad_top as i64;
            let y_in = y >= 0 && y < i.height.min(i.dma_height) as i64;
            for (xx, px) in row.chunks_mut(c_n).enumerate() {
                let x = xx as i64 - self.pad_left as i64;
                if !(y_in && x >= 0 && x < i.width.min(i.dma_width) as i64) {
                    px.copy_from_slice(&pads);
                }
            }
            if !y_in {
                continue;
            }
            let x0 = self.pad_left as usize;
            let x1 = (x0 + i.width.min(i.dma_width) as usize).min(wp);
            if x1 <= x0 {
                continue;
            }
            let ncols = x1 - x0;
            match i.layout {
                FeatureLayout::Nc1hwc2 {
                    line_bytes,
                    surface_bytes,
                } => {
                    for g in 0..c_n / FEATURE_C2 {
                        // 32-bit wrapping address arithmetic: Mesa's 1x1 maps program a
                        // negative SURF_STRIDE that only works modulo 2^32.
                        let addr = (i.addr as u32)
                            .wrapping_add((g as u64 * surface_bytes) as u32)
                            .wrapping_add((y as u64 * line_bytes) as u32)
                            as u64;
                        let bytes = mem.read(Unit::Cna, addr, (ncols * FEATURE_C2) as u64)?;
                        for (k, px) in bytes.chunks_exact(FEATURE_C2).enumerate() {
                            let dst = &mut row[(x0 + k) * c_n + g * FEATURE_C2..][..FEATURE_C2];
                            for (l, (d, &b)) in dst.iter_mut().zip(px).enumerate() {
                                *d = i.converter.convert(b, g * FEATURE_C2 + l);
                            }
                        }
                    }
                }
                FeatureLayout::Packed { line_bytes } => {
                    let cr = i.channels_real as usize;
                    let addr = (i.addr as u32).wrapping_add((y as u64 * line_bytes) as u32) as u64;
                    let bytes = mem.read(Unit::Cna, addr, (ncols * cr) as u64)?;
                    for (k, px) in bytes.chunks_exact(cr).enumerate() {
                        let dst = &mut row[(x0 + k) * c_n..][..cr];
                        for (c, (d, &b)) in dst.iter_mut().zip(px).enumerate() {
                            *d = i.converter.convert(b, c);
                        }
                    }
                }
            }
        }
        Ok((win, wp, hp))
    }

    /// Reads the weight bytes (or takes the CBUF-resident ones on WEIGHT_REUSE).
    fn fetch_weights(&self, mem: &Memory, cbuf: &mut CbufState) -> Result<Vec<u8>, Fault> {
        if self.weight_reuse {
            return match &cbuf.weights {
                Some((_, w)) if w.len() == self.weight_bytes as usize => Ok(w.clone()),
                Some((_, w)) => Err(Fault::invalid(
                    Unit::Cna,
                    format!(
                        "WEIGHT_REUSE with {} resident weight bytes, task needs {}",
                        w.len(),
                        self.weight_bytes
                    ),
                )),
                None => Err(Fault::invalid(
                    Unit::Cna,
                    "WEIGHT_REUSE set but no weights are resident in the CBUF of this core",
                )),
            };
        }
        let w = mem
            .read(Unit::Cna, self.weights_addr, self.weight_bytes as u64)?
            .to_vec();
        cbuf.weights = Some((self.weights_addr, w.clone()));
        Ok(w)
    }

    /// Runs CNA + CORE for the task. `ow` is the DPU weight offset (CPEND), folded into the MAC.
    pub fn run(
        &self,
        mem: &Memory,
        cbuf: &mut CbufState,
        ow: &WeightOffset,
        opts: &CoreOptions,
        limits: &ConvLimits,
        warnings: &mut Warnings,
    ) -> Result<Accumulators, Fault> {
        self.check(limits, warnings)?;
        let (win, wp, _hp) = self.fetch_input(mem, opts)?;
        let wbytes = self.fetch_weights(mem, cbuf)?;
        let c_n = self.input.channels as usize;
        let (kw, kh) = (self.kernel_w as usize, self.kernel_h as usize);
        let (wo, ho, co) = (
            self.out_width as usize,
            self.out_height as usize,
            self.out_channels as usize,
        );
        let mut acc = vec![0i64; co * ho * wo];
        match self.mode {
            ConvMode::Direct => {
                let k_n = (self.kernels as usize).min(co);
                let w = unpack_direct(&wbytes, self.kernels as usize, kh, kw, c_n, ow);
                conv_direct(&win, wp, &w, k_n, kh, kw, c_n, self, &mut acc);
            }
            ConvMode::Depthwise => {
                let w = unpack_depthwise(&wbytes, kh, kw, c_n, ow);
                conv_depthwise(&win, wp, &w, kh, kw, c_n, self, &mut acc);
            }
        }
        let t = self.clip_truncate as u32;
        let data = acc
            .into_iter()
            .map(|a| sat32(shift_round(a, t, opts.truncate_rounding)))
            .collect();
        Ok(Accumulators {
            channels: co as u32,
            height: ho as u32,
            width: wo as u32,
            data,
        })
    }
}

/// Direct-conv weights as `[kernel][ky][kx][c]` with the weight offset added.
fn unpack_direct(
    bytes: &[u8],
    kernels: usize,
    kh: usize,
    kw: usize,
    c_n: usize,
    ow: &WeightOffset,
) -> Vec<i32> {
    let g_k = WEIGHT_KERNEL_GROUP;
    let g_c = WEIGHT_CHANNEL_GROUP;
    let per_kernel = kh * kw * c_n;
    let mut out = vec![0i32; kernels * per_kernel];
    for k in 0..kernels {
        let (k1, k2) = (k / g_k, k % g_k);
        let nk = g_k.min(kernels - k1 * g_k);
        let group_base = k1 * g_k * per_kernel;
        let off = ow.for_channel(k);
        for c in 0..c_n {
            let (c1, c2) = (c / g_c, c % g_c);
            let nc = g_c.min(c_n - c1 * g_c);
            let block = group_base + c1 * g_c * kh * kw * nk;
            for ky in 0..kh {
                for kx in 0..kw {
                    let idx = block + ((ky * kw + kx) * nk + k2) * nc + c2;
                    out[((k * kh + ky) * kw + kx) * c_n + c] = bytes[idx] as i8 as i32 + off;
                }
            }
        }
    }
    out
}

/// Depthwise weights as `[ky][kx][c]` with the per-channel weight offset added.
fn unpack_depthwise(bytes: &[u8], kh: usize, kw: usize, c_n: usize, ow: &WeightOffset) -> Vec<i32> {
    let g_c = DW_WEIGHT_CHANNEL_GROUP;
    let mut out = vec![0i32; kh * kw * c_n];
    for c in 0..c_n {
        let (c1, c2) = (c / g_c, c % g_c);
        let nc = g_c.min(c_n - c1 * g_c);
        let off = ow.for_channel(c);
        for ky in 0..kh {
            for kx in 0..kw {
                let idx = c1 * g_c * kh * kw + (ky * kw + kx) * nc + c2;
                out[(ky * kw + kx) * c_n + c] = bytes[idx] as i8 as i32 + off;
            }
        }
    }
    out
}

/// Dot product of an i16 window row with i16 weights, accumulated exactly.
#[inline]
fn dot_i16(a: &[i16], b: &[i16]) -> i64 {
    // |a| ≤ 128 (int8 after the converter), |b| ≤ 32767: chunks of 512 stay inside i32.
    let mut total = 0i64;
    for (ca, cb) in a.chunks(512).zip(b.chunks(512)) {
        let s: i32 = ca.iter().zip(cb).map(|(&x, &y)| x as i32 * y as i32).sum();
        total += s as i64;
    }
    total
}

#[allow(clippy::too_many_arguments)]
fn conv_direct(
    win: &[i16],
    wp: usize,
    w: &[i32],
    k_n: usize,
    kh: usize,
    kw: usize,
    c_n: usize,
    t: &ConvTask,
    acc: &mut [i64],
) {
    let (wo, ho) = (t.out_width as usize, t.out_height as usize);
    let (sx, sy) = (t.stride_x as usize, t.stride_y as usize);
    let row_len = kw * c_n;
    let per_kernel = kh * row_len;
    let fits16 = w
        .iter()
        .all(|&v| v >= i16::MIN as i32 && v <= i16::MAX as i32);
    if fits16 {
        let w16: Vec<i16> = w.iter().map(|&v| v as i16).collect();
        const KB: usize = 16;
        for oy in 0..ho {
            for kb in (0..k_n).step_by(KB) {
                let kend = (kb + KB).min(k_n);
                for ox in 0..wo {
                    for k in kb..kend {
                        let wk = &w16[k * per_kernel..(k + 1) * per_kernel];
                        let mut s = 0i64;
                        for ky in 0..kh {
                            let start = ((oy * sy + ky) * wp + ox * sx) * c_n;
                            s += dot_i16(
                                &win[start..start + row_len],
                                &wk[ky * row_len..(ky + 1) * row_len],
                            );
                        }
                        acc[(k * ho + oy) * wo + ox] = s;
                    }
                }
            }
        }
    } else {
        for k in 0..k_n {
            let wk = &w[k * per_kernel..(k + 1) * per_kernel];
            for oy in 0..ho {
                for ox in 0..wo {
                    let mut s = 0i64;
                    for ky in 0..kh {
                        let start = ((oy * sy + ky) * wp + ox * sx) * c_n;
                        s += win[start..start + row_len]
                            .iter()
                            .zip(&wk[ky * row_len..(ky + 1) * row_len])
                            .map(|(&x, &y)| x as i64 * y as i64)
                            .sum::<i64>();
                    }
                    acc[(k * ho + oy) * wo + ox] = s;
                }
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn conv_depthwise(
    win: &[i16],
    wp: usize,
    w: &[i32],
    kh: usize,
    kw: usize,
    c_n: usize,
    t: &ConvTask,
    acc: &mut [i64],
) {
    let (wo, ho, co) = (
        t.out_width as usize,
        t.out_height as usize,
        t.out_channels as usize,
    );
    let (sx, sy) = (t.stride_x as usize, t.stride_y as usize);
    let cn = c_n.min(co);
    let mut px = vec![0i64; c_n];
    for oy in 0..ho {
        for ox in 0..wo {
            px.iter_mut().for_each(|v| *v = 0);
            for ky in 0..kh {
                for kx in 0..kw {
                    let start = ((oy * sy + ky) * wp + ox * sx + kx) * c_n;
                    let xs = &win[start..start + c_n];
                    let ws = &w[(ky * kw + kx) * c_n..][..c_n];
                    for ((p, &x), &wv) in px.iter_mut().zip(xs).zip(ws) {
                        *p += x as i64 * wv as i64;
                    }
                }
            }
            for (c, &v) in px.iter().enumerate().take(cn) {
                acc[(c * ho + oy) * wo + ox] = v;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bypass_cvt() -> InputConverter {
        InputConverter {
            bypass: true,
            signed: true,
            order: CvtOrder::AddThenMul,
            rounding: Rounding::HalfEven,
            lanes: [CvtLane {
                scale: 1,
                offset: 0,
                truncate: 0,
            }; 4],
            channel_mask: 0,
        }
    }

    #[test]
    fn mesa_ic1_converter_subtracts_128() {
        // Mesa IC==1 recipe: CVT_TYPE 0, truncate 14, scale 16384, offset -128, DATA_SIGN 0.
        let cvt = InputConverter {
            bypass: false,
            signed: false,
            order: CvtOrder::MulThenAdd,
            rounding: Rounding::HalfEven,
            lanes: [CvtLane {
                scale: 16384,
                offset: -128,
                truncate: 14,
            }; 4],
            channel_mask: 0xffff,
        };
        assert_eq!(cvt.convert(0, 0), -128);
        assert_eq!(cvt.convert(255, 0), 127);
        assert_eq!(cvt.convert(200, 3), 72);
        assert_eq!(bypass_cvt().convert(0x80, 0), -128);
    }

    /// A 3x3 SAME conv on a 2x2x16 map with 2 kernels, worked by hand.
    #[test]
    fn tiny_direct_conv_by_hand() {
        let mut mem = Memory::new();
        // input: channel 0 = [[1,2],[3,4]], other channels 0.
        let mut fm = vec![0u8; 4 * 16];
        for (p, v) in [1i8, 2, 3, 4].iter().enumerate() {
            fm[p * 16] = *v as u8;
        }
        mem.map(0x1000, fm).unwrap();
        // weights: kernel 0 = all ones on channel 0, kernel 1 = centre tap 2 on channel 0.
        // layout [ky][kx][k(2)][c(16)]
        let mut w = vec![0u8; 9 * 2 * 16];
        for t in 0..9 {
            w[t * 32] = 1;
        }
        w[4 * 32 + 16] = 2;
        mem.map(0x2000, w).unwrap();
        let task = ConvTask {
            mode: ConvMode::Direct,
            input: FeatureInput {
                addr: 0x1000,
                width: 2,
                height: 2,
                channels: 16,
                channels_real: 1,
                dma_width: 2,
                dma_height: 2,
                layout: FeatureLayout::Nc1hwc2 {
                    line_bytes: 32,
                    surface_bytes: 64,
                },
                converter: bypass_cvt(),
                pad_con1: 0xffff_ffff, // pad -1
            },
            weights_addr: 0x2000,
            weight_bytes: 288,
            weight_bytes_per_kernel: 144,
            kernel_w: 3,
            kernel_h: 3,
            kernels: 2,
            stride_x: 1,
            stride_y: 1,
            pad_left: 1,
            pad_top: 1,
            out_width: 2,
            out_height: 2,
            out_channels: 2,
            clip_truncate: 0,
            weight_reuse: false,
            data_banks: 1,
            weight_banks: 11,
        };
        let mut cb = CbufState::default();
        let mut warn = Warnings::default();
        let a = task
            .run(
                &mem,
                &mut cb,
                &WeightOffset::None,
                &CoreOptions::default(),
                &ConvLimits::default(),
                &mut warn,
            )
            .unwrap();
        // kernel 0 at each output: sum of the 4 data values + 5 pad taps × (-1) = 10 - 5 = 5.
        assert_eq!(&a.data[0..4], &[5, 5, 5, 5]);
        // kernel 1: 2 × centre.
        assert_eq!(&a.data[4..8], &[2, 4, 6, 8]);
        // Weight offset +1 on every weight of every channel: adds the window sum over all 16
        // channels: data 10 + pad taps 5 × 16 channels × (-1).
        let a2 = task
            .run(
                &mem,
                &mut cb,
                &WeightOffset::PerTensor(1),
                &CoreOptions::default(),
                &ConvLimits::default(),
                &mut warn,
            )
            .unwrap();
        assert_eq!(a2.data[0], 5 + 10 - 80);
        // WEIGHT_REUSE takes the resident weights even if memory changes.
        let t2 = ConvTask {
            weight_reuse: true,
            weights_addr: 0xdead_0000,
            ..task.clone()
        };
        let a3 = t2
            .run(
                &mem,
                &mut cb,
                &WeightOffset::None,
                &CoreOptions::default(),
                &ConvLimits::default(),
                &mut warn,
            )
            .unwrap();
        assert_eq!(a3.data, a.data);
        // Unmapped weights fault with the unit and address.
        let t3 = ConvTask {
            weights_addr: 0x9000,
            ..task
        };
        let e = t3
            .run(
                &mem,
                &mut CbufState::default(),
                &WeightOffset::None,
                &CoreOptions::default(),
                &ConvLimits::default(),
                &mut warn,
            )
            .unwrap_err();
        assert!(matches!(
            e,
            Fault::Memory {
                unit: Unit::Cna,
                addr: 0x9000,
                ..
            }
        ));
    }
}
