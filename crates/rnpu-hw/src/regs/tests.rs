use super::*;
use std::collections::HashSet;

#[test]
fn offsets_unique_and_sorted_per_block() {
    for b in Block::ALL {
        let regs = b.registers();
        assert!(!regs.is_empty(), "{b} has no registers");
        for w in regs.windows(2) {
            assert!(w[0].offset < w[1].offset, "{} not sorted", w[1].full_name());
        }
        for r in regs {
            assert_eq!(r.block, b);
            assert_eq!(Block::from_offset(r.offset), Some(b));
            assert_eq!(r.offset % 4, 0, "{} unaligned", r.full_name());
        }
    }
}

#[test]
fn fields_do_not_overlap_and_names_unique() {
    for r in all_registers() {
        let mut seen = 0u32;
        let mut names = HashSet::new();
        for f in r.fields {
            assert_eq!(seen & f.mask(), 0, "{}.{} overlaps", r.full_name(), f.name);
            seen |= f.mask();
            assert!(names.insert(f.name), "{}.{} twice", r.full_name(), f.name);
        }
    }
}

#[test]
fn full_names_unique() {
    let mut names = HashSet::new();
    for r in all_registers() {
        assert!(names.insert(r.full_name()), "{} twice", r.full_name());
    }
}

#[test]
fn field_geometry() {
    // CBUF_CON0.WEIGHT_BANK is bits [7:4] (mesa-rocket.md §4.3 row 1).
    let f = cna::CbufCon0::WEIGHT_BANK.desc;
    assert_eq!(
        (f.lsb, f.msb, f.width(), f.max(), f.mask()),
        (4, 7, 4, 15, 0xF0)
    );
    // A full-width field.
    let f = cna::FeatureDataAddr::FEATURE_BASE_ADDR.desc;
    assert_eq!((f.width(), f.max(), f.mask()), (32, u32::MAX, u32::MAX));
}

#[test]
fn typed_build_matches_capture_value() {
    // mesa-captures-facts.md §4 entry 0: CNA_CBUF_CON0 = 0xb1 = WEIGHT_BANK 11, DATA_BANK 1.
    let r = cna::CbufCon0::new()
        .with(cna::CbufCon0::WEIGHT_BANK, 11)
        .unwrap()
        .with(cna::CbufCon0::DATA_BANK, 1)
        .unwrap();
    assert_eq!(r.bits(), 0xb1);
    assert_eq!(r.get(cna::CbufCon0::WEIGHT_BANK), 11);
    assert_eq!(r.get(cna::CbufCon0::WEIGHT_REUSE), 0);
    // Entry 15: WEIGHT_SIZE2 = 0x03030010 (3x3 kernel, 16 kernels).
    let r = cna::WeightSize2::new()
        .with(cna::WeightSize2::WEIGHT_WIDTH, 3)
        .unwrap()
        .with(cna::WeightSize2::WEIGHT_HEIGHT, 3)
        .unwrap()
        .with(cna::WeightSize2::WEIGHT_KERNELS, 16)
        .unwrap();
    assert_eq!(r.bits(), 0x0303_0010);
    // Entry 68: BS_CFG = 0x00020150.
    let r = dpu::BsCfg::DESC
        .encode(&[
            ("BS_ALU_ALGO", 2),
            ("BS_ALU_SRC", 1),
            ("BS_RELU_BYPASS", 1),
            ("BS_MUL_BYPASS", 1),
        ])
        .unwrap();
    assert_eq!(r, 0x0002_0150);
}

#[test]
fn overflow_is_refused_not_truncated() {
    let e = cna::PadCon0::new()
        .with(cna::PadCon0::PAD_TOP, 16)
        .unwrap_err();
    assert_eq!(
        e,
        HwError::FieldOverflow {
            field: "PAD_TOP",
            value: 16,
            width: 4
        }
    );
    assert!(dpu::BsCfg::DESC.encode(&[("NOPE", 1)]).is_err());
    // Signed fields take their signed range only.
    assert!(dpu::BsOwOp::new()
        .with_i64(dpu::BsOwOp::OW_OP, 32768)
        .is_err());
    assert!(dpu::BsOwOp::new()
        .with_i64(dpu::BsOwOp::OW_OP, -32769)
        .is_err());
}

#[test]
fn signed_fields_round_trip() {
    // Capture entry 84: OUT_CVT_OFFSET = 0xfffffffe = -2 (ozp 126 - 0x80).
    let r = dpu::OutCvtOffset::new()
        .with_i64(dpu::OutCvtOffset::OUT_CVT_OFFSET, -2)
        .unwrap();
    assert_eq!(r.bits(), 0xffff_fffe);
    assert_eq!(r.get_i64(dpu::OutCvtOffset::OUT_CVT_OFFSET), -2);
    // BS_OW_OP = 0x80 - wzp for wzp 204: -76 as 16-bit two's complement = 0xffb4.
    let r = dpu::BsOwOp::new()
        .with_i64(dpu::BsOwOp::OW_OP, 0x80 - 204)
        .unwrap();
    assert_eq!(r.bits(), 0xffb4);
    assert_eq!(r.get_i64(dpu::BsOwOp::OW_OP), -76);
    // CVT_OFFSET0 = 65408 is -128 (mesa-rocket.md §3.9).
    let d = cna::CvtCon1::DESC.decode(0x4000_ff80);
    assert_eq!(d.fields[0].value, 16384);
    assert_eq!(d.fields[1].value, -128);
}

#[test]
fn decode_reports_undeclared_bits() {
    // Bit 28 of S_POINTER is reserved in the TRM (the kernel sets it anyway, mesa-rocket.md §1.5).
    let d = cna::SPointer::DESC.decode(0x1000_000e);
    assert_eq!(d.undeclared_bits, 0x1000_0000);
    let names: Vec<_> = d
        .fields
        .iter()
        .filter(|f| f.raw != 0)
        .map(|f| f.name)
        .collect();
    assert_eq!(
        names,
        ["POINTER_PP_MODE", "EXECUTER_PP_EN", "POINTER_PP_EN"]
    );
    assert_eq!(
        d.to_string(),
        "CNA_S_POINTER = 0x1000000e {POINTER_PP_MODE=1, EXECUTER_PP_EN=1, POINTER_PP_EN=1} !undeclared_bits=0x10000000"
    );
}

#[test]
fn lookups() {
    assert_eq!(lookup(Block::Dpu, 0x4084).unwrap().name, "OUT_CVT_SCALE");
    assert_eq!(
        lookup_offset(0x5020).unwrap().full_name(),
        "DPU_RDMA_RDMA_BS_BASE_ADDR"
    );
    assert_eq!(lookup_name("CORE_CLIP_TRUNCATE").unwrap().offset, 0x301C);
    // The two writes Mesa makes to offsets the database does not name.
    assert!(lookup(Block::Core, 0x3030).is_none());
    assert!(lookup(Block::Dpu, 0x40C4).is_none());
    // Wrong block for the offset.
    assert!(lookup(Block::Cna, 0x4084).is_none());
    assert_eq!(lookup_target(0x1001, 0x4084).unwrap().name, "OUT_CVT_SCALE");
    let d = lookup_target(0x0201, 0x1038).unwrap().decode(0x0303_0010);
    assert_eq!(
        d.fields
            .iter()
            .map(|f| (f.name, f.value))
            .collect::<Vec<_>>(),
        [
            ("WEIGHT_WIDTH", 3),
            ("WEIGHT_HEIGHT", 3),
            ("WEIGHT_KERNELS", 16)
        ]
    );
    assert!(lookup_target(0x0081, 0x0008).is_none());
    assert!(lookup_target(0x0201, 0x4084).is_none());
    assert_eq!(Block::from_regcmd_target(0x0201), Some(Block::Cna));
    assert_eq!(Block::from_regcmd_target(0x0200), None);
    assert_eq!(Block::Global.regcmd_target(), None);
    assert_eq!(Block::PpuRdma.regcmd_target(), Some(0x8001));
}

#[test]
fn rdma_disable_bits() {
    // Mesa's BRDMA_CFG = 0x2 (capture entry 113): DATA_USE 1, read DMA enabled.
    let r = dpu_rdma::BrdmaCfg(0x2);
    assert_eq!(r.get(dpu_rdma::BrdmaCfg::BRDMA_DATA_USE), 1);
    assert_eq!(r.get(dpu_rdma::BrdmaCfg::BRDMA_DISABLE), 0);
    // G's probe streams write 1 to both to switch the BS/BN operand reads off.
    assert_eq!(
        dpu_rdma::BrdmaCfg(1).get(dpu_rdma::BrdmaCfg::BRDMA_DISABLE),
        1
    );
    assert_eq!(
        dpu_rdma::NrdmaCfg(1).get(dpu_rdma::NrdmaCfg::NRDMA_DISABLE),
        1
    );
    assert_eq!(dpu_rdma::NrdmaCfg::DESC.declared_mask(), 0x1f);
}

#[test]
fn declared_counts() {
    let regs = all_registers().count();
    let fields: usize = all_registers().map(|r| r.fields.len()).sum();
    // Pinned so that an accidental deletion is noticed; update with the declarations.
    assert_eq!((regs, fields), (REGISTER_COUNT, FIELD_COUNT));
}

const REGISTER_COUNT: usize = 199;
const FIELD_COUNT: usize = 514;

#[test]
fn field_desc_functions_by_hand() {
    // BS_OW_OP.OW_OP is [15:0] signed: 0x0001ffb4 → raw 0xffb4 = −76 (wzp 204, Mesa 0x80 − wzp).
    let f = dpu::BsOwOp::OW_OP.desc;
    assert_eq!(f.extract(0x0001_ffb4), 0xffb4);
    assert_eq!(f.extract_i64(0x0001_ffb4), -76);
    // insert keeps the other bits and refuses what does not fit.
    assert_eq!(f.insert(0xffff_0000, 0x80), Ok(0xffff_0080));
    assert!(f.insert(0, 0x1_0000).is_err());
    assert_eq!(f.insert_i64(0xabcd_0000, -1), Ok(0xabcd_ffff));
    assert_eq!(f.insert_i64(0, -32768), Ok(0x8000));
    // An unsigned 4-bit field [7:4]: 15 fits, −1 and 16 do not.
    let f = cna::CbufCon0::WEIGHT_BANK.desc;
    assert_eq!(f.insert_i64(0x1, 15), Ok(0xf1));
    assert!(f.insert_i64(0, -1).is_err());
    assert!(f.insert_i64(0, 16).is_err());
    assert_eq!(f.extract_i64(0xf0), 15);
    // Field lookup by name.
    let r = &cna::CbufCon0::DESC;
    assert_eq!(r.field("DATA_BANK").map(|f| (f.msb, f.lsb)), Some((3, 0)));
    assert!(r.field("NOPE").is_none());
}

#[test]
fn block_names_and_domains() {
    // mesa-rocket.md §3.1: domain values of the database's target enum; target = domain + 1.
    let want = [
        (Block::Pc, "PC", 0x100),
        (Block::Cna, "CNA", 0x200),
        (Block::Core, "CORE", 0x800),
        (Block::Dpu, "DPU", 0x1000),
        (Block::DpuRdma, "DPU_RDMA", 0x2000),
        (Block::Ppu, "PPU", 0x4000),
        (Block::PpuRdma, "PPU_RDMA", 0x8000),
        (Block::Ddma, "DDMA", 0x1_0000),
        (Block::Sdma, "SDMA", 0x2_0000),
        (Block::Global, "GLOBAL", 0x4_0000),
    ];
    for (b, name, domain) in want {
        assert_eq!((b.name(), b.domain()), (name, domain));
        assert_eq!(b.to_string(), name);
        let t = b.regcmd_target();
        assert_eq!(t, u16::try_from(domain + 1).ok());
    }
}

#[test]
fn ppu_fields_by_hand() {
    // G's pool program (`encodings/ppu-pooling.md`), 3×3 kernel, stride 2:
    // (kw−1) | (kh−1)<<8 | (sx−1)<<16 | (sy−1)<<20 = 0x00110202.
    let k = ppu::PoolingKernelCfg(0x0011_0202);
    assert_eq!(k.get(ppu::PoolingKernelCfg::KERNEL_WIDTH), 2);
    assert_eq!(k.get(ppu::PoolingKernelCfg::KERNEL_HEIGHT), 2);
    assert_eq!(k.get(ppu::PoolingKernelCfg::KERNEL_STRIDE_WIDTH), 1);
    assert_eq!(k.get(ppu::PoolingKernelCfg::KERNEL_STRIDE_HEIGHT), 1);
    // Pads L | T<<4 | R<<8 | B<<12, counts not minus one: 1,1,0,2 → 0x2011.
    let p = ppu::PoolingPaddingCfg(0x2011);
    assert_eq!(
        [
            p.get(ppu::PoolingPaddingCfg::PAD_LEFT),
            p.get(ppu::PoolingPaddingCfg::PAD_TOP),
            p.get(ppu::PoolingPaddingCfg::PAD_RIGHT),
            p.get(ppu::PoolingPaddingCfg::PAD_BOTTOM)
        ],
        [1, 1, 0, 2]
    );
    // Q16 reciprocals: 0x10000/1 = 65536 needs the 17th bit, which the field has.
    assert!(ppu::RecipKernelWidth::new()
        .with(ppu::RecipKernelWidth::RECIP_KERNEL_WIDTH, 0x10000)
        .is_ok());
    assert!(ppu::RecipKernelWidth::new()
        .with(ppu::RecipKernelWidth::RECIP_KERNEL_WIDTH, 0x20000)
        .is_err());
    // Max pool from memory: FLYING_MODE | POOLING_METHOD 1 = 0x11 (I's vendor capture).
    let m = ppu::OperationModeCfg(0x11);
    assert_eq!(m.get(ppu::OperationModeCfg::FLYING_MODE), 1);
    assert_eq!(m.get(ppu::OperationModeCfg::POOLING_METHOD), 1);
    // int8 pool precisions (G): PPU_DATA_FORMAT 0, PPU_RDMA IN_PRECISION 1.
    assert_eq!(
        ppu_rdma::DataFormat(1).get(ppu_rdma::DataFormat::IN_PRECISION),
        1
    );
    // Strides are bytes in a [31:4] field: 4·4·16 = 256 B → raw field 16.
    assert_eq!(
        ppu_rdma::SrcSurfStride(256).get(ppu_rdma::SrcSurfStride::SRC_SURF_STRIDE),
        16
    );
}
