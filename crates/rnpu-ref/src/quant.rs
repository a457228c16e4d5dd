//! Fixed-point helpers shared by the kernels (TFLite's requantization arithmetic). TODO.
