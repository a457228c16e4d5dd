//! rnpu-delegate — skeleton only; the TFLite external delegate is issue 6, not implemented yet.
