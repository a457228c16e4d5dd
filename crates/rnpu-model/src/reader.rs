//! TFLite flatbuffer reader. (Being written.)

use std::path::Path;

use crate::{Model, ModelError};

/// Parse and validate a TFLite model from bytes.
pub fn parse(_bytes: &[u8]) -> Result<Model, ModelError> {
    Err(ModelError::Unsupported("reader not written yet".into()))
}

/// Read, parse and validate a `.tflite` file; errors name the file.
pub fn load_file(path: &Path) -> Result<Model, ModelError> {
    let bytes = std::fs::read(path).map_err(|source| ModelError::Io {
        path: path.display().to_string(),
        source,
    })?;
    parse(&bytes).map_err(|e| ModelError::Invalid(format!("{}: {e}", path.display())))
}
