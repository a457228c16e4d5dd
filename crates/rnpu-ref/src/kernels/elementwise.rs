//! TODO: not implemented yet.

use rnpu_model::Array;

use crate::{OpCtx, RefError};

pub fn binary(ctx: &OpCtx) -> Result<Vec<Array>, RefError> {
    Err(ctx.err("not implemented yet"))
}
