//! TODO: not implemented yet.

use rnpu_model::Array;

use crate::{OpCtx, RefError};

pub fn concatenation(ctx: &OpCtx) -> Result<Vec<Array>, RefError> {
    Err(ctx.err("not implemented yet"))
}

pub fn reshape(ctx: &OpCtx) -> Result<Vec<Array>, RefError> {
    Err(ctx.err("not implemented yet"))
}

pub fn pad(ctx: &OpCtx) -> Result<Vec<Array>, RefError> {
    Err(ctx.err("not implemented yet"))
}

pub fn strided_slice(ctx: &OpCtx) -> Result<Vec<Array>, RefError> {
    Err(ctx.err("not implemented yet"))
}

pub fn transpose(ctx: &OpCtx) -> Result<Vec<Array>, RefError> {
    Err(ctx.err("not implemented yet"))
}

pub fn split(ctx: &OpCtx) -> Result<Vec<Array>, RefError> {
    Err(ctx.err("not implemented yet"))
}
