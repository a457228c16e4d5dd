//! TODO: not implemented yet.

use rnpu_model::Array;

use crate::{OpCtx, RefError};

pub fn softmax(ctx: &OpCtx) -> Result<Vec<Array>, RefError> {
    Err(ctx.err("not implemented yet"))
}

pub fn sigmoid_tanh(ctx: &OpCtx) -> Result<Vec<Array>, RefError> {
    Err(ctx.err("not implemented yet"))
}

pub fn relu(ctx: &OpCtx) -> Result<Vec<Array>, RefError> {
    Err(ctx.err("not implemented yet"))
}

pub fn leaky_relu(ctx: &OpCtx) -> Result<Vec<Array>, RefError> {
    Err(ctx.err("not implemented yet"))
}

pub fn hard_swish(ctx: &OpCtx) -> Result<Vec<Array>, RefError> {
    Err(ctx.err("not implemented yet"))
}

pub fn prelu(ctx: &OpCtx) -> Result<Vec<Array>, RefError> {
    Err(ctx.err("not implemented yet"))
}
