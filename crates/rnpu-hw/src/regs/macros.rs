//! The one declaration macro for registers.
//!
//! ```text
//! registers! {
//!     block: Cna;
//!     /// (doc on the Rust struct)
//!     0x1040 CBUF_CON0 CbufCon0 "CBUF bank split and reuse" {
//!         WEIGHT_REUSE[13] "weights already in CBUF from the previous task",
//!         WEIGHT_BANK[7:4],
//!         OUT_CVT_OFFSET[31:0] signed "…",
//!     }
//! }
//! ```
//! generates, per register, a `Copy` newtype `CbufCon0(u32)` implementing
//! [`Register`](super::Register), with one associated `Field<CbufCon0>` constant per field,
//! and the block's `REGISTERS` table. Offsets are checked at compile time to lie in the
//! block's window.

macro_rules! field_msb {
    ($hi:literal : $lo:literal) => {
        $hi
    };
    ($b:literal) => {
        $b
    };
}

macro_rules! field_lsb {
    ($hi:literal : $lo:literal) => {
        $lo
    };
    ($b:literal) => {
        $b
    };
}

macro_rules! field_kind {
    () => {
        $crate::regs::FieldKind::Unsigned
    };
    (signed) => {
        $crate::regs::FieldKind::Signed
    };
}

macro_rules! registers {
    (
        block: $block:ident;
        $(
            $(#[$meta:meta])*
            $off:literal $name:ident $ty:ident $doc:literal {
                $(
                    $fname:ident [ $($bits:tt)* ] $($kind:ident)? $($fdoc:literal)?
                ),* $(,)?
            }
        )*
    ) => {
        #[allow(unused_imports)]
        use $crate::regs::{Block, Field, FieldDesc, Register, RegisterDesc};

        $(
            #[doc = $doc]
            $(#[$meta])*
            #[doc = ""]
            #[doc = concat!("`", stringify!($block), "` register `", stringify!($name), "` at `", stringify!($off), "`.")]
            #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
            pub struct $ty(pub u32);

            #[allow(non_upper_case_globals)]
            impl $ty {
                $(
                    #[doc = concat!("`", stringify!($fname), "` bits `[", stringify!($($bits)*), "]`", $(". ", $fdoc)?)]
                    pub const $fname: Field<$ty> = Field::new(FieldDesc {
                        name: stringify!($fname),
                        msb: field_msb!($($bits)*),
                        lsb: field_lsb!($($bits)*),
                        kind: field_kind!($($kind)?),
                        doc: concat!("" $(, $fdoc)?),
                    });
                )*

                /// The all-zero value.
                pub const fn new() -> Self {
                    $ty(0)
                }
            }

            impl Register for $ty {
                const DESC: RegisterDesc = RegisterDesc {
                    block: Block::$block,
                    offset: $off,
                    name: stringify!($name),
                    doc: $doc,
                    fields: &[$($ty::$fname.desc),*],
                };
                fn from_bits(bits: u32) -> Self {
                    $ty(bits)
                }
                fn bits(self) -> u32 {
                    self.0
                }
            }

            const _: () = {
                assert!(($off as u16) & 0xF000 == Block::$block.base(), "offset outside block");
                $( assert!(field_lsb!($($bits)*) <= field_msb!($($bits)*) && field_msb!($($bits)*) < 32); )*
            };
        )*

        /// Every register of this block, in declaration (offset) order.
        pub const REGISTERS: &[RegisterDesc] = &[$(<$ty as Register>::DESC),*];
    };
}
