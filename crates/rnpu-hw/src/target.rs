//! Chip constants. One [`Target`] value per supported SoC; today only [`Target::RK3588`].
//!
//! Field-width limits are not restated here: they are read off the register declarations
//! (e.g. [`Target::max_pad`] is `PAD_CON0.PAD_TOP`'s maximum), so a limit and its register can
//! never disagree.

use serde::Serialize;

use crate::regs::{cna, core_, dpu, pc, Field};

/// Facts about one NPU.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Target {
    /// SoC name.
    pub name: &'static str,
    /// Independent NPU cores (TRM §36.1 via `anchors.md` §2; kernel binds 3
    /// `rockchip,rk3588-rknn-core` nodes, `mesa-rocket.md` §1.5).
    pub cores: u32,
    /// MMIO base of each core's register space (`mesa-rocket.md` §1.5, `anchors.md` §2).
    pub core_mmio_base: [u64; 3],
    /// CBUF banks per core (Mesa `rkt_ml.h`, `mesa-rocket.md` §3.2).
    pub cbuf_banks: u32,
    /// Bytes per CBUF bank (32 KiB; 12 × 32 KiB = the TRM's 384 KB per core).
    pub cbuf_bank_bytes: u32,
    /// CBUF entries per bank.
    pub cbuf_entries_per_bank: u32,
    /// Bytes per CBUF entry.
    pub cbuf_entry_bytes: u32,
    /// Channels per feature atom = C2 of the NC1HWC2 layout, for 8-bit data
    /// (Mesa `FEATURE_ATOMIC_SIZE`).
    pub feature_atomic_size: u32,
    /// Kernels per weight group (Mesa `WEIGHT_ATOMIC_SIZE`); also the input-channel group of
    /// direct-convolution weight packing.
    pub weight_atomic_size: u32,
    /// Bytes per pixel of one C2 surface line (Mesa `ATOMIC_K_SIZE`).
    pub atomic_k_size: u32,
    /// Input-channel group of depthwise weight packing (`mesa-rocket.md` §3.4).
    pub depthwise_channel_group: u32,
    /// int8 multiply-accumulates per cycle per core (TRM §36.1 via `anchors.md` §2).
    pub int8_macs_per_cycle: u32,
    /// Regcmd entries per unit of `PC_REGISTER_AMOUNTS.PC_DATA_AMOUNT` (2 on RK3588,
    /// `mesa-rocket.md` §4.2; the RK3568 fork reports 1 there).
    pub pc_amount_unit_entries: u32,
    /// Alignment of each task's regcmd within its buffer as Mesa lays them out (64 B).
    pub regcmd_task_align: u32,
    /// Entries of each of the DPU's two LUT tables (LE, LO): the vendor runtime and B [HW]
    /// upload 513 words to each (`docs/hw-semantics.md`, LUT rows); NVDLA has 65 and 257.
    pub lut_entries: u32,
}

impl Target {
    /// Rockchip RK3588.
    pub const RK3588: Target = Target {
        name: "RK3588",
        cores: 3,
        core_mmio_base: [0xFDAB_0000, 0xFDAC_0000, 0xFDAD_0000],
        cbuf_banks: 12,
        cbuf_bank_bytes: 32 * 1024,
        cbuf_entries_per_bank: 256,
        cbuf_entry_bytes: 128,
        feature_atomic_size: 16,
        weight_atomic_size: 32,
        atomic_k_size: 16,
        depthwise_channel_group: 64,
        int8_macs_per_cycle: 1024,
        pc_amount_unit_entries: 2,
        regcmd_task_align: 64,
        lut_entries: 513,
    };

    /// Total CBUF bytes per core.
    pub const fn cbuf_bytes(&self) -> u32 {
        self.cbuf_banks * self.cbuf_bank_bytes
    }

    /// Largest input width/height a task can program (`CNA.DATA_SIZE0`).
    pub const fn max_datain_width(&self) -> u32 {
        cna::DataSize0::DATAIN_WIDTH.max()
    }
    /// Largest input height of one task (`CNA.DATA_SIZE0.DATAIN_HEIGHT`).
    pub const fn max_datain_height(&self) -> u32 {
        cna::DataSize0::DATAIN_HEIGHT.max()
    }
    /// Largest kernel width/height (`CNA.WEIGHT_SIZE2`).
    pub const fn max_kernel_size(&self) -> u32 {
        min(
            cna::WeightSize2::WEIGHT_WIDTH.max(),
            cna::WeightSize2::WEIGHT_HEIGHT.max(),
        )
    }
    /// Largest kernel count (`CNA.WEIGHT_SIZE2.WEIGHT_KERNELS`).
    pub const fn max_kernels(&self) -> u32 {
        cna::WeightSize2::WEIGHT_KERNELS.max()
    }
    /// Largest leading pad (`CNA.PAD_CON0`).
    pub const fn max_pad(&self) -> u32 {
        min(cna::PadCon0::PAD_TOP.max(), cna::PadCon0::PAD_LEFT.max())
    }
    /// Largest convolution stride (`CNA.CONV_CON3`).
    pub const fn max_stride(&self) -> u32 {
        min(
            cna::ConvCon3::CONV_X_STRIDE.max(),
            cna::ConvCon3::CONV_Y_STRIDE.max(),
        )
    }
    /// Largest DPU cube extent, stored minus one (`DPU.DATA_CUBE_*`): the cube can be at most
    /// this + 1 wide/high/deep.
    pub const fn max_dpu_cube_minus_one(&self) -> u32 {
        dpu::DataCubeWidth::WIDTH.max()
    }
    /// Largest accumulator truncation (`CORE.CLIP_TRUNCATE`).
    pub const fn max_clip_truncate(&self) -> u32 {
        core_::ClipTruncate::CLIP_TRUNCATE.max()
    }
    /// Largest `PC_REGISTER_AMOUNTS` value.
    pub const fn max_pc_data_amount(&self) -> u32 {
        pc::RegisterAmounts::PC_DATA_AMOUNT.max()
    }
    /// Largest number of regcmd entries one PC fetch can cover.
    pub const fn max_regcmd_entries_per_fetch(&self) -> u32 {
        (self.max_pc_data_amount() + 1) * self.pc_amount_unit_entries
    }
    /// A field's maximum, for limits not given a name above.
    pub const fn field_max<R>(&self, f: Field<R>) -> u32 {
        f.max()
    }
}

const fn min(a: u32, b: u32) -> u32 {
    if a < b {
        a
    } else {
        b
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rk3588_constants() {
        let t = Target::RK3588;
        assert_eq!(t.cores, 3);
        // 12 banks × 32 KiB = 384 KiB (TRM "384KB" per core).
        assert_eq!(t.cbuf_bytes(), 384 * 1024);
        // 256 entries × 128 B fill a bank.
        assert_eq!(
            t.cbuf_entries_per_bank * t.cbuf_entry_bytes,
            t.cbuf_bank_bytes
        );
        assert_eq!(t.feature_atomic_size, 16);
    }

    #[test]
    fn limits_from_field_widths() {
        // mesa-rocket.md §4.5, worked by hand from the bit ranges.
        let t = Target::RK3588;
        assert_eq!(t.max_datain_width(), 2047); // 11 bits
        assert_eq!(t.max_datain_height(), 2047);
        assert_eq!(t.max_kernel_size(), 31); // 5 bits
        assert_eq!(t.max_kernels(), 16383); // 14 bits
        assert_eq!(t.max_pad(), 15); // 4 bits
        assert_eq!(t.max_stride(), 7); // 3 bits
        assert_eq!(t.max_dpu_cube_minus_one(), 8191); // 13 bits
        assert_eq!(t.max_clip_truncate(), 31); // 5 bits
        assert_eq!(t.max_pc_data_amount(), 65535);
        assert_eq!(t.max_regcmd_entries_per_fetch(), 131072);
        assert_eq!(t.field_max(dpu::OutCvtShift::OUT_CVT_SHIFT), 4095);
    }
}
